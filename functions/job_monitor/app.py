"""Lambda: EventBridge Scheduler (every minute) → one job monitor tick.

Event (the schedule's ``Input``): ``{"source": "schedule"}``; the content is not used.

Thin on purpose: the domain is :class:`norcekit.jobs.JobMonitor`, built once per container (Norce
token and connection pool, configuration). The tick gets the Lambda's remaining time as its
deadline and answers with its summary; metrics are EMF lines on stdout.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

from norcekit.deadline import Deadline
from norcekit.jobs import JobMonitor, build_job_monitor
from norcekit.observability import get_logger, get_metrics
from norcekit.settings import get_settings

logger = get_logger()
metrics = get_metrics()
# Job metrics carry an ``entity`` dimension each, so they are written as their own EMF documents
# (norcekit.jobs.EmfJobMetrics); this function-level Metrics is often empty, and that is fine.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@cache
def monitor() -> JobMonitor:
    settings = get_settings()
    config = None
    if settings.norcekit_config:
        from norcekit.imports.config import load_config  # noqa: PLC0415 - only when configured

        config = load_config(settings=settings)
    return build_job_monitor(settings, config)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = Deadline.from_remaining_ms(context.get_remaining_time_in_millis())
    summary = monitor().tick(deadline).as_dict()
    logger.info("job monitor tick", extra=summary)
    return summary
