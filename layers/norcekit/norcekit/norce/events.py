"""Norce Event (webhook) payload models.

Norce posts flat PascalCase JSON without event type, id or timestamp; the receiver learns the
type from its route. Field names, required fields and types follow Norce's event reference
(int32/int64 ranges enforced, ``QuantityBreak`` a decimal); unknown properties are kept
(``extra="allow"``) and numbers sent for text properties are accepted as text. The three types
Norce's event compatibility kit accepts beyond the reference (ExportDeliveredEvent,
ExternalOrderReceivedEvent, SkuStockChangedNotification) have no published payload: their models
require nothing and keep everything. ``entity_key()`` names the
thing that changed, for coalescing and look-ups.

The models are defined in :mod:`norcekit.norce.event_models` (one module per area); this module
gathers them all. The webhook receiver does not import it: it loads only the model of the type it
receives (:func:`~norcekit.norce.event_models.event_model`). pydantic + stdlib only.
"""

from __future__ import annotations

from typing import Any

from norcekit.norce.event_base import NorceEvent
from norcekit.norce.event_models import EVENT_TYPES, UnknownEventType, event_model
from norcekit.norce.event_models.customer import (
    CompanyChangedNotification,
    CustomerChangedNotification,
)
from norcekit.norce.event_models.order import (
    ExternalOrderReceivedEvent,
    InvoiceCaptureCompletedEvent,
    OrderCancelledEvent,
    OrderConfirmedEvent,
    OrderDeliveredEvent,
    OrderPartlyDeliveredEvent,
    OrderPaymentReceivedEvent,
    OrderReadyForPickupEvent,
    OrderReceivedEvent,
    SubscriptionFailedEvent,
)
from norcekit.norce.event_models.product import (
    SkuChangedNotification,
    SkuOnHandBreakPointNotification,
    SkuPriceChangedNotification,
    SkuStockChangedNotification,
    TranslationRequestedNotification,
)
from norcekit.norce.event_models.supplier import (
    SupplierSkuChangedNotification,
    SupplierSkuOnHandChangedNotification,
    SupplierSkuPriceChangedNotification,
)
from norcekit.norce.event_models.system import (
    ExportDeliveredEvent,
    JobCompletedEvent,
)

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
    "event_model",
    "parse_event",
]


#: Exact Norce event type name -> payload model (every module of :mod:`norcekit.norce.event_models`).
EVENT_MODELS: dict[str, type[NorceEvent]] = {name: event_model(name) for name in EVENT_TYPES}


def parse_event(event_type: str, body: bytes | str | dict[str, Any]) -> NorceEvent:
    """Validate a webhook body as ``event_type``.

    Raises UnknownEventType or pydantic.ValidationError (both ValueError subclasses).
    """
    model = event_model(event_type)
    if isinstance(body, dict):
        return model.model_validate(body)
    return model.model_validate_json(body)
