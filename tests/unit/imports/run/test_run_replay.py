"""``norcekit quarantine replay`` for imports: items Norce rejected, rows the mapping rejected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.unit.imports.run.run_fakes import World, customer

from norcekit.deadline import Deadline
from norcekit.imports.mappings import load_mapping
from norcekit.norce.jobs import JobStatus
from norcekit.state.jobs import JobRecord
from norcekit.state.locks import LeaseInfo
from norcekit.state.runs import RunOutcome

PRICE = {"PartNo": "NO-SUCH-SKU", "PriceListCode": "SEK", "PriceSale": 10.5, "IsActive": True}


def _norce_item(world: World, payload: Any, *, complete: bool = True) -> str:
    return world.quarantine.put(
        "norce_item",
        "PartNo not found",
        payload,
        metadata={
            "entity": "sku_prices",
            "job_id": "42",
            "record_key": "NO-SUCH-SKU|SEK",
            "complete": "yes" if complete else "no",
        },
        content_key="job-42-000001",
    )


def test_an_item_norce_rejected_is_sent_again_as_a_delta_batch_and_moved_to_replayed() -> None:
    world = World()
    key = _norce_item(world, PRICE)

    (result,) = world.runner().replay([key], deadline=Deadline.after(600))

    assert result.outcome == "submitted" and result.job_id == 101
    (request,) = world.connect.requests
    assert request.header.FullFile is False
    assert [item.PartNo for item in request.items] == ["NO-SUCH-SKU"]
    assert key not in world.quarantine.items and result.replayed_key in world.quarantine.replayed
    run = next(iter(world.runs.records.values()))
    assert run.run_id.startswith("sku_prices-replay-") and run.mode == "delta"
    assert run.outcome is RunOutcome.SUBMITTED and run.job_ids == [101]
    assert run.candidate_watermark is None  # a replay reads no window: the watermark never moves by it
    assert world.jobs.get(101).run_id == run.run_id


def test_a_payload_norce_truncated_is_not_sent_and_stays_in_the_quarantine() -> None:
    world = World()
    key = _norce_item(world, '{"PartNo": "NO-SU', complete=False)

    (result,) = world.runner().replay([key], deadline=Deadline.after(600))

    assert result.outcome == "invalid" and "truncated" in result.detail
    assert world.connect.requests == []
    assert key in world.quarantine.items


def test_a_rejected_source_row_is_mapped_again_after_the_mapping_is_fixed() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    world.source.add("customers", "B", {**customer("B"), "last_name": None})
    sample = load_mapping("sample", entity="customers")
    world.runner().run("customers", "full", deadline=Deadline.after(600))
    (key,) = world.quarantine.items
    world.clock.advance(60)

    def fixed(row: dict[str, Any]) -> Any:  # the fix: a missing last name becomes "-"
        return sample({**row, "last_name": row.get("last_name") or "-"})

    (result,) = world.runner(mapping_factory=lambda entity: fixed).replay([key], deadline=Deadline.after(600))

    assert result.outcome == "submitted", result.detail
    assert [(c.Code, c.LastName) for c in world.connect.requests[-1].items] == [("B", "-")]


def test_a_row_the_mapping_still_rejects_is_reported_and_kept() -> None:
    world = World()
    world.source.add("customers", "B", customer("B", email="nope"))
    world.runner().run("customers", "full", deadline=Deadline.after(600))
    (key,) = world.quarantine.items
    sent = len(world.connect.requests)

    (result,) = world.runner().replay([key], deadline=Deadline.after(600))

    assert result.outcome == "invalid" and "nope" in result.detail
    assert len(world.connect.requests) == sent
    assert key in world.quarantine.items


def test_a_replay_waits_its_turn_behind_a_locked_entity() -> None:
    world = World()
    key = _norce_item(world, PRICE)
    world.locks.held["sku_prices"] = LeaseInfo("sku_prices-delta-x#1", world.clock.epoch() + 600)

    (result,) = world.runner().replay([key], deadline=Deadline.after(600))

    assert result.outcome == "error" and "locked" in result.detail
    assert world.connect.requests == [] and key in world.quarantine.items


def test_a_replay_is_deferred_behind_an_unfinished_job_of_the_entity() -> None:
    world = World()
    key = _norce_item(world, PRICE)
    world.jobs.create(
        JobRecord(
            job_id=9, entity="sku_prices", mode="delta", submitted_at=world.clock.now - timedelta(minutes=1)
        )
    )
    world.job_client.statuses[9] = JobStatus.QUEUED

    (result,) = world.runner().replay([key], deadline=Deadline.after(600))

    assert result.outcome == "error" and "job 9" in result.detail
    assert world.connect.requests == []


def test_only_import_items_replay_here() -> None:
    world = World()
    key = world.quarantine.put("webhook", "bad shape", {"x": 1}, metadata={"event_type": "X"})
    with pytest.raises(ValueError, match="not import items"):
        world.runner().replay([key], deadline=Deadline.after(600))
