"""Norce Event (webhook) payload models.

Norce posts flat PascalCase JSON without event type, id or timestamp; the receiver learns the
type from its route. Field names, required fields and types follow Norce's event reference
(int32/int64 ranges enforced, ``QuantityBreak`` a decimal); unknown properties are kept
(``extra="allow"``) and numbers sent for text properties are accepted as text. The three types
Norce's event compatibility kit accepts beyond the reference (ExportDeliveredEvent,
ExternalOrderReceivedEvent, SkuStockChangedNotification) have no published payload: their models
require nothing and keep everything. ``entity_key()`` names the
thing that changed, for coalescing and look-ups. Imports stay light (pydantic + stdlib): the
webhook receiver loads this module on cold start.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from norcekit.norce.event_base import DecimalNumber, Int32, Int64, NorceEvent

__all__ = [
    "EVENT_MODELS",
    "CompanyChangedNotification",
    "CustomerChangedNotification",
    "ExportDeliveredEvent",
    "ExternalOrderReceivedEvent",
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
    "SkuStockChangedNotification",
    "SubscriptionFailedEvent",
    "SupplierSkuChangedNotification",
    "SupplierSkuOnHandChangedNotification",
    "SupplierSkuPriceChangedNotification",
    "TranslationRequestedNotification",
    "UnknownEventType",
    "parse_event",
]


class UnknownEventType(ValueError):  # noqa: N818 - public name other modules import
    """The event type is not one Norce documents (the receiver quarantines such a payload)."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown Norce event type {event_type!r}; known: {', '.join(sorted(EVENT_MODELS))}")


# --- Customer ------------------------------------------------------------------------------------


class CustomerChangedNotification(NorceEvent):
    """``EntityChanged`` names the table that fired, e.g. tClientCustomerAddress."""

    entity: ClassVar[str] = "customer"

    ClientId: Int32
    CustomerId: Int32
    EntityChanged: str

    def entity_key(self) -> str:
        return str(self.CustomerId)


class CompanyChangedNotification(NorceEvent):
    entity: ClassVar[str] = "company"

    ClientId: Int32
    CompanyId: Int32
    EntityChanged: str

    def entity_key(self) -> str:
        return str(self.CompanyId)


# --- Order ---------------------------------------------------------------------------------------


class _OrderEvent(NorceEvent):
    """Order events carry OrderId only once Norce has one; ClientOrderRef always identifies it."""

    entity: ClassVar[str] = "order"

    ClientId: Int32
    ApplicationId: Int32
    ClientOrderRef: str

    def entity_key(self) -> str:
        return self._key_or_hash("OrderId", "ClientOrderRef")


class _OrderStatusEvent(_OrderEvent):
    OrderId: Int64
    OrderNo: str
    CellPhone: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    Source: str
    """'WEB' for orders placed in Norce's checkout."""


class OrderReceivedEvent(_OrderEvent):
    Email: str | None = None
    CellPhone: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    Source: str
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
    DropPointCode: str | None = None


class OrderPaymentReceivedEvent(_OrderEvent):
    ErpOrderNo: str
    PaymentCode: str
    PaymentMethodCode: str | None = None
    PaymentRef: str | None = None
    Amount: DecimalNumber | None = None
    CurrencyCode: str | None = None


class ExternalOrderReceivedEvent(_OrderEvent):
    """Accepted by Norce's compatibility kit, payload unpublished: nothing required, all kept."""

    ClientId: Int32 | None = None  # type: ignore[assignment]
    ApplicationId: Int32 | None = None  # type: ignore[assignment]
    ClientOrderRef: str | None = None  # type: ignore[assignment]


class InvoiceCaptureCompletedEvent(NorceEvent):
    """``State`` is Captured or Error."""

    entity: ClassVar[str] = "invoice"

    ClientId: Int32
    ApplicationId: Int32
    CapturedInvoiceId: Int32
    State: Literal["Captured", "Error"]

    def entity_key(self) -> str:
        return self._key_or_hash("CapturedInvoiceId")


