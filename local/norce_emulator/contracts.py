# ruff: noqa: E501  (the enum tables are easier to compare with the contract on long lines)
"""Connect header rules, copied from Norce's official .NET contracts (Storm.Connect.Contracts @69a13d0).

Deliberately independent of ``norcekit.norce.contracts`` so a mistake there is caught here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


def _enum(spec: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in spec.split():
        name, value = part.split("=")
        out[name] = int(value)
    return out


# fmt: off
ENUMS: dict[str, dict[str, int]] = {
    "ProductField": _enum(
        "ManufacturerCode=0 ManufacturerName=1 Alias=2 Code=3 Variants=4 Cultures=5 Categories=6 MainImage=7 "
        "AdditionalImages=8 Family=9 ProductParametrics=10 ProductParametricsCreateOnly=11 "
        "VariantDefinitionGroup=12 VariantDefinitionGroupCreateOnly=13 Assortment=14 CategoriesCreateOnly=15 "
        "CategoriesLimitedUpdate=16 AdditionalImagesCleanup=17 ParametricsCleanup=18 ImagesAndFilesCleanup=19"),
    "ProductCultureField": _enum(
        "Name=0 NameCreateOnly=1 SubHeader=2 SubDescription=3 DescriptionHeader=4 Description=5 "
        "DescriptionCreateOnly=6 Synonyms=7 Title=8 Tags=9 MetaTags=10 MetaDescription=11 NameLimitedUpdate=12 "
        "UniqueUrlName=13 IsUniqueUrlNameManuallyMaintained=14 UniqueUrlNameCreateOnly=15"),
    "VariantField": _enum(
        "ManufacturerPartNo=0 SortOrderValue=1 StockDisplayBreakPoint=2 IsDangerousGoods=3 Cultures=4 Skus=5 "
        "MainImage=6 AdditionalImages=7 VariantParametrics=8 VariantParametricsCreateOnly=9 "
        "NonParametricVariantDefinitions=10 NonParametricVariantDefinitionsCreateOnly=11 DeliveryMethods=12 "
        "DeliveryMethodsCreateOnly=13 AdditionalImagesCleanup=14 ParametricsCleanup=15 TranslationRequested=16 "
        "ImagesAndFilesCleanup=17"),
    "VariantCultureField": _enum(
        "CultureCode=0 Name=1 NameCreateOnly=2 NameLimitedUpdate=3 UniqueUrlName=4 "
        "IsUniqueUrlNameManuallyMaintained=5 UniqueUrlNameCreateOnly=6 SubHeader=7 SubDescription=8 "
        "DescriptionHeader=9 Description=10 DescriptionCreateOnly=11 Synonyms=12 Title=13 Tags=14 MetaTags=15 "
        "MetaDescription=16"),
    "SkuField": _enum(
        "Status=1 Type=2 IntegrationPartNo=3 CommodityCode=4 EanCode=5 TrackingCode=6 UnitOfMeasurementType=7 "
        "UnitOfMeasurementCount=8 IsDropShipOnly=9 IsBuyable=10 DiscountClass=11 RecommendedSalesQty=12 "
        "IsRecommendedSalesQtyFixed=13 ActualWeight=14 VolumeWeight=15 LogisticWidth=16 LogisticHeight=18 "
        "LogisticDepth=19 StandardPrice=20 VatRate=21 StatusCreateOnly=22 StartDate=23 StopDate=24 "
        "StructureItems=25 PartNoCreateWhenMissing=26"),
    "SkuCultureField": _enum("ErpName=0 ErpNameCreateOnly=1 Comment=2 CommentCreateOnly=3"),
    "SkuPriceListField": _enum(
        "PriceSale=3 CostPurchase=4 CostUnit=5 PriceRecommended=6 PricePrevious=7 PriceCatalog=8 "
        "IsPriceDiscountable=9 IsActive=10 IsPriceDiscountableCreateOnly=11 PriceRule=12 FullfileResetInheritance=13"),
    "SkuStructureItemField": _enum("SortOrder=0 StandardStructureItemPrice=1 AdditionalInfo=2"),
    "ImageCultureField": _enum("Name=0 Description=1 AltText=2"),
    "SkuOnhandField": _enum(
        "OnhandValue=3 IncomingValue=4 NextDeliveryDate=5 LeadTimeDayCount=6 OnOrderValue=7 MinimumValue=8 "
        "MaximumValue=9 IsActive=10 Infos=11"),
    "PriceListField": _enum(
        "Name=0 CurrencyCode=1 StartDate=2 EndDate=3 IsPublic=4 IsPrimary=5 TypeCode=6 Warehouses=7 "
        "DefaultPriceRule=8 Description=9 IsErpIntegrated=10 DoNotCreateApplicationPriceList=11 SalesArea=12 "
        "DefaultMinMarginPercent=13 LimitToRecPrice=14 ParentPriceListCode=15 DefaultSupplementalChargeFixed=16 "
        "DefaultSupplementalChargePercent=17 PriceRules=18 PriceRulesCleanup=19 PriceRulesLimitedUpdate=20 "
        "Population=21 PopulationCleanup=22 IsFavorite=23 InheritStructureCalculationRule=24"),
    "WarehouseField": _enum("Type=0 Name=1 LeadTimeDayCount=2"),
    "WarehouseLocationField": _enum("Name=0 LeadTimeDayCount=1 IsIncludedInStockCalculation=2"),
    "PriceListPriceRuleField": _enum(
        "Type=0 Value=1 LimitToRecPrice=2 SupplementalChargeFixed=3 SupplementalChargePercent=4"),
    "CustomerField": _enum(
        "ApplicationKey=0 Id=1 Code=2 EmailAddress=3 SocialSecurityNumber=4 Title=5 FirstName=6 MiddleName=7 "
        "LastName=8 PhoneNumber=9 CellPhoneNumber=10 IsActive=11 InvoiceAddress=12 DeliveryAddresses=13 "
        "Accounts=14 AdditionalInfo=15 Flags=16 PriceLists=17 SearchOnlyByCode=18 Companies=19 CrmId=20 "
        "PreserveFlags=21"),
    "CompanyField": _enum(
        "ApplicationKey=0 Id=1 Code=2 OrganizationNo=3 Name=4 EmailAddress=5 PhoneNumber=6 LogoImage=7 "
        "ParentCompanyCode=8 IsActive=9 InvoiceAddress=10 DeliveryAddresses=11 AdditionalInfo=12 Contacts=13 "
        "Customers=14 DeliveryMethods=15 Discounts=16 Flags=17 PaymentMethods=18 PriceLists=19 "
        "SearchOnlyByCode=20 VatNo=21 PreserveFlags=22"),
    "AccountField": _enum("PasswordCreateOnly=0 Status=1 StatusCreateOnly=2 Roles=3 RolesCreateOnly=4"),
    "SupplierProductField": _enum(
        "SupplierPartNo=0 ProductName=1 CategoryCode=2 ProductType=3 Manufacturer=4 ManufacturerPartNo=5 "
        "EanCode=6 CommodityCode=7 GrossWeight=8 NetWeight=9 UnitOfMeasurementCode=10 UnitOfMeasurementCount=11 "
        "VatCode=12 LogisticWidth=13 LogisticHeight=14 LogisticDepth=15"),
    "SupplierOnHandField": _enum(
        "Value=0 IncomingValue=1 NextDeliveryDate=2 StoppedDate=3 IsReturnable=4 LeadTimeDayCount=5 "
        "ExternalStockValue=6 PackageValue=7 MinimumOrderValue=8 IsActive=9"),
    "SupplierPriceField": _enum(
        "CostPurchase=0 CostPurchaseValidTo=1 PriceRecommended=2 PriceMax=3 PriceDealer=4 IsPromotion=5 "
        "IsFocus=6 PriceRanking=7 FreightCost=8 CostFee=9 DiscountPct=10 IsActive=11 PriceCatalog=12"),
    "SupplierProductInfoField": _enum("Value=0"),
    "RelationField": _enum(
        "IsActive=1 IsVariantUnique=2 IsVariantUniqueCreateOnly=3 IsRelatedVariantUnique=4 "
        "IsRelatedVariantUniqueCreateOnly=5 DefaultName=6 DefaultSubHeader=7 DefaultSubDescription=8 "
        "DefaultDescriptionHeader=9 DefaultDescription=10 Cultures=11 SortOrder=12"),
    "RelationCultureField": _enum(
        "Name=1 NameCreateOnly=2 SubHeader=3 SubDescription=4 DescriptionHeader=5 Description=6 "
        "DescriptionCreateOnly=7"),
}
# fmt: on

SKU_STATUS_INACTIVE = 5
SKU_STATUS_NOT_ACTIVATED = 6

# Properties of the base class ``Header`` (every import header has them).
BASE_HEADER_PROPS = ("AccountId", "JobId", "SerializationType", "StorageName", "SupplierId")


@dataclass(frozen=True)
class HeaderSpec:
    name: str
    kind: str  # catalog import kind
    full_file: bool  # header class has FullFile
    field_lists: dict[str, str]  # header property -> enum name


_PRODUCT_LISTS = {
    "ProductFieldsThatAreSet": "ProductField",
    "ProductCultureFieldsThatAreSet": "ProductCultureField",
    "VariantFieldsThatAreSet": "VariantField",
    "VariantCultureFieldsThatAreSet": "VariantCultureField",
    "SkuFieldsThatAreSet": "SkuField",
    "SkuCultureFieldsThatAreSet": "SkuCultureField",
    "SkuPriceListFieldsThatAreSet": "SkuPriceListField",
    "IgnoreSkuPriceListFieldsWhenEmpty": "SkuPriceListField",
    "SkuStructureItemFieldsThatAreSet": "SkuStructureItemField",
    "ImageCultureFieldsThatAreSet": "ImageCultureField",
}
_CUSTOMER_LISTS = {
    "CustomerFieldsThatAreSet": "CustomerField",
    "CompanyFieldsThatAreSet": "CompanyField",
    "AccountFieldsThatAreSet": "AccountField",
}

# Connect import path (relative to /commerce/connect/4.0/) -> header spec.
CONNECT_IMPORTS: dict[str, HeaderSpec] = {
    "Product/ImportProducts": HeaderSpec("ProductHeader", "products", True, _PRODUCT_LISTS),
    "Product/ImportSkuPriceLists": HeaderSpec(
        "SkuPriceListHeader",
        "prices",
        True,
        {
            "SkuPriceListFieldsThatAreSet": "SkuPriceListField",
            "IgnoreSkuPriceListFieldsWhenEmpty": "SkuPriceListField",
        },
    ),
    "Product/ImportPriceLists": HeaderSpec(
        "PriceListHeader",
        "price_lists",
        False,
        {
            "PriceListFieldsThatAreSet": "PriceListField",
            "WarehouseFieldsThatAreSet": "WarehouseField",
            "WarehouseLocationFieldsThatAreSet": "WarehouseLocationField",
            "PriceListPriceRuleFieldsThatAreSet": "PriceListPriceRuleField",
        },
    ),
    "Product/ImportOnhands": HeaderSpec(
        "SkuOnhandHeader", "onhand", True, {"SkuOnhandFieldsThatAreSet": "SkuOnhandField"}
    ),
    # Path INFERRED (norce-api.md §1.3: method listed, path by pattern); header per the contracts.
    "Product/ImportRelations": HeaderSpec(
        "RelationHeader",
        "relations",
        True,
        {
            "RelationFieldsThatAreSet": "RelationField",
            "RelationCultureFieldsThatAreSet": "RelationCultureField",
        },
    ),
    "Customer/ImportCustomers": HeaderSpec("CustomerHeader", "customers", False, _CUSTOMER_LISTS),
    "Customer/ImportCompanies": HeaderSpec("CustomerHeader", "companies", False, _CUSTOMER_LISTS),
    "Supplier/ImportProducts": HeaderSpec(
        "SupplierProductHeader",
        "supplier_products",
        True,
        {
            "FieldsThatAreSet": "SupplierProductField",
            "OnhandFieldsThatAreSet": "SupplierOnHandField",
            "PriceFieldsThatAreSet": "SupplierPriceField",
            "ContentFieldsThatAreSet": "ProductCultureField",
            "ProductInfoFieldsThatAreSet": "SupplierProductInfoField",
        },
    ),
}


class HeaderError(ValueError):
    """The X-StormConnect-Header is missing or invalid (-> HTTP 400)."""


@dataclass
class ParsedHeader:
    raw: dict[str, Any]
    account_id: int
    full_file: bool
    supplier_id: int | None
    storage_name: str | None
    # header list property -> set of enum member *names*; absent property -> not in the dict
    fields: dict[str, frozenset[str]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_enum_list(prop: str, enum_name: str, value: Any) -> frozenset[str]:
    """Values may be integers or names (JSON); names are matched case-insensitively like Json.NET."""
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise HeaderError(f"{prop} must be an array of {enum_name} values, got {type(value).__name__}")
    table = ENUMS[enum_name]
    by_value = {v: k for k, v in table.items()}
    by_lower = {k.lower(): k for k in table}
    names: set[str] = set()
    for item in value:
        if _is_int(item):
            if item not in by_value:
                raise HeaderError(
                    f"{prop}: {item} is not a valid {enum_name} value (valid: {sorted(by_value)})"
                )
            names.add(by_value[item])
        elif isinstance(item, str):
            key = item.strip()
            if key.lstrip("-").isdigit() and int(key) in by_value:
                names.add(by_value[int(key)])
            elif key.lower() in by_lower:
                names.add(by_lower[key.lower()])
            else:
                raise HeaderError(f"{prop}: {item!r} is not a valid {enum_name} name")
        else:
            raise HeaderError(f"{prop}: {item!r} is not a valid {enum_name} value")
    return frozenset(names)


def parse_header(
    raw_value: str | None, spec: HeaderSpec, *, strict: bool, require_full_file: bool
) -> ParsedHeader:
    if raw_value is None or not raw_value.strip():
        raise HeaderError("Missing X-StormConnect-Header")
    if "\n" in raw_value or "\r" in raw_value:
        raise HeaderError("X-StormConnect-Header must be a single line of JSON")
    try:
        data = orjson.loads(raw_value)
    except orjson.JSONDecodeError as exc:
        raise HeaderError(f"X-StormConnect-Header is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HeaderError("X-StormConnect-Header must be a JSON object")

    allowed = set(BASE_HEADER_PROPS) | set(spec.field_lists) | ({"FullFile"} if spec.full_file else set())
    unknown = sorted(set(data) - allowed)
    if strict and unknown:
        raise HeaderError(f"Unknown {spec.name} properties: {unknown} (names are PascalCase, e.g. FullFile)")

    account_id = data.get("AccountId")
    if not isinstance(account_id, int) or isinstance(account_id, bool):
        raise HeaderError(f"{spec.name}.AccountId is required and must be an integer")

    full_file = False
    if spec.full_file:
        if "FullFile" not in data:
            if require_full_file:
                raise HeaderError(f"{spec.name}.FullFile is required (true or false)")
        elif not isinstance(data["FullFile"], bool):
            raise HeaderError(f"{spec.name}.FullFile must be a boolean")
        else:
            full_file = data["FullFile"]

    ser = data.get("SerializationType")
    if ser is not None and ser not in (0, "Json", "json", "JSON"):
        raise HeaderError("Only SerializationType 0 (Json) is supported by the emulator")

    supplier_id = data.get("SupplierId")
    if supplier_id is not None and not _is_int(supplier_id):
        raise HeaderError("SupplierId must be an integer")
    if spec.kind == "supplier_products" and supplier_id is None:
        raise HeaderError("SupplierProductHeader.SupplierId is required to identify the supplier")

    storage_name = data.get("StorageName")
    if storage_name is not None and not isinstance(storage_name, str):
        raise HeaderError("StorageName must be a string")

    fields: dict[str, frozenset[str]] = {}
    for prop, enum_name in spec.field_lists.items():
        if prop in data and data[prop] is not None:
            fields[prop] = parse_enum_list(prop, enum_name, data[prop])

    if spec.kind == "products":
        # Docs: Variants(4)/Cultures(5) are required whenever the matching lists are non-empty.
        pf = fields.get("ProductFieldsThatAreSet")
        if pf is not None:
            if (fields.get("VariantFieldsThatAreSet") or fields.get("VariantCultureFieldsThatAreSet")) and (
                "Variants" not in pf
            ):
                raise HeaderError(
                    "ProductFieldsThatAreSet must include Variants (4) when Variant* lists are set"
                )
            if fields.get("ProductCultureFieldsThatAreSet") and "Cultures" not in pf:
                raise HeaderError(
                    "ProductFieldsThatAreSet must include Cultures (5) when ProductCultureFieldsThatAreSet is set"
                )
    return ParsedHeader(
        raw=data,
        account_id=account_id,
        full_file=full_file,
        supplier_id=supplier_id,
        storage_name=storage_name,
        fields=fields,
    )
