"""A job seen ending by the import runner's ordering check still gets its terminal actions, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.jobs import JobTracker, Restarter, RestartPolicy
from norcekit.jobs.completion import CommitResult, check_entity_order, commit_run_watermark_if_complete
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobDto, JobLogEntry, JobStatus
from norcekit.observability import MetricName
from norcekit.state.jobs import JobRecord
from norcekit.state.memory import (
    MemoryFinishClaims,
    MemoryJobStore,
    MemoryLocks,
    MemoryRunStore,
    MemoryState,
    MemoryWatermarkStore,
)
from norcekit.state.runs import RunOutcome, RunRecord
from norcekit.state.watermarks import Watermark

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class JobService:
    def __init__(self) -> None:
        self.status: dict[int, JobStatus] = {}
        self.restarts: list[int] = []

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        return JobDto(JobId=int(job_id), StatusId=self.status.get(int(job_id), JobStatus.QUEUED))

    def get_log(self, job_id: int | str, *, deadline: Deadline | None = None) -> list[JobLogEntry]:
        return []

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse:
        self.restarts.append(int(job_id))
        return JobResponse.model_validate({"JobId": 1000 + int(job_id)})


class Points:
    def __init__(self) -> None:
        self.points: list[tuple[str, str]] = []

    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        self.points.append((name.value, entity))


@pytest.fixture
def service() -> JobService:
    return JobService()


@pytest.fixture
def points() -> Points:
    return Points()


@pytest.fixture
def tracker(memory: MemoryState, service: JobService, points: Points) -> JobTracker:
    job_store = MemoryJobStore(memory)
    restarter = Restarter(
        jobs_client=service,
        job_store=job_store,
        run_store=MemoryRunStore(memory),
        locks=MemoryLocks(memory),
        policy=RestartPolicy(),
        clock=lambda: NOW,
    )
    return JobTracker(
        job_store=job_store,
        watermark_store=MemoryWatermarkStore(memory),
        restarter=restarter,
        claims=MemoryFinishClaims(memory, clock=lambda: NOW),
        metrics=points,
        jobs_client=service,
        clock=lambda: NOW,
    )


def test_a_failure_seen_by_the_ordering_check_is_finished_even_when_newer_jobs_fill_the_sweep(
    tracker: JobTracker, service: JobService, points: Points
) -> None:
    jobs = tracker.job_store
    jobs.create(
        JobRecord(
            job_id=10, entity="products", mode="delta", run_id="runA", submitted_at=NOW - timedelta(minutes=5)
        )
    )
    service.status[10] = JobStatus.FAILED

    decision = check_entity_order(
        "products",
        job_store=jobs,
        jobs_client=service,
        job_deadline_s=3600,
        clock=lambda: NOW,
        status_sink=tracker,
    )
    for job_id in (11, 12, 13):  # the run that proceeded submits three batches
        jobs.create(
            JobRecord(
                job_id=job_id,
                entity="products",
                mode="delta",
                run_id="runB",
                submitted_at=NOW + timedelta(seconds=job_id),
            )
        )
    tracker.sweep(["products"], recent=3, deadline=Deadline.after(60))

    assert decision.proceed
    assert jobs.get(10).status is JobStatus.FAILED
    state = tracker.claims.state(10)
    assert state is not None and state.done
    assert points.points.count((MetricName.JOBS_FAILED.value, "products")) == 1
    assert jobs.get(10).log_summary is not None


def test_a_run_whose_jobs_end_before_it_is_marked_submitted_stays_pending(
    tracker: JobTracker, memory: MemoryState
) -> None:
    runs, watermarks = MemoryRunStore(memory), MemoryWatermarkStore(memory)
    runs.create(
        RunRecord(
            run_id="runF",
            entity="products",
            mode="full",
            started_at=NOW,
            candidate_watermark=Watermark.timestamp(NOW),
        )
    )
    tracker.job_store.create(
        JobRecord(job_id=20, entity="products", mode="full", run_id="runF", submitted_at=NOW)
    )
    runs.update("runF", add_job_ids=[20])

    tracker.on_status(20, JobStatus.SUCCEEDED, "event")  # the JobCompletedEvent arrives first

    assert runs.get("runF").outcome is RunOutcome.RUNNING
    assert watermarks.get("products") is None
    # Asked again while the runner is still running: not refused, just not yet decidable.
    still_running = commit_run_watermark_if_complete(
        "runF", run_store=runs, job_store=tracker.job_store, watermark_store=watermarks
    )
    assert still_running is CommitResult.PENDING
    runs.update("runF", outcome=RunOutcome.SUBMITTED)  # the runner's _finish, a moment later
    result = commit_run_watermark_if_complete(
        "runF", run_store=runs, job_store=tracker.job_store, watermark_store=watermarks
    )
    assert result is CommitResult.COMMITTED
    assert watermarks.get("products") == Watermark.timestamp(NOW)
    assert runs.get("runF").outcome is RunOutcome.SUCCEEDED
