"""The emulator's orders: a checkout calls the order receiver with basic auth and Norce's retries;
the Connect order write-backs are strict and show on the order."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tests.fixtures.emulator import fetch_token
from tests.fixtures.orders import order_request

from norce_emulator import Emulator

pytestmark = pytest.mark.integration


class Receiver:
    """A scripted Order Receiver Service: answers[i] for the i-th call (the last one repeats)."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append(
                    {"authorization": self.headers.get("Authorization"), "body": json.loads(body)}
                )
                status, answer = receiver.answers[min(len(receiver.calls), len(receiver.answers)) - 1]
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/orders"


OK = (200, {"StatusCode": "OK", "Description": "", "HasErpOrderNo": True, "ErpOrderNo": "ERP-5001"})


@pytest.fixture
def receiver(emulator: Emulator) -> Iterator[Receiver]:
    receiver = Receiver([OK])
    emulator.configure(
        order_receiver_url=receiver.url,
        order_receiver_username="norce",
        order_receiver_password="emu-order-password",
        order_retry_interval_seconds=0.01,
    )
    yield receiver
    receiver.server.shutdown()


def checkout(client: httpx.Client, order: dict[str, Any], sends: int = 1) -> dict[str, Any]:
    response = client.post("/_admin/checkout", json={"order": order, "sends": sends})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_checkout_posts_the_order_with_basic_auth_and_keeps_the_erp_order_number(
    emulator_http: httpx.Client, receiver: Receiver
) -> None:
    result = checkout(emulator_http, order_request("100234"))
    assert result["accepted"] is True and len(result["attempts"]) == 1
    [call] = receiver.calls
    assert call["authorization"] == "Basic " + base64.b64encode(b"norce:emu-order-password").decode()
    assert call["body"]["ClientOrderRef"] == "100234"
    [order] = emulator_http.get("/_admin/orders").json()["orders"]
    assert order["OrderNo"] == "ERP-5001"


def test_failures_are_retried_up_to_the_configured_attempts(
    emulator: Emulator, emulator_http: httpx.Client, receiver: Receiver
) -> None:
    receiver.answers = [(503, {"message": "down"}), (200, {"StatusCode": "Failed", "Description": "x"}), OK]
    result = checkout(emulator_http, order_request("100235"))
    assert result["accepted"] is True
    assert [a.get("status") for a in result["attempts"]] == [503, 200, 200]
    receiver.calls.clear()
    receiver.answers = [(500, {})]
    assert checkout(emulator_http, order_request("100236"))["accepted"] is False
    assert len(receiver.calls) == emulator.config.order_retry_attempts


def test_sends_repeats_an_accepted_order_as_a_retry_whose_answer_was_lost(
    emulator_http: httpx.Client, receiver: Receiver
) -> None:
    checkout(emulator_http, order_request("100237"), sends=3)
    assert [c["body"]["ClientOrderRef"] for c in receiver.calls] == ["100237"] * 3


def _connect(emulator: Emulator, client: httpx.Client, op: str, body: Any) -> httpx.Response:
    token = fetch_token(emulator.base_url)
    return client.post(
        f"/commerce/connect/4.0/Order/{op}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_write_backs_change_the_order_and_are_strict(
    emulator: Emulator, emulator_http: httpx.Client, receiver: Receiver
) -> None:
    checkout(emulator_http, order_request("100238"))
    status = {"ClientOrderRef": 100238, "ErpOrderNo": "ERP-7", "OrderStatus": "Confirmed"}
    assert _connect(emulator, emulator_http, "SendOrderStatus", status).status_code == 200
    note = {
        "OrderNo": "ERP-7",
        "NoteNo": "DN-1",
        "DeliveryDate": "2026-12-04T10:00:00",
        "DeliveryNotePackages": [{"ParcelNumber": "00370000000000001234", "StatusId": 1}],
    }
    assert _connect(emulator, emulator_http, "CreateDeliveryNote", note).status_code == 200
    invoice = {
        "InvoiceNo": "INV-1",
        "ClientOrderRef": 100238,
        "InvoiceDate": "2026-12-04T00:00:00",
        "CurrencyCode": "SEK",
        "TotalAmount": 318.4,
        "Vat": 63.68,
    }
    assert _connect(emulator, emulator_http, "CreateInvoice", invoice).status_code == 200
    [order] = emulator_http.get("/_admin/orders").json()["orders"]
    assert (order["OrderStatus"], order["OrderNo"]) == ("Confirmed", "ERP-7")
    assert order["DeliveryNotes"][0]["DeliveryNotePackages"][0]["ParcelNumber"] == "00370000000000001234"
    assert order["Invoices"][0]["InvoiceNo"] == "INV-1"

    refused = [
        ("SendOrderStatus", {**status, "ClientOrderRef": "100238"}, "System.Int32"),  # a string, not int32
        ("SendOrderStatus", {"ClientOrderRef": 100238}, "OrderStatus"),
        ("SendOrderStatus", {**status, "OrderStatus": "Shipped"}, "OrderStatus"),
        ("CreateInvoice", {**invoice, "ClientOrderRef": 999}, "not found"),
        ("CreateDeliveryNote", {**note, "NoteNo": None}, "NoteNo"),
    ]
    for op, body, expected in refused:
        response = _connect(emulator, emulator_http, op, body)
        assert response.status_code == 400, (op, body)
        assert expected in response.json()["Description"], response.text
