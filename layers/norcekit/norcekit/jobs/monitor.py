"""The job monitor's tick: poll open jobs, flag stuck ones, resume unfinished work, report lag.

Run by EventBridge Scheduler (every minute by default) through ``functions/job_monitor``. One tick:

1. **Resume** terminal actions that a crashed or deferred runner left, and finish jobs another
   path recorded as ended (:meth:`JobTracker.sweep`).
2. **Poll** every open job (``JobStore.list_open``) with ``Job/Get``, at most once per
   ``job_poll_min_interval_s`` per job (remembered per container: a cold container polls all),
   ``job_poll_concurrency`` calls in parallel. Only the HTTP calls run in threads; every state
   write and terminal action happens on the calling thread, one at a time. No new call starts
   when less than ``POLL_MIN_REMAINING_S`` is left before the deadline: the next tick goes on.
3. **Stuck**: a job still unfinished ``job_deadline_s`` (per entity) after submission is flagged
   once (``JobsStuck``, error log); the import runner's ordering check reads the flag.
4. **Watermark lag**: ``WatermarkLagSeconds`` = now - committed watermark, per import with a
   timestamp watermark (cursor watermarks have no time to compare), with the dimensions every import
   metric has: ``entity`` its kind, ``import`` its name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.jobs.metrics import JobMetrics
from norcekit.jobs.tracker import JobServiceClient, JobTracker, utc_now
from norcekit.norce.jobs import JobDto
from norcekit.observability import MetricName
from norcekit.state.interfaces import JobRecords, Watermarks
from norcekit.state.jobs import JobNotFoundError, JobRecord

logger = Logger(service="norcekit", child=True)

#: No Job/Get starts with less time than this left (one call with a retry or two).
POLL_MIN_REMAINING_S = 2.0
#: An entity without its own ``job_deadline_s`` (the integration config's default too).
DEFAULT_JOB_DEADLINE_S = 3600.0


@dataclass
class TickSummary:
    open_jobs: int = 0
    polled: int = 0
    skipped_recently_polled: int = 0
    skipped_deadline: int = 0
    poll_errors: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    newly_stuck: list[int] = field(default_factory=list)
    resumed: int = 0
    watermark_lag_s: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MonitorOptions:
    poll_min_interval_s: float = 30.0
    concurrency: int = 4
    sweep_recent: int = 3


class JobMonitor:
    def __init__(
        self,
        tracker: JobTracker,
        *,
        jobs_client: JobServiceClient,
        job_store: JobRecords,
        watermark_store: Watermarks,
        metrics: JobMetrics,
        entities: Callable[[], Iterable[str]],
        job_deadline_s: Callable[[str], float],
        options: MonitorOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        kind_of: Callable[[str], str] | None = None,
    ) -> None:
        self.tracker = tracker
        self.jobs_client = jobs_client
        self.job_store = job_store
        self.watermark_store = watermark_store
        self.metrics = metrics
        self.entities = entities
        self.job_deadline_s = job_deadline_s
        self.options = options or MonitorOptions()
        self.clock = clock
        self.monotonic = monotonic
        #: An import's kind (the ``entity`` metric dimension); the entities form names it after its kind.
        self.kind_of = kind_of or (lambda name: name)
        self._last_polled: dict[int, float] = {}

    def tick(self, deadline: Deadline) -> TickSummary:
        summary = TickSummary()
        entities = list(self.entities())
        summary.resumed = self.tracker.sweep(entities, recent=self.options.sweep_recent, deadline=deadline)
        open_jobs = self.job_store.list_open()
        summary.open_jobs = len(open_jobs)
        still_open = self._poll(open_jobs, deadline, summary)
        self._flag_stuck(still_open, summary)
        self._watermark_lag(entities, summary)
        return summary

    # --- polling ----------------------------------------------------------------------------------

    def _poll(self, jobs: list[JobRecord], deadline: Deadline, summary: TickSummary) -> list[JobRecord]:
        open_ids = {job.job_id for job in jobs}
        for job_id in [j for j in self._last_polled if j not in open_ids]:
            del self._last_polled[job_id]  # ended or gone: forget
        now = self.monotonic()
        due: list[JobRecord] = []
        for job in jobs:
            last = self._last_polled.get(job.job_id)
            if last is not None and now - last < self.options.poll_min_interval_s:
                summary.skipped_recently_polled += 1
            else:
                due.append(job)
        current = {job.job_id: job for job in jobs}
        with ThreadPoolExecutor(max_workers=self.options.concurrency, thread_name_prefix="job-poll") as pool:
            futures: dict[Future[JobDto | None], JobRecord] = {
                pool.submit(self._fetch, job.job_id, deadline): job for job in due
            }
            for future in as_completed(futures):
                job = futures[future]
                keys = {"job_id": job.job_id, "entity": job.entity}
                try:
                    dto = future.result()
                except Exception as exc:  # Norce down, or an answer we cannot parse: next tick retries
                    summary.poll_errors += 1
                    logger.warning(
                        "job status could not be read",
                        extra={**keys, "error": f"{type(exc).__name__}: {exc}"},
                    )
                    continue
                if dto is None:
                    summary.skipped_deadline += 1
                    continue
                summary.polled += 1
                self._last_polled[job.job_id] = self.monotonic()
                try:
                    record = self.tracker.on_status(
                        job.job_id, dto.StatusId, "poll", dto=dto, deadline=deadline
                    )
                except JobNotFoundError:
                    continue  # deleted meanwhile (operator); nothing to track
                current[job.job_id] = record
                if record.is_terminal:
                    name = record.status.name.lower()
                    summary.finished[name] = summary.finished.get(name, 0) + 1
        return [job for job in current.values() if not job.is_terminal]

    def _fetch(self, job_id: int, deadline: Deadline) -> JobDto | None:
        """``None`` when the tick's time is up (runs in a worker thread: HTTP only, no state)."""
        if deadline.remaining() < POLL_MIN_REMAINING_S:
            return None
        return self.jobs_client.get(job_id, deadline=deadline)

    # --- stuck jobs and lag -----------------------------------------------------------------------

    def _flag_stuck(self, jobs: list[JobRecord], summary: TickSummary) -> None:
        now = self.clock()
        for job in jobs:
            if job.stuck:
                continue
            limit = self.job_deadline_s(job.entity)
            age = (now - job.submitted_at).total_seconds()
            if age <= limit:
                continue
            _, changed = self.job_store.mark_stuck(job.job_id, at=now)
            if not changed:
                continue
            summary.newly_stuck.append(job.job_id)
            self.metrics.emit(
                MetricName.JOBS_STUCK, 1, MetricUnit.Count, entity=job.kind_name, import_name=job.entity
            )
            logger.error(
                "job stuck: not finished within its deadline",
                extra={
                    "job_id": job.job_id,
                    "entity": job.entity,
                    "run_id": job.run_id,
                    "status": int(job.status),
                    "age_s": round(age),
                    "job_deadline_s": limit,
                },
            )

    def _watermark_lag(self, entities: list[str], summary: TickSummary) -> None:
        wanted = set(entities)
        now = self.clock()
        for committed in self.watermark_store.list():
            if committed.entity not in wanted or committed.watermark.kind != "timestamp":
                continue
            lag = max(0.0, (now - committed.watermark.as_datetime()).total_seconds())
            summary.watermark_lag_s[committed.entity] = round(lag, 3)
            self.metrics.emit(
                MetricName.WATERMARK_LAG_SECONDS,
                lag,
                MetricUnit.Seconds,
                entity=self.kind_of(committed.entity),
                import_name=committed.entity,
            )


