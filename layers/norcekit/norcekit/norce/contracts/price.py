"""Price contracts: SKU prices (ImportSkuPriceLists) and price-list entities (ImportPriceLists).

Prices are floats: Norce keeps at most 4 decimals, well inside a double's exact range, and floats
serialize as plain JSON numbers.
"""

from __future__ import annotations

from typing import ClassVar

from . import enums as en
from .common import ContractModel, NorceDateTime


class SkuPriceList(ContractModel):
    """One price row; PartNo + PriceListCode (+ QuantityBreak) is its key in Norce."""

    contract_name: ClassVar[str] = "Product.Models.SkuPriceList"

    PartNo: str
    PriceListCode: str
    QuantityBreak: int | None = None
    CurrencyCode: str | None = None
    PriceSale: float | None = None
    CostPurchase: float | None = None
    CostUnit: float | None = None
    PriceRecommended: float | None = None
    PricePrevious: float | None = None
    PriceCatalog: float | None = None
    IsPriceDiscountable: bool | None = None
    IsActive: bool | None = None
    PriceRule: en.PriceRule | None = None
    PriceRuleValue: float | None = None


class WarehouseLocation(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.WarehouseLocation"

    Code: str | None = None
    Name: str | None = None
    LeadTimeDayCount: int | None = None
    IsIncludedInStockCalculation: bool | None = None


class Warehouse(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.Warehouse"

    Code: str | None = None
    Name: str | None = None
    Type: en.WarehouseType | None = None
    LeadTimeDayCount: int | None = None
    Locations: list[WarehouseLocation] | None = None


class PriceListPriceRule(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.PriceListPriceRule"

    Type: en.PriceListPriceRuleType | None = None
    Value: float | None = None
    CategoryCode: str | None = None
    ManufacturerCode: str | None = None
    Flags: list[str] | None = None
    MinValue: float | None = None
    MaxValue: float | None = None
    LimitToRecPrice: bool | None = None
    SupplementalChargeFixed: float | None = None
    SupplementalChargePercent: float | None = None


class PriceListPopulationAllCategories(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.PriceListPopulationAllCategories"

    RuleType: en.PriceListPopulationAllCategoriesRuleType | None = None
    RuleCodes: list[str] | None = None


class PriceListPopulationCategory(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.PriceListPopulationCategory"

    Code: str | None = None
    RuleType: en.PriceListPopulationCategoryRuleType | None = None
    RuleCodes: list[str] | None = None
    RequireSupplier: bool | None = None


class PriceListPopulation(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.PriceListPopulation"

    Type: en.PriceListPopulationType | None = None
    RequireSupplier: bool | None = None
    AllCategories: PriceListPopulationAllCategories | None = None
    Categories: list[PriceListPopulationCategory] | None = None


class PriceList(ContractModel):
    """A price-list entity; unknown codes are created by Norce, so Code is required."""

    contract_name: ClassVar[str] = "Product.Models.PriceList"

    Code: str
    Name: str | None = None
    Description: str | None = None
    CurrencyCode: str | None = None
    StartDate: NorceDateTime | None = None
    EndDate: NorceDateTime | None = None
    IsPublic: bool | None = None
    IsPrimary: bool | None = None
    IsFavorite: bool | None = None
    IsErpIntegrated: bool | None = None
    TypeCode: str | None = None
    SalesArea: en.SalesArea | None = None
    ParentPriceListCode: str | None = None
    Warehouses: list[Warehouse] | None = None
    DefaultPriceRule: en.PriceRule | None = None
    DefaultPriceRuleCode: str | None = None
    DefaultPriceRuleValue: float | None = None
    DefaultMinMarginPercent: float | None = None
    DefaultSupplementalChargeFixed: float | None = None
    DefaultSupplementalChargePercent: float | None = None
    LimitToRecPrice: bool | None = None
    InheritStructureCalculationRule: en.InheritStructureCalculationRule | None = None
    PriceRules: list[PriceListPriceRule] | None = None
    Population: PriceListPopulation | None = None
