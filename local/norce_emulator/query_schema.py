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


SKU_PROPS = _props(
    "Id:int PartNo:str ProductId:int ProductCode:str ManufacturerPartNo:str StatusId:int TypeId:int "
    "EanCode:str IntegrationPartNo:str CommodityCode:str IsBuyable:bool IsActive:bool "
    "UnitOfMeasurementCount:num "
    "ActualWeight:num VolumeWeight:num StartDate:datetime StopDate:datetime Created:datetime Updated:datetime"
)
PRICE_PROPS = _props(
    "Id:int PartNo:str SkuId:int PriceListId:int PriceListCode:str QtyBreak:int PriceSale:num "
    "PriceRecommended:num PriceCatalog:num PricePrevious:num CostPurchase:num CostUnit:num "
    "IsDiscountable:bool IsActive:bool CurrencyCode:str Created:datetime Updated:datetime"
)
ONHAND_PROPS = _props(
    "Id:int PartNo:str SkuId:int WarehouseCode:str LocationCode:str OnHandValue:num IncomingValue:num "
    "NextDeliveryDate:datetime LeadTimeDayCount:int MinimumValue:num MaximumValue:num IsActive:bool "
    "Created:datetime Updated:datetime"
)
PRODUCT_PROPS = _props(
    "Id:int Code:str ManufacturerCode:str ManufacturerName:str Name:str IsActive:bool Created:datetime "
    "Updated:datetime"
)
CUSTOMER_PROPS = _props(
    "Id:int Code:str EmailAddress:str FirstName:str MiddleName:str LastName:str PhoneNumber:str "
    "CellPhoneNumber:str SocialSecurityNumber:str CrmId:str IsActive:bool Created:datetime Updated:datetime"
)
COMPANY_PROPS = _props(
    "Id:int Code:str Name:str OrganizationNo:str EmailAddress:str PhoneNumber:str VatNo:str "
    "ParentCompanyCode:str IsActive:bool Created:datetime Updated:datetime"
)
# QuotationId is the basket id events call ClientOrderRef (2.0 Orders have no ClientOrderRef field; the
# emulator keeps it as an extra seeded column for older seeds).
ORDER_PROPS = _props(
    "Id:int OrderNo:str ApplicationId:int QuotationId:int StatusId:int ClientOrderRef:str ErpOrderNo:str "
    "CurrencyCode:str "
    "CustomerId:int CompanyId:int TotalAmount:num OrderDate:datetime Created:datetime Updated:datetime"
)
# Products/SupplierProductSkus: keys PartNo (the supplier's part number) + SupplierId.
SUPPLIER_PROPS = _props(
    "PartNo:str SupplierId:int Name:str ManufacturerPartNo:str EanCode:str IsActive:bool "
    "Created:datetime Updated:datetime"
)


def project_supplier_sku(cat: Catalog, r: Row) -> Row:
    return {
        "PartNo": r.get("SupplierPartNo"),
        "SupplierId": r.get("SupplierId"),
        "Name": r.get("ProductName"),
        "ManufacturerPartNo": r.get("ManufacturerPartNo"),
        "EanCode": r.get("EanCode"),
        "IsActive": r.get("IsActive") is not False,
        "Created": r.get("Created"),
        "Updated": r.get("Updated"),
    }


PRICE_LIST_PROPS = _props(
    "Id:int Code:str Name:str CurrencyCode:str IsActive:bool IsPrimary:bool IsPublic:bool Created:datetime "
    "Updated:datetime"
)


def project_sku(cat: Catalog, r: Row) -> Row:
    return {
        "Id": r.get("Id"),
        "PartNo": r["PartNo"],
        "ProductId": r.get("ProductId"),
        "ProductCode": r.get("ProductCode"),
        "ManufacturerPartNo": r.get("ManufacturerPartNo"),
        "StatusId": r.get("Status"),
        "TypeId": r.get("Type"),
        "EanCode": r.get("EanCode"),
        "IntegrationPartNo": r.get("IntegrationPartNo"),
        "CommodityCode": r.get("CommodityCode"),
        "IsBuyable": r.get("IsBuyable"),
        "IsActive": is_active_status(r.get("Status")),
        "UnitOfMeasurementCount": r.get("UnitOfMeasurementCount"),
        "ActualWeight": r.get("ActualWeight"),
        "VolumeWeight": r.get("VolumeWeight"),
        "StartDate": _dt(r.get("StartDate")),
        "StopDate": _dt(r.get("StopDate")),
        "Created": r.get("Created"),
        "Updated": r.get("Updated"),
    }


def project_price(cat: Catalog, r: Row) -> Row:
    sku = cat.tables["skus"].get(r["PartNo"], {})
    pl = cat.tables["price_lists"].get(r["PriceListCode"], {})
    return {
        "Id": r.get("Id"),
        "PartNo": r["PartNo"],
        "SkuId": sku.get("Id"),
        "PriceListId": pl.get("Id"),
        "PriceListCode": r["PriceListCode"],
        "QtyBreak": r["QuantityBreak"],
        "PriceSale": r.get("PriceSale"),
        "PriceRecommended": r.get("PriceRecommended"),
        "PriceCatalog": r.get("PriceCatalog"),
        "PricePrevious": r.get("PricePrevious"),
        "CostPurchase": r.get("CostPurchase"),
        "CostUnit": r.get("CostUnit"),
        "IsDiscountable": r.get("IsDiscountable"),
        "IsActive": r.get("IsActive") is not False,
        "CurrencyCode": r.get("CurrencyCode") or pl.get("CurrencyCode"),
        "Created": r.get("Created"),
        "Updated": r.get("Updated"),
    }


