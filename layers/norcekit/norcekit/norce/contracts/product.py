"""Product contracts (ImportProducts): product -> variants -> SKUs, with cultures and parametrics."""

from __future__ import annotations

from typing import Any, ClassVar, TypeAlias

from pydantic import model_validator

from . import enums as en
from .common import ContractModel, Image, Info, NorceDateTime
from .price import SkuPriceList


class Flag(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.Flag"

    Code: str | None = None
    IsSet: bool | None = None
    IsCreateOnly: bool | None = None
    IsLimitedUpdate: bool | None = None
    StopDate: NorceDateTime | None = None


class DeliveryMethod(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.DeliveryMethod"

    Code: str | None = None
    IsActive: bool | None = None
    PackagePercentage: float | None = None


class ParametricValueCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ParametricValueCulture"

    CultureCode: str | None = None
    ValueText: str | None = None


class ParametricValueListCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ParametricValueListCulture"

    CultureCode: str | None = None
    Value: str | None = None
    Description: str | None = None


class ParametricValueList(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ParametricValueList"

    Code: str | None = None
    Value: str | None = None
    Description: str | None = None
    Cultures: list[ParametricValueListCulture] | None = None


class ParametricValue(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ParametricValue"

    ParametricCode: str | None = None
    ValueBoolean: bool | None = None
    ValueDateTime: NorceDateTime | None = None
    ValueDecimal: float | None = None
    ValueInteger: int | None = None
    ValueList: ParametricValueList | None = None
    MultipleValueList: list[ParametricValueList] | None = None
    Cultures: list[ParametricValueCulture] | None = None


class ProductCategory(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ProductCategory"

    Code: str | None = None
    SortOrder: int | None = None


class ProductCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ProductCulture"

    CultureCode: str | None = None
    Name: str | None = None
    SubHeader: str | None = None
    SubDescription: str | None = None
    DescriptionHeader: str | None = None
    Description: str | None = None
    Synonyms: str | None = None
    Title: str | None = None
    Tags: str | None = None
    MetaTags: str | None = None
    MetaDescription: str | None = None
    UniqueUrlName: str | None = None
    IsUniqueUrlNameManuallyMaintained: bool | None = None


class ProductFamily(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.ProductFamily"

    Code: str | None = None
    Name: str | None = None


class VariantDefinitionType(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.VariantDefinitionType"

    Code: str | None = None
    Name: str | None = None
    ParametricCode: str | None = None
    SortOrder: int | None = None


class VariantDefinitionGroup(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.VariantDefinitionGroup"

    Code: str | None = None
    Name: str | None = None
    Types: list[VariantDefinitionType] | None = None


# Product has a property named like this class; the alias keeps the annotation resolvable.
_VariantDefinitionGroup: TypeAlias = VariantDefinitionGroup


class VariantDefinitionCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.VariantDefinitionCulture"

    CultureCode: str | None = None
    Value: str | None = None


class VariantDefinition(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.VariantDefinition"

    TypeCode: str | None = None
    Cultures: list[VariantDefinitionCulture] | None = None


class VariantCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.VariantCulture"

    CultureCode: str | None = None
    Name: str | None = None
    SubHeader: str | None = None
    SubDescription: str | None = None
    DescriptionHeader: str | None = None
    Description: str | None = None
    Synonyms: str | None = None
    Title: str | None = None
    Tags: str | None = None
    MetaTags: str | None = None
    MetaDescription: str | None = None
    UniqueUrlName: str | None = None
    IsUniqueUrlNameManuallyMaintained: bool | None = None


class SkuCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.SkuCulture"

    CultureCode: str | None = None
    ErpName: str | None = None
    Comment: str | None = None


class VatRate(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.VatRate"

    SalesArea: en.SalesArea | None = None
    Rate: float | None = None


class SkuStructureItemPriceList(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.SkuStructureItemPriceList"

    PartNo: str | None = None
    StructurePartNo: str | None = None
    PriceListCode: str | None = None
    ItemPriceListCode: str | None = None
    QuantityBreak: int | None = None
    CurrencyCode: str | None = None
    PriceSale: float | None = None


class SkuStructureItem(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.SkuStructureItem"

    PartNo: str | None = None
    StructurePartNo: str | None = None
    Quantity: float | None = None
    SortOrder: int | None = None
    StandardStructureItemPrice: SkuStructureItemPriceList | None = None
    AdditionalInfo: list[Info] | None = None


class Sku(ContractModel):
    """A sellable article; PartNo is always its key."""

    contract_name: ClassVar[str] = "Product.Models.Sku"

    PartNo: str
    Status: en.SkuStatus | None = None
    Type: en.SkuType | None = None
    IntegrationPartNo: str | None = None
    CommodityCode: str | None = None
    EanCode: str | None = None
    TrackingCode: str | None = None
    UnitOfMeasurementType: en.UnitMeasurementType | None = None
    UnitOfMeasurementCount: float | None = None
    IsDropShipOnly: bool | None = None
    IsBuyable: bool | None = None
    DiscountClass: str | None = None
    RecommendedSalesQty: float | None = None
    IsRecommendedSalesQtyFixed: bool | None = None
    ActualWeight: float | None = None
    VolumeWeight: float | None = None
    LogisticWidth: float | None = None
    LogisticHeight: float | None = None
    LogisticDepth: float | None = None
    StandardPrice: SkuPriceList | None = None
    VatRates: list[VatRate] | None = None
    Cultures: list[SkuCulture] | None = None
    StartDate: NorceDateTime | None = None
    StopDate: NorceDateTime | None = None
    StructureItems: list[SkuStructureItem] | None = None

    @model_validator(mode="before")
    @classmethod
    def _standard_price_inherits_part_no(cls, data: Any) -> Any:
        # StandardPrice is the SKU's own price, so its PartNo is implied; saves every mapping
        # from repeating it (Norce's own sample does repeat it, which stays valid).
        if isinstance(data, dict):
            price = data.get("StandardPrice")
            if isinstance(price, dict) and "PartNo" not in price and "PartNo" in data:
                data = {**data, "StandardPrice": {**price, "PartNo": data["PartNo"]}}
        return data


class Variant(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.Variant"

    ManufacturerPartNo: str | None = None
    SortOrderValue: int | None = None
    StockDisplayBreakPoint: int | None = None
    IsDangerousGoods: bool | None = None
    TranslationRequested: NorceDateTime | None = None
    Cultures: list[VariantCulture] | None = None
    Skus: list[Sku] | None = None
    MainImage: Image | None = None
    AdditionalImages: list[Image] | None = None
    VariantFlags: list[Flag] | None = None
    VariantParametrics: list[ParametricValue] | None = None
    NonParametricVariantDefinitions: list[VariantDefinition] | None = None
    DeliveryMethods: list[DeliveryMethod] | None = None


class Product(ContractModel):
    """A product (variant cluster).

    Norce matches a product on Code, on a SKU PartNo, or on ManufacturerCode + a variant's
    ManufacturerPartNo, so at least one of those must be present.
    """

    contract_name: ClassVar[str] = "Product.Models.Product"

    Code: str | None = None
    ManufacturerCode: str | None = None
    ManufacturerName: str | None = None
    Alias: str | None = None
    AssortmentCode: str | None = None
    Categories: list[ProductCategory] | None = None
    Cultures: list[ProductCulture] | None = None
    Family: ProductFamily | None = None
    MainImage: Image | None = None
    AdditionalImages: list[Image] | None = None
    ProductFlags: list[Flag] | None = None
    ProductParametrics: list[ParametricValue] | None = None
    VariantDefinitionGroup: _VariantDefinitionGroup | None = None
    Variants: list[Variant] | None = None

    @model_validator(mode="after")
    def _has_identifier(self) -> Product:
        if self.Code or self.first_part_no() or self.manufacturer_key():
            return self
        raise ValueError(
            "product has no identifier: set Code, a SKU PartNo, or ManufacturerCode plus a "
            "variant's ManufacturerPartNo"
        )

    def first_part_no(self) -> str | None:
        for variant in self.Variants or ():
            for sku in variant.Skus or ():
                return sku.PartNo
        return None

    def manufacturer_key(self) -> str | None:
        """``ManufacturerCode|ManufacturerPartNo`` of the first variant that has one."""
        if not self.ManufacturerCode:
            return None
        for variant in self.Variants or ():
            if variant.ManufacturerPartNo:
                return f"{self.ManufacturerCode}|{variant.ManufacturerPartNo}"
        return None
