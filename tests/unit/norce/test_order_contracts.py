"""The order write-back bodies carry the .NET contracts' exact property names (the file the
emulator checks bodies against), with the int32 ``ClientOrderRef`` where the contract has ``int``."""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from norcekit.norce.contracts.order import (
    CancelOrderRequest,
    CancelPayment,
    DeliveryNote,
    Invoice,
    InvoicePayment,
    SendOrderStatusRequest,
)

MODELS: list[tuple[type[BaseModel], str]] = [
    (SendOrderStatusRequest, "Order.SendOrderStatusRequest"),
    (DeliveryNote, "Order.DeliveryNote"),
    (Invoice, "Order.Invoice"),
    (InvoicePayment, "Order.Payment"),
    (CancelPayment, "Order.Payment"),
    (CancelOrderRequest, "Order.CancelOrderRequest"),
]


def _contract(name: str) -> dict[str, str]:
    data: dict[str, Any] = orjson.loads(
        resources.files("norce_emulator").joinpath("connect_contracts.json").read_bytes()
    )
    properties: dict[str, str] = data["classes"][name]["properties"]
    return properties


@pytest.mark.parametrize(("model", "contract"), MODELS, ids=[m.__name__ for m, _ in MODELS])
def test_every_property_is_the_contracts(model: type[BaseModel], contract: str) -> None:
    assert set(model.model_fields) <= set(_contract(contract))


def test_cancel_order_request_has_every_contract_property() -> None:
    assert set(CancelOrderRequest.model_fields) == set(_contract("Order.CancelOrderRequest"))
    assert set(CancelPayment.model_fields) == set(_contract("Order.Payment"))


def test_cancel_client_order_ref_is_an_int32_and_payments_need_their_psp_reference() -> None:
    cancel = CancelOrderRequest.model_validate(
        {"ClientOrderRef": 2**31 - 1, "Payments": [{"PaymentRef": "p"}]}
    )
    assert cancel.ClientOrderRef == 2**31 - 1
    with pytest.raises(ValidationError, match="ClientOrderRef"):
        CancelOrderRequest.model_validate({"ClientOrderRef": 2**31})
    with pytest.raises(ValidationError, match="PaymentRef"):
        CancelOrderRequest.model_validate({"ClientOrderRef": 1, "Payments": [{"PaymentCode": 3}]})
