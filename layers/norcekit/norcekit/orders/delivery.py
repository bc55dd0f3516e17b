"""Order delivery: a queued ``ClientOrderRef`` → the stored order, mapped, to every configured
target (HTTP with an Idempotency-Key, EventBridge, S3: the events targets).

* The delivered document is ``entity="order"``, ``key=<ClientOrderRef>``, versioned by the time the
  order was received: every redelivery of an order carries the same version and Idempotency-Key,
  so an ERP can drop duplicates.
* A target that already took the order is not sent it again (the per-target record in the order
  store), unless ``redeliver`` asks for it.
* The ERP order number in an HTTP target's JSON answer (``erp_order_no_field``) is kept on the order.
* Any target failing fails the SQS record: SQS redelivers it, then moves it to the DLQ
  (``norcekit events redrive`` style redrive, or ``norcekit orders redeliver``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aws_lambda_powertools import Logger

from norcekit.deadline import Deadline
from norcekit.events.lookups import MappingContext, identity, load_mapping
from norcekit.events.targets import Target, TargetDocument
from norcekit.observability import MetricName, MetricsSink, NoMetrics
from norcekit.orders.batch import handle_sqs_batch
from norcekit.orders.config import OrdersConfig
from norcekit.state.orders import OrderStore, StoredOrder

logger = Logger(service="norcekit", child=True)

ENTITY = "order"


class OrderDeliveryFailed(Exception):  # noqa: N818 - the record's failure reason
    pass


class OrderDelivery:
    def __init__(
        self,
        config: OrdersConfig,
        *,
        store: OrderStore,
        targets: Mapping[str, Target],
        metrics: MetricsSink | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.targets = dict(targets)
        self.metrics: MetricsSink = metrics or NoMetrics()
        self._mapping = load_mapping(config.mapping) if config.mapping else identity

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """SQS event → ``{"batchItemFailures": [...]}`` (ReportBatchItemFailures)."""
        return handle_sqs_batch(
            event, context, lambda body, deadline: self.deliver_message(body, deadline=deadline)
        )

    def deliver_message(self, body: str, *, deadline: Deadline | None = None) -> None:
        try:
            message = orjson.loads(body)
            ref = str(message["client_order_ref"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise OrderDeliveryFailed(f"not an order message ({type(exc).__name__})") from None
        self.deliver(ref, force=message.get("force") is True, deadline=deadline)

    def deliver(
        self, client_order_ref: str, *, force: bool = False, deadline: Deadline | None = None
    ) -> StoredOrder:
        """Deliver one stored order to the targets that do not have it yet (all with ``force``).
        Raises :class:`OrderDeliveryFailed` when a target did not take it (the record is retried)."""
        order = self.store.get(client_order_ref)
        if order is None:
            raise OrderDeliveryFailed(f"order {client_order_ref!r} is not in the order store")
        pending = [
            name
            for name in self.targets
            if force or name not in order.deliveries or order.deliveries[name].outcome != "ok"
        ]
        failures: list[str] = []
        for name in pending:
            doc = self._document(order, name, deadline)
            if doc is None:  # the mapping skipped this target
                continue
            result = self.targets[name].deliver([doc], deadline=deadline)[0]
            erp_order_no = self._erp_order_no(result.response) if result.ok else None
            self.store.record_delivery(
                client_order_ref, name, result.outcome.value, result.detail, erp_order_no
            )
            if result.ok:
                self.metrics.add_metric(name=MetricName.ORDER_DELIVERIES.value, unit="Count", value=1)
            else:
                self.metrics.add_metric(name=MetricName.ORDER_DELIVERY_FAILURES.value, unit="Count", value=1)
                failures.append(f"{name}: {result.detail}")
            logger.info(
                "order delivered" if result.ok else "order delivery failed",
                extra={"client_order_ref": client_order_ref, "target": name, "detail": result.detail},
            )
        if failures:
            raise OrderDeliveryFailed("; ".join(failures))
        return self.store.get(client_order_ref) or order

    def _document(self, order: StoredOrder, target: str, deadline: Deadline | None) -> TargetDocument | None:
        data: dict[str, Any] = orjson.loads(order.body)
        context = MappingContext(
            entity=ENTITY,
            key=order.client_order_ref,
            event_types=["OrderRequest"],
            target=target,
            deadline=deadline,
        )
        mapped = self._mapping(data, context)
        if mapped is None:
            return None
        # Versioned by receipt: a redelivery has the same version and Idempotency-Key.
        return TargetDocument.build(
            ENTITY, order.client_order_ref, ["OrderRequest"], mapped, fetched_at=order.received_at
        )

    def _erp_order_no(self, answer: Mapping[str, Any] | None) -> str | None:
        if not answer:
            return None
        value = answer.get(self.config.erp_order_no_field)
        if answer.get("HasErpOrderNo") is False or value in (None, ""):
            return None
        return str(value)


__all__ = ["OrderDelivery", "OrderDeliveryFailed"]
