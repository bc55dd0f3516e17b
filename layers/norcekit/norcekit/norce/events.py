"""Norce Event (webhook) payload models.

Norce posts flat PascalCase JSON without event type, id or timestamp; the receiver learns the
type from its route. Payloads are hints to re-read state, so the models are tolerant: unknown
properties are kept (``extra="allow"``), only the properties Norce documents as required are
required, and numbers sent for text properties are accepted as text. ``entity_key()`` names the
thing that changed, for coalescing and look-ups. Imports stay light (pydantic + stdlib): the
webhook receiver loads this module on cold start.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "EVENT_MODELS",
    "CompanyChangedNotification",
    "CustomerChangedNotification",
    "InvoiceCaptureCompletedEvent",
    "JobCompletedEvent",
    "NorceEvent",
    "OrderCancelledEvent",
    "OrderConfirmedEvent",
    "OrderDeliveredEvent",
    "OrderPartlyDeliveredEvent",
    "OrderPaymentReceivedEvent",
    "OrderReadyForPickupEvent",
    "OrderReceivedEvent",
    "SkuChangedNotification",
    "SkuOnHandBreakPointNotification",
    "SkuPriceChangedNotification",
    "SubscriptionFailedEvent",
    "SupplierSkuChangedNotification",
    "SupplierSkuOnHandChangedNotification",
    "SupplierSkuPriceChangedNotification",
    "TranslationRequestedNotification",
    "UnknownEventType",
    "parse_event",
]


class UnknownEventType(ValueError):  # noqa: N818 - public name other modules import
    """The event type is not one Norce documents (a ValueError, so a receiver answers 4xx)."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown Norce event type {event_type!r}; known: {', '.join(sorted(EVENT_MODELS))}")


