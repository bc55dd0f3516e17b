"""SKU and translation events (see :mod:`norcekit.norce.events`)."""

from __future__ import annotations

from typing import ClassVar

from norcekit.norce.event_base import DecimalNumber, Int32, NorceEvent


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
