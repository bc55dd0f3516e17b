"""The Query 2.0 schema the emulator serves: entity sets, keys, key types, properties, projections and
navigations, as Norce publishes them (norce-query-and-events.md §1); anything else answers 404."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .catalog import Catalog, Row, is_active_status


class NotFoundError(LookupError):
    pass


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _props(spec: str) -> dict[str, str]:
    return dict(part.split(":") for part in spec.split())


# Properties as the 2.0 reference lists them (norce-query-and-events.md §1.2-1.4; Created/Updated per
# norce-api.md §4's naming rule). Nothing else is served: a $select/$filter on another name is a 400.
SKU_PROPS = _props(
    "PartNo:str ProductId:int ClientId:int StatusId:int TypeId:int IntegrationPartNo:str ErpName:str "
    "EanCode:str UnitOfMeasurementId:int UnitOfMeasurementCount:num IsPublished:bool IsBlocked:bool "
    "Created:datetime Updated:datetime"
)
# Keys PartNo + PriceListId + QtyBreak; ids, not codes (PriceListId -> ClientPriceLists.Agreement,
# CurrencyId -> Core/Currencies.Code). IsActive as in Norce's own $expand=PriceLists example.
PRICE_PROPS = _props(
    "PartNo:str PriceListId:int QtyBreak:int ClientId:int CurrencyId:int PriceSale:num PriceRuleId:int "
    "PriceRuleValue:num CostPurchase:num CostUnit:num PriceStandard:num PriceRecommended:num "
    "PricePrevious:num PriceCatalog:num IsActive:bool"
)
PRODUCT_PROPS = _props(
    "Id:int ClientId:int ManufacturerId:int ManufacturerPartNo:str DefaultName:str Code:str VariantId:int "
    "IsActive:bool Created:datetime Updated:datetime"
)
# Customer properties are not published beyond the key; the code is named as on CustomerCompanies.
CUSTOMER_PROPS = _props(
    "Id:int CustomerCode:str FirstName:str LastName:str EmailAddress:str PhoneNumber:str "
    "CellPhoneNumber:str IsActive:bool Created:datetime Updated:datetime"
)
COMPANY_PROPS = _props(
    "Id:int CompanyCode:str OrganizationNo:str Name:str EmailAddress:str ParentCompanyId:int "
    "ApplicationId:int VatNo:str IsActive:bool Created:datetime Updated:datetime"
)
CUSTOMER_COMPANY_PROPS = _props("CustomerId:int CompanyId:int RoleId:int CustomerCode:str IsPrimary:bool")
# Id is a 64-bit order id; QuotationId the basket id events call ClientOrderRef (no ClientOrderRef here).
ORDER_PROPS = _props(
    "Id:int ClientId:int ApplicationId:int QuotationId:int OrderNo:str OrderDate:datetime StatusId:int "
    "Source:str DeliveryMode:str CurrencyId:int VatRate:num CashDiscount:num LineDiscount:num "
    "FreightCost:num OrderFee:num BuyerCompanyCode:str BuyerCompanyId:int BuyerCustomerCode:str "
    "BuyerCustomerId:int PayerCompanyCode:str PayerCompanyId:int PayerCustomerCode:str PayerCustomerId:int "
    "Created:datetime Updated:datetime"
)
# Products/SupplierProductSkus: keys PartNo (the supplier's part number) + SupplierId.
SUPPLIER_PROPS = _props(
    "PartNo:str SupplierId:int Name:str ManufacturerId:int ManufacturerCode:str ManufacturerPartNo:str "
    "CategoryId:int CategoryCode:str CommodityCode:str EanCode:str GrossWeight:num NetWeight:num "
    "VatCodeId:int UnitOfMeasurementId:int Created:datetime Updated:datetime"
)
PRICE_LIST_PROPS = _props("PriceListId:int Agreement:str CurrencyId:int")
CURRENCY_PROPS = _props("Id:int Code:str")
#: Core/Currencies as the emulator's tenant has them (ids are the tenant's; codes ISO 4217).
CURRENCIES = {"SEK": 1, "NOK": 2, "DKK": 3, "EUR": 4, "USD": 5, "GBP": 6, "CHF": 7, "PLN": 8, "ISK": 9}


def _pick(props: dict[str, str], values: Row) -> Row:
    """Exactly the published properties, datetimes parsed."""
    return {
        name: _dt(values.get(name)) if kind == "datetime" else values.get(name)
        for name, kind in props.items()
    }


def project_supplier_sku(cat: Catalog, r: Row) -> Row:
    return _pick(SUPPLIER_PROPS, {**r, "PartNo": r.get("SupplierPartNo"), "Name": r.get("ProductName")})


def project_sku(cat: Catalog, r: Row) -> Row:
    return _pick(
        SKU_PROPS,
        {**r, "ClientId": cat.norce_client_id, "StatusId": r.get("Status"), "TypeId": r.get("Type")},
    )


def project_price(cat: Catalog, r: Row) -> Row:
    pl = cat.tables["price_lists"].get(r["PriceListCode"], {})
    currency = r.get("CurrencyCode") or pl.get("CurrencyCode")
    return _pick(
        PRICE_PROPS,
        {
            **r,
            "ClientId": cat.norce_client_id,
            "PriceListId": pl.get("Id"),
            "QtyBreak": r["QuantityBreak"],
            "CurrencyId": CURRENCIES.get(currency or ""),
            "IsActive": r.get("IsActive") is not False,
        },
    )


def project_product(cat: Catalog, r: Row) -> Row:
    cultures = r.get("Cultures") or []
    part_nos = [p for v in r.get("Variants") or [] for p in v.get("Skus", [])]
    active = any(is_active_status(cat.tables["skus"].get(p, {}).get("Status")) for p in part_nos)
    name = cultures[0].get("Name") if cultures else None
    return _pick(
        PRODUCT_PROPS, {**r, "ClientId": cat.norce_client_id, "DefaultName": name, "IsActive": active}
    )


def project_customer(cat: Catalog, r: Row) -> Row:
    return _pick(
        CUSTOMER_PROPS, {**r, "CustomerCode": r.get("Code"), "IsActive": r.get("IsActive") is not False}
    )


def project_company(cat: Catalog, r: Row) -> Row:
    parent = cat.tables["companies"].get(r.get("ParentCompanyCode"), {})
    values = {
        **r,
        "CompanyCode": r.get("Code"),
        "ParentCompanyId": parent.get("Id"),
        "IsActive": r.get("IsActive") is not False,
    }
    return _pick(COMPANY_PROPS, values)


def customer_companies(cat: Catalog) -> list[Row]:
    """Customers/CustomerCompanies rows: one per company a customer belongs to."""
    rows = []
    for customer in cat.tables["customers"].values():
        for link in customer.get("Companies") or []:
            company = cat.tables["companies"].get(link.get("Code") if isinstance(link, dict) else None)
            if company is not None:
                rows.append(
                    {
                        "CustomerId": customer.get("Id"),
                        "CompanyId": company.get("Id"),
                        "RoleId": None,
                        "CustomerCode": customer.get("Code"),
                        "IsPrimary": bool(link.get("IsPrimary")),
                    }
                )
    return rows


def project_price_list(cat: Catalog, r: Row) -> Row:
    values = {"PriceListId": r.get("Id"), "Agreement": r.get("Code")}
    return {**values, "CurrencyId": CURRENCIES.get(r.get("CurrencyCode") or "")}


def currencies(cat: Catalog) -> list[Row]:
    return [{"Id": currency_id, "Code": code} for code, currency_id in CURRENCIES.items()]


def _orders_project(cat: Catalog, r: Row) -> Row:
    values = {**r, "ClientId": cat.norce_client_id, "CurrencyId": CURRENCIES.get(r.get("CurrencyCode") or "")}
    if values.get("QuotationId") is None and str(r.get("ClientOrderRef") or "").isdigit():
        values["QuotationId"] = int(r["ClientOrderRef"])  # seeds name the basket id ClientOrderRef
    return _pick(ORDER_PROPS, values)


def _identity(cat: Catalog, r: Row) -> Row:
    return r


Expander = Callable[[Catalog, list[Row]], dict[Any, list[Row]]]


def _group(table: str, key: str, project: Callable[[Catalog, Row], Row]) -> Expander:
    """Build the child rows for a page of parents in one pass (no per-parent table scans)."""

    def expand(cat: Catalog, parents: list[Row]) -> dict[Any, list[Row]]:
        wanted = {p.get(key) for p in parents}
        groups: dict[Any, list[Row]] = defaultdict(list)
        for row in cat.tables[table].values():
            if row.get(key) in wanted:
                groups[row.get(key)].append(project(cat, row))
        return groups

    return expand


def _embedded(table: str, prop: str) -> Expander:
    """Nested values stored on the raw row (seeded order items etc.), looked up by the parent's Id."""

    def expand(cat: Catalog, parents: list[Row]) -> dict[Any, list[Row]]:
        out: dict[Any, list[Row]] = {}
        for p in parents:
            value = cat.tables[table].get(p.get("Id"), {}).get(prop)
            out[p.get("Id")] = value if value is not None else []
        return out

    return expand


