"""Decisions around an import run that need the job and run history: may we submit, what completes.

* :func:`check_entity_order` — DESIGN rule 3: no new job for an entity while an earlier one is
  unfinished; a job past its deadline is *stuck* (flagged, metric, policy decides).
* :func:`job_finished` — what a terminal job status sets off: a successful full import
  supersedes earlier failures (rule 4, :func:`supersede_earlier_failures`) and a run whose jobs
  have all succeeded commits its candidate watermark (rule 5,
  :func:`commit_run_watermark_if_complete`).
* :func:`settle_jobs` — poll ``Job/Get`` until jobs end and apply the above (used by tests and by
  the CLI until/beside the job tracker).

Nothing here reads a source or calls Connect imports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Protocol

from aws_lambda_powertools import Logger

from norcekit.deadline import Deadline
from norcekit.norce.jobs import JobDto, JobStatus
from norcekit.state.interfaces import JobRecords, RunRecords, Watermarks
from norcekit.state.jobs import JobCounters, JobRecord, StatusSource
from norcekit.state.runs import RunNotFoundError, RunOutcome

logger = Logger(service="norcekit", child=True)

StuckPolicy = Literal["defer", "proceed"]


class JobGetter(Protocol):
    """The part of ``norcekit.norce.jobs.JobClient`` used here."""

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto: ...


Clock = Callable[[], datetime]


class JobStatusSink(Protocol):
    """Records a job's status and runs an ended job's terminal actions exactly once.

    ``norcekit.jobs.JobTracker`` is one: handing it to :func:`check_entity_order` makes an ending
    seen by the ordering check go through the tracker's claim (metrics, failure log, restart), so
    it is never left to the monitor's newest-jobs sweep.
    """

    def on_status(
        self,
        job_id: int,
        status: JobStatus | int,
        source: StatusSource,
        dto: JobDto | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> JobRecord: ...

    def decided(self, job_id: int) -> bool:
        """Whether the job's terminal actions (a failed job's restart decision included) are done."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- Rule 3: serialized jobs per entity -----------------------------------------------------------


@dataclass(frozen=True)
class OrderDecision:
    """Whether a run may submit now. ``blocking`` are the unfinished jobs (oldest first)."""

    proceed: bool
    blocking: tuple[JobRecord, ...] = ()
    stuck: tuple[JobRecord, ...] = ()
    newly_stuck: tuple[int, ...] = ()
    message: str = ""


