"""Full-import guardrails: an empty, shrunken or mostly-rejected export is refused before a byte is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.unit.imports.run.run_fakes import World, config, customer, onhand, price

from norcekit.configfile import ConfigError
from norcekit.deadline import Deadline
from norcekit.imports.entity_config import Guardrails
from norcekit.imports.records import SourceRecord
from norcekit.imports.runner import ImportRunner
from norcekit.jobs.completion import commit_run_watermark_if_complete
from norcekit.norce.contracts.wire import item_field
from norcekit.norce.jobs import JobStatus
from norcekit.state.jobs import JobCounters
from norcekit.state.runs import RunOutcome


def _prices(world: World, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        world.source.add("sku_prices", f"P{n}|SEK|1", price(f"P{n}"))


def _two_warehouses(world: World) -> None:
    for n in range(10):
        world.source.add("onhand", f"P{n}|W1|A", onhand(f"P{n}", "W1"))
        world.source.add("onhand", f"P{n}|W2|A", onhand(f"P{n}", "W2"))


def _succeeded_full(world: World, runner: ImportRunner, entity: str = "sku_prices") -> str:
    """A full import whose jobs all succeeded (as the job tracker would record it)."""
    result = runner.run(entity, "full", deadline=Deadline.after(600))
    assert result.outcome is RunOutcome.SUBMITTED, result.message
    world.runs.update(result.run_id, outcome=RunOutcome.SUCCEEDED)
    for job_id in result.job_ids:
        world.jobs.records[job_id] = world.jobs.records[job_id].model_copy(
            update={"status": JobStatus.SUCCEEDED}
        )
    world.clock.advance(3600)
    return result.run_id


def test_an_empty_full_export_is_refused_and_nothing_is_sent() -> None:
    world = World()

    result = world.runner().run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED
    assert "min_items: 0 item(s) mapped from 0 row(s), at least 1 required" in (result.message or "")
    assert "nothing was submitted" in (result.message or "")
    assert world.connect.requests == [] and result.job_ids == []
    assert world.runs.get(result.run_id).outcome is RunOutcome.REFUSED
    assert world.metrics.total("ImportRunsRefused") == 1
    assert world.watermarks.get("sku_prices") is None


def test_an_export_whose_rows_are_all_rejected_is_refused_and_its_rows_are_quarantined() -> None:
    world = World()
    for n in range(6):  # a renamed column: no row maps
        world.source.add(
            "sku_prices", f"P{n}|SEK|1", {"partno": f"P{n}", "price_list_code": "SEK", "price_sale": "1"}
        )

    result = world.runner().run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED
    assert "rejected: 6 of 6 row(s) rejected (100.0%) > max_rejected 0.5%" in (result.message or "")
    assert "min_items" in (result.message or "")
    assert world.connect.requests == []
    assert len(world.quarantine.items) == 6


def test_a_half_size_export_is_refused_naming_the_drop_against_the_last_successful_full_import() -> None:
    world = World()
    runner = world.runner()
    _prices(world, 20)
    previous = _succeeded_full(world, runner)
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:10]

    result = runner.run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED
    message = result.message or ""
    assert f"shrink: 10 item(s) against 20 in the last successful full import ({previous})" in message
    assert "a drop of 50.0% > max_shrink 10.0%" in message
    assert "--allow shrink" in message
    assert len(world.connect.requests) == 1  # only the first import


def test_an_operator_may_allow_one_run_past_a_named_rule_and_the_run_record_says_so() -> None:
    world = World()
    runner = world.runner()
    _prices(world, 20)
    _succeeded_full(world, runner)
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:10]

    allowed = runner.run("sku_prices", "full", deadline=Deadline.after(600), allow=["shrink"])

    assert allowed.outcome is RunOutcome.SUBMITTED, allowed.message
    assert allowed.allowed == ["shrink"]
    assert world.runs.get(allowed.run_id).allowed == ["shrink"]
    assert "guardrail allowed by the operator: shrink: 10 item(s)" in (allowed.message or "")
    assert len(world.connect.requests[-1].items) == 10

    # Only for that run: the next one is judged again (against the last *successful* import: 20).
    world.runs.update(allowed.run_id, outcome=RunOutcome.FAILED)
    world.jobs.records[allowed.job_ids[0]] = world.jobs.records[allowed.job_ids[0]].model_copy(
        update={"status": 3}
    )
    again = runner.run("sku_prices", "full", deadline=Deadline.after(600))
    assert again.outcome is RunOutcome.REFUSED
    assert "against 20" in (again.message or "")


def test_a_small_shrink_within_the_limit_is_submitted_and_becomes_the_next_baseline() -> None:
    world = World()
    runner = world.runner()
    _prices(world, 20)
    _succeeded_full(world, runner)
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:18]  # -10 %: at the limit

    second = runner.run("sku_prices", "full", deadline=Deadline.after(600))
    assert second.outcome is RunOutcome.SUBMITTED, second.message
    world.runs.update(second.run_id, outcome=RunOutcome.SUCCEEDED)
    world.jobs.records[second.job_ids[0]] = world.jobs.records[second.job_ids[0]].model_copy(
        update={"status": 2}
    )
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:16]  # -11 % against 18

    third = runner.run("sku_prices", "full", deadline=Deadline.after(600))
    assert third.outcome is RunOutcome.REFUSED
    assert "16 item(s) against 18" in (third.message or "")


def test_rejected_rows_under_the_threshold_are_named_as_deactivated_in_summary_and_quarantine() -> None:
    world = World()
    _prices(world, 300)
    world.source.add("sku_prices", "BAD|SEK|1", {**price("BAD"), "price_sale": "not a price"})

    result = world.runner().run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert result.deactivated_keys == ["BAD|SEK|1"]
    assert "1 rejected row(s) not in the FullFile payload: Norce deactivates BAD|SEK|1" in (
        result.message or ""
    )
    (item,) = world.quarantine.items.values()
    assert item.metadata["deactivates"] == "yes" and item.metadata["record_key"] == "BAD|SEK|1"
    assert "Norce deactivates 'BAD|SEK|1'" in item.reason
    assert len(world.connect.requests[0].items) == 300
    assert result.counts.quarantined == 1 and result.counts.submitted == 300


def test_the_deactivated_keys_and_an_allowance_stay_on_the_run_record_when_its_jobs_end() -> None:
    world = World()
    runner = world.runner()
    _prices(world, 300)
    _succeeded_full(world, runner)
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:250]
    world.source.add("sku_prices", "BAD|SEK|1", {**price("BAD"), "price_sale": "not a price"})
    result = runner.run("sku_prices", "full", deadline=Deadline.after(600), allow=["shrink"])
    assert result.outcome is RunOutcome.SUBMITTED, result.message
    (job_id,) = result.job_ids
    world.jobs.records[job_id] = world.jobs.records[job_id].model_copy(
        update={"status": JobStatus.SUCCEEDED, "counters": JobCounters(totals=250, fail=0)}
    )

    commit_run_watermark_if_complete(
        result.run_id, run_store=world.runs, job_store=world.jobs, watermark_store=world.watermarks
    )

    record = world.runs.get(result.run_id)
    assert record.outcome is RunOutcome.SUCCEEDED
    assert (record.message or "").startswith("all 1 job(s) succeeded")
    assert "guardrail allowed by the operator: shrink: 250 item(s)" in (record.message or "")
    assert "Norce deactivates BAD|SEK|1" in (record.message or "")
    assert record.notes == result.notes and len(record.notes) == 2


def test_a_duplicate_row_is_not_named_as_deactivated_its_key_is_sent() -> None:
    world = World()
    _prices(world, 300)
    world.source.add("sku_prices", "P1|SEK|1", price("P1", "99.00"))

    result = world.runner().run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED
    assert result.deactivated_keys == []
    (item,) = world.quarantine.items.values()
    assert "deactivates" not in item.metadata


def test_onhand_shrink_is_judged_per_warehouse_and_a_missing_warehouse_is_not_a_drop() -> None:
    world = World()
    runner = world.runner(config(onhand={"full_scope_split": "warehouse"}))
    _two_warehouses(world)
    _succeeded_full(world, runner, "onhand")

    # W2 is not in today's export at all: it is not sent, so nothing of it is deactivated.
    world.source.rows["onhand"] = [r for r in world.source.rows["onhand"] if "|W1|" in r.key]
    only_w1 = runner.run("onhand", "full", deadline=Deadline.after(600))
    assert only_w1.outcome is RunOutcome.SUBMITTED, only_w1.message
    world.runs.update(only_w1.run_id, outcome=RunOutcome.SUCCEEDED)
    for job_id in only_w1.job_ids:
        world.jobs.records[job_id] = world.jobs.records[job_id].model_copy(
            update={"status": JobStatus.SUCCEEDED}
        )

    # W1 loses half its rows: refused, naming the warehouse.
    world.source.rows["onhand"] = world.source.rows["onhand"][:5]
    halved = runner.run("onhand", "full", deadline=Deadline.after(600))
    assert halved.outcome is RunOutcome.REFUSED
    assert "shrink: 5 item(s) in W1 against 10" in (halved.message or "")


def test_a_dry_run_reports_the_refusal_and_writes_nothing() -> None:
    world = World()

    result = world.runner().run("sku_prices", "full", deadline=Deadline.after(600), dry_run=True)

    assert result.outcome is RunOutcome.REFUSED
    assert (result.message or "").startswith("dry run: would be refused: min_items")
    assert world.runs.records == {} and world.metrics.metrics == []


def test_imports_without_fullfile_deactivate_nothing_and_are_not_guarded() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    world.source.add("customers", "B", customer("B", email="nope"))  # 50 % rejected

    result = world.runner().run("customers", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED
    assert result.deactivated_keys == []


def test_guardrails_are_configured_per_import_with_safe_defaults() -> None:
    assert Guardrails() == Guardrails(min_items=1, max_shrink=0.10, max_rejected=0.005)
    relaxed = config(sku_prices={"full": {"guardrails": {"max_shrink": 0.6}}})
    assert relaxed.entities["sku_prices"].full.guardrails.max_shrink == 0.6
    with pytest.raises(ConfigError, match=r"guardrails\.max_shrink"):
        config(sku_prices={"full": {"guardrails": {"max_shrink": 1.5}}})
    with pytest.raises(ConfigError, match="max_shirnk"):
        config(sku_prices={"full": {"guardrails": {"max_shirnk": 0.2}}})

    world = World()
    runner = world.runner(relaxed)
    _prices(world, 20)
    _succeeded_full(world, runner)
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:10]
    assert runner.run("sku_prices", "full", deadline=Deadline.after(600)).outcome is RunOutcome.SUBMITTED


def test_an_unknown_rule_or_an_allowance_on_a_delta_is_an_error() -> None:
    world = World()
    with pytest.raises(ValueError, match="unknown guardrail"):
        world.runner().run("sku_prices", "full", deadline=Deadline.after(600), allow=["shrinkage"])
    with pytest.raises(ValueError, match="full only"):
        world.runner().run("sku_prices", "delta", deadline=Deadline.after(600), allow=["shrink"])
    assert world.runs.records == {}


def test_a_warehouse_missing_from_one_export_keeps_its_baseline_and_its_shrunken_return_is_refused() -> None:
    world = World()
    runner = world.runner(config(onhand={"full_scope_split": "warehouse"}))
    _two_warehouses(world)
    _succeeded_full(world, runner, "onhand")
    everything = list(world.source.rows["onhand"])
    world.source.rows["onhand"] = [r for r in everything if "|W1|" in r.key]  # W2 missing today
    _succeeded_full(world, runner, "onhand")

    # W2 is back with one row of its ten: its FullFile job would deactivate the other nine.
    world.source.rows["onhand"] = [r for r in everything if "|W1|" in r.key or r.key == "P0|W2|A"]
    result = runner.run("onhand", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED, result.message
    assert "shrink: 1 item(s) in W2 against 10" in (result.message or "")
    assert len(world.connect.requests) == 3  # the earlier runs: W1 and W2, then W1 alone


def test_a_scoped_import_with_nothing_of_its_scope_in_the_export_is_refused_not_sent_empty() -> None:
    world = World()
    scoped = config(sku_prices={"scope": {"price_lists": ["SEK"]}})
    for n in range(20):  # the ERP renamed the list: every row is outside the import's scope
        world.source.add("sku_prices", f"P{n}|SEK-B2C|1", price(f"P{n}", price_list="SEK-B2C"))

    result = world.runner(scoped).run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED, result.message
    assert "min_items: 0 item(s)" in (result.message or "")
    assert world.connect.requests == []


def test_an_empty_export_is_refused_by_the_shrink_rule_even_when_min_items_is_zero() -> None:
    world = World()
    runner = world.runner(config(sku_prices={"full": {"guardrails": {"min_items": 0}}}))
    _prices(world, 20)
    previous = _succeeded_full(world, runner)
    world.source.rows["sku_prices"] = []

    result = runner.run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED, result.message
    assert f"shrink: 0 item(s) against 20 in the last successful full import ({previous})" in (
        result.message or ""
    )
    assert len(world.connect.requests) == 1  # the first import only


def test_a_second_read_that_comes_back_short_is_aborted_before_norce_gets_a_full_payload() -> None:
    world = World()
    _prices(world, 20)
    survey_rows = list(world.source.rows["sku_prices"])
    reads = {"n": 0}

    def iter_all(entity: str) -> Iterator[SourceRecord]:
        # The survey sees all 20 rows; the source answers the stream's read with 2 (a flaky ERP page).
        reads["n"] += 1
        yield from survey_rows if reads["n"] == 1 else survey_rows[:2]

    world.source.iter_all = iter_all  # type: ignore[method-assign]

    result = world.runner().run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.FAILED, result.message
    assert "2 item(s) read for the payload against 20 judged by the guardrails" in (result.message or "")
    assert world.connect.requests == [] and result.job_ids == []  # the body was never completed


def test_a_warehouse_whose_second_read_comes_back_short_is_aborted() -> None:
    world = World()
    runner = world.runner(config(onhand={"full_scope_split": "warehouse"}))
    _two_warehouses(world)
    rows = list(world.source.rows["onhand"])
    reads = {"n": 0}

    def iter_all(entity: str) -> Iterator[SourceRecord]:
        reads["n"] += 1  # survey, W1's stream, then W2's stream that lost W2's rows
        yield from rows if reads["n"] < 3 else [r for r in rows if "|W1|" in r.key]

    world.source.iter_all = iter_all  # type: ignore[method-assign]

    result = runner.run("onhand", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.FAILED, result.message
    assert "0 item(s) in W2 read for the payload against 10 judged" in (result.message or "")
    sent = [{item_field(item, "WarehouseCode") for item in r.items} for r in world.connect.requests]
    assert sent == [{"W1"}]  # W2's body was never completed


def test_an_onhand_second_read_is_checked_per_warehouse_even_in_one_job() -> None:
    world = World()
    for n in range(17):
        world.source.add("onhand", f"P{n}|W1|A", onhand(f"P{n}", "W1"))
    for n in range(3):
        world.source.add("onhand", f"P{n}|W2|A", onhand(f"P{n}", "W2"))
    rows = list(world.source.rows["onhand"])
    reads = {"n": 0}

    def iter_all(entity: str) -> Iterator[SourceRecord]:
        # The payload's read loses two of W2's three rows: 10 % of the whole, 67 % of W2.
        reads["n"] += 1
        yield from rows if reads["n"] == 1 else rows[:-2]

    world.source.iter_all = iter_all  # type: ignore[method-assign]

    result = world.runner().run("onhand", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.FAILED, result.message
    assert "1 item(s) in W2 read for the payload against 3 judged" in (result.message or "")
    assert world.connect.requests == []


def test_price_shrink_is_judged_per_price_list_as_norce_deactivates_per_list() -> None:
    world = World()
    runner = world.runner()
    for n in range(90):
        world.source.add("sku_prices", f"P{n}|SEK|1", price(f"P{n}"))
    for n in range(10):
        world.source.add("sku_prices", f"P{n}|NOK|1", price(f"P{n}", price_list="NOK"))
    previous = _succeeded_full(world, runner)
    # NOK loses 8 of its 10 prices: 8 % of the whole import, 80 % of the NOK list.
    world.source.rows["sku_prices"] = world.source.rows["sku_prices"][:92]

    result = runner.run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED, result.message
    assert (
        f"shrink: 2 item(s) in price list NOK against 10 in the last successful full import ({previous})"
        in (result.message or "")
    )
    assert len(world.connect.requests) == 1


def _product(code: str, skus: int) -> dict[str, Any]:
    return {
        "code": code,
        "manufacturer_code": "ACME",
        "variants": [
            {
                "code": f"{code}-V",
                "skus": [{"part_no": f"{code}-{n}", "status": "Active"} for n in range(skus)],
            }
        ],
    }


def test_product_shrink_counts_skus_as_norce_deactivates_every_sku_missing_from_the_payload() -> None:
    world = World()
    runner = world.runner()
    for n in range(10):
        world.source.add("products", f"PR{n}", _product(f"PR{n}", skus=5))
    previous = _succeeded_full(world, runner, "products")
    # The ERP's export lost a join: every product is there, with one SKU of its five.
    world.source.rows["products"] = []
    for n in range(10):
        world.source.add("products", f"PR{n}", _product(f"PR{n}", skus=1))

    result = runner.run("products", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.REFUSED, result.message
    assert f"shrink: 10 item(s) in SKUs against 50 in the last successful full import ({previous})" in (
        result.message or ""
    )
    assert len(world.connect.requests) == 1
