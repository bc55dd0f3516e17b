"""Order, invoice and subscription events (see :mod:`norcekit.norce.events`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from norcekit.norce.event_base import DecimalNumber, Int32, Int64, NorceEvent


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
