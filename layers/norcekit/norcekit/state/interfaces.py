"""What the rest of the kit may ask of its state, in the domain's words.

``jobs/``, ``imports/``, ``events/`` and the CLI type against these protocols, never against a
storage technology: no DynamoDB key, condition or exception shape leaves ``state/``. Two
implementations keep the same contract (``tests/contracts/state_stores.py`` runs one behaviour suite
against both):

* :class:`JobRecords` — :class:`~.jobs.JobStore` / :class:`~.memory.MemoryJobStore`
* :class:`RunRecords` — :class:`~.runs.RunStore` / :class:`~.memory.MemoryRunStore`
* :class:`Watermarks` — :class:`~.watermarks.WatermarkStore` / :class:`~.memory.MemoryWatermarkStore`
* :class:`Locks` (hands out :class:`Lease` s) — :class:`~.locks.LeaseLocks` / :class:`~.memory.MemoryLocks`
* :class:`FinishClaims` — :class:`~.claims.FinishClaimStore` / :class:`~.memory.MemoryFinishClaims`
* ``norcekit.norce.tokens.TokenStore`` — :class:`~.token_store.DynamoTokenStore` /
  :class:`~.memory.MemoryTokenStore`

(DynamoDB on the state table / in memory.) Errors are domain errors:
:class:`~.jobs.JobNotFoundError`, :class:`~.jobs.JobExistsError`,
:class:`~.runs.RunNotFoundError`, :class:`~.runs.RunExistsError`,
:class:`~.watermarks.WatermarkKindMismatchError`, :class:`~.locks.LockHeld`,
:class:`~.locks.LockLostError`, :class:`~.claims.ClaimLostError`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Protocol, runtime_checkable

from norcekit.norce.jobs import JobStatus
from norcekit.state.claims import Claim, ClaimState
from norcekit.state.jobs import JobCounters, JobRecord, LogSummary, StatusSource
from norcekit.state.locks import LeaseInfo
from norcekit.state.runs import RunCounts, RunOutcome, RunRecord
from norcekit.state.watermarks import CommittedWatermark, Watermark


@runtime_checkable
class JobRecords(Protocol):
    """Every Connect job we submitted, tracked until it ends (DESIGN rules 3 and 4)."""

    def create(self, record: JobRecord) -> JobRecord:
        """Record a just-submitted job; :class:`JobExistsError` if its id is known."""
        ...

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
        """Apply a status report (idempotent; a terminal status is sticky); ``(record, changed)``."""
        ...

    def set_log_summary(self, job_id: int, summary: LogSummary) -> JobRecord: ...

    def mark_stuck(self, job_id: int, *, at: datetime) -> tuple[JobRecord, bool]:
        """Flag an unfinished job past its deadline once; ``changed`` is ``False`` otherwise."""
        ...

    def mark_superseded(self, entity: str, before: datetime, by_job_id: int) -> builtins.list[int]:
        """Mark failed jobs of ``entity`` submitted before ``before`` superseded; the ids marked now."""
        ...

    def record_restart(self, job_id: int, new_job_id: int, *, at: datetime | None = None) -> JobRecord:
        """Note that ``job_id`` was restarted as ``new_job_id`` (idempotent per new job id)."""
        ...

    def get(self, job_id: int) -> JobRecord:
        """The job; :class:`JobNotFoundError` if unknown."""
        ...

    def find(self, job_id: int) -> JobRecord | None: ...

    def list_open(self) -> builtins.list[JobRecord]:
        """Every non-terminal job, oldest submission first."""
        ...

    def unfinished_for_entity(self, entity: str) -> builtins.list[JobRecord]:
        """Non-terminal jobs of ``entity`` (may lag a write by milliseconds)."""
        ...

    def list_by_entity(
        self,
        entity: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: JobStatus | Iterable[JobStatus] | None = None,
        limit: int | None = 50,
    ) -> builtins.list[JobRecord]:
        """Jobs of ``entity`` submitted in ``[since, until)``, newest first."""
        ...

    def jobs_for_run(self, run_id: str) -> builtins.list[JobRecord]:
        """Jobs submitted by one import run, in submission order."""
        ...


@runtime_checkable
class RunRecords(Protocol):
    """What each import run did."""

    def create(self, record: RunRecord) -> RunRecord:
        """Store a new run; :class:`RunExistsError` if its id is known (a duplicate trigger)."""
        ...

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
        """Change the given fields (job ids are appended); :class:`RunNotFoundError` if unknown."""
        ...

    def get(self, run_id: str) -> RunRecord: ...

    def list_by_entity(
        self, entity: str, *, limit: int = 20, since: datetime | None = None
    ) -> builtins.list[RunRecord]:
        """Runs of ``entity``, newest first, optionally only those started at or after ``since``."""
        ...

    def latest(self, entity: str) -> RunRecord | None: ...


@runtime_checkable
class Watermarks(Protocol):
    """Committed watermarks per entity: they only move forward, except by an operator's hand."""

    def get(self, entity: str) -> Watermark | None: ...

    def get_record(self, entity: str) -> CommittedWatermark | None: ...

    def commit(self, entity: str, new: Watermark, *, run_id: str) -> bool:
        """Commit ``new`` if it is newer than the stored one; ``False`` when it is not.

        :class:`WatermarkKindMismatchError` when the stored watermark is of the other kind.
        """
        ...

    def force_set(self, entity: str, value: Watermark, *, actor: str = "operator") -> Watermark | None:
        """Set unconditionally (may move backwards); the previous value."""
        ...

    def clear(self, entity: str) -> Watermark | None:
        """Forget the watermark; the previous value."""
        ...

    def list(self) -> builtins.list[CommittedWatermark]:
        """All committed watermarks, by entity name."""
        ...


