"""Lambda: SQS batch of ERP answers (status, delivery note, invoice, credit, cancel) → Connect
order calls.

Thin on purpose: the domain is :mod:`norcekit.orders.answers`; the Connect client shares the
container's Norce clients from :mod:`norcekit.wiring`.
"""

from __future__ import annotations

from typing import Any

from norcekit.observability import get_logger, get_metrics, get_tracer
from norcekit.wiring import ContainerComponents

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()
components = ContainerComponents(metrics=metrics)


@logger.inject_lambda_context(log_event=False, clear_state=True)
# Responses stay out of traces: they can carry payload data.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return components().answer_forwarder.handle(event, context)
