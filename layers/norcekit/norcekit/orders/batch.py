"""One SQS batch → ``{"batchItemFailures": [...]}`` for the order consumers (delivery, answers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from norcekit.deadline import Deadline


def handle_sqs_batch(
    event: dict[str, Any], context: Any, handle_body: Callable[[str, Deadline], object]
) -> dict[str, Any]:
    """``handle_body(body, deadline)`` per record; a record whose handler raises is reported failed
    (SQS redelivers only it, then moves it to the DLQ). The deadline is the Lambda's remaining time."""
    deadline = Deadline.none()
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        deadline = Deadline.from_remaining_ms(context.get_remaining_time_in_millis())

    def record_handler(record: SQSRecord) -> None:
        handle_body(record.body, deadline)

    batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=batch, context=context)
    )
