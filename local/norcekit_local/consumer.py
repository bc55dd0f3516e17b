"""Local stand-in for the Lambda SQS event source mappings (event processor, order delivery, ERP
answers).

A thread long-polls a (moto server) queue, turns each receive into an SQS event exactly as Lambda
delivers it (``Records`` with ``messageId``, ``receiptHandle``, ``body``,
``attributes.ApproximateReceiveCount``, ``messageAttributes``, ``eventSourceARN``), invokes the real
``functions/<name>/app.handler`` in-process and then does what the event source mapping does with
``ReportBatchItemFailures``: deletes the records that succeeded and leaves the failed ones to
reappear after their visibility timeout — and, after ``maxReceiveCount`` receives, SQS (moto's
redrive policy) moves them to the DLQ.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from norcekit_local.handlers import FakeLambdaContext, Handler, load_handler, load_handler_with

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


def sqs_event(messages: list[MessageTypeDef], queue_arn: str, region: str = "eu-north-1") -> dict[str, Any]:
    """``ReceiveMessage`` results → the Lambda SQS event."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        attributes.setdefault("ApproximateReceiveCount", "1")
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


@dataclass
class ConsumerStats:
    batches: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    handler_errors: int = 0


class SqsConsumer:
    def __init__(
        self,
        queue_url: str,
        *,
        sqs: SQSClient,
        handler: Handler | None = None,
        batch_size: int = 10,
        wait_time_s: int = 1,
        retry_visibility_s: int | None = None,
        function_timeout_s: float = 30.0,
        function_name: str = "event_processor",
    ) -> None:
        """``retry_visibility_s``: visibility given to failed records (None = the queue's own
        timeout, as in AWS); a small value makes local retries and the DLQ quick to demo."""
        self.queue_url = queue_url
        self.sqs = sqs
        self._handler = handler
        self.batch_size = batch_size
        self.wait_time_s = wait_time_s
        self.retry_visibility_s = retry_visibility_s
        self.function_timeout_s = function_timeout_s
        self.function_name = function_name
        self.stats = ConsumerStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_arn: str | None = None

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            # A fresh module per front/consumer, like a new Lambda container: its cached clients
            # are built from this stack's settings, not from a stack that ran earlier in the process.
            self._handler = load_handler(self.function_name, fresh=True)
        return self._handler

    @property
    def queue_arn(self) -> str:
        if self._queue_arn is None:
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            self._queue_arn = attrs["Attributes"]["QueueArn"]
        return self._queue_arn

    def poll_once(self, wait_time_s: int | None = None) -> int:
        """One receive + invoke + delete cycle; returns the number of records received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_time_s if wait_time_s is None else wait_time_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        self.stats.batches += 1
        self.stats.received += len(messages)
        event = sqs_event(messages, self.queue_arn)
        try:
            result = self.handler(event, FakeLambdaContext(self.function_name, self.function_timeout_s))
            failed_ids = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        except Exception:  # an invocation error fails the whole batch, as in Lambda
            self.stats.handler_errors += 1
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        failed = [m for m in messages if m["MessageId"] in failed_ids]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if failed and self.retry_visibility_s is not None:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": self.retry_visibility_s,
                    }
                    for i, m in enumerate(failed)
                ],
            )
        self.stats.succeeded += len(done)
        self.stats.failed += len(failed)
        return len(messages)

    def drain(self, max_polls: int = 50) -> int:
        """Poll (without long-polling) until a receive comes back empty; returns records received."""
        total = 0
        for _ in range(max_polls):
            received = self.poll_once(wait_time_s=0)
            total += received
            if not received:
                break
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # queue briefly unavailable (moto restarting): keep polling
                self._stop.wait(0.5)

    def start(self) -> SqsConsumer:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqs-consumer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_time_s + 10)
            self._thread = None

    def __enter__(self) -> SqsConsumer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EventConsumerService:
    """Local-stack service: the SQS consumer driving the real event processor handler.

    Failed records get ``retry_visibility_s`` (2 s) so retries and the DLQ are quick to watch.
    """

    name = "event_consumer"

    def __init__(self, *, retry_visibility_s: int = 2, wait_time_s: int = 1) -> None:
        self.retry_visibility_s = retry_visibility_s
        self.wait_time_s = wait_time_s
        self.consumer: SqsConsumer | None = None

    def start(self, stack: Any) -> dict[str, Any]:
        self.consumer = SqsConsumer(
            stack.info["queue_url"],
            sqs=stack.moto.client("sqs"),
            handler=load_handler_with("event_processor", stack.components),
            retry_visibility_s=self.retry_visibility_s,
            wait_time_s=self.wait_time_s,
        ).start()
        return {"queue_url": stack.info["queue_url"], "dlq_url": stack.info["dlq_url"]}

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
            self.consumer = None


class OrderConsumerService:
    """Local-stack service: the order delivery and ERP answer consumers (the template's two event
    source mappings), each driving its real handler; failed records come back after 2 s."""

    name = "order_consumers"

    def __init__(self, *, retry_visibility_s: int = 2, wait_time_s: int = 1) -> None:
        self.retry_visibility_s = retry_visibility_s
        self.wait_time_s = wait_time_s
        self.consumers: dict[str, SqsConsumer] = {}

    def start(self, stack: Any) -> dict[str, Any]:
        queues = {
            "order_delivery": stack.info["order_queue_url"],
            "order_answers": stack.info["order_answer_queue_url"],
        }
        for function, url in queues.items():
            self.consumers[function] = SqsConsumer(
                url,
                sqs=stack.moto.client("sqs"),
                handler=load_handler_with(function, stack.components),
                retry_visibility_s=self.retry_visibility_s,
                wait_time_s=self.wait_time_s,
                function_name=function,
            ).start()
        return {
            "order_queue_url": queues["order_delivery"],
            "order_answer_queue_url": queues["order_answers"],
        }

    def stop(self) -> None:
        for consumer in self.consumers.values():
            consumer.stop()
        self.consumers.clear()