class NorceEvent(BaseModel):
    """Base of every event payload; subclasses set ``entity`` and get ``event_type`` = class name."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    event_type: ClassVar[str] = ""
    entity: ClassVar[str] = ""

    ClientId: int | None = None
    ApplicationId: int | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.event_type = cls.__name__

    def entity_key(self) -> str:
        """Identity of the changed entity; a body hash when the payload lacks its key field."""
        return self._body_hash()

    def _field(self, name: str) -> Any:
        # Key fields may arrive as undeclared extras (e.g. an OrderId on an event documented
        # without one), so look in both places.
        value = getattr(self, name, None)
        if value is None and self.model_extra:
            value = self.model_extra.get(name)
        return value

    def _key_or_hash(self, *names: str) -> str:
        for name in names:
            value = self._field(name)
            if value is not None and value != "":
                return str(value)
        return self._body_hash()

    def _body_hash(self) -> str:
        # Stable across key order and re-deliveries of the same body, so duplicates coalesce.
        canonical = json.dumps(
            self.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":")
        )
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


# --- Customer ------------------------------------------------------------------------------------


class CustomerChangedNotification(NorceEvent):
    """``EntityChanged`` names the table that fired, e.g. tClientCustomerAddress."""

    entity: ClassVar[str] = "customer"

    ClientId: int
    CustomerId: int
    EntityChanged: str

    def entity_key(self) -> str:
        return str(self.CustomerId)


class CompanyChangedNotification(NorceEvent):
    entity: ClassVar[str] = "company"

    ClientId: int
    CompanyId: int
    EntityChanged: str

    def entity_key(self) -> str:
        return str(self.CompanyId)


# --- Order ---------------------------------------------------------------------------------------


class _OrderEvent(NorceEvent):
    """Order events carry OrderId only once Norce has one; ClientOrderRef always identifies it."""

    entity: ClassVar[str] = "order"

    ClientOrderRef: str | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("OrderId", "ClientOrderRef")


class _OrderStatusEvent(_OrderEvent):
    OrderId: int | None = None
    OrderNo: str | None = None
    CellPhone: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    Source: str | None = None


class OrderReceivedEvent(_OrderEvent):
    Email: str | None = None
    CellPhone: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    Source: str | None = None
    """'WEB' for orders placed in Norce."""


class OrderCancelledEvent(_OrderStatusEvent):
    pass


class OrderConfirmedEvent(_OrderStatusEvent):
    """Delivered once per order."""


class OrderDeliveredEvent(_OrderStatusEvent):
    pass


class OrderPartlyDeliveredEvent(_OrderStatusEvent):
    pass


class OrderReadyForPickupEvent(_OrderStatusEvent):
    pass


class OrderPaymentReceivedEvent(_OrderEvent):
    ErpOrderNo: str | None = None
    PaymentCode: str | None = None
    PaymentMethodCode: str | None = None
    PaymentRef: str | None = None
    Amount: float | None = None
    CurrencyCode: str | None = None


class InvoiceCaptureCompletedEvent(NorceEvent):
    """``State`` is Captured or Error."""

    entity: ClassVar[str] = "invoice"

    CapturedInvoiceId: int | None = None
    State: str | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("CapturedInvoiceId")


class SubscriptionFailedEvent(NorceEvent):
    entity: ClassVar[str] = "subscription"

    SubscriptionId: int | None = None
    RecurringOrderId: int | None = None
    RecurringOrderScheduleId: int | None = None
    BasketId: int | None = None
    Email: str | None = None
    CellPhone: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    ErrorMessage: str | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("SubscriptionId")


# --- Product -------------------------------------------------------------------------------------


class SkuChangedNotification(NorceEvent):
    entity: ClassVar[str] = "sku"

    ClientId: int
    PartNo: str
    EntityChanged: str

    def entity_key(self) -> str:
        return self.PartNo


class SkuPriceChangedNotification(NorceEvent):
    entity: ClassVar[str] = "sku"

    PartNo: str | None = None
    PricelistId: int | None = None
    PricelistCode: str | None = None
    PriceSaleValue: float | None = None
    QuantityBreak: int | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("PartNo")


class SkuOnHandBreakPointNotification(NorceEvent):
    entity: ClassVar[str] = "sku"

    PartNo: str | None = None
    WarehouseId: int | None = None
    WarehouseCode: str | None = None
    LocationId: int | None = None
    LocationCode: str | None = None
    OnHandValue: float | None = None
    MinimumValue: float | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("PartNo")


class TranslationRequestedNotification(NorceEvent):
    """Payload not documented by Norce.

    Modelled with an optional PartNo and every other property kept as an extra; the key is the
    PartNo when present, else a stable hash of the body.
    """

    entity: ClassVar[str] = "translation"

    PartNo: str | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("PartNo")


# --- Supplier ------------------------------------------------------------------------------------


class _SupplierSkuEvent(NorceEvent):
    """Key ``{SupplierId}:{PartNo}``: the same PartNo may exist at several suppliers."""

    entity: ClassVar[str] = "supplier_sku"

    SupplierId: int | None = None
    PartNo: str | None = None
    EntityChanged: str | None = None

    def entity_key(self) -> str:
        if self.SupplierId is None or not self.PartNo:
            return self._body_hash()
        return f"{self.SupplierId}:{self.PartNo}"


class SupplierSkuChangedNotification(_SupplierSkuEvent):
    pass


class SupplierSkuOnHandChangedNotification(_SupplierSkuEvent):
    pass


class SupplierSkuPriceChangedNotification(_SupplierSkuEvent):
    pass


# --- System --------------------------------------------------------------------------------------


class JobCompletedEvent(NorceEvent):
    """``StatusId`` is normally 2 (Succeeded), 3 (Failed) or 4 (Validation failed)."""

    entity: ClassVar[str] = "job"

    ClientId: int
    JobId: int
    StatusId: int

    def entity_key(self) -> str:
        return str(self.JobId)


EVENT_MODELS: dict[str, type[NorceEvent]] = {
    model.event_type: model
    for model in (
        CustomerChangedNotification,
        CompanyChangedNotification,
        InvoiceCaptureCompletedEvent,
        OrderCancelledEvent,
        OrderConfirmedEvent,
        OrderDeliveredEvent,
        OrderPartlyDeliveredEvent,
        OrderReadyForPickupEvent,
        OrderPaymentReceivedEvent,
        OrderReceivedEvent,
        SubscriptionFailedEvent,
        SkuChangedNotification,
        SkuPriceChangedNotification,
        SkuOnHandBreakPointNotification,
        TranslationRequestedNotification,
        SupplierSkuChangedNotification,
        SupplierSkuOnHandChangedNotification,
        SupplierSkuPriceChangedNotification,
        JobCompletedEvent,
    )
}
"""Exact Norce event type name -> payload model."""

_BY_FOLDED_NAME = {name.casefold(): model for name, model in EVENT_MODELS.items()}


def event_model(event_type: str) -> type[NorceEvent]:
    """Model for an event type; exact name or any casing (Norce's own kit lower-cases them)."""
    model = EVENT_MODELS.get(event_type) or _BY_FOLDED_NAME.get(event_type.strip().casefold())
    if model is None:
        raise UnknownEventType(event_type)
    return model


def parse_event(event_type: str, body: bytes | str | dict[str, Any]) -> NorceEvent:
    """Validate a webhook body as ``event_type``.

    Raises UnknownEventType or pydantic.ValidationError (both ValueError subclasses).
    """
    model = event_model(event_type)
    if isinstance(body, dict):
        return model.model_validate(body)
    return model.model_validate_json(body)
