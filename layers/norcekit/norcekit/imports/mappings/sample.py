"""Mappings for the bundled sample ERP export (``norcekit_local.sample_data.generate``).

They double as worked examples of a mapping: read fields with :class:`Row` (errors name the source
field), build the Connect payload, validate it with :func:`build` (errors name the contract field).
The high-volume ones (products, SKU prices, on-hand) leave ``None`` values and empty lists out
themselves and use :func:`wire_item`: the same contract checks and errors without building models,
and an item that streams with ``orjson`` (same bytes).
The sample format's conventions: status words (``active``/``inactive``) map to ``SkuStatus`` names;
countries are ISO codes (``SE``) mapped to ``SalesArea``; prices are ex-VAT decimals.
"""

from __future__ import annotations

from typing import Any

from norcekit.imports.mappings.fields import MappingError, Row, build, wire_item
from norcekit.norce.contracts import (
    Company,
    Customer,
    PriceList,
    Product,
    Relation,
    SkuOnhand,
    SkuPriceList,
    SupplierProduct,
)
from norcekit.norce.contracts import enums as en
from norcekit.norce.contracts.wire import WireItem

#: ISO country code → Norce SalesArea (the VAT/sales region of a price list or VAT rate).
SALES_AREAS: dict[str, en.SalesArea] = {
    "SE": en.SalesArea.Sweden, "NO": en.SalesArea.Norway, "DK": en.SalesArea.Denmark,
    "FI": en.SalesArea.Finland, "GB": en.SalesArea.UnitedKingdom, "EE": en.SalesArea.Estonia,
    "GL": en.SalesArea.Greenland, "DE": en.SalesArea.Germany, "IT": en.SalesArea.Italy,
    "AT": en.SalesArea.Austria, "ES": en.SalesArea.Spain, "NL": en.SalesArea.Netherlands,
    "BE": en.SalesArea.Belgium, "FR": en.SalesArea.France,
}  # fmt: skip
_UNITS = {"pcs": en.UnitMeasurementType.Pieces, "kg": en.UnitMeasurementType.Kilogram,
          "l": en.UnitMeasurementType.Litre, "m": en.UnitMeasurementType.Meter}  # fmt: skip


def sales_area(row: Row, field: str, value: str) -> en.SalesArea:
    area = SALES_AREAS.get(value.strip().upper())
    if area is not None:
        return area
    try:
        return en.SalesArea.coerce(value)
    except ValueError:
        raise row.fail(field, f"{value!r} is not a known country code ({', '.join(SALES_AREAS)})") from None


def products(data: dict[str, Any]) -> WireItem:
    row = Row(data)
    code = row.required_text("code")
    names = row.translations("names")
    descriptions = row.translations("descriptions")
    cultures = [
        _culture(culture, names, descriptions) for culture in sorted(names.keys() | descriptions.keys())
    ]
    variants = [
        _variant(variant, sort_order)
        for sort_order, variant in enumerate(row.rows("variants", required=True))
    ]
    payload: dict[str, Any] = {"Code": code}
    for key, field in (("ManufacturerCode", "manufacturer_code"), ("ManufacturerName", "manufacturer_name")):
        value = row.text(field)
        if value is not None:
            payload[key] = value
    categories = [{"Code": c, "SortOrder": i} for i, c in enumerate(row.texts("category_codes"))]
    # Empty lists stay out of the payload: wire_item() sends what it is given, and [] is not "unset".
    if categories:
        payload["Categories"] = categories
    if cultures:
        payload["Cultures"] = cultures
    if variants:
        payload["Variants"] = variants
    return wire_item(Product, payload)


def _culture(culture: str, names: dict[str, str], descriptions: dict[str, str]) -> dict[str, str]:
    entry = {"CultureCode": culture}
    if culture in names:
        entry["Name"] = names[culture]
    if culture in descriptions:
        entry["Description"] = descriptions[culture]
    return entry


def _without_none(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if value is not None}


def _variant(row: Row, sort_order: int) -> dict[str, Any]:
    names = row.translations("names")
    variant: dict[str, Any] = {"ManufacturerPartNo": row.required_text("code"), "SortOrderValue": sort_order}
    if names:
        variant["Cultures"] = [{"CultureCode": c, "Name": name} for c, name in sorted(names.items())]
    skus = [_sku(sku) for sku in row.rows("skus", required=True)]
    if skus:
        variant["Skus"] = skus
    return variant


#: VAT objects seen (their items, in source order) → the mapped VatRates list; exports repeat a few
#: combinations for every SKU. Only successfully mapped ones are kept, so errors are unaffected.
_VAT_RATES: dict[tuple[tuple[str, Any], ...], list[dict[str, Any]]] = {}
_VAT_RATES_MAX = 4096


