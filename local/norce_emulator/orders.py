"""Orders: a simulated checkout calls the merchant's Order Receiver Service, and the Connect order
write-backs (``Order/SendOrderStatus``, ``Order/CreateDeliveryNote``, ``Order/CreateInvoice``,
``Order/CreditPayment``, ``Order/CancelOrder``) change what the emulator shows for the order
(norce-api.md §7, norce-query-and-events.md §4).

Checkout: the ``OrderRequest`` is POSTed as JSON with HTTP Basic authentication to
``order_receiver_url``; a non-2xx answer, a timeout, an answer that is not an ``OrderResponse`` or
one with ``StatusCode`` other than "OK" counts as a failure and is retried. Norce's retry count,
interval and timeout are undocumented ("for a limited period"): they are settings
(``order_retry_attempts``, ``order_retry_interval_seconds``, ``order_timeout_seconds``), listed in the
README's known gaps. An "OK" with ``HasErpOrderNo`` sets the order's OrderNo.

Write-backs are strict: the body is checked against the contract (Json.NET types, as for imports),
the keys the contract makes non-nullable must be present (``ClientOrderRef`` int32, ``OrderStatus``,
``InvoiceNo``, ``OrderNo``/``NoteNo``), and the order must exist (a checkout made here): otherwise 400.
A cancel's payments each need a ``PaymentRef`` (Norce cancels them at the PSP). Where the docs are
silent or conflict, settings, strict by default: ``cancel_order_match`` (ClientOrderRef and ErpOrderNo
both, or either) and ``credit_requires_invoice`` (a credit names one of the order's invoices).
Every accepted call is kept on the order (``Invoices``, ``Credits``, ``Cancellations``...): what
Norce received, once per call.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from .body_types import BodyTypeError, check_body
from .config import EmulatorConfig
from .errors import ApiError

#: Connect path → (root contract class, properties that must be present).
ORDER_WRITEBACKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Order/SendOrderStatus": ("Order.SendOrderStatusRequest", ("ClientOrderRef", "OrderStatus")),
    "Order/CreateDeliveryNote": ("Order.DeliveryNote", ("OrderNo", "NoteNo", "DeliveryDate")),
    "Order/CreateInvoice": ("Order.Invoice", ("InvoiceNo", "ClientOrderRef", "InvoiceDate", "CurrencyCode")),
    "Order/CreditPayment": ("Order.Invoice", ("InvoiceNo", "ClientOrderRef", "InvoiceDate", "CurrencyCode")),
    # The rest of what a cancel needs depends on cancel_order_match (_cancel_keys).
    "Order/CancelOrder": ("Order.CancelOrderRequest", ()),
}


def _failed(description: str) -> ApiError:
    return ApiError(400, {"StatusCode": "Failed", "Description": description})


class OrderBook:
    def __init__(self, config: Callable[[], EmulatorConfig]) -> None:
        self._config = config
        self._lock = threading.Lock()
        self.orders: dict[int, dict[str, Any]] = {}
        self.checkouts: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self.orders.clear()
            self.checkouts.clear()

    # --- checkout -----------------------------------------------------------------------------

    def checkout(
        self, order: dict[str, Any], *, sends: int = 1, sleep: Callable[[float], None] = time.sleep
    ) -> dict[str, Any]:
        """Place ``order`` (an OrderRequest) and call the order receiver as Norce would; ``sends`` > 1
        posts the same order again after a success (a retry whose answer Norce lost)."""
        config = self._config()
        if not config.order_receiver_url:
            raise _failed("order_receiver_url is not configured (ERP integration: URL)")
        ref = order.get("ClientOrderRef")
        if not isinstance(ref, str) or not ref.strip().isdigit():
            raise _failed("ClientOrderRef must be the numeric basket id as text")
        basket_id = int(ref)
        with self._lock:
            self.orders.setdefault(
                basket_id,
                {
                    "ClientOrderRef": basket_id,
                    "OrderNo": ref,
                    "OrderStatus": "Created",
                    "ErpOrderNo": None,
                    "StatusHistory": [],
                    "DeliveryNotes": [],
                    "Invoices": [],
                    "Credits": [],
                    "Cancellations": [],
                },
            )
        attempts: list[dict[str, Any]] = []
        accepted = False
        for _ in range(max(1, sends)):
            accepted = self._deliver(config, order, basket_id, attempts, sleep)
            if not accepted:
                break
        result = {"ClientOrderRef": ref, "accepted": accepted, "attempts": attempts}
        with self._lock:
            self.checkouts.append(result)
        return result

    def _deliver(
        self,
        config: EmulatorConfig,
        order: dict[str, Any],
        basket_id: int,
        attempts: list[dict[str, Any]],
        sleep: Callable[[float], None],
    ) -> bool:
        url = config.order_receiver_url
        assert url is not None  # checked by checkout()
        token = base64.b64encode(
            f"{config.order_receiver_username}:{config.order_receiver_password}".encode()
        ).decode()
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        for attempt in range(1, config.order_retry_attempts + 1):
            record: dict[str, Any] = {"attempt": attempt}
            try:
                response = httpx.post(
                    url,
                    json=order,
                    headers=headers,
                    timeout=config.order_timeout_seconds,
                )
            except httpx.HTTPError as exc:
                record["error"] = type(exc).__name__
            else:
                record["status"] = response.status_code
                answer = _order_response(response)
                record["response"] = answer
                if (
                    200 <= response.status_code < 300
                    and answer is not None
                    and answer.get("StatusCode") == "OK"
                ):
                    attempts.append(record)
                    if answer.get("HasErpOrderNo") and answer.get("ErpOrderNo"):
                        self._set_order_no(basket_id, str(answer["ErpOrderNo"]))
                    return True
            attempts.append(record)
            if attempt < config.order_retry_attempts:
                sleep(config.order_retry_interval_seconds)
        return False

    # --- write-backs --------------------------------------------------------------------------

    def write_back(self, rel_path: str, body: Any) -> dict[str, Any]:
        root, required = ORDER_WRITEBACKS[rel_path]
        if not isinstance(body, dict):
            raise _failed("Body must be a JSON object")
        try:
            (checked,) = check_body(root, [body])
        except BodyTypeError as exc:
            raise _failed(str(exc)) from None
        config = self._config()
        if rel_path == "Order/CancelOrder":
            _check_cancel(checked, config.cancel_order_match)
        missing = [name for name in required if checked.get(name) in (None, "")]
        if missing:
            raise _failed(f"Required: {', '.join(missing)}")
        with self._lock:
            order = self._find(checked)
            if rel_path == "Order/SendOrderStatus":
                order["OrderStatus"] = str(checked["OrderStatus"])
                order["StatusHistory"].append(checked["OrderStatus"])
                if checked.get("ErpOrderNo"):
                    order["ErpOrderNo"] = order["OrderNo"] = checked["ErpOrderNo"]
            elif rel_path == "Order/CreateDeliveryNote":
                order["DeliveryNotes"].append(checked)
            elif rel_path == "Order/CreditPayment":
                _check_credit(order, checked, config.credit_requires_invoice)
                order["Credits"].append(checked)
            elif rel_path == "Order/CancelOrder":
                _check_same_order(order, checked, config.cancel_order_match)
                order["OrderStatus"] = "Cancelled"
                order["StatusHistory"].append("Cancelled")
                order["Cancellations"].append(checked)
            else:
                order["Invoices"].append(checked)
        return {}

    def _find(self, body: dict[str, Any]) -> dict[str, Any]:
        ref = body.get("ClientOrderRef")
        if isinstance(ref, int) and ref in self.orders:
            return self.orders[ref]
        number = body.get("OrderNo") or body.get("ErpOrderNo")
        for order in self.orders.values():
            if number and number in (order["OrderNo"], order["ErpOrderNo"], str(order["ClientOrderRef"])):
                return order
        raise _failed(f"Order not found (ClientOrderRef {ref!r}, OrderNo {number!r})")

    def _set_order_no(self, basket_id: int, erp_order_no: str) -> None:
        with self._lock:
            self.orders[basket_id]["ErpOrderNo"] = self.orders[basket_id]["OrderNo"] = erp_order_no

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"orders": list(self.orders.values()), "checkouts": list(self.checkouts)}


def _check_cancel(body: dict[str, Any], match: str) -> None:
    """The keys a cancel needs: its payments' PaymentRef (documented) and the order's numbers."""
    for index, payment in enumerate(body.get("Payments") or []):
        if not (payment or {}).get("PaymentRef"):
            raise _failed(f"Required: Payments[{index}].PaymentRef (the payment to cancel at the PSP)")
    has_ref, has_erp = body.get("ClientOrderRef") is not None, bool(body.get("ErpOrderNo"))
    if match == "both" and not (has_ref and has_erp):
        missing = [name for name, has in (("ClientOrderRef", has_ref), ("ErpOrderNo", has_erp)) if not has]
        raise _failed(f"Required: {', '.join(missing)}")
    if not (has_ref or has_erp):
        raise _failed("Required: ClientOrderRef or ErpOrderNo")


def _check_same_order(order: dict[str, Any], body: dict[str, Any], match: str) -> None:
    """ "both": the two numbers must name this one order (its ERP number once Norce has one)."""
    if match != "both":
        return
    known = order["ErpOrderNo"]
    if body["ClientOrderRef"] != order["ClientOrderRef"] or (known and body["ErpOrderNo"] != known):
        raise _failed(
            f"Order not found (ClientOrderRef {body['ClientOrderRef']!r}, ErpOrderNo {body['ErpOrderNo']!r})"
        )


def _check_credit(order: dict[str, Any], body: dict[str, Any], requires_invoice: bool) -> None:
    if not requires_invoice:
        return
    credited = body.get("CreditedInvoiceNo")
    if credited not in {invoice["InvoiceNo"] for invoice in order["Invoices"]}:
        raise _failed(f"CreditedInvoiceNo {credited!r} is not an invoice of order {order['ClientOrderRef']}")


def _order_response(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("StatusCode") not in ("OK", "Failed"):
        return None
    return data
