"""When a Connect job may be restarted, and doing it (norce-api.md §2, DESIGN rules 3 and 4).

``Job/Restart`` re-runs a finished job's stored payload, which Norce keeps for two weeks. Re-running
*old* data is only safe when nothing newer of the entity has been submitted since, so a restart is
refused when:

* the job is not **Failed** (3): *Validation failed* (4) would fail the same way again, and a
  Succeeded (2) or unfinished job has nothing to repair;
* it was **superseded** by a later successful full import (rule 4);
* it was **already restarted** (restart the newest job of the chain instead);
* a **newer job** of the entity exists from another run (rule 3: the restarted payload would
  overwrite the newer job's data). Jobs of the same run are not "newer": a run's batches hold
  disjoint keys (deduplicated) or disjoint scopes (on-hand per warehouse);
* the payload is too old: older than the window minus a safety margin (clock skew, the exact
  moment Norce drops it), measured from the *first* job of the restart chain;
* the chain already holds ``max_restarts`` restarts (automatic restarts only: an operator's
  ``force`` lifts this limit, and nothing else: the rules above protect data, the count only
  protects the queue).

The restart itself runs under the entity's lease lock (the one the import runner holds for a
run), and the checks are repeated under it: a run cannot submit a newer job between our check and
our restart, and once the restarted job's record exists (unfinished) the runner's ordering check
waits for it. A held lock is not an error: the caller tries again later.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

from aws_lambda_powertools import Logger

from norcekit.deadline import Deadline
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobStatus
from norcekit.state.interfaces import JobRecords, Locks, RunRecords
from norcekit.state.jobs import JobNotFoundError, JobRecord
from norcekit.state.locks import writer_lock_name
from norcekit.state.runs import RunNotFoundError

if TYPE_CHECKING:
    from norcekit.settings import Settings

logger = Logger(service="norcekit", child=True)

RestartTrigger = Literal["auto", "manual"]
#: How long the entity lock is held for one restart (a Job/Restart call plus three writes).
RESTART_LOCK_LEASE_S = 120.0


class JobRestarter(Protocol):
    """The part of ``norcekit.norce.jobs.JobClient`` used here."""

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse: ...


class Refusal(StrEnum):
    NOT_FAILED = "not_failed"
    VALIDATION_FAILED = "validation_failed"
    SUPERSEDED = "superseded"
    ALREADY_RESTARTED = "already_restarted"
    NEWER_JOB = "newer_job"
    WINDOW_EXPIRED = "window_expired"
    LIMIT_REACHED = "limit_reached"


@dataclass(frozen=True)
class RestartPolicy:
    max_restarts: int = 2
    window: timedelta = timedelta(days=14)
    margin: timedelta = timedelta(hours=6)

    @classmethod
    def from_settings(cls, settings: Settings) -> RestartPolicy:
        return cls(
            max_restarts=settings.job_restart_max,
            window=timedelta(seconds=settings.job_restart_window_s),
            margin=timedelta(seconds=settings.job_restart_margin_s),
        )


@dataclass(frozen=True)
class RestartDecision:
    allowed: bool
    refusal: Refusal | None = None
    message: str = ""
    #: Restarts already made in this job's chain (0 for an original job).
    attempts: int = 0


def restart_chain(job: JobRecord, job_store: JobRecords) -> list[JobRecord]:
    """The jobs ``job`` was restarted from, newest first (empty for an original job)."""
    chain: list[JobRecord] = []
    current = job
    while current.restarted_from is not None and len(chain) < 100:
        parent = job_store.find(current.restarted_from)
        if parent is None:  # expired by TTL: the chain is older than the restart window anyway
            break
        chain.append(parent)
        current = parent
    return chain


def check_restart(
    job: JobRecord, *, job_store: JobRecords, policy: RestartPolicy, now: datetime, force: bool = False
) -> RestartDecision:
    """May ``job`` be restarted now? ``force`` lifts only the restart count limit."""

    def refuse(refusal: Refusal, message: str, attempts: int = 0) -> RestartDecision:
        return RestartDecision(False, refusal, f"job {job.job_id}: {message}", attempts)

    if job.status is JobStatus.VALIDATION_FAILED:
        return refuse(Refusal.VALIDATION_FAILED, "validation failed; the same payload would fail again")
    if job.status is not JobStatus.FAILED:
        return refuse(Refusal.NOT_FAILED, f"status is {job.status.name}; only Failed jobs are restarted")
    if job.superseded:
        return refuse(Refusal.SUPERSEDED, f"superseded by the successful full import job {job.superseded_by}")
    if job.restarts:
        newest = job.restarts[-1].new_job_id
        return refuse(Refusal.ALREADY_RESTARTED, f"already restarted as job {newest}; restart that one")
    chain = restart_chain(job, job_store)
    attempts = len(chain)
    first = chain[-1] if chain else job
    expires = first.submitted_at + policy.window - policy.margin
    if now >= expires:
        return refuse(
            Refusal.WINDOW_EXPIRED,
            f"payload submitted {first.submitted_at.isoformat()} is past the restart window "
            f"({policy.window} minus a {policy.margin} margin)",
            attempts,
        )
    own = {job.job_id, *(j.job_id for j in chain)}
    for other in job_store.list_by_entity(job.entity, since=first.submitted_at, limit=None):
        if other.job_id in own or (job.run_id is not None and other.run_id == job.run_id):
            continue
        return refuse(
            Refusal.NEWER_JOB,
            f"job {other.job_id} of {job.entity} was submitted later; restarting would overwrite newer data",
            attempts,
        )
    if attempts >= policy.max_restarts and not force:
        return refuse(
            Refusal.LIMIT_REACHED,
            f"restarted {attempts} time(s) already (limit {policy.max_restarts})",
            attempts,
        )
    return RestartDecision(True, attempts=attempts)


class RestartRefusedError(Exception):
    """A manual restart that the policy does not allow; ``decision`` says why."""

    def __init__(self, decision: RestartDecision) -> None:
        super().__init__(decision.message)
        self.decision = decision


class EntityBusyError(Exception):
    """Another holder (an import run) has the entity's lock: try again later."""


