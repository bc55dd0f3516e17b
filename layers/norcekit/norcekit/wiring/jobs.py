"""Job tracking wired to the state table and the Norce Job client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from norcekit.jobs.failed_items import FailedItemKeeper
from norcekit.jobs.metrics import EmfJobMetrics, JobMetrics
from norcekit.jobs.monitor import JobMonitor, MonitorOptions, entity_settings, import_kinds
from norcekit.jobs.restart import Restarter, RestartPolicy
from norcekit.jobs.tracker import JobTracker
from norcekit.state.claims import FinishClaimStore
from norcekit.state.jobs import JobStore
from norcekit.state.locks import LeaseLocks
from norcekit.state.runs import RunStore
from norcekit.state.watermarks import WatermarkStore

if TYPE_CHECKING:
    from norcekit.imports.config import IntegrationConfig
    from norcekit.norce.factory import NorceClients
    from norcekit.quarantine import QuarantineStore
    from norcekit.settings import Settings
    from norcekit.state.table import StateTable


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_job_tracker(
    settings: Settings,
    *,
    table: StateTable,
    clients: NorceClients,
    metrics: JobMetrics | None = None,
    clock: Callable[[], datetime] = _utc_now,
    quarantine: QuarantineStore | None = None,
) -> JobTracker:
    """A :class:`JobTracker` on the state table and the given Norce clients.

    ``quarantine`` keeps the items Norce rejects inside Succeeded jobs (for replay).
    """
    job_store = JobStore(table)
    metrics = metrics or EmfJobMetrics()
    restarter = Restarter(
        jobs_client=clients.jobs,
        job_store=job_store,
        run_store=RunStore(table),
        locks=LeaseLocks(table),
        policy=RestartPolicy.from_settings(settings),
        clock=clock,
    )
    return JobTracker(
        job_store=job_store,
        watermark_store=WatermarkStore(table),
        restarter=restarter,
        claims=FinishClaimStore(table, clock=clock),
        metrics=metrics,
        jobs_client=clients.jobs,
        log_max_errors=settings.job_log_max_errors,
        clock=clock,
        failed_items=None if quarantine is None else FailedItemKeeper(quarantine, clients.jobs, metrics),
    )


def build_job_monitor(
    settings: Settings,
    config: IntegrationConfig | None,
    *,
    tracker: JobTracker,
    clients: NorceClients,
    metrics: JobMetrics | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> JobMonitor:
    """A :class:`JobMonitor` around ``tracker``; ``config`` names the entities and job deadlines."""
    entities, deadline_for = entity_settings(config)
    return JobMonitor(
        tracker,
        jobs_client=clients.jobs,
        job_store=tracker.job_store,
        watermark_store=tracker.watermark_store,
        metrics=metrics or tracker.metrics,
        entities=entities,
        job_deadline_s=deadline_for,
        options=MonitorOptions(
            poll_min_interval_s=settings.job_poll_min_interval_s,
            concurrency=settings.job_poll_concurrency,
            sweep_recent=settings.job_sweep_recent,
        ),
        clock=clock,
        kind_of=import_kinds(config),
    )


__all__ = ["build_job_monitor", "build_job_tracker"]
