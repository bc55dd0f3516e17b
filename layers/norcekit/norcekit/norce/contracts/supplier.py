"""Supplier product contract (Supplier/ImportProducts).

SupplierProduct reuses Product.Models.ProductCulture for ContentList, Common.Image for images and
ExternalContent.Models.Parametric for parametrics (per the contract's ``using`` directives).
"""

from __future__ import annotations

from typing import ClassVar

from . import enums as en
from .common import ContractModel, Image, NorceDateTime
from .product import ProductCulture


class SupplierOnHand(ContractModel):
    contract_name: ClassVar[str] = "Supplier.Models.SupplierOnHand"

    WarehouseCode: str | None = None
    LocationCode: str | None = None
    Name: str | None = None
    Value: float | None = None
    IncomingValue: float | None = None
    NextDeliveryDate: NorceDateTime | None = None
    StoppedDate: NorceDateTime | None = None
    IsReturnable: bool | None = None
    LeadTimeDayCount: int | None = None
    ExternalStockValue: float | None = None
    PackageValue: float | None = None
    MinimumOrderValue: float | None = None
    IsActive: bool | None = None


class SupplierPrice(ContractModel):
    contract_name: ClassVar[str] = "Supplier.Models.SupplierPrice"

    PriceListCode: str | None = None
    QtyBreak: int | None = None
    CurrencyCode: str | None = None
    CostPurchase: float | None = None
    CostPurchaseValidTo: NorceDateTime | None = None
    PriceRecommended: float | None = None
    PriceMax: float | None = None
    PriceDealer: float | None = None
    IsPromotion: bool | None = None
    IsFocus: bool | None = None
    PriceRanking: int | None = None
    FreightCost: float | None = None
    CostFee: float | None = None
    DiscountPct: float | None = None
    IsActive: bool | None = None
    PriceCatalog: float | None = None


class SupplierProductInfo(ContractModel):
    contract_name: ClassVar[str] = "Supplier.Models.SupplierProductInfo"

    Code: str | None = None
    Value: str | None = None


class ParametricMultipleCodeValuePair(ContractModel):
    contract_name: ClassVar[str] = "ExternalContent.Models.ParametricMultipleCodeValuePair"

    Code: str | None = None
    Value: str | None = None


class Parametric(ContractModel):
    contract_name: ClassVar[str] = "ExternalContent.Models.Parametric"

    ParametricCode: str | None = None
    ValueText: str | None = None
    ValueCode: str | None = None
    ValueInt: int | None = None
    ValueDecimal: float | None = None
    ValueBoolean: bool | None = None
    ValueDateTime: NorceDateTime | None = None
    MultipleValues: list[ParametricMultipleCodeValuePair] | None = None


class SupplierProduct(ContractModel):
    """A supplier's article; SupplierPartNo is its key (the supplier is the header's SupplierId)."""

    contract_name: ClassVar[str] = "Supplier.Models.SupplierProduct"

    SupplierPartNo: str
    ProductName: str | None = None
    CategoryCode: str | None = None
    ProductType: str | None = None
    Manufacturer: str | None = None
    ManufacturerPartNo: str | None = None
    EanCode: str | None = None
    CommodityCode: str | None = None
    GrossWeight: float | None = None
    NetWeight: float | None = None
    UnitOfMeasurementCode: en.UnitOfMeasurementType | None = None
    UnitOfMeasurementCount: int | None = None
    VatCode: int | None = None
    MainImage: Image | None = None
    OnHand: list[SupplierOnHand] | None = None
    PriceList: list[SupplierPrice] | None = None
    Images: list[Image] | None = None
    ContentList: list[ProductCulture] | None = None
    Parametrics: list[Parametric] | None = None
    LogisticWidth: float | None = None
    LogisticHeight: float | None = None
    LogisticDepth: float | None = None
    ProductInfo: list[SupplierProductInfo] | None = None
