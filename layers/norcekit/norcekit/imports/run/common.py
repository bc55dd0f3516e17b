"""The steps full and delta runs share: ordering check, run record, job record, finish, metrics.

:class:`RunPipeline` holds a run's collaborators (grouped in :mod:`.context`) and offers each
shared step as a method. A step that can end the run returns an :class:`~.outcome.Ended` (or
``None`` to carry on); :meth:`RunPipeline.finish` turns the ending into the stored run record,
the log line and the EMF metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.imports.config import IntegrationConfig
from norcekit.imports.entity_config import EntityConfig
from norcekit.imports.lookups import LookupSpec
from norcekit.imports.records import WatermarkValue
from norcekit.imports.run.context import (
    MODES,
    Clocks,
    MappingFunc,
    NorceSide,
    RunContext,
    RunnerOptions,
    RunStores,
    UnknownEntityError,
    source_now,
)
from norcekit.imports.run.outcome import OUTCOME_METRICS, Ended, RunResult
from norcekit.imports.run.steps import Mapping, Rejector
from norcekit.imports.sources.base import Source
from norcekit.jobs.completion import CommitResult, check_entity_order, commit_run_watermark_if_complete
from norcekit.norce.connect import ImportResult
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.norce.contracts.headers import Header
from norcekit.observability import MetricName
from norcekit.state import runs as runs_module
from norcekit.state.jobs import JobRecord
from norcekit.state.runs import ImportMode, RunOutcome, RunRecord
from norcekit.state.table import ConditionFailed

logger = Logger(service="norcekit", child=True)


def runnable_config(config: IntegrationConfig, entity: str, mode: ImportMode | None) -> EntityConfig:
    """The import's configuration; :class:`UnknownEntityError` when it cannot run in ``mode``
    (``None``: it needs only to be enabled)."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    found = config.all_imports().get(entity)
    if found is None:
        names = ", ".join(config.all_imports()) or "none"
        if entity in IMPORT_KINDS:
            raise UnknownEntityError(f"entity {entity!r} is not configured (imports: {names})")
        raise UnknownEntityError(f"unknown import {entity!r} (imports: {names})")
    path = config.path_of(entity)
    if not found.enabled:
        raise UnknownEntityError(f"import {entity!r} is disabled in the configuration ({path})")
    mode_enabled = mode is None or (found.full.enabled if mode == "full" else found.delta.enabled)
    if not mode_enabled:
        raise UnknownEntityError(f"{mode} imports of {entity!r} are disabled ({path}.{mode})")
    return found


