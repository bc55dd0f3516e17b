"""ERP answers → Connect order calls: sent once, results recorded, failures counted and retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from norcekit.norce.contracts.order import CancelOrderRequest, Invoice, SendOrderStatusRequest
from norcekit.norce.errors import NorceHTTPError, NorceUnavailable
from norcekit.orders.answers import AnswerForwarder, AnswerRefused, answer_id, parse_answer
from norcekit.state.orders import MemoryOrderStore

STATUS = {
    "kind": "status",
    "client_order_ref": "100234",
    "body": {"ClientOrderRef": 100234, "ErpOrderNo": "ERP-5001", "OrderStatus": "Confirmed"},
}
NOTE = {
    "kind": "delivery_note",
    "client_order_ref": "100234",
    "body": {
        "OrderNo": "ERP-5001",
        "NoteNo": "DN-1",
        "DeliveryDate": "2026-12-04T10:00:00",
        "DeliveryNoteItems": [{"ItemNo": "TS-100-M", "Qty": 2, "RowNumber": 1}],
        "DeliveryNotePackages": [{"ParcelNumber": "00370000000000001234", "StatusId": 1}],
    },
}
INVOICE = {
    "kind": "invoice",
    "client_order_ref": "100234",
    "body": {
        "InvoiceNo": "INV-1",
        "ClientOrderRef": 100234,
        "ErpOrderNo": "ERP-5001",
        "InvoiceDate": "2026-12-04T00:00:00",
        "CurrencyCode": "SEK",
        "TotalAmount": 318.4,
        "Vat": 63.68,
        "Items": [
            {"LineNo": 1, "PartNo": "TS-100-M", "Quantity": 2, "UnitPrice": 127.36, "LineAmount": 254.72}
        ],
        "IsLastInvoiceForOrder": True,
    },
}

CREDIT = {
    "kind": "credit",
    "client_order_ref": "100234",
    "body": {
        **INVOICE["body"],  # type: ignore[dict-item]
        "InvoiceNo": "INV-1",  # a credit note numbered like the invoice it credits: still its own answer
        "InvoiceDate": "2026-12-05T00:00:00",
        "TotalAmount": 127.36,
        "Vat": 25.47,
        "CreditedInvoiceNo": "INV-1",
        "Items": [
            {"LineNo": 1, "PartNo": "TS-100-M", "Quantity": 1, "UnitPrice": 101.89, "LineAmount": 101.89}
        ],
    },
}
CANCEL = {
    "kind": "cancel",
    "client_order_ref": "100234",
    "body": {"ClientOrderRef": 100234, "ErpOrderNo": "ERP-5001", "Payments": [{"PaymentRef": "psp-ref-1"}]},
}


class Norce:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, body: Any, *, deadline: Any = None) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.calls.append((kind, body.model_dump(mode="json", exclude_none=True)))
        return 200


class Metrics:
    def __init__(self) -> None:
        self.names: list[str] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.names.append(name)


def test_status_delivery_note_and_invoice_become_connect_calls_with_contract_names() -> None:
    norce, store = Norce(), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    for answer in (STATUS, NOTE, INVOICE):
        assert forwarder.forward(answer) == "ok"
    kinds = [kind for kind, _ in norce.calls]
    assert kinds == ["status", "delivery_note", "invoice"]
    assert norce.calls[0][1] == {
        "ClientOrderRef": 100234,
        "ErpOrderNo": "ERP-5001",
        "OrderStatus": "Confirmed",
    }
    assert norce.calls[1][1]["DeliveryNotePackages"][0]["ParcelNumber"] == "00370000000000001234"
    assert norce.calls[2][1]["SuppressPspCall"] is False
    assert [(a.kind, a.answer_id, a.outcome) for a in store.answers("100234")] == [
        ("status", "Confirmed:ERP-5001", "ok"),
        ("delivery_note", "DN-1", "ok"),
        ("invoice", "INV-1", "ok"),
    ]


def test_a_redelivered_answer_is_not_sent_twice() -> None:
    norce, store = Norce(), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    forwarder.forward(INVOICE)
    forwarder.forward(INVOICE)
    assert len(norce.calls) == 1  # an invoice captures the payment: never twice


def test_norce_unavailable_is_recorded_counted_and_retried_then_succeeds() -> None:
    norce, store, metrics = (
        Norce(NorceUnavailable("POST Order/SendOrderStatus: 503")),
        MemoryOrderStore(),
        Metrics(),
    )
    forwarder = AnswerForwarder(store=store, send=norce, metrics=metrics)
    with pytest.raises(AnswerRefused):
        forwarder.forward(STATUS)
    assert store.answers("100234")[0].outcome == "retryable_error"
    assert metrics.names == ["OrderAnswersFailed"]
    assert forwarder.forward(STATUS) == "ok"
    record = store.answers("100234")[0]
    assert record.outcome == "ok" and record.attempts == 2


def test_norce_refusing_the_answer_is_permanent_counted_and_not_retried() -> None:
    refusal = NorceHTTPError(400, "POST", "https://x/Order/CreateInvoice", "ClientOrderRef unknown")
    norce, store, metrics = Norce(refusal), MemoryOrderStore(), Metrics()
    forwarder = AnswerForwarder(store=store, send=norce, metrics=metrics)
    event = {"Records": [_record(INVOICE)]}
    assert forwarder.handle(event) == {"batchItemFailures": []}
    assert store.answers("100234")[0].outcome == "permanent_error"
    assert "ClientOrderRef unknown" in store.answers("100234")[0].detail
    assert metrics.names == ["OrderAnswersFailed"]


def test_an_answer_outside_the_contract_is_recorded_as_invalid_and_counted() -> None:
    bad = {**STATUS, "body": {"ClientOrderRef": "abc", "OrderStatus": "Shipped"}}
    norce, store, metrics = Norce(), MemoryOrderStore(), Metrics()
    assert AnswerForwarder(store=store, send=norce, metrics=metrics).forward(bad) == "permanent_error"
    assert norce.calls == []
    assert store.answers("100234")[0].kind == "invalid"
    assert "body.ClientOrderRef" not in store.answers("100234")[0].detail  # the body's own paths
    assert (
        "ClientOrderRef" in store.answers("100234")[0].detail
        and "OrderStatus" in store.answers("100234")[0].detail
    )
    assert metrics.names == ["OrderAnswersFailed"]


def test_client_order_ref_must_be_an_int32_in_write_backs() -> None:
    with pytest.raises(ValueError, match="ClientOrderRef"):
        parse_answer({**STATUS, "body": {**STATUS["body"], "ClientOrderRef": 2**31}})  # type: ignore[dict-item]
    _, body = parse_answer(STATUS)
    assert isinstance(body, SendOrderStatusRequest) and body.ClientOrderRef == 100234


def _record(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": "m-1",
        "receiptHandle": "h",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-north-1:000000000000:answers",
        "awsRegion": "eu-north-1",
    }


def test_an_answer_wrapped_in_its_eventbridge_event_is_unwrapped() -> None:
    event = {"version": "0", "detail-type": "norcekit.order.answer", "source": "erp", "detail": STATUS}
    answer, body = parse_answer(json.dumps(event))
    assert answer.kind == "status" and isinstance(body, SendOrderStatusRequest)


def test_a_credit_and_a_cancel_become_connect_calls_recorded_under_their_own_ids() -> None:
    norce, store = Norce(), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    for answer in (INVOICE, CREDIT, CANCEL):
        assert forwarder.forward(answer) == "ok"
    assert [kind for kind, _ in norce.calls] == ["invoice", "credit", "cancel"]
    assert norce.calls[1][1]["CreditedInvoiceNo"] == "INV-1"
    assert norce.calls[2][1] == {
        "ClientOrderRef": 100234,
        "ErpOrderNo": "ERP-5001",
        "Payments": [{"PaymentRef": "psp-ref-1"}],
    }
    assert [(a.kind, a.answer_id, a.outcome) for a in store.answers("100234")] == [
        ("invoice", "INV-1", "ok"),
        ("credit", "credit:INV-1", "ok"),
        ("cancel", "cancel:100234", "ok"),
    ]


@pytest.mark.parametrize("answer", [CREDIT, CANCEL], ids=["credit", "cancel"])
def test_a_redelivered_credit_or_cancel_is_not_sent_twice(answer: dict[str, Any]) -> None:
    norce, store = Norce(), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    assert [forwarder.forward(answer) for _ in range(3)] == ["ok"] * 3
    assert len(norce.calls) == 1  # a refund or a payment cancel at the PSP: never twice


def test_answer_ids_one_cancel_per_order_and_a_credit_apart_from_its_invoice() -> None:
    _, invoice = parse_answer(INVOICE)
    _, credit = parse_answer(CREDIT)
    assert (answer_id("invoice", invoice), answer_id("credit", credit)) == ("INV-1", "credit:INV-1")
    _, cancel = parse_answer(CANCEL)
    assert answer_id("cancel", cancel) == "cancel:100234"
    other = {"ClientOrderRef": 100234, "Payments": [{"PaymentRef": "psp-ref-2"}]}  # no ErpOrderNo
    _, again = parse_answer({**CANCEL, "body": other})
    assert answer_id("cancel", again) == "cancel:100234"  # the order is cancelled once


def test_a_cancel_and_a_credit_parse_to_their_contracts() -> None:
    _, cancel = parse_answer(json.dumps(CANCEL))
    assert isinstance(cancel, CancelOrderRequest) and cancel.ClientOrderRef == 100234
    assert cancel.Payments is not None and cancel.Payments[0].PaymentRef == "psp-ref-1"
    _, credit = parse_answer(CREDIT)
    assert isinstance(credit, Invoice) and credit.CreditedInvoiceNo == "INV-1"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({**CANCEL, "body": {"ClientOrderRef": "W-100234", "ErpOrderNo": "ERP-5001"}}, "ClientOrderRef"),
        ({**CANCEL, "body": {"ClientOrderRef": 2**31, "ErpOrderNo": "ERP-5001"}}, "ClientOrderRef"),
        ({**CANCEL, "body": {"ErpOrderNo": "ERP-5001"}}, "ClientOrderRef"),
        (
            {**CANCEL, "body": {"ClientOrderRef": 100234, "Payments": [{"Amount": 318.4}]}},
            "Payments.0.PaymentRef",
        ),
        (
            {**CANCEL, "body": {"ClientOrderRef": 100234, "Payments": [{"PaymentRef": ""}]}},
            "Payments.0.PaymentRef",
        ),
        ({**CANCEL, "body": {"ClientOrderRef": 100234, "Reason": "customer"}}, "Reason"),
        ({**CREDIT, "body": {**CREDIT["body"], "InvoiceNo": None}}, "InvoiceNo"),  # type: ignore[dict-item]
        ({**CREDIT, "body": {**CREDIT["body"], "ClientOrderRef": "W-100234"}}, "ClientOrderRef"),  # type: ignore[dict-item]
        ({**CREDIT, "body": {**CREDIT["body"], "CreditedInvoiceNr": "INV-1"}}, "CreditedInvoiceNr"),  # type: ignore[dict-item]
        ({**CANCEL, "kind": "refund"}, "kind"),
    ],
    ids=[
        "cancel-ref-not-a-number",
        "cancel-ref-over-int32",
        "cancel-without-ref",
        "cancel-payment-without-ref",
        "cancel-payment-empty-ref",
        "cancel-unknown-field",
        "credit-without-number",
        "credit-ref-not-a-number",
        "credit-misspelt-field",
        "unknown-kind",
    ],
)
def test_an_invalid_cancel_or_credit_names_the_field_and_is_recorded_not_sent(
    answer: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        parse_answer(answer)
    norce, store, metrics = Norce(), MemoryOrderStore(), Metrics()
    assert AnswerForwarder(store=store, send=norce, metrics=metrics).forward(answer) == "permanent_error"
    assert norce.calls == []
    [record] = store.answers("100234")
    assert (record.kind, record.outcome) == ("invalid", "permanent_error") and field in record.detail
    assert metrics.names == ["OrderAnswersFailed"]


@pytest.mark.parametrize("answer", [CREDIT, CANCEL], ids=["credit", "cancel"])
def test_a_credit_or_cancel_norce_refuses_is_permanent_and_not_retried(answer: dict[str, Any]) -> None:
    refusal = NorceHTTPError(400, "POST", "https://x/Order/CancelOrder", "Required: ErpOrderNo")
    norce, store, metrics = Norce(refusal), MemoryOrderStore(), Metrics()
    forwarder = AnswerForwarder(store=store, send=norce, metrics=metrics)
    assert forwarder.handle({"Records": [_record(answer)]}) == {"batchItemFailures": []}
    [record] = store.answers("100234")
    assert (record.kind, record.outcome) == (answer["kind"], "permanent_error")
    assert "Required: ErpOrderNo" in record.detail
    assert metrics.names == ["OrderAnswersFailed"]


@pytest.mark.parametrize("answer", [CREDIT, CANCEL], ids=["credit", "cancel"])
def test_a_credit_or_cancel_norce_could_not_take_fails_the_record_and_is_sent_on_retry(
    answer: dict[str, Any],
) -> None:
    norce, store = Norce(NorceUnavailable("POST Order/CreditPayment: 503")), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    assert forwarder.handle({"Records": [_record(answer)]}) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }
    assert store.answers("100234")[0].outcome == "retryable_error"
    assert forwarder.forward(answer) == "ok"
    assert len(norce.calls) == 1 and store.answers("100234")[0].attempts == 2


def test_a_second_cancel_of_a_cancelled_order_is_not_sent_even_with_other_numbers() -> None:
    norce, store = Norce(), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    assert forwarder.forward(CANCEL) == "ok"
    assert forwarder.forward({**CANCEL, "body": {"ClientOrderRef": 100234}}) == "ok"
    assert len(norce.calls) == 1


def test_a_cancel_norce_refused_is_sent_again_once_corrected() -> None:
    refusal = NorceHTTPError(400, "POST", "https://x/Order/CancelOrder", "Required: ErpOrderNo")
    norce, store = Norce(refusal), MemoryOrderStore()
    forwarder = AnswerForwarder(store=store, send=norce)
    assert forwarder.forward({**CANCEL, "body": {"ClientOrderRef": 100234}}) == "permanent_error"
    assert forwarder.forward(CANCEL) == "ok"
    assert [kind for kind, _ in norce.calls] == ["cancel"]
    [record] = store.answers("100234")
    assert (record.answer_id, record.outcome, record.attempts) == ("cancel:100234", "ok", 2)


class _Clock:
    """Steps a second per reading: records made one after another have increasing times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_a_retried_older_status_does_not_overwrite_a_newer_one_norce_already_has() -> None:
    # "Confirmed" meets a Norce outage; meanwhile the ERP ships and "Delivered" gets through. SQS
    # then retries "Confirmed": sent, it would move Norce's order back from Delivered to Confirmed.
    delivered = {**STATUS, "body": {**STATUS["body"], "OrderStatus": "Delivered"}}  # type: ignore[dict-item]
    norce, store = (
        Norce(NorceUnavailable("POST Order/SendOrderStatus: 503")),
        MemoryOrderStore(clock=_Clock()),
    )
    forwarder = AnswerForwarder(store=store, send=norce)
    with pytest.raises(AnswerRefused):
        forwarder.forward(STATUS)
    assert forwarder.forward(delivered) == "ok"
    assert forwarder.forward(STATUS) == "ok"  # the retry: done with, not failed again
    assert [body["OrderStatus"] for _, body in norce.calls] == ["Delivered"]
    confirmed = next(a for a in store.answers("100234") if a.answer_id == "Confirmed:ERP-5001")
    assert "superseded" in confirmed.detail and "Delivered" in confirmed.detail


