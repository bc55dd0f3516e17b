"""What happens when a Connect job ends, exactly once, whichever report arrives first.

A job's end is reported by the job monitor's poll (``Job/Get``) and by Norce's ``JobCompletedEvent``,
in either order, possibly at the same moment from two Lambda containers. Both go through
:meth:`JobTracker.on_status`: the status is recorded (idempotent, terminal is sticky) and, when
terminal, the *terminal actions* run:

1. fill in Norce's counters when the event came first (one ``Job/Get``);
2. on Failed / Validation failed: ``Job/GetLog`` → a summary on the record, logged at error level;
   on Succeeded with ``Fail > 0``: ``Fail`` counted in ``ItemsFailedInNorce`` first (once, noted on
   the claim: a log that cannot be read does not hide it), then ``Job/GetLog`` → each rejected item
   quarantined (:mod:`norcekit.jobs.failed_items`; once, noted on the claim);
3. metrics ``JobsSucceeded`` / ``JobsFailed`` / ``JobsValidationFailed`` and ``JobLeadTimeSeconds``;
4. on Failed: the restart policy (:mod:`norcekit.jobs.restart`);
5. on a successful full import: earlier failures are superseded (DESIGN rule 4);
6. the run's outcome and watermark commit
   (:func:`norcekit.jobs.completion.commit_run_watermark_if_complete`).

"Exactly once" is a finish claim per job (:class:`norcekit.state.interfaces.FinishClaims`): whoever
takes it runs the actions, everyone else does nothing. The claim is a lease: if its holder dies, the
next monitor tick finds it expired (``FinishClaims.unfinished``) and runs the remaining actions.
Actions 1, 2, 5 and 6 are idempotent and simply run again; the metrics (3) and the restart (4) are
noted on the claim so they never repeat — the restart is noted *before* ``Job/Restart`` is called:
at most one restart per failure, even if we crash mid-call. A restart that finds the entity locked
by an import run is deferred: the claim is left to expire in ``RESTART_RETRY_S`` and the next tick
tries again (the run may by then have submitted a newer job, and the restart is refused).

The import runner's ordering check polls unfinished jobs itself and reports what it sees through
:meth:`JobTracker.on_status` (``build_import_runner`` wires it). Jobs recorded terminal by a path
without the tracker have no claim: :meth:`JobTracker.sweep` looks at each entity's newest jobs
every tick.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.jobs.completion import (
    CommitResult,
    commit_run_watermark_if_complete,
    supersede_earlier_failures,
)
from norcekit.jobs.failed_items import FailedItemKeeper, count_failed_items, has_failed_items
from norcekit.jobs.metrics import STATUS_METRIC, JobMetrics
from norcekit.jobs.restart import (
    EntityBusyError,
    RestartDecision,
    Restarter,
    RestartError,
    RestartRefusedError,
    RestartResult,
)
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.http import NorceError
from norcekit.norce.jobs import JobDto, JobLogEntry, JobStatus
from norcekit.observability import MetricName
from norcekit.state.claims import Claim, ClaimLostError
from norcekit.state.interfaces import FinishClaims, JobRecords, Watermarks
from norcekit.state.jobs import JobCounters, JobRecord, LogSummary, StatusSource

logger = Logger(service="norcekit", child=True)

#: A restart deferred because an import run holds the entity's lock is retried after this long.
RESTART_RETRY_S = 60
#: A Succeeded job whose counters could not be read (Job/Get failed) is finished again after this long.
DETAILS_RETRY_S = 15
#: Below this much time left, Job/Restart is not called (deferred to the next tick instead).
RESTART_MIN_REMAINING_S = 5.0
#: The sweep picks up endings recorded elsewhere only this far back (older ones predate the tracker).
SWEEP_LOOKBACK = timedelta(days=2)

STEP_METRICS = "metrics"
STEP_RESTART = "restart"
STEP_FAILED_ITEMS = "failed_items"
STEP_FAILED_COUNTED = "failed_items_counted"


class JobServiceClient(Protocol):
    """The part of ``norcekit.norce.jobs.JobClient`` the tracker and monitor use."""

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto: ...

    def get_log(self, job_id: int | str, *, deadline: Deadline | None = None) -> list[JobLogEntry]: ...

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- the tracker ----------------------------------------------------------------------------------


@dataclass
class FinishOutcome:
    """What one run of a job's terminal actions did."""

    job_id: int
    status: JobStatus
    restart: RestartResult | None = None
    restart_refused: RestartDecision | None = None
    restart_deferred: bool = False
    #: Job/Get failed, so Norce's counters are unknown: the actions wait for a later tick.
    details_deferred: bool = False
    commit: CommitResult | None = None


