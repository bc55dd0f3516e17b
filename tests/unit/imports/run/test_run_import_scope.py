"""An import's ``scope`` selects its rows: a source exporting every warehouse or price list sends
only the ones the import owns, so its FullFile cannot deactivate another import's rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.unit.imports.run.run_fakes import KEY_FIELDS, T0, World, onhand, price

from norcekit.deadline import Deadline
from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.norce.contracts.wire import item_field
from norcekit.state.runs import RunOutcome
from norcekit.state.watermarks import Watermark


def scoped(kind: str, scope: dict[str, Any], **extra: Any) -> IntegrationConfig:
    """One import of ``kind`` named ``owner``, owning ``scope`` of a source that exports everything."""
    return load_config(
        {
            "sources": {
                "wms": {
                    "type": "filedrop",
                    "root": "/nonexistent",
                    "entities": {kind: {"key_fields": KEY_FIELDS[kind]}},
                }
            },
            "imports": {
                "owner": {
                    "kind": kind,
                    "source": "wms",
                    "account_id": 301,
                    "mapping": "sample",
                    "scope": scope,
                    "delta": {"batch_size": 10, "overlap_s": 0, "safety_lag_s": 0},
                    **extra,
                }
            },
        },
        environ={},
    )


def _long() -> Deadline:
    return Deadline.after(600)


def _sent(world: World, name: str) -> list[list[str]]:
    return [[str(item_field(item, name)) for item in request.items] for request in world.connect.requests]


def _export_four_warehouses(world: World, at: datetime | None = None) -> None:
    for part, warehouse in (("A", "W1"), ("B", "W2"), ("C", "W1"), ("D", "W3")):
        world.source.add("onhand", f"{part}|{warehouse}|A", onhand(part, warehouse), at)


def test_a_full_import_sends_only_the_warehouses_of_its_scope_and_says_how_many_it_left_out() -> None:
    world = World()
    _export_four_warehouses(world)

    result = world.runner(scoped("onhand", {"warehouses": ["W1"]})).run("owner", "full", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert _sent(world, "WarehouseCode") == [["W1", "W1"]]  # W2 and W3 belong to other imports
    assert world.connect.requests[0].header.FullFile is True
    assert (result.counts.submitted, result.counts.out_of_scope) == (2, 2)
    assert "2 item(s) outside the import's scope were not sent" in (result.message or "")
    assert world.runs.get(result.run_id).counts.out_of_scope == 2
    assert world.quarantine.items == {}  # not errors: another import's rows


def test_a_split_full_import_sends_jobs_only_for_the_warehouses_of_its_scope() -> None:
    world = World()
    _export_four_warehouses(world)
    integration = scoped("onhand", {"warehouses": ["W1", "W3"]}, full_scope_split="warehouse")

    result = world.runner(integration).run("owner", "full", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert sorted(_sent(world, "WarehouseCode")) == [["W1", "W1"], ["W3"]]  # no FullFile job for W2
    assert len(result.job_ids) == 2 and result.counts.out_of_scope == 1


def test_a_dry_run_counts_only_the_items_of_its_scope() -> None:
    world = World()
    _export_four_warehouses(world)

    result = world.runner(scoped("onhand", {"warehouses": ["W2"]})).run(
        "owner", "full", deadline=_long(), dry_run=True
    )

    assert result.outcome is RunOutcome.SUCCEEDED, result.message
    assert "dry run: 1 item(s) would be submitted" in (result.message or "")
    assert "3 item(s) outside the import's scope were not sent" in (result.message or "")
    assert world.connect.requests == []


def test_a_delta_import_sends_only_the_changed_rows_of_its_scope() -> None:
    world = World()
    world.watermarks.values["owner"] = Watermark.timestamp(T0 - timedelta(hours=1))
    _export_four_warehouses(world, at=T0 - timedelta(minutes=5))

    result = world.runner(scoped("onhand", {"warehouses": ["W1"]})).run("owner", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert _sent(world, "WarehouseCode") == [["W1", "W1"]]
    assert world.connect.requests[0].header.FullFile is False
    assert result.counts.out_of_scope == 2


def test_a_price_import_sends_only_the_price_lists_of_its_scope() -> None:
    world = World()
    for part, price_list in (("A", "SEK"), ("A", "NOK"), ("B", "SEK"), ("B", "EUR")):
        world.source.add("sku_prices", f"{part}|{price_list}|1", price(part, price_list=price_list))

    result = world.runner(scoped("sku_prices", {"price_lists": ["SEK", "EUR"]})).run(
        "owner", "full", deadline=_long()
    )

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert sorted(_sent(world, "PriceListCode")[0]) == ["EUR", "SEK", "SEK"]
    assert result.counts.out_of_scope == 1


def test_an_import_without_a_row_scope_sends_every_row() -> None:
    world = World()
    _export_four_warehouses(world)

    result = world.runner(scoped("onhand", {})).run("owner", "full", deadline=_long())

    assert sorted(_sent(world, "WarehouseCode")[0]) == ["W1", "W1", "W2", "W3"]
    assert result.counts.out_of_scope == 0
    assert "outside the import's scope" not in (result.message or "")