def _skus_of_product(cat: Catalog, parents: list[Row]) -> dict[Any, list[Row]]:
    ids = {p.get("Id") for p in parents}
    groups: dict[Any, list[Row]] = defaultdict(list)
    for row in cat.tables["skus"].values():
        if row.get("ProductId") in ids:
            groups[row.get("ProductId")].append(project_sku(cat, row))
    return groups


def _one(table: str, project: Callable[[Catalog, Row], Row]) -> Any:
    """A single-valued navigation (CustomerCompanies -> Customer / Company), by the child's Id."""

    def expand(cat: Catalog, parents: list[Row]) -> dict[Any, Row]:
        by_id = {row.get("Id"): row for row in cat.tables[table].values()}
        return {
            child_id: project(cat, by_id[child_id])
            for child_id in {p.get("CustomerId" if table == "customers" else "CompanyId") for p in parents}
            if child_id in by_id
        }

    return expand


@dataclass(frozen=True)
class Navigation:
    expander: Expander
    parent_key: str  # property of the projected parent used to look the children up
    props: dict[str, str]  # child properties, for nested $select/$filter/$orderby
    single: bool = False  # one related row (or null), not a collection


@dataclass(frozen=True)
class EntitySet:
    namespace: str
    name: str
    table: str
    props: dict[str, str]
    project: Callable[[Catalog, Row], Row]
    key: str | None  # None: a composite key (addressed with $filter only)
    navigations: dict[str, Navigation] = field(default_factory=dict)
    #: Rows not stored as a table of their own (already projected); ``None``: ``table``'s rows.
    source: Callable[[Catalog], list[Row]] | None = None

    def rows(self, cat: Catalog) -> list[Row]:
        if self.source is not None:
            return self.source(cat)
        return [self.project(cat, r) for r in cat.tables[self.table].values()]