def test_a_retried_status_is_sent_when_no_newer_status_went_through() -> None:
    norce, store = Norce(NorceUnavailable("503")), MemoryOrderStore(clock=_Clock())
    forwarder = AnswerForwarder(store=store, send=norce)
    with pytest.raises(AnswerRefused):
        forwarder.forward(STATUS)
    assert forwarder.forward(NOTE) == "ok"  # another kind of answer does not supersede a status
    assert forwarder.forward(STATUS) == "ok"
    assert [kind for kind, _ in norce.calls] == ["delivery_note", "status"]


@pytest.mark.parametrize(
    "answer", [STATUS, INVOICE, CREDIT, CANCEL], ids=["status", "invoice", "credit", "cancel"]
)
def test_an_answer_whose_body_names_another_order_than_its_envelope_is_refused(
    answer: dict[str, Any],
) -> None:
    # The kit records (and deduplicates) the answer under the envelope's order while Norce applies
    # the body to the order it names: an invoice would capture another customer's payment.
    other = {**answer, "body": {**answer["body"], "ClientOrderRef": 100235}}
    with pytest.raises(ValueError, match="ClientOrderRef"):
        parse_answer(other)
    norce, store = Norce(), MemoryOrderStore()
    assert AnswerForwarder(store=store, send=norce).forward(other) == "permanent_error"
    assert norce.calls == []
    [record] = store.answers("100234")
    assert record.kind == "invalid" and "100235" in record.detail


