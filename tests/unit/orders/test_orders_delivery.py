"""Order delivery: every target gets the order once, the ERP order number is kept, failures retry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from tests.fixtures.orders import order_request

from norcekit.events.targets import DeliveryResult, TargetDocument
from norcekit.orders.config import OrdersConfig, parse_orders_config
from norcekit.orders.delivery import OrderDelivery, OrderDeliveryFailed
from norcekit.settings import SettingsError
from norcekit.state.orders import MemoryOrderStore


class FakeTarget:
    def __init__(self, name: str, results: list[DeliveryResult]) -> None:
        self.name = name
        self.results = results
        self.docs: list[TargetDocument] = []

    def deliver(self, docs: Sequence[TargetDocument], *, deadline: Any = None) -> list[DeliveryResult]:
        self.docs.extend(docs)
        return [self.results.pop(0) if len(self.results) > 1 else self.results[0] for _ in docs]


def sqs_event(*refs: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": "h",
                "body": json.dumps({"client_order_ref": ref}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-north-1:000000000000:orders",
                "awsRegion": "eu-north-1",
            }
            for i, ref in enumerate(refs)
        ]
    }


@pytest.fixture
def store() -> MemoryOrderStore:
    store = MemoryOrderStore()
    store.add("100234", json.dumps(order_request("100234")))
    store.mark_queued("100234", "msg-1")
    return store


def test_the_order_reaches_every_target_with_a_stable_idempotency_key(store: MemoryOrderStore) -> None:
    erp = FakeTarget("erp", [DeliveryResult.success("HTTP 200")])
    archive = FakeTarget("archive", [DeliveryResult.success("s3")])
    delivery = OrderDelivery(OrdersConfig(), store=store, targets={"erp": erp, "archive": archive})
    assert delivery.handle(sqs_event("100234")) == {"batchItemFailures": []}
    doc = erp.docs[0]
    assert doc.entity == "order" and doc.key == "100234"
    assert doc.data is not None and doc.data["Items"][0]["PartNo"] == "TS-100-M"
    assert archive.docs[0].idempotency_key == doc.idempotency_key
    # A forced redelivery carries the same key: the ERP can drop it.
    delivery.deliver("100234", force=True)
    assert erp.docs[1].idempotency_key == doc.idempotency_key
    assert store.get("100234").status == "delivered"  # type: ignore[union-attr]


def test_the_erp_order_number_returned_synchronously_is_kept(store: MemoryOrderStore) -> None:
    erp = FakeTarget("erp", [DeliveryResult.success("HTTP 200", {"ErpOrderNo": "ERP-5001"})])
    OrderDelivery(OrdersConfig(), store=store, targets={"erp": erp}).deliver("100234")
    assert store.get("100234").erp_order_no == "ERP-5001"  # type: ignore[union-attr]


def test_a_failing_target_fails_the_record_and_only_it_is_retried(store: MemoryOrderStore) -> None:
    erp = FakeTarget(
        "erp", [DeliveryResult.retryable("HTTP 503 after 3 attempt(s)"), DeliveryResult.success("HTTP 200")]
    )
    archive = FakeTarget("archive", [DeliveryResult.success("s3")])
    metrics: list[str] = []

    class Metrics:
        def add_metric(self, name: str, unit: Any, value: float) -> None:
            metrics.append(name)

    delivery = OrderDelivery(
        OrdersConfig(), store=store, targets={"erp": erp, "archive": archive}, metrics=Metrics()
    )
    assert delivery.handle(sqs_event("100234")) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    order = store.get("100234")
    assert order is not None and order.status == "delivery_failed"
    assert "OrderDeliveryFailures" in metrics

    assert delivery.handle(sqs_event("100234")) == {"batchItemFailures": []}
    assert len(archive.docs) == 1  # the archive had it already
    assert len(erp.docs) == 2
    order = store.get("100234")
    assert order is not None and order.status == "delivered" and order.deliveries["erp"].attempts == 2


def test_an_unknown_order_or_a_garbled_message_fails_the_record(store: MemoryOrderStore) -> None:
    delivery = OrderDelivery(OrdersConfig(), store=store, targets={})
    event = sqs_event("nope")
    event["Records"].append({**event["Records"][0], "messageId": "m-x", "body": "not json"})
    assert delivery.handle(event) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-x"}]
    }
    with pytest.raises(OrderDeliveryFailed, match="not in the order store"):
        delivery.deliver("nope")


def test_orders_config_names_its_targets_and_refuses_unknown_keys() -> None:
    config = parse_orders_config({"targets": {"archive": {"type": "s3", "bucket": "b", "prefix": "orders/"}}})
    assert list(config.as_events_config().targets) == ["archive"]
    with pytest.raises(SettingsError, match=r"orders\.target"):
        parse_orders_config({"target": {}})
