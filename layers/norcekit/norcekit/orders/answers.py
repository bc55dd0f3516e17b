"""The ERP's answers to an order, sent back to Norce through Connect.

An answer arrives as an EventBridge event on the stack's bus (``source`` anything, ``detail-type``
``norcekit.order.answer``) or as an authenticated ``POST /orders/answers``; both land on the
answers queue as one :class:`ErpAnswer`::

    {"kind": "status" | "delivery_note" | "invoice" | "credit" | "cancel",
     "client_order_ref": "100234", "body": {...}}

``body`` is the Connect contract (SendOrderStatusRequest, DeliveryNote, Invoice, Invoice for a
credit, CancelOrderRequest: exact field names). Per answer (``kind`` + its id: status+ERP no.,
NoteNo, InvoiceNo, ``credit:``+InvoiceNo, ``cancel:``+basket id: one cancel per order)
the result is recorded on the order: ``ok`` answers are not sent again when SQS redelivers (an
invoice, a credit and a cancel move money at the PSP); a refusal by Norce (4xx) or an invalid body
is recorded ``permanent_error`` and not retried; Norce unavailable is recorded ``retryable_error``
and the record fails (SQS retries, then the DLQ); a retried status is dropped once another status
got through after its last failed attempt (it would move the order back). A body naming another
basket id than a numeric ``client_order_ref`` is invalid. Every failure counts
``OrderAnswersFailed`` (alarmed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import orjson
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from norcekit.deadline import Deadline
from norcekit.norce.contracts.order import CancelOrderRequest, DeliveryNote, Invoice, SendOrderStatusRequest
from norcekit.norce.errors import NorceAuthError, NorceHTTPError
from norcekit.observability import MetricName, MetricsSink, NoMetrics
from norcekit.orders.batch import handle_sqs_batch
from norcekit.state.orders import AnswerRecord, OrderStore, Outcome

logger = Logger(service="norcekit", child=True)

AnswerKind = Literal["status", "delivery_note", "invoice", "credit", "cancel"]
AnswerBody = SendOrderStatusRequest | DeliveryNote | Invoice | CancelOrderRequest
ANSWER_DETAIL_TYPE = "norcekit.order.answer"
#: The recorded detail of a retried status dropped for a newer one Norce took.
SUPERSEDED = "not sent: superseded by status "
BODY_MODELS: dict[str, type[AnswerBody]] = {
    "status": SendOrderStatusRequest,
    "delivery_note": DeliveryNote,
    "invoice": Invoice,
    "credit": Invoice,  # Order/CreditPayment takes the Invoice contract
    "cancel": CancelOrderRequest,
}

#: Sends one validated answer to Norce (``OrderConnectClient.send``).
AnswerSender = Callable[..., int]


class ErpAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AnswerKind
    client_order_ref: str = Field(min_length=1, max_length=50)
    body: dict[str, Any]


class AnswerRefused(Exception):  # noqa: N818 - a record failure reason
    pass


def answer_id(kind: str, body: AnswerBody) -> str:
    """What makes one answer unique within an order (a redelivered answer has the same id)."""
    if isinstance(body, SendOrderStatusRequest):
        return f"{body.OrderStatus}:{body.ErpOrderNo or ''}"
    if isinstance(body, DeliveryNote):
        return body.NoteNo
    if isinstance(body, CancelOrderRequest):
        # The basket id the contract requires, not ErpOrderNo (optional, may differ between a
        # refused and a corrected cancel): a second cancel of one order is never sent.
        return f"cancel:{body.ClientOrderRef}"
    return f"credit:{body.InvoiceNo}" if kind == "credit" else body.InvoiceNo


def parse_answer(
    raw: bytes | str | Mapping[str, Any],
) -> tuple[ErpAnswer, AnswerBody]:
    """Envelope and contract body; raises ``ValueError`` naming the fields at fault."""
    try:
        data = orjson.loads(raw) if isinstance(raw, bytes | str) else dict(raw)
        if isinstance(data, dict) and "detail-type" in data and isinstance(data.get("detail"), dict):
            data = data["detail"]  # the whole EventBridge event (a rule target without InputPath)
        answer = ErpAnswer.model_validate(data)
        body = BODY_MODELS[answer.kind].model_validate(answer.body)
        _check_same_order(answer, body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"answer is not JSON ({exc.msg})") from None
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(f"answer does not match the contract: {fields}") from None
    return answer, body


def _check_same_order(answer: ErpAnswer, body: AnswerBody) -> None:
    """The answer is recorded (and deduplicated) under the envelope's order while Norce applies the
    body to the basket id it names: the two must be one order. A non-numeric envelope ref (an
    external order) has no basket id to compare."""
    named = getattr(body, "ClientOrderRef", None)
    ref = answer.client_order_ref.strip()
    if named is not None and ref.isdecimal() and int(ref) != named:
        raise ValueError(
            f"answer does not match the contract: body.ClientOrderRef {named} is not the answer's "
            f"client_order_ref {answer.client_order_ref!r}"
        )


class AnswerForwarder:
    def __init__(self, *, store: OrderStore, send: AnswerSender, metrics: MetricsSink | None = None) -> None:
        self.store = store
        self.send = send
        self.metrics: MetricsSink = metrics or NoMetrics()

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """SQS event → ``{"batchItemFailures": [...]}``: only retryable failures fail a record."""
        return handle_sqs_batch(event, context, lambda body, deadline: self.forward(body, deadline=deadline))

    def forward(self, raw: bytes | str | Mapping[str, Any], *, deadline: Deadline | None = None) -> Outcome:
        """Send one answer to Norce and record the result; raises :class:`AnswerRefused` only when
        a later attempt may succeed (the SQS record is retried)."""
        try:
            answer, body = parse_answer(raw)
        except ValueError as exc:
            ref = _ref_of(raw)
            self._failed()
            logger.error("ERP answer invalid", extra={"client_order_ref": ref, "error": str(exc)})
            if ref:
                self.store.record_answer(ref, "invalid", "invalid", "permanent_error", str(exc))
            return "permanent_error"
        ident = answer_id(answer.kind, body)
        ref = answer.client_order_ref
        recorded = self.store.answers(ref)
        done = [a for a in recorded if a.kind == answer.kind and a.answer_id == ident]
        if done and done[-1].outcome == "ok":
            return "ok"  # a redelivery of an answer Norce already has
        newer = _newer_status(recorded, done[-1]) if answer.kind == "status" and done else None
        if newer is not None:
            # A retried status older than one Norce already took would move the order back.
            self.store.record_answer(ref, answer.kind, ident, "ok", f"{SUPERSEDED}{newer.answer_id}")
            logger.warning(
                "ERP status superseded, not sent",
                extra={"client_order_ref": ref, "id": ident, "newer": newer.answer_id},
            )
            return "ok"
        try:
            status = self.send(answer.kind, body, deadline=deadline)
        except NorceHTTPError as exc:
            retryable = isinstance(exc, NorceAuthError) or exc.status >= 500
            outcome: Outcome = "retryable_error" if retryable else "permanent_error"
            self.store.record_answer(ref, answer.kind, ident, outcome, str(exc)[:500])
            self._failed()
            if retryable:
                raise AnswerRefused(str(exc)) from None
            return outcome
        except Exception as exc:  # unavailable, deadline: Norce may take it later
            self.store.record_answer(
                ref, answer.kind, ident, "retryable_error", f"{type(exc).__name__}: {exc}"[:500]
            )
            self._failed()
            raise AnswerRefused(type(exc).__name__) from None
        self.store.record_answer(ref, answer.kind, ident, "ok", f"HTTP {status}")
        self.metrics.add_metric(name=MetricName.ORDER_ANSWERS_SENT.value, unit="Count", value=1)
        logger.info(
            "ERP answer sent to Norce", extra={"client_order_ref": ref, "kind": answer.kind, "id": ident}
        )
        return "ok"

    def _failed(self) -> None:
        self.metrics.add_metric(name=MetricName.ORDER_ANSWERS_FAILED.value, unit="Count", value=1)


def _newer_status(recorded: list[AnswerRecord], failed: AnswerRecord) -> AnswerRecord | None:
    """Another status Norce took after this one's last failed attempt, if any."""
    return next(
        (
            a
            for a in reversed(recorded)
            if a.kind == "status"
            and a.answer_id != failed.answer_id
            and a.outcome == "ok"
            and not a.detail.startswith(SUPERSEDED)  # Norce never got that one
            and a.at > failed.at
        ),
        None,
    )


def _ref_of(raw: bytes | str | Mapping[str, Any]) -> str | None:
    try:
        data = orjson.loads(raw) if isinstance(raw, bytes | str) else raw
    except orjson.JSONDecodeError:
        return None
    ref = data.get("client_order_ref") if isinstance(data, Mapping) else None
    return ref[:50] if isinstance(ref, str) and ref else None


__all__ = ["ANSWER_DETAIL_TYPE", "AnswerForwarder", "AnswerRefused", "ErpAnswer", "answer_id", "parse_answer"]
