"""In-memory job, run and watermark records, and the :class:`MemoryState` every store shares."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from norcekit.norce.jobs import JobStatus
from norcekit.norce.tokens import CachedToken
from norcekit.state.jobs import (
    FAILED_STATUSES,
    JobCounters,
    JobExistsError,
    JobNotFoundError,
    JobRecord,
    LogSummary,
    StatusSource,
    as_submitted,
    flagged_stuck,
    superseded,
    with_log_summary,
    with_restart,
    with_status,
)
from norcekit.state.runs import RunCounts, RunExistsError, RunNotFoundError, RunOutcome, RunRecord
from norcekit.state.table import iso_utc
from norcekit.state.watermarks import CommittedWatermark, Watermark, WatermarkKindMismatchError

Record = dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LeaseItem:
    owner: str
    until: float


@dataclass
class ClaimItem:
    owner: str
    lease_until: int
    steps: list[str] = field(default_factory=list)
    entity: str = ""
    attempts: int = 1
    done: bool = False


@dataclass
class TokenItem:
    token: CachedToken | None = None
    lease_owner: str | None = None
    lease_until: float = 0.0


@dataclass
class MemoryState:
    """What one state table holds, in memory. Share it between stores (and threads)."""

    jobs: dict[int, Record] = field(default_factory=dict)
    runs: dict[str, Record] = field(default_factory=dict)
    watermarks: dict[str, CommittedWatermark] = field(default_factory=dict)
    leases: dict[str, LeaseItem] = field(default_factory=dict)
    claims: dict[int, ClaimItem] = field(default_factory=dict)
    tokens: dict[str, TokenItem] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


# --- jobs -----------------------------------------------------------------------------------------


class MemoryJobStore:
    """:class:`norcekit.state.interfaces.JobRecords` in memory."""

    def __init__(self, memory: MemoryState | None = None) -> None:
        self.memory = memory or MemoryState()

    def create(self, record: JobRecord) -> JobRecord:
        record = as_submitted(record)
        with self.memory.lock:
            if record.job_id in self.memory.jobs:
                raise JobExistsError(f"job {record.job_id} exists")
            self.memory.jobs[record.job_id] = record.model_dump(mode="json")
        return record

    def record_status(
        self,
        job_id: int,
        status: JobStatus | int,
        *,
        source: StatusSource,
        at: datetime,
        counters: JobCounters | None = None,
        runtime_s: float | None = None,
    ) -> tuple[JobRecord, bool]:
        new_status = JobStatus(status)
        return self._change(
            job_id,
            lambda job: with_status(
                job, new_status, source=source, at=at, counters=counters, runtime_s=runtime_s
            ),
        )

    def set_log_summary(self, job_id: int, summary: LogSummary) -> JobRecord:
        return self._change(job_id, lambda job: with_log_summary(job, summary))[0]

    def mark_stuck(self, job_id: int, *, at: datetime) -> tuple[JobRecord, bool]:
        return self._change(job_id, lambda job: flagged_stuck(job, at))

    def mark_superseded(self, entity: str, before: datetime, by_job_id: int) -> builtins.list[int]:
        marked = []
        with self.memory.lock:
            for job in self.list_by_entity(entity, until=before, status=FAILED_STATUSES, limit=None):
                if (
                    job.job_id != by_job_id
                    and self._change(job.job_id, lambda j: superseded(j, by_job_id))[1]
                ):
                    marked.append(job.job_id)
        return marked

    def record_restart(self, job_id: int, new_job_id: int, *, at: datetime | None = None) -> JobRecord:
        when = at or utc_now()
        return self._change(job_id, lambda job: with_restart(job, new_job_id, when))[0]

    def get(self, job_id: int) -> JobRecord:
        with self.memory.lock:
            item = self.memory.jobs.get(int(job_id))
        if item is None:
            raise JobNotFoundError(job_id)
        return JobRecord.model_validate(item)

    def find(self, job_id: int) -> JobRecord | None:
        try:
            return self.get(job_id)
        except JobNotFoundError:
            return None

    def list_open(self) -> builtins.list[JobRecord]:
        return sorted(
            (job for job in self._all() if not job.is_terminal), key=lambda j: (j.submitted_at, j.job_id)
        )

    def unfinished_for_entity(self, entity: str) -> builtins.list[JobRecord]:
        return [job for job in self.list_open() if job.entity == entity]

    def list_by_entity(
        self,
        entity: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: JobStatus | Iterable[JobStatus] | None = None,
        limit: int | None = 50,
    ) -> builtins.list[JobRecord]:
        wanted = None
        if status is not None:
            wanted = {status} if isinstance(status, JobStatus) else {JobStatus(s) for s in status}
        jobs = [
            job
            for job in self._all()
            if job.entity == entity
            and (since is None or job.submitted_at >= since)
            and (until is None or job.submitted_at < until)
            and (wanted is None or job.status in wanted)
        ]
        jobs.sort(key=lambda j: (j.submitted_at, j.job_id), reverse=True)
        return jobs if limit is None else jobs[: max(limit, 0)]

    def jobs_for_run(self, run_id: str) -> builtins.list[JobRecord]:
        with self.memory.lock:
            run = self.memory.runs.get(run_id)
        if run is None:
            return []
        started = RunRecord.model_validate(run).started_at
        jobs = self.list_by_entity(run["entity"], since=started, limit=None)
        return [job for job in reversed(jobs) if job.run_id == run_id]

    def _all(self) -> builtins.list[JobRecord]:
        with self.memory.lock:
            items = list(self.memory.jobs.values())
        return [JobRecord.model_validate(item) for item in items]

    def _change(self, job_id: int, change: Callable[[JobRecord], JobRecord | None]) -> tuple[JobRecord, bool]:
        with self.memory.lock:
            current = self.get(job_id)
            updated = change(current)
            if updated is None:
                return current, False
            self.memory.jobs[current.job_id] = updated.model_dump(mode="json")
            return updated, True


# --- runs -----------------------------------------------------------------------------------------


class MemoryRunStore:
    """:class:`norcekit.state.interfaces.RunRecords` in memory."""

    def __init__(self, memory: MemoryState | None = None) -> None:
        self.memory = memory or MemoryState()

    def create(self, record: RunRecord) -> RunRecord:
        with self.memory.lock:
            if record.run_id in self.memory.runs:
                raise RunExistsError(f"run {record.run_id} exists")
            self.memory.runs[record.run_id] = record.model_dump(mode="json")
        return record

    def update(
        self,
        run_id: str,
        *,
        counts: RunCounts | None = None,
        add_job_ids: Iterable[int] = (),
        outcome: RunOutcome | None = None,
        message: str | None = None,
        candidate_watermark: Watermark | None = None,
        window_until: Watermark | None = None,
        finished_at: datetime | None = None,
        notes: list[str] | None = None,
    ) -> RunRecord:
        with self.memory.lock:
            run = self.get(run_id)
            update: dict[str, Any] = {
                name: value
                for name, value in (
                    ("counts", counts),
                    ("outcome", outcome),
                    ("message", message),
                    ("candidate_watermark", candidate_watermark),
                    ("window_until", window_until),
                    ("notes", notes),
                )
                if value is not None
            }
            if finished_at is not None:
                update["finished_at"] = finished_at
                update["duration_s"] = round((finished_at - run.started_at).total_seconds(), 3)
            job_ids = [int(j) for j in add_job_ids]
            if job_ids:
                update["job_ids"] = [*run.job_ids, *job_ids]
            if not update:
                return run
            self.memory.runs[run_id] = run.model_copy(update=update).model_dump(mode="json")
            return self.get(run_id)

    def get(self, run_id: str) -> RunRecord:
        with self.memory.lock:
            item = self.memory.runs.get(run_id)
        if item is None:
            raise RunNotFoundError(run_id)
        return RunRecord.model_validate(item)

    def list_by_entity(
        self, entity: str, *, limit: int = 20, since: datetime | None = None
    ) -> builtins.list[RunRecord]:
        with self.memory.lock:
            items = list(self.memory.runs.values())
        runs = [RunRecord.model_validate(item) for item in items if item["entity"] == entity]
        runs = [run for run in runs if since is None or run.started_at >= since]
        runs.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return runs[: max(limit, 0)]

    def latest(self, entity: str) -> RunRecord | None:
        runs = self.list_by_entity(entity, limit=1)
        return runs[0] if runs else None


# --- watermarks -----------------------------------------------------------------------------------


class MemoryWatermarkStore:
    """:class:`norcekit.state.interfaces.Watermarks` in memory."""

    def __init__(
        self, memory: MemoryState | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.memory = memory or MemoryState()
        self._now = clock or utc_now

    def get(self, entity: str) -> Watermark | None:
        record = self.get_record(entity)
        return record.watermark if record else None

    def get_record(self, entity: str) -> CommittedWatermark | None:
        with self.memory.lock:
            return self.memory.watermarks.get(entity)

    def commit(self, entity: str, new: Watermark, *, run_id: str) -> bool:
        with self.memory.lock:
            stored = self.memory.watermarks.get(entity)
            if stored is not None and stored.watermark.kind != new.kind:
                raise WatermarkKindMismatchError(
                    f"watermark of {entity!r} is a {stored.watermark.kind}, not a {new.kind}; "
                    "set it explicitly (norcekit watermarks set)"
                )
            if stored is not None and stored.watermark >= new:
                return False
            self._store(entity, new, run_id)
            return True

    def force_set(self, entity: str, value: Watermark, *, actor: str = "operator") -> Watermark | None:
        with self.memory.lock:
            old = self.get(entity)
            self._store(entity, value, f"manual:{actor}")
            return old

    def clear(self, entity: str) -> Watermark | None:
        with self.memory.lock:
            old = self.memory.watermarks.pop(entity, None)
        return old.watermark if old else None

    def list(self) -> builtins.list[CommittedWatermark]:
        with self.memory.lock:
            return [self.memory.watermarks[entity] for entity in sorted(self.memory.watermarks)]

    def _store(self, entity: str, watermark: Watermark, run_id: str) -> None:
        committed_at = datetime.fromisoformat(iso_utc(self._now()))  # as the table reads it back
        self.memory.watermarks[entity] = CommittedWatermark(entity, watermark, committed_at, run_id)
