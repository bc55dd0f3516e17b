"""Job records: idempotent status from poll and event, sticky terminal status, open index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from norcekit.norce.jobs import JobLogEntry, JobSeverity, JobStatus
from norcekit.state.jobs import JobCounters, JobNotFoundError, JobRecord, JobStore, LogSummary
from norcekit.state.runs import RunRecord, RunStore
from norcekit.state.table import ConditionFailed, StateTable

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def jobs(state_table: StateTable) -> JobStore:
    return JobStore(state_table)


def submit(
    jobs: JobStore, job_id: int, at: datetime = T0, entity: str = "products", run_id: str | None = "r1"
) -> JobRecord:
    return jobs.create(
        JobRecord(job_id=job_id, entity=entity, mode="delta", run_id=run_id, item_count=100, submitted_at=at)
    )


def test_create_starts_history_and_refuses_duplicates(jobs: JobStore) -> None:
    submit(jobs, 4711)
    job = jobs.get(4711)
    assert job.status is JobStatus.INITIALIZED and not job.is_terminal
    assert [(h.status, h.source) for h in job.status_history] == [(JobStatus.INITIALIZED, "submit")]
    assert [j.job_id for j in jobs.list_open()] == [4711]
    with pytest.raises(ConditionFailed):
        submit(jobs, 4711)
    with pytest.raises(JobNotFoundError):
        jobs.get(1)


def test_event_then_poll_records_the_terminal_status_once(jobs: JobStore) -> None:
    submit(jobs, 1)
    done = T0 + timedelta(seconds=30)
    job, changed = jobs.record_status(1, 2, source="event", at=done)
    assert changed and job.status is JobStatus.SUCCEEDED
    counters = JobCounters(totals=100, inserts=10, updates=90, fail=0)
    job, changed = jobs.record_status(
        1,
        JobStatus.SUCCEEDED,
        source="poll",
        at=done + timedelta(seconds=5),
        counters=counters,
        runtime_s=6.78,
    )
    assert changed  # counters and runtime were new
    assert [h.source for h in job.status_history] == ["submit", "event"]
    assert job.counters == counters and job.runtime_s == 6.78
    assert job.finished_at == done and job.lead_time_s == 30
    _, changed = jobs.record_status(1, JobStatus.SUCCEEDED, source="poll", at=done, counters=counters)
    assert not changed
    assert jobs.get(1) == job


def test_poll_then_event_records_the_terminal_status_once(jobs: JobStore) -> None:
    submit(jobs, 2)
    jobs.record_status(2, JobStatus.QUEUED, source="poll", at=T0 + timedelta(seconds=5))
    jobs.record_status(2, JobStatus.FAILED, source="poll", at=T0 + timedelta(seconds=10))
    job, changed = jobs.record_status(2, JobStatus.FAILED, source="event", at=T0 + timedelta(seconds=11))
    assert not changed
    assert [(h.status, h.source) for h in job.status_history] == [
        (JobStatus.INITIALIZED, "submit"),
        (JobStatus.QUEUED, "poll"),
        (JobStatus.FAILED, "poll"),
    ]


def test_terminal_status_is_sticky(jobs: JobStore) -> None:
    submit(jobs, 3)
    jobs.record_status(3, JobStatus.VALIDATION_FAILED, source="event", at=T0 + timedelta(seconds=3))
    late_poll, changed = jobs.record_status(
        3, JobStatus.VALIDATING, source="poll", at=T0 + timedelta(seconds=1)
    )
    assert not changed and late_poll.status is JobStatus.VALIDATION_FAILED
    other_terminal, changed = jobs.record_status(
        3, JobStatus.SUCCEEDED, source="poll", at=T0 + timedelta(seconds=9)
    )
    assert not changed and other_terminal.status is JobStatus.VALIDATION_FAILED
    assert len(other_terminal.status_history) == 2


def test_repeated_non_terminal_status_adds_no_history(jobs: JobStore) -> None:
    submit(jobs, 4)
    jobs.record_status(4, JobStatus.QUEUED, source="poll", at=T0 + timedelta(seconds=1))
    job, changed = jobs.record_status(4, JobStatus.QUEUED, source="poll", at=T0 + timedelta(seconds=2))
    assert not changed and len(job.status_history) == 2


def test_open_index_lists_only_unfinished_jobs(jobs: JobStore) -> None:
    submit(jobs, 10, T0 + timedelta(seconds=2))
    submit(jobs, 11, T0 + timedelta(seconds=1))
    submit(jobs, 20, T0, entity="customers")
    assert [j.job_id for j in jobs.list_open()] == [20, 11, 10]
    assert sorted(j.job_id for j in jobs.unfinished_for_entity("products")) == [10, 11]
    jobs.record_status(11, JobStatus.SUCCEEDED, source="event", at=T0 + timedelta(minutes=1))
    assert [j.job_id for j in jobs.list_open()] == [20, 10]
    assert [j.job_id for j in jobs.unfinished_for_entity("products")] == [10]
    jobs.record_status(10, JobStatus.FAILED, source="poll", at=T0 + timedelta(minutes=1))
    assert jobs.unfinished_for_entity("products") == []
    assert jobs.unfinished_for_entity("product") == []  # prefix of another entity is not a match


def test_supersede_marks_only_failed_jobs_before_the_time(jobs: JobStore) -> None:
    full_at = T0 + timedelta(hours=1)
    for job_id, status, minutes in [
        (1, JobStatus.FAILED, 0),
        (2, JobStatus.VALIDATION_FAILED, 10),
        (3, JobStatus.SUCCEEDED, 20),
        (4, None, 30),  # still running
        (5, JobStatus.FAILED, 90),  # after the full import started
    ]:
        submit(jobs, job_id, T0 + timedelta(minutes=minutes))
        if status is not None:
            jobs.record_status(job_id, status, source="poll", at=T0 + timedelta(minutes=minutes + 1))
    submit(jobs, 6, T0, entity="customers")
    jobs.record_status(6, JobStatus.FAILED, source="poll", at=T0)

    assert sorted(jobs.mark_superseded("products", full_at, by_job_id=99)) == [1, 2]
    assert jobs.get(1).superseded and jobs.get(1).superseded_by == 99
    assert jobs.get(2).superseded
    assert not any(jobs.get(j).superseded for j in (3, 4, 5, 6))
    assert jobs.mark_superseded("products", full_at, by_job_id=100) == []  # already done
    assert jobs.get(1).superseded_by == 99


def test_mark_stuck_once_and_never_for_finished_jobs(jobs: JobStore) -> None:
    submit(jobs, 1)
    job, changed = jobs.mark_stuck(1, at=T0 + timedelta(hours=2))
    assert changed and job.stuck and job.stuck_at == T0 + timedelta(hours=2)
    _, changed = jobs.mark_stuck(1, at=T0 + timedelta(hours=3))
    assert not changed
    assert [j.job_id for j in jobs.list_open()] == [1]  # stuck is still open
    submit(jobs, 2)
    jobs.record_status(2, JobStatus.SUCCEEDED, source="poll", at=T0)
    _, changed = jobs.mark_stuck(2, at=T0 + timedelta(hours=2))
    assert not changed


def test_log_summary_and_restarts(state_table: StateTable, jobs: JobStore) -> None:
    submit(jobs, 1)
    jobs.record_status(1, JobStatus.FAILED, source="poll", at=T0)
    entries = [
        JobLogEntry(SeverityId=JobSeverity.INFORMATION, Message="Starting import."),
        JobLogEntry(SeverityId=JobSeverity.ERROR, Message="Unknown PartNo", ImportedRow='{"PartNo":"X"}'),
        JobLogEntry(SeverityId=JobSeverity.WARNING, Message="Skipped field"),
        JobLogEntry(SeverityId=JobSeverity.ERROR, Message="Bad price", ImportedRow="x" * 5000),
    ]
    summary = LogSummary.from_entries(entries, max_errors=5)
    assert summary.counts == {"information": 1, "error": 2, "warning": 1}
    assert len(summary.first_errors[1].imported_row or "") == 1000
    assert jobs.set_log_summary(1, summary).log_summary == summary

    restarted = jobs.record_restart(1, 2, at=T0 + timedelta(minutes=5))
    again = jobs.record_restart(1, 2, at=T0 + timedelta(minutes=6))
    assert restarted.restart_count == again.restart_count == 1
    assert [r.new_job_id for r in again.restarts] == [2]
    history = state_table.get({"PK": "JOB#1", "SK": "RESTART#0001"})
    assert history is not None and history["new_job_id"] == 2
    assert jobs.get(1).status is JobStatus.FAILED  # terminal status untouched by log/restart


def test_list_by_entity_newest_first_with_status_and_time_filters(jobs: JobStore) -> None:
    for job_id in range(1, 6):
        submit(jobs, job_id, T0 + timedelta(minutes=job_id))
    jobs.record_status(2, JobStatus.FAILED, source="poll", at=T0)
    jobs.record_status(4, JobStatus.FAILED, source="poll", at=T0)
    assert [j.job_id for j in jobs.list_by_entity("products")] == [5, 4, 3, 2, 1]
    assert [j.job_id for j in jobs.list_by_entity("products", limit=2)] == [5, 4]
    assert [j.job_id for j in jobs.list_by_entity("products", status=JobStatus.FAILED)] == [4, 2]
    assert [j.job_id for j in jobs.list_by_entity("products", status=JobStatus.FAILED, limit=1)] == [4]
    assert [j.job_id for j in jobs.list_by_entity("products", since=T0 + timedelta(minutes=3))] == [5, 4, 3]


def test_jobs_for_run(state_table: StateTable, jobs: JobStore) -> None:
    RunStore(state_table).create(RunRecord(run_id="r1", entity="products", mode="delta", started_at=T0))
    submit(jobs, 1, T0 + timedelta(seconds=1), run_id="r1")
    submit(jobs, 2, T0 + timedelta(seconds=2), run_id="r1")
    submit(jobs, 3, T0 + timedelta(seconds=3), run_id="r2")
    assert [j.job_id for j in jobs.jobs_for_run("r1")] == [1, 2]
    assert jobs.jobs_for_run("unknown") == []


def test_concurrent_writers_do_not_lose_updates(state_table: StateTable, jobs: JobStore) -> None:
    submit(jobs, 1)
    other = JobStore(state_table)
    calls = 0
    original = other._mutate

    # The event handler's write lands between our read and our write: ours is retried on top.
    def racing_change(job: JobRecord) -> JobRecord | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            jobs.record_status(1, JobStatus.SUCCEEDED, source="event", at=T0 + timedelta(seconds=1))
        return job.model_copy(update={"log_summary": LogSummary(counts={"error": 0})})

    record, changed = original(1, racing_change)
    assert changed and calls == 2
    assert record.status is JobStatus.SUCCEEDED and record.log_summary is not None
    assert jobs.get(1) == record
