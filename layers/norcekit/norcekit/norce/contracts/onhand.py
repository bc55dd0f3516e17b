"""Stock contract (ImportOnhands)."""

from __future__ import annotations

from typing import ClassVar

from .common import ContractModel, Info, NorceDateTime


class SkuOnhand(ContractModel):
    """One stock row; PartNo + WarehouseCode + LocationCode is its key in Norce."""

    contract_name: ClassVar[str] = "Product.Models.SkuOnhand"

    PartNo: str
    WarehouseCode: str
    LocationCode: str
    OnhandValue: float | None = None
    IncomingValue: float | None = None
    NextDeliveryDate: NorceDateTime | None = None
    LeadTimeDayCount: int | None = None
    OnOrderValue: float | None = None
    """Deprecated by Norce; kept because the contract still has it."""
    MinimumValue: float | None = None
    MaximumValue: float | None = None
    IsActive: bool | None = None
    Infos: list[Info] | None = None
