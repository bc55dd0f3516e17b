"""The real order_receiver and order_delivery handlers on moto: Secrets Manager, DynamoDB, SQS, S3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.fixtures.orders import basic, order_request
from tests.integration.orders.conftest import (
    PASSWORD,
    REGION,
    USER,
    OrderQueues,
    api_event,
    as_sqs_event,
    receive_all,
)

from norcekit.settings import reset_settings_cache
from norcekit.state.orders import DynamoOrderStore
from norcekit.state.table import StateTable
from norcekit_local.handlers import FakeLambdaContext, load_handler

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver(order_aws: OrderQueues) -> Any:
    return load_handler("order_receiver", fresh=True)


def post(handler: Any, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = handler(api_event("/orders", body, headers), FakeLambdaContext())
    return result["statusCode"], json.loads(result["body"])


def test_without_credentials_401_and_with_wrong_ones_too(receiver: Any, order_aws: OrderQueues) -> None:
    assert post(receiver, order_request(), {})[0] == 401
    assert post(receiver, order_request(), basic(USER, "nope"))[0] == 401
    assert receive_all(order_aws.orders) == []


def test_three_posts_of_one_order_store_one_item_and_queue_one_message(
    receiver: Any, order_aws: OrderQueues, state_table: StateTable
) -> None:
    answers = [post(receiver, order_request("100234"), basic(USER, PASSWORD)) for _ in range(3)]
    assert [(status, body["StatusCode"]) for status, body in answers] == [(200, "OK")] * 3
    store = DynamoOrderStore(state_table)
    assert [o.client_order_ref for o in store.list()] == ["100234"]
    assert store.get("100234").status == "queued"  # type: ignore[union-attr]
    assert [json.loads(m["Body"]) for m in receive_all(order_aws.orders)] == [{"client_order_ref": "100234"}]


def test_an_invalid_order_is_failed_and_kept_in_the_s3_quarantine(
    receiver: Any, order_aws: OrderQueues, quarantine_bucket: str
) -> None:
    bad = order_request("100235")
    bad["Items"][0]["Quantity"] = 1.5
    status, body = post(receiver, bad, basic(USER, PASSWORD))
    assert status == 200 and body["StatusCode"] == "Failed" and "Items.0.Quantity" in body["Description"]
    keys = [
        o["Key"]
        for o in boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=quarantine_bucket)["Contents"]
    ]
    assert len(keys) == 1 and keys[0].startswith("quarantine/order/")
    assert keys[0] in body["Description"]


def test_the_delivery_consumer_writes_the_order_to_the_s3_target_and_records_it(
    receiver: Any,
    order_aws: OrderQueues,
    state_table: StateTable,
    quarantine_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = {
        "orders": {"targets": {"archive": {"type": "s3", "bucket": quarantine_bucket, "prefix": "orders/"}}}
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("NORCEKIT_CONFIG", str(tmp_path / "config.json"))
    reset_settings_cache()
    post(receiver, order_request("100234"), basic(USER, PASSWORD))
    delivery = load_handler("order_delivery", fresh=True)
    assert delivery(as_sqs_event(receive_all(order_aws.orders)), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    s3 = boto3.client("s3", region_name=REGION)
    document = json.loads(
        s3.get_object(Bucket=quarantine_bucket, Key="orders/order/100234.json")["Body"].read()
    )
    assert document["data"]["ClientOrderRef"] == "100234"
    order = DynamoOrderStore(state_table).get("100234")
    assert order is not None and order.status == "delivered" and order.deliveries["archive"].outcome == "ok"


def test_a_target_that_keeps_failing_sends_the_order_to_the_dlq_after_the_receive_limit(
    receiver: Any,
    order_aws: OrderQueues,
    state_table: StateTable,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An ERP that is down: nothing listens on port 9 (discard), every attempt fails fast.
    config = {
        "orders": {
            "targets": {
                "erp": {"type": "http", "url": "http://127.0.0.1:9/orders", "max_attempts": 1, "timeout_s": 1}
            }
        }
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("NORCEKIT_CONFIG", str(tmp_path / "config.json"))
    reset_settings_cache()
    post(receiver, order_request("100239"), basic(USER, PASSWORD))
    delivery = load_handler("order_delivery", fresh=True)
    sqs = boto3.client("sqs", region_name=REGION)
    failures = 0
    for _ in range(5):  # the queue's maxReceiveCount is 3: the 4th receive finds it in the DLQ
        messages = sqs.receive_message(QueueUrl=order_aws.orders, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if not messages.get("Messages"):
            break
        result = delivery(as_sqs_event(messages["Messages"]), FakeLambdaContext())
        failures += len(result["batchItemFailures"])
    assert failures == 3
    dead = sqs.receive_message(QueueUrl=order_aws.orders_dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in dead] == [{"client_order_ref": "100239"}]
    order = DynamoOrderStore(state_table).get("100239")
    assert order is not None and order.status == "delivery_failed" and order.deliveries["erp"].attempts == 3