def check_entity_order(
    entity: str,
    *,
    job_store: JobRecords,
    jobs_client: JobGetter,
    job_deadline_s: float,
    stuck_policy: StuckPolicy = "defer",
    run_store: RunRecords | None = None,
    watermark_store: Watermarks | None = None,
    clock: Clock = utc_now,
    deadline: Deadline | None = None,
    status_sink: JobStatusSink | None = None,
    kind: str | None = None,
) -> OrderDecision:
    """May a new job of ``entity`` be submitted now (DESIGN rule 3)?

    ``entity`` is an import's name; with ``kind`` (the Norce entity it writes), the unfinished jobs
    of *every* import writing that kind count, so an older payload of one system never lands after
    a newer one of another.

    Each job our records still show as unfinished is asked for once (``Job/Get``: cheap, and it
    keeps a missed ``JobCompletedEvent`` from blocking the entity); a job found finished is
    recorded and its completion applied: through ``status_sink`` when given (the job tracker's
    exactly-once terminal actions), else :func:`job_finished`. A job still unfinished after
    ``job_deadline_s`` is *stuck*: it is flagged once (the ``JobsStuck`` metric and alarm come
    from the caller) and ``stuck_policy`` decides: ``defer`` (default) waits for it, ``proceed``
    submits anyway. A status refresh that fails leaves the job unfinished: deferring is the safe
    answer when we cannot tell.
    """
    still_open: list[JobRecord] = []
    unfinished = (
        job_store.unfinished_for_entity(entity)
        if kind is None
        else [job for job in job_store.list_open() if job.kind_name == kind]
    )
    for job in sorted(unfinished, key=lambda j: (j.submitted_at, j.job_id)):
        try:
            dto = jobs_client.get(job.job_id, deadline=deadline)
        except Exception as exc:  # any failure: keep treating the job as unfinished
            logger.warning(
                "could not refresh job status; treating it as unfinished",
                extra={"entity": entity, "job_id": job.job_id, "error": str(exc)},
            )
            still_open.append(job)
            continue
        if status_sink is not None:
            record = status_sink.on_status(job.job_id, dto.StatusId, "poll", dto, deadline=deadline)
        else:
            record = record_dto(job_store, dto, clock=clock)
            if record.is_terminal:
                job_finished(
                    record, job_store=job_store, run_store=run_store, watermark_store=watermark_store
                )
        if not record.is_terminal:
            still_open.append(record)
    if not still_open:
        return OrderDecision(proceed=True)

    now = clock()
    stuck = [job for job in still_open if (now - job.submitted_at).total_seconds() > job_deadline_s]
    newly_stuck: list[int] = []
    for job in stuck:
        _, changed = job_store.mark_stuck(job.job_id, at=now)
        if changed:
            newly_stuck.append(job.job_id)
    oldest = still_open[0]
    age = (now - oldest.submitted_at).total_seconds()
    if len(stuck) == len(still_open) and stuck_policy == "proceed":
        message = (
            f"job {oldest.job_id} of {oldest.entity} is stuck ({age:.0f}s > {job_deadline_s:.0f}s); "
            "stuck_policy=proceed: submitting anyway"
        )
        logger.warning(message, extra={"entity": entity, "job_id": oldest.job_id})
        return OrderDecision(True, tuple(still_open), tuple(stuck), tuple(newly_stuck), message)
    if stuck:
        first = stuck[0]
        stuck_age = (now - first.submitted_at).total_seconds()
        message = (
            f"skipped: job {first.job_id} of {first.entity} is stuck (unfinished for {stuck_age:.0f}s, "
            f"deadline {job_deadline_s:.0f}s); stuck_policy=defer"
        )
    else:
        message = (
            f"skipped: job {oldest.job_id} of {oldest.entity} still running ({age:.0f}s since submission)"
        )
    return OrderDecision(False, tuple(still_open), tuple(stuck), tuple(newly_stuck), message)


def record_dto(job_store: JobRecords, dto: JobDto, *, clock: Clock = utc_now) -> JobRecord:
    """Store a polled ``Job/Get`` answer on our job record (idempotent; terminal is sticky)."""
    runtime = dto.RunTime.total_seconds() if dto.RunTime is not None else None
    record, _ = job_store.record_status(
        dto.JobId,
        dto.StatusId,
        source="poll",
        at=clock(),
        counters=JobCounters.from_dto(dto),
        runtime_s=runtime,
    )
    return record


# --- Completion: rules 4 and 5 ----------------------------------------------------------------------


def supersede_earlier_failures(entity: str, full_job: JobRecord, *, job_store: JobRecords) -> list[int]:
    """Rule 4: once a full import has succeeded, earlier failed jobs of ``entity`` are superseded.

    A full import split by scope (on-hand per warehouse) supersedes only when every job of its
    run has succeeded, so a warehouse's success never hides another warehouse's failure. Returns
    the job ids marked now (superseded jobs are never restarted).
    """
    if full_job.mode != "full" or full_job.status is not JobStatus.SUCCEEDED:
        return []
    before = full_job.submitted_at
    if full_job.run_id is not None:
        run_jobs = job_store.jobs_for_run(full_job.run_id)
        # A failed job replaced by a (successful) restart of the same run no longer counts.
        others = [job for job in run_jobs if job.job_id != full_job.job_id and not job.restarts]
        if any(job.status is not JobStatus.SUCCEEDED for job in others):
            return []
        before = min([before, *(job.submitted_at for job in run_jobs)])
    marked = job_store.mark_superseded(entity, before, full_job.job_id)
    if marked:
        logger.info(
            "earlier failed jobs superseded by a successful full import",
            extra={"entity": entity, "job_id": full_job.job_id, "superseded": marked},
        )
    return marked