@dataclass
class RunPipeline:
    """One run's collaborators and the steps every run takes, whatever its mode."""

    config: IntegrationConfig
    stores: RunStores
    norce: NorceSide
    metrics: Metrics
    options: RunnerOptions
    clocks: Clocks
    source_factory: Callable[[str], Source]
    mapping_factory: Callable[[str], MappingFunc]
    lookups: MappingOf[str, MappingOf[str, LookupSpec]]

    # --- before a run -----------------------------------------------------------------------------

    def entity_config(self, entity: str, mode: ImportMode | None) -> EntityConfig:
        """The entity's configuration; :class:`UnknownEntityError` when it cannot run in ``mode``.

        ``mode`` None (a replay of quarantined items): the entity needs only to be enabled.
        """
        return runnable_config(self.config, entity, mode)

    def existing(self, run_id: str) -> RunResult | None:
        """The stored record of ``run_id`` when a run by that id already happened (a duplicate trigger)."""
        try:
            record = self.stores.runs.get(run_id)
        except runs_module.RunNotFoundError:
            return None
        logger.info(
            "run id already used (a duplicate trigger): nothing done",
            extra={"run_id": run_id, "outcome": record.outcome},
        )
        return RunResult(**record.model_dump(), stored=False)

    @staticmethod
    def duplicate(run: RunContext, why: str) -> RunResult:
        """A second trigger of a run id whose first holder is still running: nothing is written."""
        logger.info("duplicate trigger of a running run: nothing done", extra=run.log_keys())
        return RunResult(
            run_id=run.run_id,
            entity=run.entity,
            kind=run.kind,
            mode=run.mode,
            started_at=run.started_at,
            outcome=RunOutcome.SKIPPED_LOCKED,
            message=f"skipped: duplicate trigger; {why}",
            stored=False,
        )

    def check_order(self, run: RunContext, config: EntityConfig, deadline: Deadline) -> Ended | None:
        """DESIGN rule 3: an unfinished earlier job of the entity defers the run."""
        decision = check_entity_order(
            run.entity,
            job_store=self.stores.jobs,
            jobs_client=self.norce.jobs,
            job_deadline_s=config.job_deadline_s,
            stuck_policy=config.stuck_policy,
            run_store=self.stores.runs,
            watermark_store=self.stores.watermarks,
            clock=self.clocks.now,
            deadline=deadline,
            status_sink=self.norce.status_sink,
            kind=run.kind,
        )
        run.stuck_job_ids = [job.job_id for job in decision.stuck]
        if decision.proceed:
            return None
        return Ended(RunOutcome.SKIPPED_JOB_RUNNING, decision.message)

    # --- pieces a run unit asks for ---------------------------------------------------------------

    def upper(self, source: Source, entity: str, config: EntityConfig) -> WatermarkValue:
        """The window's upper bound, fixed at run start: the source's clock minus the safety lag."""
        now = source_now(source, entity)
        if isinstance(now, datetime):
            return now - timedelta(seconds=config.delta.safety_lag_s)
        return now  # a cursor feed's high-water mark is exclusive and final: no lag

    def header(self, entity: str, *, full_file: bool) -> Header:
        """Import ``entity``'s header: its own system account, field lists and scope."""
        account_id = self.config.account_id_for(entity, self.norce.account_id_for)
        return self.config.build_header(entity, account_id=account_id, full_file=full_file)

    def mapping(self, run: RunContext) -> Mapping:
        return Mapping.for_run(
            run,
            self.mapping_factory(run.entity),
            specs=self.lookups.get(run.kind),
            query=self.norce.query,
            batch_size=self.options.lookup_batch_size,
        )

    def rejector(self, run: RunContext, *, full_file: bool = False) -> Rejector:
        return Rejector(
            run,
            self.stores.quarantine,
            max_reported=self.options.max_reported_rejections,
            full_file=full_file,
        )

    # --- records ----------------------------------------------------------------------------------

    def create(self, run: RunContext) -> None:
        """Store the run record (once; never for a dry run) before anything is read."""
        if run.created or run.dry_run:
            return
        self.stores.runs.create(
            RunRecord(
                run_id=run.run_id,
                entity=run.entity,
                kind=run.kind,
                mode=run.mode,
                started_at=run.started_at,
                window_since=run.window_since,
                window_until=run.window_until,
                candidate_watermark=run.candidate,
                allowed=sorted(run.allow),
            )
        )
        run.created = True

    def record_job(self, run: RunContext, result: ImportResult, *, count_submitted: bool = True) -> None:
        """Record an accepted import's job and link it to the run before anything else can fail."""
        job_id = result.job_id
        if job_id is None:
            raise RuntimeError(
                f"Connect accepted the {run.entity} import but returned no JobId "
                f"(StatusCode {result.job.StatusCode!r}: {result.job.Description!r})"
            )
        if count_submitted:
            run.counts.submitted += result.items_sent
        run.job_ids.append(job_id)
        self.stores.jobs.create(
            JobRecord(
                job_id=job_id,
                entity=run.entity,
                kind=run.kind,
                mode=run.mode,
                run_id=run.run_id,
                item_count=result.items_sent,
                submitted_at=self.clocks.now(),
            )
        )
        # Persist run → job before anything else can fail, so the tracker can always find the run.
        self.stores.runs.update(run.run_id, add_job_ids=[job_id], counts=counts_of(run))
        logger.info(
            "import job submitted", extra={**run.log_keys(), "job_id": job_id, "items": result.items_sent}
        )

    # --- the end ----------------------------------------------------------------------------------

    def finish(self, run: RunContext, end: Ended) -> RunResult:
        """Store the run's ending (or report it, for a dry run), log it and emit its metrics."""
        outcome, message = end.outcome, end.message
        finished = self.clocks.now()
        duration = round((finished - run.started_at).total_seconds(), 3)
        stored = not run.dry_run
        record: RunRecord = RunRecord(
            run_id=run.run_id,
            entity=run.entity,
            kind=run.kind,
            mode=run.mode,
            started_at=run.started_at,
            finished_at=finished,
            window_since=run.window_since,
            window_until=run.window_until,
            candidate_watermark=run.candidate if end.committable else None,
            counts=counts_of(run),
            job_ids=run.job_ids,
            outcome=outcome,
            message=message,
            duration_s=duration,
            allowed=sorted(run.allow),
            notes=run.notes,
        )
        if run.created and not run.dry_run:
            if not end.committable and run.candidate is not None:
                # The stored candidate stays for the operator; the commit refuses it by outcome.
                message = f"{message} (candidate {run.candidate} not committable)"
            record = self.stores.runs.update(
                run.run_id,
                counts=counts_of(run),
                outcome=outcome,
                message=message,
                finished_at=finished,
                notes=run.notes or None,
            )
            if outcome is RunOutcome.SUBMITTED:
                record = self._commit_if_complete(run) or record
        elif not run.dry_run:
            try:
                record = self.stores.runs.create(record)
            except ConditionFailed:  # a duplicate trigger raced us to this run id
                stored = False
        log = logger.warning if outcome in OUTCOME_METRICS else logger.info
        log(
            "import run finished",
            extra={**run.log_keys(), "outcome": outcome.value, "detail": message, **run.counts.as_dict()},
        )
        if not run.dry_run:
            self._emit_metrics(run, outcome, duration)
        return RunResult(
            **record.model_dump(),
            dry_run=run.dry_run,
            stored=stored,
            rejections=run.rejections,
            stuck_job_ids=run.stuck_job_ids,
            deactivated_keys=run.deactivated if run.job_ids or run.dry_run else [],
        )

    def _commit_if_complete(self, run: RunContext) -> RunRecord | None:
        """Jobs that ended before ``submitted`` was written found the run still running: commit now."""
        sink = self.norce.status_sink

        def undecided(job: JobRecord) -> bool:  # a failed job whose restart is not decided yet
            return sink is not None and not sink.decided(job.job_id)

        try:
            result = commit_run_watermark_if_complete(
                run.run_id,
                run_store=self.stores.runs,
                job_store=self.stores.jobs,
                watermark_store=self.stores.watermarks,
                undecided=undecided,
            )
            return None if result is CommitResult.PENDING else self.stores.runs.get(run.run_id)
        except Exception:  # best effort: the run stays submitted, its watermark unmoved (safe)
            logger.exception("watermark commit after submitting failed", extra=run.log_keys())
            return None

    def _emit_metrics(self, run: RunContext, outcome: RunOutcome, duration_s: float) -> None:
        """One run's figures with dimensions ``entity`` (the kind) and ``import`` (the caller flushes)."""
        m = self.metrics
        m.add_dimension(name="entity", value=run.kind)
        m.add_dimension(name="import", value=run.entity)
        m.add_metadata(key="run_id", value=run.run_id)
        m.add_metadata(key="outcome", value=outcome.value)
        m.add_metric(name=MetricName.IMPORT_RUNS, unit=MetricUnit.Count, value=1)
        m.add_metric(name=MetricName.ITEMS_READ, unit=MetricUnit.Count, value=run.counts.read)
        m.add_metric(name=MetricName.ITEMS_MAPPED, unit=MetricUnit.Count, value=run.counts.mapped)
        m.add_metric(name=MetricName.ITEMS_QUARANTINED, unit=MetricUnit.Count, value=run.counts.quarantined)
        m.add_metric(name=MetricName.ITEMS_SUBMITTED, unit=MetricUnit.Count, value=run.counts.submitted)
        m.add_metric(name=MetricName.JOBS_SUBMITTED, unit=MetricUnit.Count, value=len(run.job_ids))
        m.add_metric(name=MetricName.IMPORT_DURATION_SECONDS, unit=MetricUnit.Seconds, value=duration_s)
        if run.stuck_job_ids:
            m.add_metric(name=MetricName.JOBS_STUCK, unit=MetricUnit.Count, value=len(run.stuck_job_ids))
        if outcome in OUTCOME_METRICS:
            m.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)


def counts_of(run: RunContext) -> runs_module.RunCounts:
    return runs_module.RunCounts(**run.counts.as_dict())


def submitted_message(run: RunContext) -> str:
    message = (
        f"{len(run.job_ids)} job(s) submitted ({run.counts.submitted} items); the watermark is "
        "committed when all of them succeed"
    )
    if run.mode == "full" and not IMPORT_KINDS[run.kind].has_full_file:
        message += f"; {run.kind} has no FullFile: a complete upsert, nothing is deactivated"
    return message + _out_of_scope_note(run)


def dry_run_message(run: RunContext, *, jobs: int) -> str:
    return (
        f"dry run: {run.counts.mapped - run.counts.out_of_scope} item(s) would be submitted in {jobs} "
        f"job(s); {run.counts.quarantined} record(s) would be quarantined; nothing was stored"
        + _out_of_scope_note(run)
    )


def _out_of_scope_note(run: RunContext) -> str:
    skipped = run.counts.out_of_scope
    return f"; {skipped} item(s) outside the import's scope were not sent" if skipped else ""
