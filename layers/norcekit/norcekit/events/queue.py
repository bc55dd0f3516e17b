"""The event queue the receiver writes to (SQS in AWS, in-memory fakes in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class EventQueue(Protocol):
    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        """Queue one message durably; returns its message id. Raises when it was not accepted."""
        ...


class SqsEventQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3  # noqa: PLC0415 - boto3 on first use (cold start)

            self._client = boto3.client("sqs")
        return self._client

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
