"""The restart policy: which failed jobs may be re-run (in-memory state stores, no Norce)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from norcekit.jobs import Refusal, RestartPolicy, check_restart
from norcekit.norce.jobs import JobStatus
from norcekit.state.interfaces import JobRecords
from norcekit.state.jobs import JobRecord
from norcekit.state.memory import MemoryJobStore, MemoryState

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICY = RestartPolicy(max_restarts=2, window=timedelta(days=14), margin=timedelta(hours=6))


@pytest.fixture
def store(memory: MemoryState) -> JobRecords:
    return MemoryJobStore(memory)


def add(
    store: JobRecords,
    job_id: int,
    status: JobStatus,
    *,
    at: datetime,
    run_id: str | None = "run-1",
    mode: str = "delta",
    restarted_from: int | None = None,
) -> JobRecord:
    store.create(
        JobRecord(
            job_id=job_id,
            entity="products",
            mode=mode,  # type: ignore[arg-type]
            run_id=run_id,
            submitted_at=at,
            restarted_from=restarted_from,
        )
    )
    record, _ = store.record_status(job_id, status, source="poll", at=at + timedelta(minutes=1))
    return record


def decide(store: JobRecords, job_id: int, *, now: datetime = NOW, force: bool = False) -> Refusal | None:
    return check_restart(store.get(job_id), job_store=store, policy=POLICY, now=now, force=force).refusal


def test_a_fresh_failed_job_may_be_restarted(store: JobRecords) -> None:
    add(store, 1, JobStatus.FAILED, at=NOW - timedelta(hours=1))
    assert decide(store, 1) is None


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (JobStatus.VALIDATION_FAILED, Refusal.VALIDATION_FAILED),
        (JobStatus.SUCCEEDED, Refusal.NOT_FAILED),
        (JobStatus.QUEUED, Refusal.NOT_FAILED),
    ],
)
def test_only_failed_jobs_are_restarted_even_by_force(
    store: JobRecords, status: JobStatus, refusal: Refusal
) -> None:
    add(store, 1, status, at=NOW - timedelta(hours=1))
    assert decide(store, 1, force=True) is refusal


def test_superseded_job_is_never_restarted(store: JobRecords) -> None:
    add(store, 1, JobStatus.FAILED, at=NOW - timedelta(hours=2))
    store.mark_superseded("products", NOW - timedelta(hours=1), by_job_id=99)
    assert decide(store, 1, force=True) is Refusal.SUPERSEDED


def test_window_counts_from_the_first_job_of_the_chain_with_a_margin(store: JobRecords) -> None:
    first = NOW - timedelta(days=13, hours=20)  # 14 days minus 4 h: inside the 6 h margin
    add(store, 1, JobStatus.FAILED, at=first)
    store.record_restart(1, 2, at=first + timedelta(minutes=5))
    add(store, 2, JobStatus.FAILED, at=first + timedelta(minutes=5), restarted_from=1)
    assert decide(store, 2, force=True) is Refusal.WINDOW_EXPIRED
    assert decide(store, 2, now=NOW - timedelta(hours=3)) is None


def test_limit_counts_restarts_in_the_chain_and_force_lifts_it(store: JobRecords) -> None:
    start = NOW - timedelta(hours=3)
    add(store, 1, JobStatus.FAILED, at=start)
    for job_id in (2, 3):
        store.record_restart(job_id - 1, job_id, at=start + timedelta(minutes=job_id))
        add(store, job_id, JobStatus.FAILED, at=start + timedelta(minutes=job_id), restarted_from=job_id - 1)
    assert decide(store, 1) is Refusal.ALREADY_RESTARTED
    assert decide(store, 3) is Refusal.LIMIT_REACHED
    assert decide(store, 3, force=True) is None


def test_a_later_job_of_another_run_blocks_the_restart(store: JobRecords) -> None:
    add(store, 1, JobStatus.FAILED, at=NOW - timedelta(hours=2), run_id="run-1")
    add(store, 2, JobStatus.FAILED, at=NOW - timedelta(hours=1), run_id="run-2")
    assert decide(store, 1, force=True) is Refusal.NEWER_JOB
    assert decide(store, 2) is None


def test_a_later_batch_of_the_same_run_does_not_block(store: JobRecords) -> None:
    # A run's batches hold disjoint (deduplicated) keys: restarting batch 1 overwrites nothing newer.
    add(store, 1, JobStatus.FAILED, at=NOW - timedelta(hours=2), run_id="run-1")
    add(store, 2, JobStatus.SUCCEEDED, at=NOW - timedelta(hours=2) + timedelta(seconds=5), run_id="run-1")
    assert decide(store, 1) is None


def test_a_job_submitted_by_hand_counts_as_newer(store: JobRecords) -> None:
    add(store, 1, JobStatus.FAILED, at=NOW - timedelta(hours=2), run_id=None)
    add(store, 2, JobStatus.SUCCEEDED, at=NOW - timedelta(hours=1), run_id=None)
    assert decide(store, 1) is Refusal.NEWER_JOB
