"""Import run records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from norcekit.state.runs import RunCounts, RunNotFoundError, RunOutcome, RunRecord, RunStore
from norcekit.state.table import ConditionFailed, StateTable
from norcekit.state.watermarks import Watermark

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def runs(state_table: StateTable) -> RunStore:
    return RunStore(state_table)


def run(run_id: str, started: datetime, entity: str = "products") -> RunRecord:
    return RunRecord(run_id=run_id, entity=entity, mode="delta", started_at=started)


def test_create_get_and_duplicate_refused(runs: RunStore) -> None:
    record = RunRecord(
        run_id="r1",
        entity="products",
        mode="delta",
        started_at=T0,
        window_since=Watermark.timestamp(T0 - timedelta(hours=1)),
        window_until=Watermark.timestamp(T0 - timedelta(minutes=5)),
    )
    runs.create(record)
    assert runs.get("r1") == record
    with pytest.raises(ConditionFailed):
        runs.create(record)
    with pytest.raises(RunNotFoundError):
        runs.get("nope")


def test_update_counts_job_ids_outcome_and_duration(runs: RunStore) -> None:
    runs.create(run("r1", T0))
    runs.update("r1", add_job_ids=[11])
    candidate = Watermark.timestamp(T0 - timedelta(minutes=5))
    runs.update(
        "r1",
        counts=RunCounts(read=10, mapped=9, quarantined=1, submitted=9, deduplicated=2),
        add_job_ids=[12],
        outcome=RunOutcome.SUBMITTED,
        candidate_watermark=candidate,
    )
    done = runs.update("r1", outcome=RunOutcome.SUCCEEDED, finished_at=T0 + timedelta(seconds=42.5))
    assert done.job_ids == [11, 12]
    assert done.counts.quarantined == 1 and done.counts.deduplicated == 2
    assert done.outcome is RunOutcome.SUCCEEDED
    assert done.candidate_watermark == candidate
    assert done.duration_s == 42.5
    assert runs.get("r1") == done


def test_update_of_an_unknown_run_fails(runs: RunStore) -> None:
    with pytest.raises(RunNotFoundError):
        runs.update("ghost", outcome=RunOutcome.FAILED)


def test_list_by_entity_is_newest_first_and_per_entity(runs: RunStore) -> None:
    for minutes in (5, 0, 10):
        runs.create(run(f"p{minutes}", T0 + timedelta(minutes=minutes)))
    runs.create(run("c1", T0 + timedelta(minutes=20), entity="customers"))
    assert [r.run_id for r in runs.list_by_entity("products")] == ["p10", "p5", "p0"]
    assert [r.run_id for r in runs.list_by_entity("products", limit=2)] == ["p10", "p5"]
    assert [r.run_id for r in runs.list_by_entity("products", since=T0 + timedelta(minutes=5))] == [
        "p10",
        "p5",
    ]
    latest = runs.latest("products")
    assert latest is not None and latest.run_id == "p10"
    assert runs.latest("companies") is None


def test_skipped_runs_are_recorded_with_their_reason(runs: RunStore) -> None:
    runs.create(run("r1", T0))
    record = runs.update("r1", outcome=RunOutcome.SKIPPED_LOCKED, message="held by r0", finished_at=T0)
    assert record.outcome == "skipped_locked" and record.message == "held by r0" and record.duration_s == 0
