"""Lambda: EventBridge Scheduler (every minute) → one job monitor tick.

Event (the schedule's ``Input``): ``{"source": "schedule"}``; the content is not used.

Thin on purpose: the domain is :class:`norcekit.jobs.JobMonitor` (and, where orders are received,
:class:`norcekit.orders.sweep.OrderSweeper`), built by :mod:`norcekit.wiring`
once per container (Norce token and connection pool, configuration). The tick gets the Lambda's
remaining time as its deadline and answers with its summary; metrics are EMF lines on stdout.
"""

from __future__ import annotations

import warnings
from typing import Any

from norcekit.deadline import Deadline
from norcekit.observability import get_logger, get_metrics, get_tracer
from norcekit.wiring import ContainerComponents

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()
# Job metrics carry an ``entity`` dimension each, so they are written as their own EMF documents
# (norcekit.jobs.EmfJobMetrics); this function-level Metrics is often empty, and that is fine.
warnings.filterwarnings("ignore", message="No application metrics to publish")
components = ContainerComponents(metrics=metrics)


@logger.inject_lambda_context(log_event=False, clear_state=True)
# Responses stay out of traces: they can carry payload data.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = Deadline.from_remaining_ms(context.get_remaining_time_in_millis())
    parts = components()
    summary: dict[str, Any] = parts.monitor.tick(deadline).as_dict()
    if parts.order_sweeper is not None:  # orders the queue refused: queued again, unattended
        summary |= parts.order_sweeper.sweep().as_dict()
    logger.info("job monitor tick", extra=summary)
    return summary
