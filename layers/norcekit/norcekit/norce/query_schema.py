"""The Query 2.0 schema as Norce publishes it: entity sets, keys, key types, property and expand names.

Used to check look-up configuration before anything is sent (``norcekit config validate`` and the
event processor's cold start). Norce's reference lists some properties and navigations only in
part, and a tenant's ``$metadata`` may hold sets the reference does not name (e.g. the company set),
so a name is refused only when the published schema says it is wrong:

- the namespace is not one of Query 2.0's five;
- the set is one a tenant answers 404 (``Orders/OrderItems``: use ``$expand=Items``);
- a property or navigation the reference shows is absent (``ProductCode`` on a SKU, ``ClientOrderRef``
  on an order, ``PriceListCode`` on a price row), with the published name to use instead;
- a navigation not in a set's complete navigation list (``Products/Products``).

Everything else a tenant might have is accepted and left to Norce.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

NAMESPACES = ("Core", "Application", "Customers", "Products", "Orders")


@dataclass(frozen=True)
class PublishedSet:
    """One entity set: key properties with their types, and what the reference shows of the rest."""

    keys: dict[str, str]
    properties: frozenset[str] = frozenset()
    navigations: frozenset[str] = frozenset()
    #: The navigation list is the whole list (otherwise only the names shown in the reference).
    navigations_complete: bool = False
    #: Names the reference shows are not there → the name to use instead.
    absent: dict[str, str] = field(default_factory=dict)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: norce-query-and-events.md §1.2-1.4 (VERIFIED rows; 3rd-party rows marked).
PUBLISHED_SETS: dict[str, PublishedSet] = {
    "Products/Products": PublishedSet(
        {"Id": "int32"},
        _names(
            "ClientId ManufacturerId ManufacturerPartNo DefaultName Code VariantId IsActive Created Updated"
        ),
        _names(
            "Skus Categories Cultures SupplierSkus Parametrics ParametricMultiple Flags Families Accessories "
            "Upsell Crossell VariantTypes Files Popularities ProductRelations"
        ),
        navigations_complete=True,
    ),
    "Products/ProductSkus": PublishedSet(
        {"PartNo": "string"},
        _names(
            "ProductId ClientId StatusId TypeId IntegrationPartNo ErpName EanCode UnitOfMeasurementId "
            "UnitOfMeasurementCount IsPublished IsBlocked"
        ),
        _names("PriceLists"),
        absent={"ProductCode": "ProductId (the code is Products/Products.Code)"},
    ),
    "Products/ProductSkuPriceLists": PublishedSet(
        {"PartNo": "string", "PriceListId": "int32", "QtyBreak": "int32"},
        _names(
            "ClientId CurrencyId PriceSale PriceRuleId PriceRuleValue CostPurchase CostUnit PriceStandard "
            "PriceRecommended PricePrevious PriceCatalog IsActive"
        ),
        navigations_complete=True,
        absent={
            "PriceListCode": "PriceListId (the code is Application/ClientPriceLists.Agreement)",
            "CurrencyCode": "CurrencyId (the code is Core/Currencies.Code)",
            "QuantityBreak": "QtyBreak",
        },
    ),
    "Products/SupplierProductSkus": PublishedSet(
        {"PartNo": "string", "SupplierId": "int32"},
        _names(
            "Name ManufacturerId ManufacturerCode ManufacturerPartNo CategoryId CategoryCode CommodityCode "
            "EanCode GrossWeight NetWeight VatCodeId UnitOfMeasurementId"
        ),
        absent={"SupplierPartNo": "PartNo (the supplier's part number)"},
    ),
    "Products/SupplierProductSkuClient": PublishedSet(
        {"PartNo": "string", "SupplierId": "int32"},
        _names("ClientId ProductId ManufacturerId CategoryId"),
        _names("Sku Product"),
    ),
    "Products/ProductCategories": PublishedSet(
        {"ProductId": "int32", "CategoryId": "int32"}, _names("IsPrimary SortOrder IsActive")
    ),
    "Orders/Orders": PublishedSet(
        {"Id": "int64"},
        _names(
            "ClientId ApplicationId QuotationId OrderNo OrderDate StatusId Source DeliveryMode CurrencyId "
            "VatRate CashDiscount LineDiscount FreightCost OrderFee BuyerCompanyCode BuyerCompanyId "
            "BuyerCustomerCode BuyerCustomerId PayerCompanyCode PayerCompanyId PayerCustomerCode "
            "PayerCustomerId ResellerCompanyCode ResellerCompanyId ResellerCustomerCode ResellerCustomerId"
        ),
        _names("Items Payer Buyer ShipTo Infos"),  # 3rd-party usage
        absent={"ClientOrderRef": "QuotationId (the basket id)"},
    ),
    "Customers/Customers": PublishedSet({"Id": "int32"}),
    "Customers/CustomerCompanies": PublishedSet(
        {"CustomerId": "int32", "CompanyId": "int32"},
        _names("RoleId CustomerCode IsPrimary"),
        _names("Customer Company"),
    ),
    "Application/ClientPriceLists": PublishedSet(  # 3rd-party
        {"PriceListId": "int32"}, _names("Agreement CurrencyId"), _names("PriceList")
    ),
    "Application/ClientWarehouses": PublishedSet({}),  # 3rd-party; properties not read
    "Core/Currencies": PublishedSet({"Id": "int32"}, _names("Code")),  # 3rd-party
}

#: Sets a tenant answers 404 although older documentation lists them → what to use instead.
NOT_SERVED = {
    "Orders/OrderItems": "Orders/Orders with $expand=Items",
}


def _top_level(expand: str) -> list[str]:
    """Navigation names of an ``$expand`` (nested options in parentheses skipped)."""
    names, depth, current = [], 0, ""
    for ch in expand:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(current)
            current = ""
        elif depth == 0:
            current += ch
    names.append(current)
    return [n.strip() for n in names if n.strip()]


def lookup_problems(
    entity_set: str,
    fields: Iterable[str] = (),
    select: Iterable[str] | None = None,
    expand: str | None = None,
) -> list[str]:
    """What the published schema says is wrong with a look-up (empty: nothing known to be wrong).

    ``fields`` are the properties the look-up filters on (its key and scope fields)."""
    namespace, _, name = entity_set.partition("/")
    if namespace not in NAMESPACES or not name or "/" in name:
        namespaces = ", ".join(NAMESPACES)
        return [f"entity set {entity_set!r}: expected Namespace/EntitySet, Namespace one of {namespaces}"]
    if entity_set in NOT_SERVED:
        return [f"entity set {entity_set!r} is not served by Norce; use {NOT_SERVED[entity_set]}"]
    published = PUBLISHED_SETS.get(entity_set)
    if published is None:
        return []  # a set the reference does not name (the tenant's $metadata may have it)
    problems = [
        f"{entity_set} has no property {prop!r}; use {published.absent[prop]}"
        for prop in [*fields, *(select or ())]
        if prop in published.absent
    ]
    for nav in _top_level(expand or ""):
        if nav in published.absent:
            problems.append(f"{entity_set} has no navigation {nav!r}; use {published.absent[nav]}")
        elif published.navigations_complete and nav not in published.navigations:
            known = ", ".join(sorted(published.navigations)) or "none"
            problems.append(f"{entity_set} has no navigation {nav!r} (published: {known})")
    return problems


__all__ = ["NAMESPACES", "NOT_SERVED", "PUBLISHED_SETS", "PublishedSet", "lookup_problems"]
