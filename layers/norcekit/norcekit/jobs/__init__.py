"""Connect job tracking: poll + JobCompletedEvent, failure logs, restarts, stuck jobs, watermark commit.

* :class:`JobTracker` (``tracker``) — ``on_status(job_id, status, source, dto=None)`` records a
  reported status and runs an ended job's terminal actions exactly once; the event processor calls
  it for every ``JobCompletedEvent``. ``restart(job_id, force=False)`` is the operator's restart.
* :class:`JobMonitor` (``monitor``) — ``tick(deadline)`` for the scheduled ``job_monitor`` Lambda.
* ``restart`` — the restart policy. When a run (with restarts) has succeeded is decided by
  :func:`norcekit.jobs.completion.commit_run_watermark_if_complete`.

:func:`build_job_tracker` / :func:`build_job_monitor` wire the real adapters from settings; build
them once per container.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from norcekit.jobs.metrics import EmfJobMetrics, JobMetrics
from norcekit.jobs.monitor import JobMonitor, MonitorOptions, TickSummary, entity_settings
from norcekit.jobs.restart import (
    EntityBusyError,
    Refusal,
    RestartDecision,
    Restarter,
    RestartError,
    RestartPolicy,
    RestartRefusedError,
    RestartResult,
    check_restart,
)
from norcekit.jobs.tracker import FinishOutcome, JobTracker

if TYPE_CHECKING:
    from collections.abc import Callable

    from norcekit.imports.config import IntegrationConfig
    from norcekit.norce.factory import NorceClients
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
) -> JobTracker:
    """A :class:`JobTracker` on the state table and the given Norce clients."""
    from norcekit.state.claims import FinishClaimStore  # noqa: PLC0415 - keep package import light
    from norcekit.state.jobs import JobStore  # noqa: PLC0415
    from norcekit.state.locks import LeaseLocks  # noqa: PLC0415
    from norcekit.state.runs import RunStore  # noqa: PLC0415
    from norcekit.state.watermarks import WatermarkStore  # noqa: PLC0415

    job_store = JobStore(table)
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
        metrics=metrics or EmfJobMetrics(),
        jobs_client=clients.jobs,
        log_max_errors=settings.job_log_max_errors,
        clock=clock,
    )


def build_job_monitor(
    settings: Settings,
    config: IntegrationConfig | None = None,
    *,
    table: StateTable | None = None,
    clients: NorceClients | None = None,
    metrics: JobMetrics | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> JobMonitor:
    """A :class:`JobMonitor` wired from settings (DynamoDB token store shared across containers)."""
    from norcekit.norce.auth import token_cache_key  # noqa: PLC0415
    from norcekit.norce.factory import build_norce_clients, resolve_credentials  # noqa: PLC0415
    from norcekit.state.table import StateTable  # noqa: PLC0415
    from norcekit.state.token_store import DynamoTokenStore  # noqa: PLC0415

    table = table or StateTable.from_settings(settings)
    if clients is None:
        client_id, _ = resolve_credentials(settings)
        # Its own StateTable (own boto3 resource): the token refresh may run on a poll thread.
        token_store = DynamoTokenStore(StateTable(table.name), token_cache_key(settings.token_url, client_id))
        clients = build_norce_clients(settings, token_store=token_store)
    metrics = metrics or EmfJobMetrics()
    tracker = build_job_tracker(settings, table=table, clients=clients, metrics=metrics, clock=clock)
    entities, deadline_for = entity_settings(config)
    return JobMonitor(
        tracker,
        jobs_client=clients.jobs,
        job_store=tracker.job_store,
        watermark_store=tracker.watermark_store,
        metrics=metrics,
        entities=entities,
        job_deadline_s=deadline_for,
        options=MonitorOptions(
            poll_min_interval_s=settings.job_poll_min_interval_s,
            concurrency=settings.job_poll_concurrency,
            sweep_recent=settings.job_sweep_recent,
        ),
        clock=clock,
    )


__all__ = [
    "EmfJobMetrics",
    "EntityBusyError",
    "FinishOutcome",
    "JobMetrics",
    "JobMonitor",
    "JobTracker",
    "MonitorOptions",
    "Refusal",
    "RestartDecision",
    "RestartError",
    "RestartPolicy",
    "RestartRefusedError",
    "RestartResult",
    "Restarter",
    "TickSummary",
    "build_job_monitor",
    "build_job_tracker",
    "check_restart",
]