class RestartError(Exception):
    """Norce did not restart the job (or did not say which job it created)."""


@dataclass(frozen=True)
class RestartResult:
    job_id: int
    new_job_id: int
    attempt: int
    trigger: RestartTrigger


class Restarter:
    """Checks and performs restarts; the new job gets a record of its own in the same run."""

    def __init__(
        self,
        *,
        jobs_client: JobRestarter,
        job_store: JobRecords,
        run_store: RunRecords,
        locks: Locks,
        policy: RestartPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.jobs_client = jobs_client
        self.job_store = job_store
        self.run_store = run_store
        self.locks = locks
        self.policy = policy
        self.clock = clock

    def check(self, job: JobRecord, *, force: bool = False) -> RestartDecision:
        return check_restart(job, job_store=self.job_store, policy=self.policy, now=self.clock(), force=force)

    def restart(
        self,
        job_id: int,
        *,
        trigger: RestartTrigger,
        force: bool = False,
        deadline: Deadline | None = None,
        before_call: Callable[[], None] | None = None,
    ) -> RestartResult | RestartDecision:
        """Restart ``job_id`` if the policy allows; the refusal otherwise.

        Raises :class:`EntityBusyError` when the entity's lock is held, :class:`RestartError`
        when Norce refused or answered without a JobId, and whatever the Norce client raises.
        ``before_call`` runs under the lock just before ``Job/Restart`` (to note the attempt).
        """
        job = self.job_store.get(job_id)
        decision = self.check(job, force=force)  # cheap answer before taking any lock
        if not decision.allowed:
            return decision
        # A unique owner per attempt: a lease re-enters for its own owner, so a shared one would let a
        # second restart of this job in and its release would free the lock under the first.
        owner = f"job-restart:{job_id}:{uuid.uuid4().hex}"
        lock = self.locks.lease(job.entity, owner, RESTART_LOCK_LEASE_S)
        if not lock.acquire():
            holder = lock.blocked_by.owner if lock.blocked_by else "unknown"
            raise EntityBusyError(
                f"entity {job.entity} is locked by {holder}; restart of job {job_id} deferred"
            )
        # Another import writing the same Norce entity may be submitting: its payload is newer.
        writer = self.locks.lease(writer_lock_name(job.kind_name), owner, RESTART_LOCK_LEASE_S)
        if not writer.acquire():
            lock.release()
            holder = writer.blocked_by.owner if writer.blocked_by else "unknown"
            raise EntityBusyError(
                f"{job.kind_name} is being written by {holder}; restart of job {job_id} deferred"
            )
        try:
            job = self.job_store.get(job_id)
            decision = self.check(job, force=force)  # again, now that no run can submit meanwhile
            if not decision.allowed:
                return decision
            if before_call is not None:
                before_call()
            return self._restart_locked(job, decision.attempts + 1, trigger, deadline)
        finally:
            writer.release()
            lock.release()

    def _restart_locked(
        self, job: JobRecord, attempt: int, trigger: RestartTrigger, deadline: Deadline | None
    ) -> RestartResult:
        response = self.jobs_client.restart(job.job_id, deadline=deadline)
        new_job_id = response.job_id
        if new_job_id is None:
            raise RestartError(
                f"job {job.job_id}: Norce answered the restart without a JobId "
                f"(StatusCode {response.StatusCode!r}: {response.Description!r})"
            )
        now = self.clock()
        try:
            self.job_store.create(
                JobRecord(
                    job_id=new_job_id,
                    entity=job.entity,
                    kind=job.kind,  # the kind-wide ordering check must see the restarted job
                    mode=job.mode,
                    run_id=job.run_id,
                    item_count=job.item_count,
                    submitted_at=now,
                    restarted_from=job.job_id,
                )
            )
        except Exception:
            # Norce is already running the restart: the record must not be lost silently.
            logger.exception(
                "restarted job could not be recorded",
                extra={"job_id": job.job_id, "new_job_id": new_job_id, "entity": job.entity},
            )
            raise
        self.job_store.record_restart(job.job_id, new_job_id, at=now)
        if job.run_id is not None:
            # A run record may have expired or never existed (an import made by hand).
            with contextlib.suppress(RunNotFoundError):
                self.run_store.update(job.run_id, add_job_ids=[new_job_id])
        logger.info(
            "job restarted",
            extra={
                "job_id": job.job_id,
                "new_job_id": new_job_id,
                "entity": job.entity,
                "run_id": job.run_id,
                "attempt": attempt,
                "trigger": trigger,
            },
        )
        return RestartResult(job.job_id, new_job_id, attempt, trigger)


__all__ = [
    "EntityBusyError",
    "JobNotFoundError",
    "Refusal",
    "RestartDecision",
    "RestartError",
    "RestartPolicy",
    "RestartRefusedError",
    "RestartResult",
    "Restarter",
    "check_restart",
    "restart_chain",
]