class CommitResult(StrEnum):
    COMMITTED = "committed"
    #: All jobs succeeded but the stored watermark is already at or past the candidate.
    NOT_ADVANCED = "not_advanced"
    #: Some jobs are not finished yet: try again when they are.
    PENDING = "pending"
    #: A job failed: the watermark stays where it was (the next run re-reads the window).
    JOB_FAILED = "job_failed"
    #: The run has no committable candidate (partial, failed, dry run, or nothing submitted).
    NOT_COMMITTABLE = "not_committable"
    UNKNOWN_RUN = "unknown_run"


def commit_run_watermark_if_complete(
    run_id: str,
    *,
    run_store: RunRecords,
    job_store: JobRecords,
    watermark_store: Watermarks,
    undecided: Callable[[JobRecord], bool] = lambda job: False,
) -> CommitResult:
    """Rule 5: commit the run's candidate watermark once **all** its jobs have succeeded.

    A job that failed and was restarted counts through its restart (the new job joins the run's
    ``job_ids``), so a run succeeds when every job either succeeded or was replaced by a restart
    that succeeded. ``undecided(job)`` lets the job tracker hold the run *pending* in the moment
    between a job failing and its restart being decided.

    Only a run that submitted everything it read (outcome ``submitted``) is committable; a
    ``partial_timeout`` or failed run never moves the watermark, and a run still ``running`` is
    *pending*. The write is conditional and
    never goes backwards (:meth:`Watermarks.commit`). The run's outcome becomes ``succeeded``
    or ``failed`` once its jobs have ended. Safe to call repeatedly (poller and event both may).
    """
    try:
        run = run_store.get(run_id)
    except RunNotFoundError:
        return CommitResult.UNKNOWN_RUN
    if run.outcome is RunOutcome.RUNNING:
        # The runner is still submitting: its jobs may end first. The runner asks again once it
        # has written ``submitted`` (or the outcome that makes the candidate uncommittable).
        return CommitResult.PENDING
    if run.outcome not in (RunOutcome.SUBMITTED, RunOutcome.SUCCEEDED, RunOutcome.SUCCEEDED_WITH_FAILURES):
        return CommitResult.NOT_COMMITTABLE
    jobs = [job_store.find(job_id) for job_id in dict.fromkeys(run.job_ids)]
    effective = [job for job in jobs if job is None or not job.restarts]  # a restarted job is replaced
    failed = [job.job_id for job in effective if job is not None and job.is_failed and not undecided(job)]
    # The run's notes (a guardrail allowed, keys a full import deactivates) outlive its message.
    noted = "".join(f"; {note}" for note in run.notes)
    if failed:
        if run.outcome is RunOutcome.SUBMITTED:
            run_store.update(
                run_id,
                outcome=RunOutcome.FAILED,
                message=f"job(s) {', '.join(map(str, failed))} failed; watermark not moved{noted}",
            )
        logger.warning("import run failed", extra={"run_id": run_id, "entity": run.entity, "failed": failed})
        return CommitResult.JOB_FAILED
    if any(job is None or job.status is not JobStatus.SUCCEEDED for job in effective):
        return CommitResult.PENDING
    if any(job.counters is None for job in effective if job is not None):
        # Only Norce's counters tell a clean job from one whose items it rejected (Fail > 0): a job
        # recorded Succeeded from a JobCompletedEvent has none until the tracker reads them (it
        # does, then calls here again); the runner must not call such a run succeeded meanwhile.
        return CommitResult.PENDING
    result = CommitResult.NOT_COMMITTABLE
    if run.candidate_watermark is not None:
        if watermark_store.commit(run.entity, run.candidate_watermark, run_id=run_id):
            logger.info(
                "watermark committed",
                extra={"entity": run.entity, "run_id": run_id, "watermark": str(run.candidate_watermark)},
            )
            result = CommitResult.COMMITTED
        else:
            result = CommitResult.NOT_ADVANCED
    if run.outcome is RunOutcome.SUBMITTED:
        notes = {
            CommitResult.COMMITTED: f"watermark committed at {run.candidate_watermark}",
            CommitResult.NOT_ADVANCED: "watermark already at or past this run's",
            CommitResult.NOT_COMMITTABLE: "no watermark to commit",
        }
        # Items Norce rejected in a Succeeded job are kept in the quarantine (norcekit.jobs.failed_items);
        # the watermark moves on anyway: re-reading the window would only fail them again.
        rejected = sum((job.counters.fail or 0) for job in effective if job is not None and job.counters)
        if rejected:
            run_store.update(
                run_id,
                outcome=RunOutcome.SUCCEEDED_WITH_FAILURES,
                message=f"all {len(effective)} job(s) succeeded but Norce rejected {rejected} item(s) "
                f"(`norcekit quarantine list --kind norce_item`, then `norcekit quarantine replay`); "
                f"{notes[result]}{noted}",
            )
        else:
            run_store.update(
                run_id,
                outcome=RunOutcome.SUCCEEDED,
                message=f"all {len(effective)} job(s) succeeded; {notes[result]}{noted}",
            )
    return result