class JobDeadline(Protocol):
    """An entity's settings as far as the monitor cares (``imports.entity_config.EntityConfig`` is one)."""

    @property
    def job_deadline_s(self) -> float: ...

    @property
    def kind(self) -> str: ...


class WatchedEntities(Protocol):
    """The integration configuration as far as the monitor cares (``IntegrationConfig`` is one)."""

    def all_imports(self) -> Mapping[str, JobDeadline]: ...

    def enabled_entities(self) -> list[str]: ...


def entity_settings(
    config: WatchedEntities | None,
) -> tuple[Callable[[], list[str]], Callable[[str], float]]:
    """(enabled entities, job deadline per entity) from the integration configuration.

    Without a configuration every import kind is watched with :data:`DEFAULT_JOB_DEADLINE_S`.
    """
    if config is None:
        # Cold start: the generated contracts are large and only needed when there is no config.
        from norcekit.norce.contracts import IMPORT_KINDS  # noqa: PLC0415 - cold start, see above

        return (lambda: list(IMPORT_KINDS)), (lambda entity: DEFAULT_JOB_DEADLINE_S)

    def deadline_for(entity: str) -> float:
        cfg = config.all_imports().get(entity)
        return float(cfg.job_deadline_s) if cfg is not None else DEFAULT_JOB_DEADLINE_S

    return config.enabled_entities, deadline_for


def import_kinds(config: WatchedEntities | None) -> Callable[[str], str]:
    """An import's name → its kind (the name itself without a configuration, or for an unknown name)."""

    def kind_of(name: str) -> str:
        cfg = config.all_imports().get(name) if config is not None else None
        return cfg.kind if cfg is not None and cfg.kind else name

    return kind_of
