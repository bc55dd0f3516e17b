"""The ERP's credit and cancel, end to end: ``POST /orders/answers`` (the order_receiver Lambda) →
the answers queue (moto SQS) → the real order_answers Lambda → the emulator's Connect
``Order/CreditPayment`` / ``Order/CancelOrder``, once each however often SQS delivers them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.fixtures.local_http import Request, local_server
from tests.fixtures.orders import basic, order_request
from tests.integration.events.conftest import norce_environment
from tests.integration.orders.conftest import (
    ERP_PASSWORD,
    ERP_USER,
    OrderQueues,
    api_event,
    as_sqs_event,
    receive_all,
)

from norce_emulator import Emulator
from norcekit.settings import reset_settings_cache
from norcekit.state.orders import DynamoOrderStore
from norcekit.state.table import StateTable
from norcekit_local.handlers import FakeLambdaContext, load_handler

pytestmark = pytest.mark.integration

REF = "100250"
INVOICE = {
    "InvoiceNo": "INV-1",
    "ClientOrderRef": int(REF),
    "ErpOrderNo": "ERP-5001",
    "InvoiceDate": "2026-12-04T00:00:00",
    "CurrencyCode": "SEK",
    "TotalAmount": 318.4,
    "Vat": 63.68,
}
CREDIT = {**INVOICE, "InvoiceNo": "INV-1", "TotalAmount": 127.36, "Vat": 25.47, "CreditedInvoiceNo": "INV-1"}
CANCEL = {"ClientOrderRef": int(REF), "ErpOrderNo": "ERP-5001", "Payments": [{"PaymentRef": "psp-123"}]}


@pytest.fixture
def norce_order(emulator: Emulator) -> Iterator[Emulator]:
    """An order placed at the emulator's checkout, confirmed by an ERP that numbers it ERP-5001."""

    def erp(request: Request) -> None:
        request.send_json(200, {"StatusCode": "OK", "HasErpOrderNo": True, "ErpOrderNo": "ERP-5001"})

    with local_server(erp) as server:
        emulator.configure(order_receiver_url=f"{server.url}/orders", order_retry_interval_seconds=0.01)
        assert emulator.orders.checkout(order_request(REF))["accepted"] is True
        yield emulator


@dataclass(frozen=True)
class AnswerLambdas:
    intake: Any  # order_receiver: POST /orders/answers
    forward: Any  # order_answers: the answers queue's consumer
    answers_queue: str
    store: DynamoOrderStore


