"""Issue 15's done-when on the local stack: the emulator's checkout → the order receiver (webhook
front, in-process) → one order delivered to the ERP sink and the bucket → the ERP's answers (HTTP
and EventBridge) → Connect order calls the emulator shows."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from tests.fixtures.orders import basic, order_request

from norcekit.cli import main
from norcekit_local import LocalStack
from norcekit_local.consumer import OrderConsumerService
from norcekit_local.sink import SinkService
from norcekit_local.webhook_front import WebhookFrontService, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    services = [SinkService(), WebhookFrontService(), OrderConsumerService(retry_visibility_s=0)]
    with LocalStack(tmp_path_factory.mktemp("local-orders"), sample_data=False, services=services) as running:
        yield running


@pytest.fixture(scope="module")
def info(stack: LocalStack) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stack.stack_file.read_text())
    return data


def cli(stack: LocalStack, *argv: str) -> Any:
    stdout = io.StringIO()
    code = main(
        [*argv, "--local-root", str(stack.root), "--json"],
        stdin=io.StringIO(),
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert code == 0, argv
    return json.loads(stdout.getvalue())


def sink_orders(info: dict[str, Any]) -> list[dict[str, Any]]:
    received = httpx.get(f"{info['sink_url']}/_sink/received").json()
    return [r for r in received if r["path"].startswith("/erp/orders")]


def emulator_order(stack: LocalStack, basket_id: int) -> dict[str, Any]:
    orders = {o["ClientOrderRef"]: o for o in stack.emulator.orders.snapshot()["orders"]}
    return orders[basket_id]


def test_stack_json_names_the_order_receiver_url_and_its_local_credentials(info: dict[str, Any]) -> None:
    assert info["services"]["webhook_front"]["order_receiver_url"].endswith("/orders")
    assert info["order_receiver_username"] and info["order_receiver_password"]


def test_a_post_without_credentials_is_401(info: dict[str, Any]) -> None:
    url = info["services"]["webhook_front"]["order_receiver_url"]
    response = httpx.post(url, json=order_request("200001"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_checkout_sent_three_times_reaches_the_erp_sink_once(
    stack: LocalStack, info: dict[str, Any]
) -> None:
    result = stack.emulator.orders.checkout(order_request("200002"), sends=3)
    assert result["accepted"] is True
    assert [a["response"]["StatusCode"] for a in result["attempts"]] == ["OK"] * 3
    assert wait_until(
        lambda: any(
            o["client_order_ref"] == "200002" and o["status"] == "delivered"
            for o in cli(stack, "orders", "list")
        ),
        timeout=60,
    )
    mine = [o for o in cli(stack, "orders", "list") if o["client_order_ref"] == "200002"]
    assert len(mine) == 1 and mine[0]["deliveries"] == {"erp": "ok", "archive": "ok"}
    assert [d["body"]["key"] for d in sink_orders(info)].count("200002") == 1
    s3 = boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    document = json.loads(s3.get_object(Bucket=info["bucket"], Key="orders/order/200002.json")["Body"].read())
    assert document["data"]["ClientOrderRef"] == "200002"


def test_an_invalid_order_is_failed_and_quarantined(stack: LocalStack, info: dict[str, Any]) -> None:
    url = info["services"]["webhook_front"]["order_receiver_url"]
    bad = order_request("200003")
    del bad["Items"]
    response = httpx.post(
        url, json=bad, headers=basic(info["order_receiver_username"], info["order_receiver_password"])
    )
    assert response.status_code == 200 and response.json()["StatusCode"] == "Failed"
    assert "Items" in response.json()["Description"]
    items = cli(stack, "quarantine", "list", "--kind", "order")
    assert any(
        i.get("metadata", {}).get("client_order_ref") == "200003" or "200003" in json.dumps(i) for i in items
    )


def test_the_erps_answers_become_connect_order_calls_norce_shows(
    stack: LocalStack, info: dict[str, Any]
) -> None:
    stack.emulator.orders.checkout(order_request("200004"))
    answers_url = info["services"]["webhook_front"]["order_answer_url"]
    erp = basic(info["order_answer_username"], info["order_answer_password"])
    status = {
        "kind": "status",
        "client_order_ref": "200004",
        "body": {"ClientOrderRef": 200004, "ErpOrderNo": "ERP-9001", "OrderStatus": "Confirmed"},
    }
    assert httpx.post(answers_url, json=status).status_code == 401
    assert httpx.post(answers_url, json=status, headers=erp).status_code == 202
    note = {
        "kind": "delivery_note",
        "client_order_ref": "200004",
        "body": {
            "OrderNo": "ERP-9001",
            "NoteNo": "DN-9001",
            "DeliveryDate": "2026-12-04T10:00:00",
            "DeliveryNotePackages": [{"ParcelNumber": "00370000000000009001", "StatusId": 1}],
        },
    }
    assert httpx.post(answers_url, json=note, headers=erp).status_code == 202
    assert wait_until(lambda: len(emulator_order(stack, 200004)["DeliveryNotes"]) == 1, timeout=60)
    # The invoice arrives as an EventBridge event on the stack's bus.
    invoice = {
        "kind": "invoice",
        "client_order_ref": "200004",
        "body": {
            "InvoiceNo": "INV-9001",
            "ClientOrderRef": 200004,
            "ErpOrderNo": "ERP-9001",
            "InvoiceDate": "2026-12-04T00:00:00",
            "CurrencyCode": "SEK",
            "TotalAmount": 318.4,
            "Vat": 63.68,
        },
    }
    events = boto3.client(
        "events",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    events.put_events(
        Entries=[
            {
                "EventBusName": info["event_bus"],
                "Source": "erp",
                "DetailType": "norcekit.order.answer",
                "Detail": json.dumps(invoice),
            }
        ]
    )
    assert wait_until(lambda: len(emulator_order(stack, 200004)["Invoices"]) == 1, timeout=60)
    order = emulator_order(stack, 200004)
    assert (order["OrderStatus"], order["OrderNo"]) == ("Confirmed", "ERP-9001")
    assert order["DeliveryNotes"][0]["DeliveryNotePackages"][0]["ParcelNumber"] == "00370000000000009001"
    shown = cli(stack, "orders", "show", "200004")
    assert sorted((a["kind"], a["outcome"]) for a in shown["answers"]) == [
        ("delivery_note", "ok"),
        ("invoice", "ok"),
        ("status", "ok"),
    ]
