"""Lambda: API Gateway (REST) ``POST /events/{EventType}`` → authenticate, validate, enqueue to SQS.

Thin on purpose: the domain is :mod:`norcekit.events.receiver`. The receiver (Secrets Manager,
SQS and S3 clients, from :mod:`norcekit.wiring`) is created on the first request, not at import,
and nothing here imports httpx, the Query client or Powertools' event_handler (one route needs no
resolver: :func:`~norcekit.events.webhook_api.dispatch`): Norce times out after 5 s, so cold start matters.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from norcekit.events.receiver import WebhookReceiver, dispatch
from norcekit.observability import get_logger, get_metrics, get_tracer
from norcekit.wiring import ContainerComponents

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()
components = ContainerComponents(metrics=metrics)


def receiver() -> WebhookReceiver:
    return components().receiver


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
)
# Responses stay out of traces: they can carry payload data.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch(event, receiver)
