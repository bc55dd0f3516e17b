"""The event queue the receiver and quarantine replay write to (SQS in AWS, in-memory fakes in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import orjson

from norcekit.envelope import DEFAULT_MAX_MESSAGE_BYTES, QueueEnvelope, attributes_size

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from norcekit.events.claims import ClaimStore


class EventQueue(Protocol):
    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        """Queue one message durably; returns its message id. Raises when it was not accepted."""
        ...


class SqsEventQueue:
    def __init__(self, queue_url: str, *, client: SQSClient) -> None:
        self.queue_url = queue_url
        self.client = client

    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        response = self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
                if value
            },
        )
        return response["MessageId"]


class EnvelopeTooLargeError(ValueError):
    """The envelope does not fit the queue and no claim store is configured."""


def send_envelope(
    queue: EventQueue,
    envelope: QueueEnvelope,
    attributes: Mapping[str, str],
    *,
    claims: ClaimStore | None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> tuple[str, bool]:
    """Queue ``envelope`` inline, or its body through the claim store when the message (body plus
    attributes) would exceed ``max_message_bytes``. Returns (message id, claim-checked)."""
    message = envelope.to_message()
    claim_checked = False
    if len(message.encode()) + attributes_size(attributes) > max_message_bytes:
        if claims is None or envelope.body is None:
            raise EnvelopeTooLargeError(f"envelope exceeds {max_message_bytes} bytes")
        ref = claims.put(orjson.dumps(envelope.body))
        message = envelope.with_body_ref(ref).to_message()
        claim_checked = True
    return queue.send(message, attributes), claim_checked
