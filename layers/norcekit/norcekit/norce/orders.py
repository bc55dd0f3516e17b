"""Connect order write-backs: the ERP's answers become ``Order/SendOrderStatus``,
``Order/CreateDeliveryNote``, ``Order/CreateInvoice``, ``Order/CreditPayment`` and
``Order/CancelOrder`` (synchronous, no job; 200/400/500).

Retry rule: these POSTs are not idempotent on Norce's side (CreateInvoice captures the payment at
the PSP unless ``SuppressPspCall``, CreditPayment refunds it, CancelOrder cancels the payments it
lists), so the client resends only what provably did not reach Norce
(connection failures, 429/503, a 401 after a token refresh). Anything else is the caller's to
decide: the answer consumer records it and lets SQS retry (or the DLQ keep) the answer.
"""

from __future__ import annotations

from typing import Literal

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider, authorized_request
from norcekit.norce.contracts.order import CancelOrderRequest, DeliveryNote, Invoice, SendOrderStatusRequest
from norcekit.norce.contracts.serialize import dump_item
from norcekit.norce.http import NorceHttp

AnswerKind = Literal["status", "delivery_note", "invoice", "credit", "cancel"]

#: Connect path per answer kind (relative to ``.../commerce/connect/4.0/``).
PATHS: dict[AnswerKind, str] = {
    "status": "Order/SendOrderStatus",
    "delivery_note": "Order/CreateDeliveryNote",
    "invoice": "Order/CreateInvoice",
    "credit": "Order/CreditPayment",  # an Invoice body: the credit
    "cancel": "Order/CancelOrder",
}


class OrderConnectClient:
    def __init__(
        self, http: NorceHttp, tokens: TokenProvider, *, connect_base_url: str, application_id: int
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.base_url = connect_base_url.rstrip("/")
        self.application_id = application_id

    def send(
        self,
        kind: AnswerKind,
        body: SendOrderStatusRequest | DeliveryNote | Invoice | CancelOrderRequest,
        *,
        deadline: Deadline | None = None,
    ) -> int:
        """POST one answer; the HTTP status (2xx). Raises the Norce errors (:mod:`norcekit.norce.errors`)."""
        content = dump_item(body)
        response = authorized_request(
            self.http,
            self.tokens,
            "POST",
            f"{self.base_url}/{PATHS[kind]}",
            deadline=deadline or Deadline.none(),
            idempotent=False,
            content_factory=lambda: content,
            headers={
                "application-id": str(self.application_id),
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        return response.status_code


__all__ = ["PATHS", "AnswerKind", "OrderConnectClient"]
