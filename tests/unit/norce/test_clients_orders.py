"""OrderConnectClient: each answer kind to its Connect path, the contract body on the wire, and the
not-idempotent retry rule (an invoice, a credit or a cancel moves money at the PSP)."""

from __future__ import annotations

import httpx
import orjson
import pytest
import respx
from tests.unit.norce.clients_support import APP_ID, CONNECT

from norcekit.norce.auth import TokenProvider
from norcekit.norce.contracts.order import CancelOrderRequest, Invoice
from norcekit.norce.http import NorceHttp, NorceHTTPError
from norcekit.norce.orders import PATHS, OrderConnectClient
from norcekit.orders.answers import BODY_MODELS

CANCEL = CancelOrderRequest.model_validate(
    {"ClientOrderRef": 100234, "ErpOrderNo": "ERP-5001", "Payments": [{"PaymentRef": "psp-ref-1"}]}
)
CREDIT = Invoice.model_validate(
    {
        "InvoiceNo": "CR-1",
        "ClientOrderRef": 100234,
        "InvoiceDate": "2026-12-05T00:00:00",
        "CurrencyCode": "SEK",
        "TotalAmount": 127.36,
        "Vat": 25.47,
        "CreditedInvoiceNo": "INV-1",
    }
)


@pytest.fixture
def orders(http: NorceHttp, tokens: TokenProvider) -> OrderConnectClient:
    return OrderConnectClient(http, tokens, connect_base_url=CONNECT, application_id=APP_ID)


def test_every_answer_kind_has_a_connect_path() -> None:
    assert set(PATHS) == set(BODY_MODELS)
    assert (PATHS["cancel"], PATHS["credit"]) == ("Order/CancelOrder", "Order/CreditPayment")


def test_a_cancel_posts_the_contract_body_with_an_int32_client_order_ref(
    orders: OrderConnectClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{CONNECT}/Order/CancelOrder").mock(return_value=httpx.Response(200))
    assert orders.send("cancel", CANCEL) == 200
    request = route.calls.last.request
    assert orjson.loads(request.content) == {
        "ClientOrderRef": 100234,
        "ErpOrderNo": "ERP-5001",
        "Payments": [{"PaymentRef": "psp-ref-1"}],
    }
    assert request.headers["application-id"] == str(APP_ID)
    assert request.headers["Authorization"] == "Bearer tok-1"


def test_a_credit_posts_the_invoice_contract_to_credit_payment(
    orders: OrderConnectClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{CONNECT}/Order/CreditPayment").mock(return_value=httpx.Response(200))
    orders.send("credit", CREDIT)
    sent = orjson.loads(route.calls.last.request.content)
    assert (sent["InvoiceNo"], sent["CreditedInvoiceNo"], sent["ClientOrderRef"]) == ("CR-1", "INV-1", 100234)


@pytest.mark.parametrize(("kind", "body"), [("cancel", CANCEL), ("credit", CREDIT)])
def test_a_cancel_or_credit_is_not_resent_when_norce_may_have_taken_it(
    orders: OrderConnectClient, router: respx.MockRouter, kind: str, body: CancelOrderRequest | Invoice
) -> None:
    route = router.post(f"{CONNECT}/{PATHS[kind]}").mock(  # type: ignore[index]
        side_effect=[httpx.Response(500, text="boom"), httpx.Response(200)]
    )
    with pytest.raises(NorceHTTPError) as caught:
        orders.send(kind, body)  # type: ignore[arg-type]
    assert caught.value.status == 500
    assert route.call_count == 1  # the PSP may have moved the money: never a second POST here


def test_a_cancel_norce_refuses_surfaces_its_message(
    orders: OrderConnectClient, router: respx.MockRouter
) -> None:
    router.post(f"{CONNECT}/Order/CancelOrder").mock(
        return_value=httpx.Response(400, json={"StatusCode": "Failed", "Description": "Required: ErpOrderNo"})
    )
    with pytest.raises(NorceHTTPError) as caught:
        orders.send("cancel", CANCEL)
    assert caught.value.status == 400 and "ErpOrderNo" in str(caught.value)
