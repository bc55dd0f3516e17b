"""Norce Connect import contracts: body items, headers, serialization and the import registry.

``IMPORT_KINDS`` is the one place that ties an import name to its Connect path, header model,
item model, FullFile support and item key, so the runner, the emulator and the CLI agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import enums
from .common import ContractModel, Image, ImageCulture, Info, NorceDateTime
from .customer import (
    Account,
    AccountRole,
    Address,
    Company,
    CompanyIdentifier,
    Contact,
    Customer,
    CustomerDeliveryMethod,
    CustomerFlag,
    CustomerInfo,
    CustomerPriceList,
    Discount,
    Division,
    PaymentMethod,
)
from .enums import ContractEnum
from .headers import (
    CustomerHeader,
    Header,
    PriceListHeader,
    ProductHeader,
    RelationHeader,
    SkuOnhandHeader,
    SkuPriceListHeader,
    SupplierProductHeader,
)
from .onhand import SkuOnhand
from .price import (
    PriceList,
    PriceListPopulation,
    PriceListPopulationAllCategories,
    PriceListPopulationCategory,
    PriceListPriceRule,
    SkuPriceList,
    Warehouse,
    WarehouseLocation,
)
from .product import (
    DeliveryMethod,
    Flag,
    ParametricValue,
    ParametricValueCulture,
    ParametricValueList,
    ParametricValueListCulture,
    Product,
    ProductCategory,
    ProductCulture,
    ProductFamily,
    Sku,
    SkuCulture,
    SkuStructureItem,
    SkuStructureItemPriceList,
    Variant,
    VariantCulture,
    VariantDefinition,
    VariantDefinitionCulture,
    VariantDefinitionGroup,
    VariantDefinitionType,
    VatRate,
)
from .relation import Relation, RelationCulture
from .responses import JobResponse, ValidationSummary
from .serialize import dump_header, dump_item
from .supplier import (
    Parametric,
    ParametricMultipleCodeValuePair,
    SupplierOnHand,
    SupplierPrice,
    SupplierProduct,
    SupplierProductInfo,
)
from .wire import ContractItem, WireItem, item_field, wire_validator

ItemT = TypeVar("ItemT", bound=ContractModel)


@dataclass(frozen=True, slots=True)
class ImportKind(Generic[ItemT]):
    """One Connect import method.

    ``key`` gives the identity Norce matches an item on; the runner dedupes a delta by it and
    reports unmappable records with it.
    """

    name: str
    path: str
    """Relative to ``.../commerce/connect/4.0/``."""
    header_model: type[Header]
    item_model: type[ItemT]
    has_full_file: bool
    key: Callable[[ItemT], str]

    def parse_item(self, data: Any) -> ItemT:
        """Validate one mapped record (dict or model) as this import's item."""
        return self.item_model.model_validate(data)


def _product_key(item: Product) -> str:
    # Code when given, else a SKU PartNo, else ManufacturerCode|ManufacturerPartNo: the same
    # precedence Norce uses to find an existing product. Product validation guarantees one.
    key = item.Code or item.first_part_no() or item.manufacturer_key()
    if not key:  # pragma: no cover - Product's validator already rejects this
        raise ValueError("product has no identifier")
    return key


def _sku_price_key(item: SkuPriceList) -> str:
    # A missing QuantityBreak stays empty rather than guessing Norce's default.
    quantity = "" if item.QuantityBreak is None else str(item.QuantityBreak)
    return f"{item.PartNo}|{item.PriceListCode}|{quantity}"


def _price_list_key(item: PriceList) -> str:
    return item.Code


def _onhand_key(item: SkuOnhand) -> str:
    return f"{item.PartNo}|{item.WarehouseCode}|{item.LocationCode}"


def _customer_key(item: Customer) -> str:
    return item.Code or item.EmailAddress or f"id:{item.Id}"


def _company_key(item: Company) -> str:
    return item.Code or item.OrganizationNo or f"id:{item.Id}"


def _supplier_product_key(item: SupplierProduct) -> str:
    return item.SupplierPartNo


def _relation_key(item: Relation) -> str:
    return f"{item.PartNo}|{item.RelatedPartNo}|{item.RelationTypeCode}"


IMPORT_KINDS: dict[str, ImportKind[Any]] = {
    kind.name: kind
    for kind in (
        ImportKind("products", "Product/ImportProducts", ProductHeader, Product, True, _product_key),
        ImportKind(
            "sku_prices",
            "Product/ImportSkuPriceLists",
            SkuPriceListHeader,
            SkuPriceList,
            True,
            _sku_price_key,
        ),
        ImportKind(
            "price_lists", "Product/ImportPriceLists", PriceListHeader, PriceList, False, _price_list_key
        ),
        ImportKind("onhand", "Product/ImportOnhands", SkuOnhandHeader, SkuOnhand, True, _onhand_key),
        ImportKind("customers", "Customer/ImportCustomers", CustomerHeader, Customer, False, _customer_key),
        ImportKind("companies", "Customer/ImportCompanies", CustomerHeader, Company, False, _company_key),
        ImportKind(
            "supplier_products",
            "Supplier/ImportProducts",
            SupplierProductHeader,
            SupplierProduct,
            True,
            _supplier_product_key,
        ),
        ImportKind("relations", "Product/ImportRelations", RelationHeader, Relation, True, _relation_key),
    )
}

__all__ = [
    "IMPORT_KINDS",
    "Account",
    "AccountRole",
    "Address",
    "Company",
    "CompanyIdentifier",
    "Contact",
    "ContractEnum",
    "ContractItem",
    "ContractModel",
    "Customer",
    "CustomerDeliveryMethod",
    "CustomerFlag",
    "CustomerHeader",
    "CustomerInfo",
    "CustomerPriceList",
    "DeliveryMethod",
    "Discount",
    "Division",
    "Flag",
    "Header",
    "Image",
    "ImageCulture",
    "ImportKind",
    "Info",
    "JobResponse",
    "NorceDateTime",
    "Parametric",
    "ParametricMultipleCodeValuePair",
    "ParametricValue",
    "ParametricValueCulture",
    "ParametricValueList",
    "ParametricValueListCulture",
    "PaymentMethod",
    "PriceList",
    "PriceListHeader",
    "PriceListPopulation",
    "PriceListPopulationAllCategories",
    "PriceListPopulationCategory",
    "PriceListPriceRule",
    "Product",
    "ProductCategory",
    "ProductCulture",
    "ProductFamily",
    "ProductHeader",
    "Relation",
    "RelationCulture",
    "RelationHeader",
    "Sku",
    "SkuCulture",
    "SkuOnhand",
    "SkuOnhandHeader",
    "SkuPriceList",
    "SkuPriceListHeader",
    "SkuStructureItem",
    "SkuStructureItemPriceList",
    "SupplierOnHand",
    "SupplierPrice",
    "SupplierProduct",
    "SupplierProductHeader",
    "SupplierProductInfo",
    "ValidationSummary",
    "Variant",
    "VariantCulture",
    "VariantDefinition",
    "VariantDefinitionCulture",
    "VariantDefinitionGroup",
    "VariantDefinitionType",
    "VatRate",
    "Warehouse",
    "WarehouseLocation",
    "WireItem",
    "dump_header",
    "dump_item",
    "enums",
    "item_field",
    "wire_validator",
]