class JobTracker:
    """Records job statuses and runs each ended job's terminal actions once."""

    def __init__(
        self,
        *,
        job_store: JobRecords,
        watermark_store: Watermarks,
        restarter: Restarter,
        claims: FinishClaims,
        metrics: JobMetrics,
        jobs_client: JobServiceClient,
        log_max_errors: int = 10,
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
        failed_items: FailedItemKeeper | None = None,
    ) -> None:
        self.job_store = job_store
        self.restarter = restarter
        self.run_store = restarter.run_store
        self.claims = claims
        self.metrics = metrics
        self.jobs_client = jobs_client
        self.log_max_errors = log_max_errors
        self.clock = clock
        self.owner = owner or f"tracker:{uuid.uuid4().hex[:12]}"
        self.watermark_store = watermark_store
        #: Quarantines the items Norce rejected in a Succeeded job (``Fail > 0``); None: log only.
        self.failed_items = failed_items

    # --- entry points -----------------------------------------------------------------------------

    def on_status(
        self,
        job_id: int,
        status: JobStatus | int,
        source: StatusSource,
        dto: JobDto | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> JobRecord:
        """Record a reported status (poll or ``JobCompletedEvent``); on a terminal one, finish the job.

        Raises :class:`~norcekit.state.jobs.JobNotFoundError` for a job norcekit did not submit.
        """
        counters = JobCounters.from_dto(dto) if dto is not None else None
        runtime = dto.RunTime.total_seconds() if dto is not None and dto.RunTime is not None else None
        record, _ = self.job_store.record_status(
            job_id, status, source=source, at=self.clock(), counters=counters, runtime_s=runtime
        )
        if record.is_terminal:
            self.finish(record, deadline=deadline)
        return record

    def restart(self, job_id: int, *, force: bool = False, deadline: Deadline | None = None) -> RestartResult:
        """Operator restart (CLI). Same checks as the automatic one; ``force`` lifts only the count limit.

        Raises :class:`RestartRefusedError` (policy), :class:`EntityBusyError` (an import run holds the
        entity), :class:`RestartError` / Norce errors (Norce refused).
        """
        outcome = self.restarter.restart(job_id, trigger="manual", force=force, deadline=deadline)
        if isinstance(outcome, RestartDecision):
            raise RestartRefusedError(outcome)
        job = self.job_store.get(job_id)
        self.metrics.emit(
            MetricName.JOB_RESTARTS, 1, MetricUnit.Count, entity=job.kind_name, import_name=job.entity
        )
        return outcome

    def finish(self, record: JobRecord, *, deadline: Deadline | None = None) -> FinishOutcome | None:
        """Run ``record``'s terminal actions if nobody else has; ``None`` when someone else has."""
        claim = self.claims.claim(record, self.owner)
        if claim is None:
            return None
        keys = {"job_id": record.job_id, "entity": record.entity, "run_id": record.run_id}
        try:
            return self._finish_claimed(record, claim, deadline or Deadline.none())
        except ClaimLostError as exc:
            logger.warning(str(exc), extra=keys)
            return None
        except Exception:
            # The claim's lease runs out and the next tick resumes the remaining actions.
            logger.exception("terminal actions of a job failed; retried on a later tick", extra=keys)
            return None

    def sweep(self, entities: Iterable[str], *, recent: int = 3, deadline: Deadline | None = None) -> int:
        """Resume abandoned or deferred terminal actions, finish jobs ended elsewhere; returns how many."""
        deadline = deadline or Deadline.none()
        handled = 0
        now = int(self.clock().timestamp())
        for state in list(self.claims.unfinished()):
            if deadline.expired:
                return handled
            if state.lease_until > now:
                continue
            job = self.job_store.find(state.job_id)
            if job is not None and job.is_terminal and self.finish(job, deadline=deadline) is not None:
                handled += 1
        if recent <= 0:
            return handled
        since = self.clock() - SWEEP_LOOKBACK
        for entity in entities:
            for job in self.job_store.list_by_entity(entity, limit=recent):
                if deadline.expired:
                    return handled
                if not job.is_terminal or (job.finished_at is not None and job.finished_at < since):
                    continue
                if self.claims.state(job.job_id) is None:
                    fresh = self.job_store.get(job.job_id)  # the GSI copy may lag the item
                    if self.finish(fresh, deadline=deadline) is not None:
                        handled += 1
        return handled

    # --- the actions ------------------------------------------------------------------------------

    def _finish_claimed(self, record: JobRecord, claim: Claim, deadline: Deadline) -> FinishOutcome:
        record = self._fill_details(record, deadline)
        if record.status is JobStatus.SUCCEEDED and record.counters is None:
            # Without Norce's counters a clean job and one whose items Norce rejected (Fail > 0) look
            # alike: finish it on a later tick rather than report the run succeeded blind.
            self.claims.defer(claim, DETAILS_RETRY_S)
            return FinishOutcome(record.job_id, record.status, details_deferred=True)
        if record.is_failed:
            record = self._summarize_log(record, deadline)
        if has_failed_items(record) and STEP_FAILED_COUNTED not in claim.steps:
            # From Norce's Fail, before the log is read: a log that cannot be read must not hide them.
            self._count_failed_items(record)
            self.claims.step_done(claim, STEP_FAILED_COUNTED)
        if has_failed_items(record) and STEP_FAILED_ITEMS not in claim.steps:
            self._keep_failed_items(record, deadline)
            self.claims.step_done(claim, STEP_FAILED_ITEMS)
        if STEP_METRICS not in claim.steps:
            self._emit_outcome(record)
            self.claims.step_done(claim, STEP_METRICS)
        outcome = FinishOutcome(record.job_id, record.status)
        if record.status is JobStatus.FAILED and STEP_RESTART not in claim.steps:
            self._auto_restart(record, claim, deadline, outcome)
            if outcome.restart_deferred:
                return outcome
        if record.mode == "full" and record.status is JobStatus.SUCCEEDED:
            supersede_earlier_failures(record.entity, record, job_store=self.job_store)
        if record.run_id is not None:
            outcome.commit = commit_run_watermark_if_complete(
                record.run_id,
                run_store=self.run_store,
                job_store=self.job_store,
                watermark_store=self.watermark_store,
                undecided=lambda job: job.job_id != record.job_id and not self.decided(job.job_id),
            )
        self.claims.done(claim)
        return outcome

    def decided(self, job_id: int) -> bool:
        """Whether ``job_id``'s terminal actions (for a failure: the restart decision) are done."""
        state = self.claims.state(job_id)
        return state is not None and state.done

    def _fill_details(self, record: JobRecord, deadline: Deadline) -> JobRecord:
        """The event carries only the status: fetch counters and runtime once (best effort)."""
        if record.counters is not None:
            return record
        try:
            dto = self.jobs_client.get(record.job_id, deadline=deadline)
        except NorceError as exc:
            logger.warning(
                "job counters not available",
                extra={"job_id": record.job_id, "entity": record.entity, "error": str(exc)},
            )
            return record
        runtime = dto.RunTime.total_seconds() if dto.RunTime is not None else None
        updated, _ = self.job_store.record_status(
            record.job_id,
            record.status,
            source="poll",
            at=self.clock(),
            counters=JobCounters.from_dto(dto),
            runtime_s=runtime,
        )
        return updated

    def _summarize_log(self, record: JobRecord, deadline: Deadline) -> JobRecord:
        keys = {"job_id": record.job_id, "entity": record.entity, "run_id": record.run_id}
        try:
            entries = self.jobs_client.get_log(record.job_id, deadline=deadline)
        except NorceError as exc:
            logger.error(
                f"job {record.status.name}; its log could not be read",
                extra={**keys, "status": int(record.status), "error": str(exc)},
            )
            return record
        summary = LogSummary.from_entries(entries, max_errors=self.log_max_errors)
        updated = self.job_store.set_log_summary(record.job_id, summary)
        first = summary.first_errors[0].message if summary.first_errors else None
        logger.error(
            f"job {record.status.name}",
            extra={
                **keys,
                "status": int(record.status),
                "log_counts": summary.counts,
                "first_error": first,
                "counters": record.counters.model_dump() if record.counters else None,
            },
        )
        return updated

    def _keep_failed_items(self, record: JobRecord, deadline: Deadline) -> None:
        """DESIGN rule 11: a Succeeded job with ``Fail > 0`` has its log read, each item kept."""
        if self.failed_items is None:
            logger.error(
                "Norce rejected items of a succeeded job (no quarantine wired: not kept)",
                extra={"job_id": record.job_id, "entity": record.entity, "counters": record.counters},
            )
            return
        self.failed_items.keep(record, deadline=deadline, count=False)  # a Norce error: retried later

    def _count_failed_items(self, record: JobRecord) -> None:
        fail = record.counters.fail if record.counters is not None else None
        count_failed_items(self.metrics, record, fail or 0)

    def _emit_outcome(self, record: JobRecord) -> None:
        self.metrics.emit(
            STATUS_METRIC[record.status],
            1,
            MetricUnit.Count,
            entity=record.kind_name,
            import_name=record.entity,
        )
        if record.lead_time_s is not None:
            self.metrics.emit(
                MetricName.JOB_LEAD_TIME_SECONDS,
                record.lead_time_s,
                MetricUnit.Seconds,
                entity=record.kind_name,
                import_name=record.entity,
            )

    def _auto_restart(
        self, record: JobRecord, claim: Claim, deadline: Deadline, outcome: FinishOutcome
    ) -> None:
        keys = {"job_id": record.job_id, "entity": record.entity, "run_id": record.run_id}
        decision = self.restarter.check(record)
        if not decision.allowed:
            self.claims.step_done(claim, STEP_RESTART)
            outcome.restart_refused = decision
            logger.warning("failed job not restarted", extra={**keys, "reason": decision.message})
            return
        if deadline.remaining() < RESTART_MIN_REMAINING_S:
            self._defer(claim, outcome, keys, "not enough time left in this invocation")
            return

        def note_restart() -> None:  # at most once: noted before Job/Restart is called
            self.claims.step_done(claim, STEP_RESTART)

        try:
            result = self.restarter.restart(
                record.job_id, trigger="auto", deadline=deadline, before_call=note_restart
            )
        except EntityBusyError as exc:
            self._defer(claim, outcome, keys, str(exc))
            return
        except (NorceError, RestartError) as exc:
            logger.error("automatic restart failed", extra={**keys, "error": str(exc)})
            outcome.restart_refused = RestartDecision(False, None, f"restart failed: {exc}")
            return
        if isinstance(result, RestartDecision):  # the re-check under the lock said no
            if STEP_RESTART not in claim.steps:
                self.claims.step_done(claim, STEP_RESTART)
            outcome.restart_refused = result
            logger.warning("failed job not restarted", extra={**keys, "reason": result.message})
            return
        outcome.restart = result
        self.metrics.emit(
            MetricName.JOB_RESTARTS, 1, MetricUnit.Count, entity=record.kind_name, import_name=record.entity
        )

    def _defer(self, claim: Claim, outcome: FinishOutcome, keys: dict[str, Any], why: str) -> None:
        self.claims.defer(claim, RESTART_RETRY_S)
        outcome.restart_deferred = True
        logger.info("restart of a failed job deferred", extra={**keys, "reason": why})