class SubscriptionFailedEvent(NorceEvent):
    entity: ClassVar[str] = "subscription"

    ClientId: Int32
    ApplicationId: Int32
    SubscriptionId: Int32 | None = None
    RecurringOrderId: Int32 | None = None
    RecurringOrderScheduleId: Int32 | None = None
    BasketId: Int32 | None = None
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

    ClientId: Int32
    PartNo: str
    EntityChanged: str

    def entity_key(self) -> str:
        return self.PartNo


class SkuPriceChangedNotification(NorceEvent):
    """``PricelistId`` with a lower-case "l", as Norce spells it; ``QuantityBreak`` is a double in
    the event (an int in Query and Connect), kept exact as a decimal."""

    entity: ClassVar[str] = "sku"

    ClientId: Int32
    PartNo: str
    PricelistId: Int32
    PricelistCode: str | None = None
    PriceSaleValue: DecimalNumber
    QuantityBreak: DecimalNumber | None = None

    def entity_key(self) -> str:
        return self.PartNo


class SkuOnHandBreakPointNotification(NorceEvent):
    entity: ClassVar[str] = "sku"

    ClientId: Int32
    PartNo: str
    WarehouseId: Int32
    WarehouseCode: str | None = None
    LocationId: Int32
    LocationCode: str | None = None
    OnHandValue: DecimalNumber
    MinimumValue: DecimalNumber

    def entity_key(self) -> str:
        return self.PartNo


class SkuStockChangedNotification(NorceEvent):
    """Accepted by Norce's compatibility kit, payload unpublished: keyed by PartNo when present
    (the SKU is re-read), else by a hash of the body (the payload itself is delivered)."""

    entity: ClassVar[str] = "sku"

    PartNo: str | None = None

    def entity_key(self) -> str:
        return self._key_or_hash("PartNo")


class TranslationRequestedNotification(NorceEvent):
    """Payload not documented by Norce.

    Modelled with an optional PartNo and every other property kept as an extra; the key is the
    PartNo when present, else a stable hash of the body.
    """

    entity: ClassVar[str] = "translation"

    ClientId: Int32
    PartNo: str
    EntityChanged: str

    def entity_key(self) -> str:
        return self.PartNo


# --- Supplier ------------------------------------------------------------------------------------


class _SupplierSkuEvent(NorceEvent):
    """Key ``{SupplierId}:{PartNo}``: the same PartNo may exist at several suppliers."""

    entity: ClassVar[str] = "supplier_sku"

    ClientId: Int32
    SupplierId: Int32
    PartNo: str
    EntityChanged: str

    def entity_key(self) -> str:
        return f"{self.SupplierId}:{self.PartNo}"


class SupplierSkuChangedNotification(_SupplierSkuEvent):
    """``EntityChanged`` is tSupplierProductSku or tSupplierProductSkuClient."""


class SupplierSkuOnHandChangedNotification(_SupplierSkuEvent):
    """``EntityChanged`` is tSupplierProductSkuOnHand."""


class SupplierSkuPriceChangedNotification(_SupplierSkuEvent):
    """Only the key fields are published; the rest is kept as extras."""

    EntityChanged: str | None = None  # type: ignore[assignment]


# --- System --------------------------------------------------------------------------------------


class JobCompletedEvent(NorceEvent):
    """``StatusId`` is normally 2 (Succeeded), 3 (Failed) or 4 (Validation failed)."""

    entity: ClassVar[str] = "job"

    ClientId: Int32
    JobId: Int32
    StatusId: Int32

    def entity_key(self) -> str:
        return str(self.JobId)


class ExportDeliveredEvent(NorceEvent):
    """Accepted by Norce's compatibility kit, payload unpublished: not looked up, the payload itself
    is delivered (keyed by a hash of the body)."""

    entity: ClassVar[str] = "export"


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
        ExternalOrderReceivedEvent,
        SubscriptionFailedEvent,
        SkuChangedNotification,
        SkuPriceChangedNotification,
        SkuOnHandBreakPointNotification,
        SkuStockChangedNotification,
        TranslationRequestedNotification,
        SupplierSkuChangedNotification,
        SupplierSkuOnHandChangedNotification,
        SupplierSkuPriceChangedNotification,
        JobCompletedEvent,
        ExportDeliveredEvent,
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