def job_finished(
    job: JobRecord,
    *,
    job_store: JobRecords,
    run_store: RunRecords | None = None,
    watermark_store: Watermarks | None = None,
) -> CommitResult | None:
    """Apply what a terminal job sets off: supersede (full success) and the run's watermark commit."""
    if not job.is_terminal:
        return None
    supersede_earlier_failures(job.entity, job, job_store=job_store)
    if job.run_id is None or run_store is None or watermark_store is None:
        return None
    return commit_run_watermark_if_complete(
        job.run_id, run_store=run_store, job_store=job_store, watermark_store=watermark_store
    )


# --- Polling until jobs end -------------------------------------------------------------------------


@dataclass
class SettleResult:
    statuses: dict[int, JobStatus] = field(default_factory=dict)
    unfinished: list[int] = field(default_factory=list)

    @property
    def all_succeeded(self) -> bool:
        return not self.unfinished and all(s is JobStatus.SUCCEEDED for s in self.statuses.values())


def settle_jobs(
    job_ids: Iterable[int],
    jobs_client: JobGetter,
    job_store: JobRecords,
    timeout: float,
    *,
    run_store: RunRecords | None = None,
    watermark_store: Watermarks | None = None,
    poll_interval_s: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Clock = utc_now,
) -> SettleResult:
    """Poll ``Job/Get`` for ``job_ids`` until each is terminal or ``timeout`` seconds pass.

    Each status seen is recorded in the job store; a job that ends is handed to
    :func:`job_finished` (supersede, watermark commit) when the run and watermark stores are
    given. Returns the last status of each job and those still unfinished at the timeout.
    """
    pending = list(dict.fromkeys(int(j) for j in job_ids))
    result = SettleResult()
    stop_at = monotonic() + timeout
    while pending:
        still: list[int] = []
        for job_id in pending:
            record = record_dto(job_store, jobs_client.get(job_id), clock=clock)
            result.statuses[job_id] = record.status
            if record.is_terminal:
                job_finished(
                    record, job_store=job_store, run_store=run_store, watermark_store=watermark_store
                )
            else:
                still.append(job_id)
        pending = still
        if not pending or monotonic() >= stop_at:
            break
        sleep(poll_interval_s)
    result.unfinished = pending
    return result
