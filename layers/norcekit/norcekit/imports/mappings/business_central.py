"""Mappings for Business Central API v2.0 resources.

``products`` (from ``items``): one Norce product per item, with one variant and one SKU —
``Code`` = ``PartNo`` = ``ManufacturerPartNo`` = item ``number``, ``EanCode`` = ``gtin``, SKU ``Status``
``Inactive`` when the item is ``blocked`` else ``Active``, ``Type`` ``Service`` for service items else
``ErpStandard``, the ``displayName`` as the product name in ``culture``. Options (``mapping_options``):

- ``culture`` (default ``en-US``): culture of ``displayName``.
- ``manufacturer_code``: sent as ``ManufacturerCode`` (Norce needs one to create products matched by
  manufacturer part number); default none.
- ``standard_price_list``: when set, ``unitPrice``/``unitCost`` go out as the SKU's ``StandardPrice``
  on that price list (BC's standard API has no other prices).

``customers``: ``number`` → ``Code``; ``displayName`` split into first/last name; ``email``, phone
and address fields; ``IsActive`` false when ``blocked`` is ``All`` (``Ship``/``Invoice`` still let
the customer log in and buy in Norce, so they stay active).
"""

from __future__ import annotations

from typing import Any

from norcekit.imports.mappings.fields import Row, build
from norcekit.norce.contracts import Customer, Product
from norcekit.norce.contracts import enums as en

#: BC base unit of measure codes → Norce units (anything else is left out).
UNITS: dict[str, en.UnitMeasurementType] = {
    "PCS": en.UnitMeasurementType.Pieces, "ST": en.UnitMeasurementType.Pieces,
    "EA": en.UnitMeasurementType.Pieces, "KG": en.UnitMeasurementType.Kilogram,
    "L": en.UnitMeasurementType.Litre, "M": en.UnitMeasurementType.Meter,
    "BOX": en.UnitMeasurementType.Boxes, "HOUR": en.UnitMeasurementType.Hour,
    "PAIR": en.UnitMeasurementType.Pair,
}  # fmt: skip


def products(
    data: dict[str, Any],
    *,
    culture: str = "en-US",
    manufacturer_code: str | None = None,
    standard_price_list: str | None = None,
) -> Product:
    row = Row(data)
    number = row.required_text("number")
    name = row.text("displayName")
    blocked = row.boolean("blocked", default=False)
    item_type = (row.text("type") or "").casefold()
    unit = (row.text("baseUnitOfMeasureCode") or "").upper()
    sku: dict[str, Any] = {
        "PartNo": number,
        "Status": en.SkuStatus.Inactive if blocked else en.SkuStatus.Active,
        "Type": en.SkuType.Service if item_type == "service" else en.SkuType.ErpStandard,
        "EanCode": row.text("gtin"),
        "UnitOfMeasurementType": UNITS.get(unit),
        "Cultures": [{"CultureCode": culture, "ErpName": name}] if name else None,
    }
    if standard_price_list:
        sku["StandardPrice"] = {
            "PriceListCode": standard_price_list,
            "PriceSale": row.decimal("unitPrice"),
            "CostPurchase": row.decimal("unitCost"),
        }
    category = row.text("itemCategoryCode")
    return build(
        Product,
        {
            "Code": number,
            "ManufacturerCode": manufacturer_code,
            "Categories": [{"Code": category}] if category else None,
            "Cultures": [{"CultureCode": culture, "Name": name}] if name else None,
            "Variants": [{"ManufacturerPartNo": number, "Skus": [sku]}],
        },
    )


def customers(data: dict[str, Any]) -> Customer:
    row = Row(data)
    display = row.text("displayName") or ""
    first, _, last = display.rpartition(" ")
    if not first:  # one word (often a company name): keep it whole as the last name
        first, last = "", display
    blocked = (row.text("blocked") or "").casefold()
    address = {
        "AddressLine1": row.text("addressLine1"),
        "AddressLine2": row.text("addressLine2"),
        "City": row.text("city"),
        "Region": row.text("state"),
        "ZipCode": row.text("postalCode"),
        "CountryCode": row.text("country"),
    }
    return build(
        Customer,
        {
            "Type": en.CustomerType.Customer,
            "Code": row.required_text("number"),
            "FirstName": first or None,
            "LastName": last or None,
            "EmailAddress": row.text("email"),
            "PhoneNumber": row.text("phoneNumber"),
            "IsActive": blocked != "all",
            "InvoiceAddress": address if any(address.values()) else None,
        },
    )
