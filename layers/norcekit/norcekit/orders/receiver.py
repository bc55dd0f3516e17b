"""The Order Receiver Service: Norce's checkout posts an ``OrderRequest`` and waits for an
``OrderResponse`` (norce-api.md §7). Stored first, delivered later:

1. **Basic auth** (:mod:`norcekit.orders.auth`). Missing/wrong → ``401`` with a Basic challenge;
   nothing of the request is kept. 503 only when no credential list could ever be read.
2. **Valid** (:mod:`norcekit.orders.models`) → stored once per ``ClientOrderRef``
   (:mod:`norcekit.state.orders`, conditional write: Norce's retries find it and change nothing),
   queued for delivery to the ERP, answered ``200 {"StatusCode": "OK"}`` (with the ERP order
   number once a target returned one). Stored but not queued (SQS down) is still OK: the order is
   durable, ``OrdersNotQueued`` alarms, Norce's next retry or ``norcekit orders redeliver`` queues it.
3. **Invalid** → quarantined under a hash of the body (retries store it once), answered ``200
   {"StatusCode": "Failed", "Description": ...}`` naming the offending fields and the quarantine key.
4. **5xx only when the order could not be stored** (state table or quarantine down): Norce retries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aws_lambda_powertools import Logger

from norcekit.events.queue import EventQueue
from norcekit.events.webhook_auth import SecretSource, SecretsUnavailable
from norcekit.observability import MetricName, MetricsSink, NoMetrics
from norcekit.orders.auth import CHALLENGE, BasicAuthenticator
from norcekit.orders.models import InvalidOrder, OrderResponse, validate_order
from norcekit.quarantine import QuarantineStore, scrub_headers
from norcekit.state.orders import OrderStore, StoredOrder

logger = Logger(service="norcekit", child=True)

#: API Gateway's payload limit; no authentic order up to it is refused for size.
DEFAULT_MAX_ORDER_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class OrderAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


UNAUTHORIZED = OrderAnswer(401, {"message": "Unauthorized"}, {"WWW-Authenticate": CHALLENGE})


def _failed(status: int, description: str) -> OrderAnswer:
    return OrderAnswer(status, OrderResponse(StatusCode="Failed", Description=description).model_dump())


def order_message(client_order_ref: str, *, force: bool = False) -> str:
    """The delivery queue's message: the stored order is read back by the consumer (no body copy);
    ``force`` delivers it again to targets that took it already (``norcekit orders redeliver --force``)."""
    message: dict[str, Any] = {"client_order_ref": client_order_ref}
    if force:
        message["force"] = True
    return orjson.dumps(message).decode()


def queue_for_delivery(
    queue: EventQueue, store: OrderStore, client_order_ref: str, *, force: bool = False
) -> str:
    """Queue a stored order for the delivery consumer and note it on the order; the message id."""
    message_id = queue.send(
        order_message(client_order_ref, force=force), {"client_order_ref": client_order_ref}
    )
    store.mark_queued(client_order_ref, message_id)
    return message_id


def order_content_key(body: bytes) -> str:
    return hashlib.sha256(b"order\n" + body).hexdigest()


class OrderReceiver:
    def __init__(
        self,
        *,
        credentials: SecretSource,
        store: OrderStore,
        queue: EventQueue,
        quarantine: QuarantineStore,
        max_body_bytes: int = DEFAULT_MAX_ORDER_BYTES,
        metrics: MetricsSink | None = None,
        auth: BasicAuthenticator | None = None,
    ) -> None:
        self.auth = auth or BasicAuthenticator(credentials)
        self.store = store
        self.queue = queue
        self.quarantine = quarantine
        self.max_body_bytes = max_body_bytes
        self.metrics: MetricsSink = metrics or NoMetrics()

    def _count(self, name: MetricName) -> None:
        self.metrics.add_metric(name=name.value, unit="Count", value=1)

    def receive(self, headers: Mapping[str, str] | None, body: bytes) -> OrderAnswer:
        try:
            authentic = self.auth.authenticate(headers)
        except SecretsUnavailable as exc:
            logger.error("order receiver credentials unavailable", extra={"error": str(exc)})
            return _failed(503, "Order receiver credentials unavailable; retry later")
        if not authentic:
            self._count(MetricName.ORDERS_UNAUTHORIZED)
            return UNAUTHORIZED

        verdict = validate_order(body, max_body_bytes=self.max_body_bytes)
        if isinstance(verdict, InvalidOrder):
            return self._quarantine(headers, body, verdict)
        ref = verdict.order.ClientOrderRef
        try:
            stored, new = self.store.add(ref, body.decode("utf-8"))
        except Exception as exc:
            self._count(MetricName.ORDERS_NOT_STORED)
            logger.error("order not stored", extra={"client_order_ref": ref, "error": type(exc).__name__})
            return _failed(503, "Order could not be stored; retry later")
        self._count(MetricName.ORDERS_RECEIVED if new else MetricName.ORDERS_DUPLICATE)
        if not stored.queue_message_id:  # new, or stored earlier while the queue was down
            self.enqueue(stored)
        logger.info("order stored", extra={"client_order_ref": ref, "new": new})
        return OrderAnswer(200, self._ok(stored, new).model_dump())

    def enqueue(self, order: StoredOrder) -> str | None:
        """Queue the stored order for delivery; ``None`` (logged, counted) when the queue refused."""
        try:
            message_id = queue_for_delivery(self.queue, self.store, order.client_order_ref)
        except Exception as exc:
            self._count(MetricName.ORDERS_NOT_QUEUED)
            logger.error(
                "order stored but not queued",
                extra={"client_order_ref": order.client_order_ref, "error": type(exc).__name__},
            )
            return None
        return message_id

    @staticmethod
    def _ok(order: StoredOrder, new: bool) -> OrderResponse:
        description = "Order received" if new else "Order already received"
        return OrderResponse(
            StatusCode="OK",
            Description=description,
            HasErpOrderNo=bool(order.erp_order_no),
            ErpOrderNo=order.erp_order_no,
        )

    def _quarantine(
        self, headers: Mapping[str, str] | None, body: bytes, invalid: InvalidOrder
    ) -> OrderAnswer:
        metadata = {
            "reason_code": invalid.reason,
            "client_order_ref": invalid.client_order_ref,
            "errors": [e.model_dump() for e in invalid.errors],
            "headers": scrub_headers(headers),
        }
        try:
            key = self.quarantine.put(
                "order", invalid.message, body, metadata=metadata, content_key=order_content_key(body)
            )
        except Exception as exc:
            self._count(MetricName.ORDERS_NOT_STORED)
            logger.error(
                "order quarantine failed", extra={"reason": invalid.reason, "error": type(exc).__name__}
            )
            return _failed(503, "Order could not be stored; retry later")
        self._count(MetricName.ORDERS_REJECTED)
        logger.warning(
            "order quarantined",
            extra={
                "reason": invalid.reason,
                "client_order_ref": invalid.client_order_ref,
                "quarantine_key": key,
            },
        )
        return _failed(200, f"{invalid.description()} [quarantine {key}]")


__all__ = [
    "DEFAULT_MAX_ORDER_BYTES",
    "OrderAnswer",
    "OrderReceiver",
    "order_content_key",
    "order_message",
    "queue_for_delivery",
]