def _vat_rates(row: Row, vat: dict[str, Any]) -> list[dict[str, Any]]:
    # Only text values are cached: 1 == 1.0 == True would let a cached number answer for a boolean.
    key: tuple[tuple[str, Any], ...] | None = tuple(vat.items())
    for value in vat.values():
        if type(value) is not str:
            key = None
            break
    cached = _VAT_RATES.get(key) if key is not None else None
    if cached is not None:
        return cached
    vat_row = row.obj("vat_rates")
    assert vat_row is not None
    rates = []
    for country in sorted(vat):
        area = sales_area(vat_row, country, country)
        rate = vat_row.decimal(country)
        rates.append({"SalesArea": area, "Rate": rate} if rate is not None else {"SalesArea": area})
    if key is not None:
        if len(_VAT_RATES) >= _VAT_RATES_MAX:
            _VAT_RATES.clear()
        _VAT_RATES[key] = rates
    return rates


_STATUS_NAMES = {member.name.casefold(): member for member in en.SkuStatus}


def _sku(row: Row) -> dict[str, Any]:
    # Each field's common case (clean text, a known spelling) is read here; anything else goes to the
    # Row accessor, in the same order as ever, which gives the same value or names the field.
    data = row.data
    unit = data.get("uom")
    unit_type = _UNITS.get(unit) if type(unit) is str else None
    if unit_type is None:
        unit = row.text("uom", default="pcs") or "pcs"
        unit_type = _UNITS.get(unit.casefold())
        if unit_type is None:
            raise row.fail("uom", f"{unit!r} is not a known unit ({', '.join(_UNITS)})")
    vat = data.get("vat_rates")
    if type(vat) is not dict:
        vat_row = row.obj("vat_rates")  # None when empty; an error when not an object
        vat = vat_row.data if vat_row is not None else None
    vat_rates = _vat_rates(row, vat) if vat is not None else None
    part_no = data.get("part_no")
    if type(part_no) is not str or not (part_no := part_no.strip()):
        part_no = row.required_text("part_no")
    status = data.get("status")
    member = _STATUS_NAMES.get(status) if type(status) is str else None
    if member is None:
        member = row.enum("status", en.SkuStatus, default=en.SkuStatus.Active)
    sku: dict[str, Any] = {"PartNo": part_no, "Status": member, "Type": en.SkuType.ErpStandard}
    ean = data.get("ean")
    if type(ean) is not str or not (ean := ean.strip()):
        ean = row.text("ean")
    if ean is not None:
        sku["EanCode"] = ean
    sku["UnitOfMeasurementType"] = unit_type
    sku["UnitOfMeasurementCount"] = 1
    weight = row.decimal("weight_kg")
    if weight is not None:
        sku["ActualWeight"] = weight
    if vat_rates:
        sku["VatRates"] = vat_rates
    return sku


def sku_prices(data: dict[str, Any]) -> WireItem:
    row = Row(data)
    return wire_item(
        SkuPriceList,
        _without_none(
            {
                "PartNo": row.required_text("part_no"),
                "PriceListCode": row.required_text("price_list_code"),
                "QuantityBreak": row.integer("quantity_break") or 1,
                "CurrencyCode": row.text("currency_code"),
                "PriceSale": row.decimal("price_sale", required=True),
                "PriceRecommended": row.decimal("price_recommended"),
                "CostPurchase": row.decimal("cost_purchase"),
                "IsActive": row.boolean("is_active", default=True),
            }
        ),
    )


def price_lists(data: dict[str, Any]) -> PriceList:
    row = Row(data)
    names = row.translations("names")
    area = row.text("sales_area")
    warehouses = [
        {"Code": wh.required_text("code"), "Locations": [{"Code": loc} for loc in wh.texts("locations")]}
        for wh in row.rows("warehouses")
    ]
    return build(
        PriceList,
        {
            "Code": row.required_text("code"),
            # PriceList has one Name; the sample keeps per-culture names, the first culture wins.
            "Name": next(iter(names.values()), None),
            "CurrencyCode": row.required_text("currency_code"),
            "SalesArea": sales_area(row, "sales_area", area) if area else None,
            "IsPublic": row.boolean("is_public"),
            "IsPrimary": row.boolean("is_primary"),
            "Warehouses": warehouses,
        },
    )


