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


INVOICE = {
    "InvoiceNo": "INV-1",
    "ClientOrderRef": 100240,
    "InvoiceDate": "2026-12-04T00:00:00",
    "CurrencyCode": "SEK",
    "TotalAmount": 318.4,
    "Vat": 63.68,
}
CREDIT = {
    **INVOICE,
    "InvoiceNo": "CR-1",
    "InvoiceDate": "2026-12-05T00:00:00",
    "TotalAmount": 127.36,
    "Vat": 25.47,
    "CreditedInvoiceNo": "INV-1",
}
CANCEL = {"ClientOrderRef": 100240, "ErpOrderNo": "ERP-5001", "Payments": [{"PaymentRef": "psp-ref-1"}]}


def test_credit_and_cancel_are_kept_on_the_order_as_norce_received_them(
    emulator: Emulator, emulator_http: httpx.Client, receiver: Receiver
) -> None:
    checkout(emulator_http, order_request("100240"))  # the receiver answers ErpOrderNo ERP-5001
    assert _connect(emulator, emulator_http, "CreateInvoice", INVOICE).status_code == 200
    assert _connect(emulator, emulator_http, "CreditPayment", CREDIT).status_code == 200
    cancel = {**CANCEL, "Reason": "not in the contract"}  # unknown properties: dropped, as Json.NET does
    assert _connect(emulator, emulator_http, "CancelOrder", cancel).status_code == 200
    [order] = emulator_http.get("/_admin/orders").json()["orders"]
    assert [i["InvoiceNo"] for i in order["Invoices"]] == ["INV-1"]  # a credit is not an invoice
    assert [(c["InvoiceNo"], c["CreditedInvoiceNo"]) for c in order["Credits"]] == [("CR-1", "INV-1")]
    assert order["Cancellations"] == [CANCEL]
    assert (order["OrderStatus"], order["StatusHistory"]) == ("Cancelled", ["Cancelled"])


def test_credit_and_cancel_are_strict(
    emulator: Emulator, emulator_http: httpx.Client, receiver: Receiver
) -> None:
    checkout(emulator_http, order_request("100240"))
    assert _connect(emulator, emulator_http, "CreateInvoice", INVOICE).status_code == 200
    refused = [
        ("CancelOrder", {**CANCEL, "ClientOrderRef": "100240"}, "System.Int32"),
        ("CancelOrder", {**CANCEL, "ClientOrderRef": 2**31}, "System.Int32"),
        ("CancelOrder", {**CANCEL, "Payments": {"PaymentRef": "psp-ref-1"}}, "List<Payment>"),
        ("CancelOrder", {**CANCEL, "Payments": [{"PaymentRef": "psp-ref-1", "Amount": "318.4"}]}, "Decimal"),
        ("CancelOrder", {**CANCEL, "Payments": [{"PaymentCode": 3}]}, "Payments[0].PaymentRef"),
        ("CancelOrder", {"ClientOrderRef": 100240}, "Required: ErpOrderNo"),  # cancel_order_match "both"
        ("CancelOrder", {"ErpOrderNo": "ERP-5001"}, "Required: ClientOrderRef"),
        ("CancelOrder", {**CANCEL, "ErpOrderNo": "ERP-9999"}, "not found"),
        ("CancelOrder", {**CANCEL, "ClientOrderRef": 999}, "not found"),
        ("CreditPayment", {**CREDIT, "CreditedInvoiceNo": "INV-9"}, "CreditedInvoiceNo"),
        ("CreditPayment", {k: v for k, v in CREDIT.items() if k != "CreditedInvoiceNo"}, "CreditedInvoiceNo"),
        ("CreditPayment", {**CREDIT, "InvoiceNo": None}, "InvoiceNo"),
        ("CreditPayment", {**CREDIT, "ClientOrderRef": 999}, "not found"),
        ("CreditPayment", {**CREDIT, "TotalAmount": "127.36"}, "Decimal"),
    ]
    for op, body, expected in refused:
        response = _connect(emulator, emulator_http, op, body)
        assert response.status_code == 400, (op, body)
        assert expected in response.json()["Description"], (op, response.text)
    [order] = emulator_http.get("/_admin/orders").json()["orders"]
    assert (order["Credits"], order["Cancellations"], order["OrderStatus"]) == ([], [], "Created")


@pytest.mark.parametrize(
    "emulator_config", [{"cancel_order_match": "either", "credit_requires_invoice": False}]
)
def test_the_lenient_readings_take_either_order_number_and_any_credit(
    emulator: Emulator, emulator_http: httpx.Client, receiver: Receiver
) -> None:
    checkout(emulator_http, order_request("100240"))
    checkout(emulator_http, order_request("100241"))
    assert _connect(emulator, emulator_http, "CancelOrder", {"ErpOrderNo": "ERP-5001"}).status_code == 200
    assert _connect(emulator, emulator_http, "CancelOrder", {"ClientOrderRef": 100241}).status_code == 200
    credit = {k: v for k, v in CREDIT.items() if k != "CreditedInvoiceNo"}
    assert _connect(emulator, emulator_http, "CreditPayment", credit).status_code == 200
    response = _connect(emulator, emulator_http, "CancelOrder", {"Payments": []})
    assert response.status_code == 400 and "ClientOrderRef or ErpOrderNo" in response.json()["Description"]
    orders = {o["ClientOrderRef"]: o for o in emulator_http.get("/_admin/orders").json()["orders"]}
    assert [len(orders[ref]["Cancellations"]) for ref in (100240, 100241)] == [1, 1]
    assert len(orders[100240]["Credits"]) == 1


def test_cancel_order_match_takes_only_the_two_readings(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="cancel_order_match"):
        emulator.configure(cancel_order_match="any")