_ANY: dict[str, str] = {}
#: Only the published sets (norce-query-and-events.md §1). Not served, answering 404 as for any
#: unknown set: client on-hand (no 2.0 name published), the company set (name not published: reach
#: companies through CustomerCompanies' Company), Orders/OrderItems (tenants answer 404).
ENTITY_SETS: dict[tuple[str, str], EntitySet] = {
    (s.namespace, s.name): s
    for s in (
        EntitySet(
            "Products",
            "ProductSkus",
            "skus",
            SKU_PROPS,
            project_sku,
            "PartNo",
            {"PriceLists": Navigation(_group("prices", "PartNo", project_price), "PartNo", PRICE_PROPS)},
        ),
        EntitySet(
            "Products",
            "Products",
            "products",
            PRODUCT_PROPS,
            project_product,
            "Id",
            {"Skus": Navigation(_skus_of_product, "Id", SKU_PROPS)},
        ),
        EntitySet("Products", "ProductSkuPriceLists", "prices", PRICE_PROPS, project_price, None),
        EntitySet(
            "Products", "SupplierProductSkus", "supplier_products", SUPPLIER_PROPS, project_supplier_sku, None
        ),
        EntitySet(
            "Application",
            "ClientPriceLists",
            "price_lists",
            PRICE_LIST_PROPS,
            project_price_list,
            "PriceListId",
        ),
        EntitySet("Core", "Currencies", "", CURRENCY_PROPS, _identity, "Id", source=currencies),
        EntitySet("Customers", "Customers", "customers", CUSTOMER_PROPS, project_customer, "Id"),
        EntitySet(
            "Customers",
            "CustomerCompanies",
            "",
            CUSTOMER_COMPANY_PROPS,
            _identity,
            None,
            {
                "Customer": Navigation(
                    _one("customers", project_customer), "CustomerId", CUSTOMER_PROPS, single=True
                ),
                "Company": Navigation(
                    _one("companies", project_company), "CompanyId", COMPANY_PROPS, single=True
                ),
            },
            source=customer_companies,
        ),
        EntitySet(
            "Orders",
            "Orders",
            "orders",
            ORDER_PROPS,
            _orders_project,
            "Id",
            {
                name: Navigation(_embedded("orders", name), "Id", _ANY)
                for name in ("Items", "Payer", "Buyer", "ShipTo", "Infos")
            },
        ),
    )
}