def onhand(data: dict[str, Any]) -> WireItem:
    row = Row(data)
    return wire_item(
        SkuOnhand,
        _without_none(
            {
                "PartNo": row.required_text("part_no"),
                "WarehouseCode": row.required_text("warehouse_code"),
                "LocationCode": row.required_text("location_code"),
                "OnhandValue": row.decimal("onhand_value", required=True),
                "IncomingValue": row.decimal("incoming_value"),
                "NextDeliveryDate": row.date("next_delivery_date"),
                "LeadTimeDayCount": row.integer("lead_time_days"),
                "IsActive": row.boolean("is_active", default=True),
            }
        ),
    )


def relations(data: dict[str, Any]) -> Relation:
    """A product relation (accessory, spare part...): names per culture as ``names: {sv-SE: ...}``."""
    row = Row(data)
    names = row.translations("names")
    return build(
        Relation,
        {
            "PartNo": row.required_text("part_no"),
            "RelatedPartNo": row.required_text("related_part_no"),
            "RelationTypeCode": row.required_text("relation_type"),
            "SortOrder": row.integer("sort_order"),
            "IsActive": row.boolean("is_active", default=True),
            "Cultures": [{"CultureCode": culture, "Name": name} for culture, name in sorted(names.items())],
        },
    )


def _address(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "AddressLine1": row.text("line1"),
        "AddressLine2": row.text("line2"),
        "ZipCode": row.text("zip_code"),
        "City": row.text("city"),
        "CountryCode": row.text("country_code"),
    }


def customers(data: dict[str, Any]) -> Customer:
    row = Row(data)
    email = row.required_text("email")
    if "@" not in email:
        raise row.fail("email", f"{email!r} is not an e-mail address")
    company = row.text("company_code")
    return build(
        Customer,
        {
            "Type": en.CustomerType.CompanyContact if company else en.CustomerType.Customer,
            "Code": row.required_text("code"),
            "FirstName": row.required_text("first_name"),
            "LastName": row.required_text("last_name"),
            "EmailAddress": email,
            "PhoneNumber": row.text("phone"),
            "IsActive": row.boolean("is_active", default=True),
            "InvoiceAddress": _address(row.obj("address")),
            "PriceLists": [{"Code": code} for code in row.texts("price_list_codes")],
            "Companies": [{"Code": company, "IsPrimary": True}] if company else None,
        },
    )


def companies(data: dict[str, Any]) -> Company:
    row = Row(data)
    return build(
        Company,
        {
            # Norce requires ApplicationKey on companies; the export carries a stable GUID.
            "ApplicationKey": row.required_text("application_key"),
            "Code": row.required_text("code"),
            "Name": row.required_text("name"),
            "OrganizationNo": row.required_text("organization_no"),
            "VatNo": row.text("vat_no"),
            "EmailAddress": row.text("email"),
            "PhoneNumber": row.text("phone"),
            "IsActive": row.boolean("is_active", default=True),
            "InvoiceAddress": _address(row.obj("address")),
            "PriceLists": [{"Code": code} for code in row.texts("price_list_codes")],
        },
    )


def supplier_products(data: dict[str, Any]) -> SupplierProduct:
    """A supplier article with its stock and purchase prices.

    ``IsActive`` is a plain ``bool`` on SupplierOnHand and SupplierPrice in Norce's contract: left
    out, it reads as ``false`` and the stock or price is inactivated. So every entry states it (the
    header's OnhandFieldsThatAreSet/PriceFieldsThatAreSet list ``IsActive`` and the values sent).
    """
    row = Row(data)
    return build(
        SupplierProduct,
        {
            "SupplierPartNo": row.required_text("supplier_part_no"),
            "ProductName": row.text("product_name"),
            "CategoryCode": row.text("category_code"),
            "Manufacturer": row.text("manufacturer"),
            "ManufacturerPartNo": row.text("manufacturer_part_no"),
            "EanCode": row.text("ean"),
            "OnHand": [
                {
                    "WarehouseCode": stock.required_text("warehouse_code"),
                    "LocationCode": stock.text("location_code"),
                    "Value": stock.decimal("value", required=True),
                    "IsActive": stock.boolean("is_active", default=True),
                }
                for stock in row.rows("onhand")
            ],
            "PriceList": [
                {
                    "PriceListCode": price.required_text("price_list_code"),
                    "CurrencyCode": price.text("currency_code"),
                    "CostPurchase": price.decimal("cost_purchase", required=True),
                    "QtyBreak": price.integer("qty_break") or 1,
                    "IsActive": price.boolean("is_active", default=True),
                }
                for price in row.rows("prices")
            ],
        },
    )


__all__ = [
    "MappingError",
    "companies",
    "customers",
    "onhand",
    "price_lists",
    "products",
    "relations",
    "sku_prices",
    "supplier_products",
]