def project_onhand(cat: Catalog, r: Row) -> Row:
    sku = cat.tables["skus"].get(r["PartNo"], {})
    return {
        "Id": r.get("Id"),
        "PartNo": r["PartNo"],
        "SkuId": sku.get("Id"),
        "WarehouseCode": r["WarehouseCode"],
        "LocationCode": r["LocationCode"],
        "OnHandValue": r.get("OnhandValue"),
        "IncomingValue": r.get("IncomingValue"),
        "NextDeliveryDate": _dt(r.get("NextDeliveryDate")),
        "LeadTimeDayCount": r.get("LeadTimeDayCount"),
        "MinimumValue": r.get("MinimumValue"),
        "MaximumValue": r.get("MaximumValue"),
        "IsActive": r.get("IsActive") is not False,
        "Created": r.get("Created"),
        "Updated": r.get("Updated"),
    }


def project_product(cat: Catalog, r: Row) -> Row:
    cultures = r.get("Cultures") or []
    part_nos = [p for v in r.get("Variants") or [] for p in v.get("Skus", [])]
    return {
        "Id": r.get("Id"),
        "Code": r["Code"],
        "ManufacturerCode": r.get("ManufacturerCode"),
        "ManufacturerName": r.get("ManufacturerName"),
        "Name": cultures[0].get("Name") if cultures else None,
        "IsActive": any(is_active_status(cat.tables["skus"].get(p, {}).get("Status")) for p in part_nos),
        "Created": r.get("Created"),
        "Updated": r.get("Updated"),
    }


def _plain(props: dict[str, str]) -> Callable[[Catalog, Row], Row]:
    def project(cat: Catalog, r: Row) -> Row:
        out = {name: r.get(name) for name in props}
        for name, ptype in props.items():
            if ptype == "datetime":
                out[name] = _dt(out[name])
        if "IsActive" in out:
            out["IsActive"] = r.get("IsActive") is not False
        return out

    return project


def _orders_project(cat: Catalog, r: Row) -> Row:
    out = _plain(ORDER_PROPS)(cat, r)
    if out.get("QuotationId") is None and str(r.get("ClientOrderRef") or "").isdigit():
        out["QuotationId"] = int(r["ClientOrderRef"])  # seeds name the basket id ClientOrderRef
    for k, v in r.items():  # seeded extra scalar columns are exposed as-is
        if k not in out and not isinstance(v, dict | list):
            out[k] = v
    return out


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


def _addresses(table: str) -> Expander:
    def expand(cat: Catalog, parents: list[Row]) -> dict[Any, list[Row]]:
        out: dict[Any, list[Row]] = {}
        for p in parents:
            raw = cat.tables[table].get(p.get("Code"), {})
            addrs = []
            if isinstance(raw.get("InvoiceAddress"), dict):
                addrs.append({**raw["InvoiceAddress"], "IsInvoiceAddress": True})
            addrs += [
                {**a, "IsInvoiceAddress": False}
                for a in raw.get("DeliveryAddresses") or []
                if isinstance(a, dict)
            ]
            out[p.get("Code")] = addrs
        return out

    return expand


def _skus_of_product(cat: Catalog, parents: list[Row]) -> dict[Any, list[Row]]:
    codes = {p.get("Code") for p in parents}
    groups: dict[Any, list[Row]] = defaultdict(list)
    for row in cat.tables["skus"].values():
        if row.get("ProductCode") in codes:
            groups[row.get("ProductCode")].append(project_sku(cat, row))
    return groups


@dataclass(frozen=True)
class Navigation:
    expander: Expander
    parent_key: str  # property of the projected parent used to look the children up
    props: dict[str, str]  # child properties, for nested $select/$filter/$orderby


@dataclass(frozen=True)
class EntitySet:
    namespace: str
    name: str
    table: str
    props: dict[str, str]
    project: Callable[[Catalog, Row], Row]
    key: str | None
    navigations: dict[str, Navigation] = field(default_factory=dict)


_ANY: dict[str, str] = {}
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
            {
                "PriceLists": Navigation(_group("prices", "PartNo", project_price), "PartNo", PRICE_PROPS),
                "OnHands": Navigation(_group("onhand", "PartNo", project_onhand), "PartNo", ONHAND_PROPS),
            },
        ),
        EntitySet(
            "Products",
            "Products",
            "products",
            PRODUCT_PROPS,
            project_product,
            "Id",
            {
                "Skus": Navigation(_skus_of_product, "Code", SKU_PROPS),
            },
        ),
        EntitySet("Products", "ProductSkuPriceLists", "prices", PRICE_PROPS, project_price, None),
        EntitySet("Products", "ProductSkuOnhands", "onhand", ONHAND_PROPS, project_onhand, None),
        EntitySet(
            "Products", "SupplierProductSkus", "supplier_products", SUPPLIER_PROPS, project_supplier_sku, None
        ),
        EntitySet(
            "Application", "ClientPriceLists", "price_lists", PRICE_LIST_PROPS, _plain(PRICE_LIST_PROPS), "Id"
        ),
        EntitySet(
            "Customers",
            "Customers",
            "customers",
            CUSTOMER_PROPS,
            _plain(CUSTOMER_PROPS),
            "Id",
            {
                "Addresses": Navigation(_addresses("customers"), "Code", _ANY),
            },
        ),
        EntitySet(
            "Customers",
            "Companies",
            "companies",
            COMPANY_PROPS,
            _plain(COMPANY_PROPS),
            "Id",
            {
                "Addresses": Navigation(_addresses("companies"), "Code", _ANY),
            },
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
