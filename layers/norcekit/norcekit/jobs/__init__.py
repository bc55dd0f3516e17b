"""Connect job tracking: poll + JobCompletedEvent, failure logs, restarts, stuck jobs, watermark commit.

* :class:`JobTracker` (``tracker``) — ``on_status(job_id, status, source, dto=None)`` records a
  reported status and runs an ended job's terminal actions exactly once; the event processor calls
  it for every ``JobCompletedEvent``. ``restart(job_id, force=False)`` is the operator's restart.
* :class:`JobMonitor` (``monitor``) — ``tick(deadline)`` for the scheduled ``job_monitor`` Lambda.
* ``restart`` — the restart policy. When a run (with restarts) has succeeded is decided by
  :func:`norcekit.jobs.completion.commit_run_watermark_if_complete`.

The composition root (:func:`norcekit.wiring.build_job_tracker` /
:func:`norcekit.wiring.build_job_monitor`) wires the real adapters; build them once per container.
"""

from __future__ import annotations

from norcekit.jobs.metrics import EmfJobMetrics, JobMetrics
from norcekit.jobs.monitor import JobMonitor, MonitorOptions, TickSummary
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
    "check_restart",
]
