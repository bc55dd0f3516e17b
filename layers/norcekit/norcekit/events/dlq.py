"""Dead-letter queue tools: look at what is stuck, and send it back once the cause is fixed.

``redrive`` prefers SQS's own ``StartMessageMoveTask`` (server-side, rate-limited, one task per
queue). Where that API is missing (moto, some emulators) it falls back to moving messages itself:
receive (≤ 10, 1 s long-poll) → send to the destination with the same body and message attributes
→ delete from the DLQ, until the DLQ is empty or ``limit`` messages have moved. A message is deleted
only after the send succeeded, so a crash in between duplicates it (harmless: events are hints and
deliveries idempotent) but never loses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson
from botocore.exceptions import ClientError

from norcekit.envelope import InvalidEnvelope, QueueEnvelope

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


@dataclass(frozen=True)
class RedriveResult:
    method: Literal["move_task", "fallback"]
    moved: int
    failed: int = 0
    task_handle: str | None = None


def _queue_arn(sqs: SQSClient, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def redrive(
    source_dlq_url: str,
    dest_queue_url: str,
    *,
    sqs: SQSClient,
    limit: int = 10_000,
    prefer_move_task: bool = True,
    max_per_second: int | None = None,
) -> RedriveResult:
    """Move messages from the DLQ back to ``dest_queue_url`` (normally the event queue)."""
    if prefer_move_task:
        try:
            params: dict[str, Any] = {
                "SourceArn": _queue_arn(sqs, source_dlq_url),
                "DestinationArn": _queue_arn(sqs, dest_queue_url),
            }
            if max_per_second:
                params["MaxNumberOfMessagesPerSecond"] = max_per_second
            task = sqs.start_message_move_task(**params)
            return RedriveResult("move_task", moved=-1, task_handle=task.get("TaskHandle"))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            unsupported = code in ("InvalidAction", "UnsupportedOperation", "NotImplemented")
            # A server error (moto's server answers the unimplemented API with a bare 500) falls
            # back too: the receive → send → delete mover is correct everywhere, only slower.
            if not unsupported and status < 500 and "implemented" not in str(exc).lower():
                raise
        except NotImplementedError:
            pass
    return move_messages(source_dlq_url, dest_queue_url, sqs=sqs, limit=limit)


def move_messages(source_url: str, dest_url: str, *, sqs: SQSClient, limit: int = 10_000) -> RedriveResult:
    """The fallback mover: receive → send (body + attributes preserved) → delete."""
    moved = failed = 0
    while moved + failed < limit:
        messages = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=min(10, limit - moved - failed),
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            VisibilityTimeout=30,
        ).get("Messages", [])
        if not messages:
            break
        entries = [
            {
                "Id": str(i),
                "MessageBody": m["Body"],
                **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {}),
            }
            for i, m in enumerate(messages)
        ]
        sent = sqs.send_message_batch(QueueUrl=dest_url, Entries=entries)  # type: ignore[arg-type]
        ok_ids = {s["Id"] for s in sent.get("Successful", [])}
        to_delete = [m for i, m in enumerate(messages) if str(i) in ok_ids]
        if to_delete:
            sqs.delete_message_batch(
                QueueUrl=source_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(to_delete)
                ],
            )
        moved += len(to_delete)
        failed += len(messages) - len(to_delete)
        if len(to_delete) < len(messages):
            break  # the destination refuses: stop instead of spinning (left messages reappear)
    return RedriveResult("fallback", moved=moved, failed=failed)


@dataclass(frozen=True)
class PeekedMessage:
    message_id: str
    receive_count: int
    event_type: str | None
    entity_key: str | None
    body: Any


def peek(dlq_url: str, n: int = 10, *, sqs: SQSClient) -> list[PeekedMessage]:
    """Up to ``n`` DLQ messages, without removing them (they are made visible again at once)."""
    seen: dict[str, PeekedMessage] = {}
    handles: list[str] = []
    while len(seen) < n:
        messages: list[MessageTypeDef] = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, n - len(seen)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=30,
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        handles += [m["ReceiptHandle"] for m in messages]
        if not fresh:
            break
        for m in fresh:
            attrs: dict[str, Any] = dict(m.get("MessageAttributes", {}))
            body, envelope_type = _peek_body(m["Body"])
            seen[m["MessageId"]] = PeekedMessage(
                message_id=m["MessageId"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "0")),
                event_type=attrs.get("event_type", {}).get("StringValue") or envelope_type,
                entity_key=attrs.get("entity_key", {}).get("StringValue"),
                body=body,
            )
    for start in range(0, len(handles), 10):  # make them visible again for the real redrive
        sqs.change_message_visibility_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(handles[start : start + 10])
            ],
        )
    return list(seen.values())


def _peek_body(raw: str) -> tuple[Any, str | None]:
    """A DLQ message's body for display: the envelope (and its event type) when it is one, else the
    JSON or text as it is (a message that is not our envelope is why it may be on the DLQ)."""
    try:
        envelope = QueueEnvelope.from_message(raw)
    except InvalidEnvelope:
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError:
            return raw, None
    return envelope.model_dump(mode="json", exclude_none=True), envelope.event_type
