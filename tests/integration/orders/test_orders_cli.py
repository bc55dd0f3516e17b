"""``norcekit orders list|show|redeliver --json`` against orders stored on moto."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from tests.fixtures.aws import BUCKET_NAME, REGION
from tests.fixtures.orders import order_request
from tests.integration.orders.conftest import OrderQueues, receive_all

from norcekit.cli import main
from norcekit.quarantine import S3QuarantineStore
from norcekit.state.orders import DynamoOrderStore
from norcekit.state.table import StateTable

pytestmark = pytest.mark.integration


def run(*argv: str) -> tuple[int, Any]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(), stdout=stdout, stderr=stderr)
    return code, json.loads(stdout.getvalue()) if stdout.getvalue() else stderr.getvalue()


@pytest.fixture
def store(order_aws: OrderQueues, state_table: StateTable) -> DynamoOrderStore:
    store = DynamoOrderStore(state_table)
    for ref in ("100234", "100235"):
        store.add(ref, json.dumps(order_request(ref)))
    store.record_delivery("100234", "erp", "ok", "HTTP 200", "ERP-5001")
    store.record_answer("100234", "invoice", "INV-1", "permanent_error", "HTTP 400: unknown order")
    return store


def test_list_shows_every_order_with_its_delivery_state(store: DynamoOrderStore) -> None:
    code, rows = run("orders", "list", "--json")
    assert code == 0
    by_ref = {r["client_order_ref"]: r for r in rows}
    assert set(by_ref) == {"100234", "100235"}
    assert by_ref["100234"]["status"] == "delivered" and by_ref["100234"]["erp_order_no"] == "ERP-5001"
    assert by_ref["100234"]["deliveries"] == {"erp": "ok"} and by_ref["100234"]["answers"] == 1
    assert by_ref["100235"]["status"] == "received"


def test_show_has_the_order_body_and_the_failed_answer(store: DynamoOrderStore) -> None:
    code, data = run("orders", "show", "100234", "--json")
    assert code == 0
    assert data["order"]["Items"][0]["PartNo"] == "TS-100-M"
    assert (
        data["answers"][0]["outcome"] == "permanent_error" and "unknown order" in data["answers"][0]["detail"]
    )
    assert run("orders", "show", "nope", "--json")[0] == 3


def test_redeliver_queues_the_order_again_with_force(store: DynamoOrderStore, order_aws: OrderQueues) -> None:
    code, results = run("orders", "redeliver", "100234", "nope", "--force", "--json")
    assert code == 3  # one of them was not found
    assert [r["outcome"] for r in results] == ["queued", "not_found"]
    [message] = receive_all(order_aws.orders)
    assert json.loads(message["Body"]) == {"client_order_ref": "100234", "force": True}


def _quarantine_store() -> S3QuarantineStore:
    return S3QuarantineStore(BUCKET_NAME, s3_client=boto3.client("s3", region_name=REGION))


def test_a_quarantined_order_is_replayed_into_the_store_and_queued_once(
    order_aws: OrderQueues, state_table: StateTable
) -> None:
    # An order an earlier kit refused, now valid (the kit was fixed): replay stores and queues it.
    body = json.dumps(order_request("100300")).encode()
    key = _quarantine_store().put("order", "invalid_order", body, metadata={"client_order_ref": "100300"})
    code, results = run("quarantine", "replay", key, "--json")
    assert code == 0
    assert [(r["key"], r["outcome"]) for r in results] == [(key, "queued")]
    stored = DynamoOrderStore(state_table).get("100300")
    assert stored is not None and json.loads(stored.body) == order_request("100300")
    [message] = receive_all(order_aws.orders)
    assert json.loads(message["Body"]) == {"client_order_ref": "100300"}
    assert _quarantine_store().list("order") == []  # moved under replayed/


def test_a_quarantined_order_still_invalid_is_reported_and_kept(order_aws: OrderQueues) -> None:
    bad = order_request("100301")
    bad["Items"][0]["Quantity"] = 1.5
    key = _quarantine_store().put("order", "invalid_order", json.dumps(bad).encode())
    code, results = run("quarantine", "replay", "--all", "--kind", "order", "--json")
    assert code == 1
    [result] = results
    assert result["key"] == key and result["outcome"] == "invalid"
    assert "Items.0.Quantity" in result["detail"]
    assert receive_all(order_aws.orders) == []
    assert [item.key for item in _quarantine_store().list("order")] == [key]


def _answers_dlq(order_aws: OrderQueues) -> str:
    """The answers queue's DLQ, as the template wires it (RedrivePolicy on the answers queue)."""
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="order-answers-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    sqs.set_queue_attributes(QueueUrl=order_aws.answers, Attributes={"RedrivePolicy": policy})
    return dlq


@pytest.mark.parametrize("which", ["orders", "answers"])
def test_an_order_or_answer_on_its_dlq_is_shown_and_redriven_to_its_queue(
    order_aws: OrderQueues, which: str
) -> None:
    # An invoice that outlived Norce's outage sits on the answers DLQ: its body is nowhere else.
    message = (
        {"client_order_ref": "100234"}
        if which == "orders"
        else {"kind": "cancel", "client_order_ref": "100234", "body": {"ClientOrderRef": 100234}}
    )
    dlq, queue = (
        (order_aws.orders_dlq, order_aws.orders)
        if which == "orders"
        else (_answers_dlq(order_aws), order_aws.answers)
    )
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=dlq, MessageBody=json.dumps(message))
    code, shown = run("dlq", "show", "--queue", which, "--json")
    assert code == 0 and [m["body"] for m in shown] == [message]
    code, result = run("dlq", "redrive", "--queue", which, "--max", "10", "--json")
    assert code == 0 and result["moved"] == 1
    assert [json.loads(m["Body"]) for m in receive_all(queue)] == [message]
    assert receive_all(dlq) == []


def test_a_queue_without_a_dlq_is_a_usage_error_naming_the_setting(order_aws: OrderQueues) -> None:
    code, message = run("dlq", "show", "--queue", "answers", "--json")  # this fixture gives it none
    assert code == 2 and "ORDER_ANSWER_QUEUE_URL" in message and "RedrivePolicy" in message
