"""Lambda: API Gateway (REST) ``POST /orders`` (Norce's Order Receiver Service call) and
``POST /orders/answers`` (the ERP's answers) → authenticate, validate, store, queue.

Thin on purpose: the domain is :mod:`norcekit.orders.receiver` / :mod:`norcekit.orders.intake`.
Both are built from :mod:`norcekit.wiring` on their first request, not at import: Norce waits for
the OrderResponse synchronously, so cold start matters.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from norcekit.observability import get_logger, get_metrics, get_tracer
from norcekit.orders.api import build_order_resolver
from norcekit.wiring import ContainerComponents

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()
components = ContainerComponents(metrics=metrics)

app = build_order_resolver(lambda: components().order_receiver, lambda: components().answer_intake)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
# Responses stay out of traces: they can carry payload data.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
