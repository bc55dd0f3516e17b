"""Lambda: SQS batch of queued Norce events → Query look-ups → targets (ReportBatchItemFailures).

Thin on purpose: the domain is :mod:`norcekit.events.processor`. The processor (Norce clients,
token store, targets, look-up cache) is built once per container, on the first batch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from norcekit.events.processor import EventProcessor, build_processor
from norcekit.observability import get_logger, get_metrics
from norcekit.settings import get_settings

logger = get_logger()
metrics = get_metrics()


@cache
def processor() -> EventProcessor:
    return build_processor(get_settings(), metrics=metrics)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return processor().handle(event, context)
