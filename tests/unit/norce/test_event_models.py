"""Norce Event webhook payload models (norce-api.md §5)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from norcekit.norce.event_models import EVENT_TYPES, event_model
from norcekit.norce.events import (
    EVENT_MODELS,
    JobCompletedEvent,
    NorceEvent,
    UnknownEventType,
    parse_event,
)

BASE = {"ClientId": 1234, "ApplicationId": 1042}
ORDER_STATUS = {
    **BASE,
    "OrderId": 9000000001,
    "OrderNo": "100045",
    "ClientOrderRef": "W-100045",
    "CellPhone": "+46701234567",
    "FirstName": "Anna",
    "LastName": "Andersson",
    "Source": "WEB",
}

# event type -> (doc-shaped payload, expected entity, expected entity_key)
DOC_EVENTS: dict[str, tuple[dict[str, Any], str, str]] = {
    "CustomerChangedNotification": (
        {**BASE, "CustomerId": 998877, "EntityChanged": "tClientCustomerAddress"},
        "customer",
        "998877",
    ),
    "CompanyChangedNotification": (
        {**BASE, "CompanyId": 5511, "EntityChanged": "tClientCompanyPriceList"},
        "company",
        "5511",
    ),
    "InvoiceCaptureCompletedEvent": (
        {**BASE, "CapturedInvoiceId": 321, "State": "Captured"},
        "invoice",
        "321",
    ),
    "OrderCancelledEvent": (ORDER_STATUS, "order", "9000000001"),
    "OrderConfirmedEvent": (ORDER_STATUS, "order", "9000000001"),
    "OrderDeliveredEvent": (ORDER_STATUS, "order", "9000000001"),
    "OrderPartlyDeliveredEvent": (ORDER_STATUS, "order", "9000000001"),
    "OrderReadyForPickupEvent": (ORDER_STATUS, "order", "9000000001"),
    "OrderPaymentReceivedEvent": (
        {
            **BASE,
            "ClientOrderRef": "W-100045",
            "ErpOrderNo": "E-77",
            "PaymentCode": "KLARNA",
            "PaymentMethodCode": "KlarnaCheckout",
            "PaymentRef": "kl-123",
            "Amount": 199.0,
            "CurrencyCode": "SEK",
        },
        "order",
        "W-100045",
    ),
    "OrderReceivedEvent": (
        {
            **BASE,
            "ClientOrderRef": "W-100045",
            "Email": "anna@example.com",
            "CellPhone": "+46701234567",
            "FirstName": "Anna",
            "LastName": "Andersson",
            "Source": "WEB",
        },
        "order",
        "W-100045",
    ),
    "SubscriptionFailedEvent": (
        {
            **BASE,
            "SubscriptionId": 17,
            "RecurringOrderId": 3,
            "RecurringOrderScheduleId": 4,
            "BasketId": 5,
            "Email": "anna@example.com",
            "ErrorMessage": "Card declined",
        },
        "subscription",
        "17",
    ),
    "SkuChangedNotification": (
        {**BASE, "PartNo": "TS-100-M", "EntityChanged": "tClientProductSkuPriceList"},
        "sku",
        "TS-100-M",
    ),
    "SkuPriceChangedNotification": (
        {
            **BASE,
            "PartNo": "TS-100-M",
            "PricelistId": 8,
            "PricelistCode": "SE-B2C",
            "PriceSaleValue": 143.2,
            "QuantityBreak": 1,
        },
        "sku",
        "TS-100-M",
    ),
    "SkuOnHandBreakPointNotification": (
        {
            **BASE,
            "PartNo": "TS-100-M",
            "WarehouseId": 1,
            "WarehouseCode": "MAIN",
            "LocationId": 2,
            "LocationCode": "STO",
            "OnHandValue": 3,
            "MinimumValue": 5,
        },
        "sku",
        "TS-100-M",
    ),
    "TranslationRequestedNotification": (
        {**BASE, "PartNo": "TS-100-M", "EntityChanged": "tClientProductSkuCulture"},
        "translation",
        "TS-100-M",
    ),
    # Accepted by Norce's compatibility kit; payloads unpublished (keys used when present).
    "SkuStockChangedNotification": ({**BASE, "PartNo": "TS-100-M"}, "sku", "TS-100-M"),
    "ExternalOrderReceivedEvent": ({**BASE, "ClientOrderRef": "EXT-9"}, "order", "EXT-9"),
    "SupplierSkuChangedNotification": (
        {**BASE, "SupplierId": 12, "PartNo": "S-1", "EntityChanged": "tSupplierProductSku"},
        "supplier_sku",
        "12:S-1",
    ),
    "SupplierSkuOnHandChangedNotification": (
        {**BASE, "SupplierId": 12, "PartNo": "S-1", "EntityChanged": "tSupplierProductSkuOnHand"},
        "supplier_sku",
        "12:S-1",
    ),
    "SupplierSkuPriceChangedNotification": (
        {**BASE, "SupplierId": 12, "PartNo": "S-1", "EntityChanged": "tSupplierProductSkuPriceList"},
        "supplier_sku",
        "12:S-1",
    ),
    "JobCompletedEvent": ({**BASE, "JobId": 4711, "StatusId": 3}, "job", "4711"),
}
EXPORT_DELIVERED = {**BASE, "ExportId": 3}

REQUIRED = {
    "CustomerChangedNotification": ["ClientId", "CustomerId", "EntityChanged"],
    "CompanyChangedNotification": ["ClientId", "CompanyId", "EntityChanged"],
    "SkuChangedNotification": ["ClientId", "PartNo", "EntityChanged"],
    "JobCompletedEvent": ["ClientId", "JobId", "StatusId"],
    "SkuPriceChangedNotification": ["ClientId", "PartNo", "PricelistId", "PriceSaleValue"],
    "OrderConfirmedEvent": ["ClientId", "ApplicationId", "OrderId", "OrderNo", "ClientOrderRef", "Source"],
    "SupplierSkuChangedNotification": ["ClientId", "SupplierId", "PartNo", "EntityChanged"],
}


def test_registry_has_exactly_the_documented_event_types() -> None:
    assert set(EVENT_MODELS) == set(DOC_EVENTS) | {"ExportDeliveredEvent"}
    for name, model in EVENT_MODELS.items():
        assert model.event_type == name == model.__name__


@pytest.mark.parametrize("event_type", sorted(DOC_EVENTS))
def test_doc_shaped_payload_parses_with_entity_and_key(event_type: str) -> None:
    payload, entity, key = DOC_EVENTS[event_type]
    event = parse_event(event_type, json.dumps(payload).encode())
    assert type(event) is EVENT_MODELS[event_type]
    assert event.entity == entity
    assert event.entity_key() == key
    assert event.ClientId == 1234
    assert event.ApplicationId == 1042


@pytest.mark.parametrize(("event_type", "field"), [(t, f) for t, fields in REQUIRED.items() for f in fields])
def test_missing_required_field_is_named(event_type: str, field: str) -> None:
    payload = dict(DOC_EVENTS[event_type][0])
    del payload[field]
    with pytest.raises(ValidationError) as caught:
        parse_event(event_type, payload)
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_job_completed_event_from_doc() -> None:
    event = parse_event(
        "JobCompletedEvent", '{"ClientId": 1234, "ApplicationId": 1042, "JobId": 4711, "StatusId": 3}'
    )
    assert isinstance(event, JobCompletedEvent)
    assert (event.JobId, event.StatusId) == (4711, 3)


def test_unknown_properties_are_tolerated_and_kept() -> None:
    payload = {**DOC_EVENTS["SkuChangedNotification"][0], "NewNorceField": {"a": 1}}
    event = parse_event("SkuChangedNotification", payload)
    assert event.model_extra == {"NewNorceField": {"a": 1}}
    assert event.model_dump()["NewNorceField"] == {"a": 1}


def test_wrong_type_for_a_known_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="CustomerId"):
        parse_event("CustomerChangedNotification", {"ClientId": 1, "CustomerId": "abc", "EntityChanged": "t"})


def test_unknown_event_type_is_a_value_error_listing_known_types() -> None:
    with pytest.raises(UnknownEventType) as caught:
        parse_event("ProductChanged", {})
    assert isinstance(caught.value, ValueError)
    assert caught.value.event_type == "ProductChanged"
    assert "SkuChangedNotification" in str(caught.value)


def test_event_type_lookup_ignores_case() -> None:
    # NorceTech's compatibility kit passes lower-cased type names.
    event = parse_event("skuchangednotification", DOC_EVENTS["SkuChangedNotification"][0])
    assert event.event_type == "SkuChangedNotification"


def test_body_must_be_a_json_object() -> None:
    with pytest.raises(ValidationError):
        parse_event("JobCompletedEvent", b"[1, 2]")
    with pytest.raises(ValidationError):
        parse_event("JobCompletedEvent", b"not json")


def test_numbers_for_text_fields_are_accepted() -> None:
    event = parse_event("OrderReceivedEvent", {**BASE, "ClientOrderRef": 100045, "Source": "WEB"})
    assert event.entity_key() == "100045"


def test_order_id_wins_over_client_order_ref_even_as_an_undeclared_extra() -> None:
    payload = {**DOC_EVENTS["OrderPaymentReceivedEvent"][0], "ClientOrderRef": "W-1", "OrderId": 77}
    assert parse_event("OrderPaymentReceivedEvent", payload).entity_key() == "77"


def test_quantity_break_is_a_decimal_and_stays_a_json_number() -> None:
    payload = {**DOC_EVENTS["SkuPriceChangedNotification"][0], "QuantityBreak": 2.5}
    event = parse_event("SkuPriceChangedNotification", payload)
    assert str(event.QuantityBreak) == "2.5"  # type: ignore[attr-defined]
    assert event.model_dump(mode="json")["QuantityBreak"] == 2.5


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("JobCompletedEvent", "JobId", 2**31),  # int32
        ("OrderConfirmedEvent", "OrderId", 2**63),  # int64
        ("InvoiceCaptureCompletedEvent", "State", "Pending"),  # Captured | Error
    ],
)
def test_documented_field_types_are_enforced(event_type: str, field: str, value: object) -> None:
    payload = {**DOC_EVENTS[event_type][0], field: value}
    with pytest.raises(ValidationError, match=field):
        parse_event(event_type, payload)


def test_key_falls_back_to_a_stable_body_hash() -> None:
    a = parse_event("ExportDeliveredEvent", b'{"ClientId": 1, "VariantId": 5, "Culture": "sv-SE"}')
    b = parse_event("ExportDeliveredEvent", b'{"Culture": "sv-SE", "VariantId": 5, "ClientId": 1}')
    c = parse_event("ExportDeliveredEvent", b'{"ClientId": 1, "VariantId": 6, "Culture": "sv-SE"}')
    assert a.entity_key().startswith("sha256:")
    assert a.entity_key() == b.entity_key() != c.entity_key()
    # Same for the payloads Norce does not publish.
    assert parse_event("ExportDeliveredEvent", EXPORT_DELIVERED).entity_key().startswith("sha256:")
    assert parse_event("SkuStockChangedNotification", {"ClientId": 1}).entity_key().startswith("sha256:")


def test_every_model_is_a_norce_event_with_a_known_entity() -> None:
    entities = {
        "sku",
        "customer",
        "company",
        "order",
        "supplier_sku",
        "job",
        "invoice",
        "subscription",
        "translation",
        "export",
    }
    for model in EVENT_MODELS.values():
        assert issubclass(model, NorceEvent)
        assert model.entity in entities


def test_module_imports_without_heavy_dependencies() -> None:
    # The webhook receiver imports this on cold start; keep it to pydantic + stdlib.
    code = (
        "import sys, norcekit.norce.events; "
        "heavy = ('orjson', 'httpx', 'boto3', 'botocore', 'aws_lambda_powertools'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_event_type_names_the_module_defining_its_model() -> None:
    assert set(EVENT_TYPES) == set(EVENT_MODELS)
    for name, module in EVENT_TYPES.items():
        assert EVENT_MODELS[name].__module__ == f"norcekit.norce.event_models.{module}"
        assert event_model(name.lower()) is EVENT_MODELS[name]


def test_validating_a_webhook_loads_only_its_types_models() -> None:
    # A cold start validates one event type; the other areas' classes are not defined for it.
    code = (
        "import sys; from norcekit.events.validation import Accepted, validate_webhook; "
        'body = b\'{"ClientId": 1, "PartNo": "P1", "EntityChanged": "tClientProductSku"}\'; '
        "verdict = validate_webhook('SkuChangedNotification', body, max_body_bytes=10**6); "
        "assert isinstance(verdict, Accepted); "
        "print(sorted(m for m in sys.modules if m.startswith('norcekit.norce.event')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(
        ["norcekit.norce.event_base", "norcekit.norce.event_models", "norcekit.norce.event_models.product"]
    )
