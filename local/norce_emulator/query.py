"""Norce Query 2.0 entity sets over the emulator catalog (PascalCase, like Query 2.0)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from .catalog import Catalog, Row, is_active_status
from .odata import (
    ODataError,
    compile_filter,
    parse_expand,
    parse_int_option,
    parse_orderby,
    parse_select,
    sort_rows,
)

QUERY_PREFIX = "/commerce/query/2.0/"
SYSTEM_OPTIONS = {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$format"}


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
ORDER_PROPS = _props(
    "Id:int OrderNo:str ApplicationId:int StatusId:int ClientOrderRef:str ErpOrderNo:str CurrencyCode:str "
    "CustomerId:int CompanyId:int TotalAmount:num OrderDate:datetime Created:datetime Updated:datetime"
)
SUPPLIER_PROPS = _props(
    "Id:int SupplierId:int SupplierPartNo:str ProductName:str Manufacturer:str ManufacturerPartNo:str "
    "EanCode:str IsActive:bool Created:datetime Updated:datetime"
)
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
            "Products", "SupplierProducts", "supplier_products", SUPPLIER_PROPS, _plain(SUPPLIER_PROPS), "Id"
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

_SEGMENT = re.compile(r"^([A-Za-z]+)(?:\((?:'((?:[^']|'')*)'|(-?\d+))\))?$")


def resolve(path: str) -> tuple[EntitySet, Any, bool]:
    """Map ``/commerce/query/2.0/{ns}/{set}[('key')]`` to (entity set, key, has_key)."""
    rest = path[len(QUERY_PREFIX) :].strip("/")
    parts = rest.split("/")
    if len(parts) != 2:
        raise NotFoundError(f"Resource not found for the segment '{rest}'")
    m = _SEGMENT.match(parts[1])
    if m is None:
        raise NotFoundError(f"Resource not found for the segment '{parts[1]}'")
    entity = ENTITY_SETS.get((parts[0], m.group(1)))
    if entity is None:
        raise NotFoundError(f"Resource not found for the segment '{parts[0]}/{m.group(1)}'")
    if m.group(2) is not None:
        return entity, m.group(2).replace("''", "'"), True
    if m.group(3) is not None:
        return entity, int(m.group(3)), True
    if "(" in parts[1]:
        raise ODataError(f"Bad key segment {parts[1]!r}")
    return entity, None, False


@dataclass
class QueryOptions:
    filter: str | None = None
    select: list[str] | None = None
    expand: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False


def parse_options(entity: EntitySet, params: list[tuple[str, str]]) -> QueryOptions:
    seen: set[str] = set()
    opts = QueryOptions()
    for name, value in params:
        if not name.startswith("$"):
            continue
        if name not in SYSTEM_OPTIONS:
            raise ODataError(f"The query parameter '{name}' is not supported.")
        if name in seen:
            raise ODataError(f"Query option '{name}' was specified more than once")
        seen.add(name)
        if name == "$filter":
            compile_filter(value, entity.props)  # validate early
            opts.filter = value
        elif name == "$select":
            opts.select = parse_select(value, entity.props)
        elif name == "$expand":
            opts.expand = parse_expand(value)
            for nav, _ in opts.expand:
                if nav not in entity.navigations:
                    raise ODataError(f"Could not find a navigation property named '{nav}' on {entity.name}")
        elif name == "$orderby":
            opts.orderby = parse_orderby(value, entity.props)
        elif name == "$top":
            opts.top = parse_int_option(name, value)
        elif name == "$skip":
            opts.skip = parse_int_option(name, value)
        elif name == "$count":
            if value not in ("true", "false"):
                raise ODataError("$count must be true or false")
            opts.count = value == "true"
    return opts


def _shape(rows: list[Row], select: list[str] | None, navs: Iterable[str]) -> list[Row]:
    if not select or "*" in select:
        return rows
    keep = set(select) | set(navs)
    return [{k: v for k, v in r.items() if k in keep} for r in rows]


def _apply_expand(
    cat: Catalog, entity: EntitySet, rows: list[Row], expand: list[tuple[str, dict[str, str]]]
) -> None:
    for nav_name, nested in expand:
        nav = entity.navigations[nav_name]
        groups = nav.expander(cat, rows)
        flt = compile_filter(nested["$filter"], nav.props or _loose(groups)) if "$filter" in nested else None
        select = parse_select(nested["$select"], nav.props or _loose(groups)) if "$select" in nested else None
        orderby = parse_orderby(nested["$orderby"], nav.props) if "$orderby" in nested and nav.props else []
        top = parse_int_option("$top", nested["$top"]) if "$top" in nested else None
        for row in rows:
            children = groups.get(row.get(nav.parent_key), [])
            if isinstance(children, list):
                items = [c for c in children if isinstance(c, dict)]
                if flt is not None:
                    items = [c for c in items if flt(c)]
                if orderby:
                    items = sort_rows(items, orderby)
                if top is not None:
                    items = items[:top]
                row[nav_name] = _shape(items, select, ())
            else:
                row[nav_name] = children


def _loose(groups: dict[Any, list[Row]]) -> dict[str, str]:
    """Property list for navigations without a fixed schema (seeded order items etc.)."""
    props: dict[str, str] = {}
    for children in groups.values():
        for child in children if isinstance(children, list) else []:
            if isinstance(child, dict):
                props.update(dict.fromkeys(child, "any"))
    return props


def run_query(
    cat: Catalog,
    path: str,
    params: list[tuple[str, str]],
    *,
    base_url: str,
    page_size: int,
    max_top: int,
) -> Row:
    entity, key, has_key = resolve(path)
    opts = parse_options(entity, params)
    context = f"{base_url}{QUERY_PREFIX}{entity.namespace}/$metadata#{entity.name}"
    if has_key:
        if entity.key is None:
            raise ODataError(f"{entity.name} has no single key; use $filter")
        if (entity.props[entity.key] == "int") != isinstance(key, int):
            raise ODataError(f"The key value for {entity.name} must be of type {entity.props[entity.key]}")
        row = _find_by_key(cat, entity, key)
        if row is None:
            raise NotFoundError(f"{entity.name}({key!r}) was not found")
        rows = [row]
        _apply_expand(cat, entity, rows, opts.expand)
        shaped = _shape(rows, opts.select, (n for n, _ in opts.expand))[0]
        return {"@odata.context": context + "/$entity", **shaped}

    rows = [entity.project(cat, r) for r in cat.tables[entity.table].values()]
    if opts.filter:
        predicate = compile_filter(opts.filter, entity.props)
        rows = [r for r in rows if predicate(r)]
    total = len(rows)
    if opts.orderby:
        rows = sort_rows(rows, opts.orderby)
    if opts.top is not None:
        # Client asked for a page size: clamp silently to the server cap and give no nextLink.
        page = rows[opts.skip : opts.skip + min(opts.top, max_top)]
        next_skip = None
    else:
        page = rows[opts.skip : opts.skip + page_size]
        next_skip = opts.skip + page_size if opts.skip + page_size < len(rows) else None
    _apply_expand(cat, entity, page, opts.expand)
    body: Row = {"@odata.context": context}
    if opts.count:
        body["@odata.count"] = total
    body["value"] = _shape(page, opts.select, (n for n, _ in opts.expand))
    if next_skip is not None:
        kept = [(k, v) for k, v in params if k != "$skip"] + [("$skip", str(next_skip))]
        body["@odata.nextLink"] = f"{base_url}{path}?{urlencode(kept, quote_via=quote, safe='$,()')}"
    return body


def _find_by_key(cat: Catalog, entity: EntitySet, key: Any) -> Row | None:
    table = cat.tables[entity.table]
    if entity.table == "skus":
        raw = table.get(key)
        return entity.project(cat, raw) if raw is not None else None
    for raw in table.values():
        if raw.get(entity.key or "") == key:
            return entity.project(cat, raw)
    return None