@runtime_checkable
class Lease(Protocol):
    """One named lease held by ``owner`` (an import run, a restart) for ``lease_s`` at a time."""

    name: str
    owner: str
    lease_s: float
    #: The lease that blocked the last failed :meth:`acquire`.
    blocked_by: LeaseInfo | None

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours."""
        ...

    def renew(self) -> None:
        """Extend by ``lease_s`` from now; :class:`LockLostError` if it is not ours."""
        ...

    def release(self) -> bool:
        """Give it up; ``False`` (nothing changes) when it is not ours."""
        ...

    def holder(self) -> LeaseInfo | None:
        """The current unexpired lease, whoever holds it."""
        ...

    def assert_held(self) -> None:
        """Fencing check: :class:`LockLostError` unless we hold the lease."""
        ...

    def __enter__(self) -> Lease: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class Locks(Protocol):
    """Hands out leases by name (one import run or restart per entity at a time)."""

    def lease(self, name: str, owner: str, lease_s: float) -> Lease: ...


@runtime_checkable
class FinishClaims(Protocol):
    """Who runs a job's terminal actions (exactly once), and which once-only steps are done."""

    def claim(self, job: JobRecord, owner: str) -> Claim | None:
        """Take the job's terminal actions if nobody has, or the holder's lease ran out."""
        ...

    def step_done(self, claim: Claim, step: str) -> None:
        """Note a once-only step; :class:`ClaimLostError` if the claim was taken over."""
        ...

    def defer(self, claim: Claim, seconds: int) -> None:
        """Keep the claim unfinished until ``seconds`` from now, then anyone may resume it."""
        ...

    def done(self, claim: Claim) -> None: ...

    def state(self, job_id: int) -> ClaimState | None: ...

    def unfinished(self) -> Iterator[ClaimState]:
        """Claims whose actions did not complete (running, deferred, or abandoned by a crash)."""
        ...


__all__ = ["FinishClaims", "JobRecords", "Lease", "Locks", "RunRecords", "Watermarks"]
