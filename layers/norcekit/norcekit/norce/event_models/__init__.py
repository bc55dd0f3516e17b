"""Which module defines each Norce event type's payload model, and :func:`event_model` to load one.

The models live in one module per area (customer, order, product, supplier, system) and a module
is imported when one of its types is first needed: a webhook's cold start validates one event type,
and defining all 22 classes cost its import ~10 ms (``defer_build`` postpones a model's validator,
not its class; docs/performance.md). :mod:`norcekit.norce.events` imports them all, for code that
wants every model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from norcekit.norce.event_base import NorceEvent

#: Exact Norce event type name → the module of ``norcekit.norce.event_models`` defining its model.
EVENT_TYPES: dict[str, str] = {
    "CustomerChangedNotification": "customer",
    "CompanyChangedNotification": "customer",
    "InvoiceCaptureCompletedEvent": "order",
    "OrderCancelledEvent": "order",
    "OrderConfirmedEvent": "order",
    "OrderDeliveredEvent": "order",
    "OrderPartlyDeliveredEvent": "order",
    "OrderReadyForPickupEvent": "order",
    "OrderPaymentReceivedEvent": "order",
    "OrderReceivedEvent": "order",
    "ExternalOrderReceivedEvent": "order",
    "SubscriptionFailedEvent": "order",
    "SkuChangedNotification": "product",
    "SkuPriceChangedNotification": "product",
    "SkuOnHandBreakPointNotification": "product",
    "SkuStockChangedNotification": "product",
    "TranslationRequestedNotification": "product",
    "SupplierSkuChangedNotification": "supplier",
    "SupplierSkuOnHandChangedNotification": "supplier",
    "SupplierSkuPriceChangedNotification": "supplier",
    "JobCompletedEvent": "system",
    "ExportDeliveredEvent": "system",
}

_BY_FOLDED_NAME = {name.casefold(): name for name in EVENT_TYPES}


class UnknownEventType(ValueError):  # noqa: N818 - public name other modules import
    """The event type is not one Norce documents (the receiver quarantines such a payload)."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown Norce event type {event_type!r}; known: {', '.join(sorted(EVENT_TYPES))}")


def event_model(event_type: str) -> type[NorceEvent]:
    """Model for an event type; exact name or any casing (Norce's own kit lower-cases them)."""
    name = event_type if event_type in EVENT_TYPES else _BY_FOLDED_NAME.get(event_type.strip().casefold())
    if name is None:
        raise UnknownEventType(event_type)
    model: type[NorceEvent] = getattr(importlib.import_module(f"{__name__}.{EVENT_TYPES[name]}"), name)
    return model


__all__ = ["EVENT_TYPES", "UnknownEventType", "event_model"]
