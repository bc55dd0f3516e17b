"""Supplier SKU events (see :mod:`norcekit.norce.events`)."""

from __future__ import annotations

from typing import ClassVar

from norcekit.norce.event_base import Int32, NorceEvent


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