def test_an_external_orders_answer_with_a_non_numeric_ref_is_not_checked_against_the_body() -> None:
    external = {**STATUS, "client_order_ref": "EXT-77", "body": {**STATUS["body"], "ClientOrderRef": 0}}  # type: ignore[dict-item]
    answer, body = parse_answer(external)
    assert answer.client_order_ref == "EXT-77" and isinstance(body, SendOrderStatusRequest)


def test_a_dropped_older_status_does_not_count_as_one_norce_took() -> None:
    # Confirmed meets the outage, Delivered gets through, then PickedUp meets it; Confirmed's retry is
    # dropped. PickedUp failed after Delivered went through: it is newer and still reaches Norce.
    def status(name: str) -> dict[str, Any]:
        return {**STATUS, "body": {**STATUS["body"], "OrderStatus": name}}  # type: ignore[dict-item]

    outage = NorceUnavailable("503")
    norce, store = Norce(outage), MemoryOrderStore(clock=_Clock())
    forwarder = AnswerForwarder(store=store, send=norce)
    with pytest.raises(AnswerRefused):
        forwarder.forward(STATUS)
    assert forwarder.forward(status("Delivered")) == "ok"
    norce.failures.append(outage)
    with pytest.raises(AnswerRefused):
        forwarder.forward(status("PickedUp"))
    assert forwarder.forward(STATUS) == "ok"  # dropped: Delivered is newer
    assert forwarder.forward(status("PickedUp")) == "ok"
    assert [body["OrderStatus"] for _, body in norce.calls] == ["Delivered", "PickedUp"]