@pytest.fixture
def lambdas(
    order_aws: OrderQueues, emulator: Emulator, state_table: StateTable, monkeypatch: pytest.MonkeyPatch
) -> AnswerLambdas:
    for name, value in norce_environment(emulator.base_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NORCEKIT_CONFIG", raising=False)
    reset_settings_cache()
    return AnswerLambdas(
        intake=load_handler("order_receiver", fresh=True),
        forward=load_handler("order_answers", fresh=True),
        answers_queue=order_aws.answers,
        store=DynamoOrderStore(state_table),
    )


def post_answer(lambdas: AnswerLambdas, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = {"kind": kind, "client_order_ref": REF, "body": body}
    event = api_event("/orders/answers", answer, basic(ERP_USER, ERP_PASSWORD))
    result: dict[str, Any] = lambdas.intake(event, FakeLambdaContext())
    return result


def emulator_order(emulator: Emulator) -> dict[str, Any]:
    [order] = [o for o in emulator.orders.snapshot()["orders"] if o["ClientOrderRef"] == int(REF)]
    return order


def test_a_credit_and_a_cancel_reach_norce_once_when_sqs_redelivers_them(
    norce_order: Emulator, lambdas: AnswerLambdas
) -> None:
    for kind, body in (("invoice", INVOICE), ("credit", CREDIT), ("cancel", CANCEL)):
        assert post_answer(lambdas, kind, body)["statusCode"] == 202
    messages = receive_all(lambdas.answers_queue)
    kinds = ["invoice", "credit", "cancel"]  # an invoice before its credit
    ordered = sorted(messages, key=lambda m: kinds.index(json.loads(m["Body"])["kind"]))
    assert [json.loads(m["Body"])["kind"] for m in ordered] == kinds
    # The answers one by one, then all of them again: SQS redelivers (a lost delete, a timeout).
    for message in ordered:
        assert lambdas.forward(as_sqs_event([message]), FakeLambdaContext()) == {"batchItemFailures": []}
    assert lambdas.forward(as_sqs_event(ordered), FakeLambdaContext()) == {"batchItemFailures": []}

    order = emulator_order(norce_order)
    assert [i["InvoiceNo"] for i in order["Invoices"]] == ["INV-1"]
    assert [(c["InvoiceNo"], c["CreditedInvoiceNo"]) for c in order["Credits"]] == [("INV-1", "INV-1")]
    assert order["Cancellations"] == [CANCEL]  # the int32 ClientOrderRef on the wire
    assert order["OrderStatus"] == "Cancelled"
    assert sorted((a.kind, a.answer_id, a.outcome, a.attempts) for a in lambdas.store.answers(REF)) == [
        ("cancel", f"cancel:{REF}", "ok", 1),
        ("credit", "credit:INV-1", "ok", 1),
        ("invoice", "INV-1", "ok", 1),
    ]


def test_a_cancel_norce_refuses_is_recorded_permanent_error_and_not_retried(
    norce_order: Emulator, lambdas: AnswerLambdas
) -> None:
    # Valid for the contract (ErpOrderNo is a nullable string), refused by the strict emulator
    # (cancel_order_match "both": one docs page requires ErpOrderNo).
    assert post_answer(lambdas, "cancel", {"ClientOrderRef": int(REF)})["statusCode"] == 202
    messages = receive_all(lambdas.answers_queue)
    assert lambdas.forward(as_sqs_event(messages), FakeLambdaContext()) == {"batchItemFailures": []}
    [record] = lambdas.store.answers(REF)
    assert (record.kind, record.answer_id, record.outcome) == ("cancel", f"cancel:{REF}", "permanent_error")
    assert "ErpOrderNo" in record.detail
    order = emulator_order(norce_order)
    assert (order["Cancellations"], order["OrderStatus"]) == ([], "Created")


def test_an_invalid_cancel_or_credit_is_refused_at_the_intake_naming_the_field(
    lambdas: AnswerLambdas,
) -> None:
    bad_cancel = {**CANCEL, "Payments": [{"Amount": 318.4}]}
    bad_credit = {**CREDIT, "ClientOrderRef": "W-100250"}
    for kind, body, field in (
        ("cancel", bad_cancel, "Payments.0.PaymentRef"),
        ("credit", bad_credit, "ClientOrderRef"),
    ):
        result = post_answer(lambdas, kind, body)
        assert result["statusCode"] == 400 and field in json.loads(result["body"])["message"]
    assert receive_all(lambdas.answers_queue) == []


def test_a_status_retried_after_a_newer_one_got_through_does_not_move_norces_order_back(
    norce_order: Emulator, lambdas: AnswerLambdas
) -> None:
    confirmed = {"ClientOrderRef": int(REF), "ErpOrderNo": "ERP-5001", "OrderStatus": "Confirmed"}
    for body in (confirmed, {**confirmed, "OrderStatus": "Delivered"}):
        assert post_answer(lambdas, "status", body)["statusCode"] == 202
    by_status = {json.loads(m["Body"])["body"]["OrderStatus"]: m for m in receive_all(lambdas.answers_queue)}
    norce_order.fail_next("connect", 1, status=500)  # Norce fails "Confirmed": SQS will retry it
    failed = lambdas.forward(as_sqs_event([by_status["Confirmed"]]), FakeLambdaContext())
    assert failed["batchItemFailures"] != []
    for status in ("Delivered", "Confirmed"):  # the ERP ships; then SQS retries "Confirmed"
        result = lambdas.forward(as_sqs_event([by_status[status]]), FakeLambdaContext())
        assert result == {"batchItemFailures": []}
    order = emulator_order(norce_order)
    assert order["OrderStatus"] == "Delivered" and order["StatusHistory"][-1] == "Delivered"
