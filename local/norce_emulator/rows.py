"""Catalog rows: tables, keys, which properties a ``...FieldsThatAreSet`` list lets an import write.

Shared by the catalog's import rules (``product_imports``, ``party_imports``) and its admin side.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .contracts import ENUMS, SKU_STATUS_INACTIVE, SKU_STATUS_NOT_ACTIVATED

Row = dict[str, Any]
Event = tuple[str, dict[str, Any]]  # (event type, payload)

KINDS = (
    "products",
    "skus",
    "prices",
    "price_lists",
    "onhand",
    "customers",
    "companies",
    "supplier_products",
    "relations",
    "orders",
)
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "products": ("Code",),
    "skus": ("PartNo",),
    "prices": ("PartNo", "PriceListCode", "QuantityBreak"),
    "price_lists": ("Code",),
    "onhand": ("PartNo", "WarehouseCode", "LocationCode"),
    "customers": ("Code",),
    "companies": ("Code",),
    "supplier_products": ("SupplierId", "SupplierPartNo"),
    "relations": ("PartNo", "RelatedPartNo", "RelationTypeCode"),
    "orders": ("Id",),
}
ID_START = {
    "products": 100,
    "skus": 10_000,
    "price_lists": 10,
    "customers": 998_000,
    "companies": 7_000,
    "supplier_products": 50_000,
    "orders": 500_000,
    "prices": 1,
    "onhand": 1,
    "relations": 1,
}

# Enum member name -> body property, where they differ.
FIELD_ALIASES = {"VatRate": "VatRates", "Assortment": "AssortmentCode"}
# Enum members that are flags/modifiers, not fields to write.
NON_FIELD_MEMBERS = {
    "PartNoCreateWhenMissing",
    "SearchOnlyByCode",
    "PreserveFlags",
    "FullfileResetInheritance",
    "DoNotCreateApplicationPriceList",
    "IsErpIntegrated",
    "TranslationRequested",
}
PRICE_VALUE_FIELDS = (
    "PriceSale",
    "CostPurchase",
    "CostUnit",
    "PriceRecommended",
    "PricePrevious",
    "PriceCatalog",
)

# Which Norce table a changed customer/company property lives in (EntityChanged in notifications).
CUSTOMER_TABLES = {
    "InvoiceAddress": "tClientCustomerAddress",
    "DeliveryAddresses": "tClientCustomerAddress",
    "Accounts": "tApplicationAccount",
    "Flags": "tClientCustomerFlag",
    "AdditionalInfo": "tClientCustomerInfo",
    "PriceLists": "tClientCustomerPriceList",
}
COMPANY_TABLES = {
    "InvoiceAddress": "tClientCompanyAddress",
    "DeliveryAddresses": "tClientCompanyAddress",
    "DeliveryMethods": "tClientCompanyDeliveryMethod",
    "Discounts": "tClientCompanyDiscount",
    "Flags": "tClientCompanyFlag",
    "AdditionalInfo": "tClientCompanyInfo",
    "PaymentMethods": "tClientCompanyPaymentMethod",
    "PriceLists": "tClientCompanyPriceList",
    "Customers": "tClientCustomer",
    "Contacts": "tClientCustomer",
}


class FieldSet:
    """Which body properties one ``...FieldsThatAreSet`` list allows to be written.

    ``names is None`` means the list was absent from the header.
    """

    def __init__(self, names: frozenset[str] | None, *, absent_means_all: bool) -> None:
        self.all = names is None and absent_means_all
        self.update: set[str] = set()
        self.create_only: set[str] = set()
        for name in names or ():
            if name in NON_FIELD_MEMBERS or name.endswith("Cleanup"):
                continue
            if name.endswith("CreateOnly"):
                base = name[: -len("CreateOnly")]
                self.create_only.add(FIELD_ALIASES.get(base, base))
            elif name.endswith("LimitedUpdate"):
                base = name[: -len("LimitedUpdate")]
                self.update.add(FIELD_ALIASES.get(base, base))
            else:
                self.update.add(FIELD_ALIASES.get(name, name))

    def allows(self, prop: str, is_new: bool) -> bool:
        if self.all or prop in self.update:
            return True
        return is_new and prop in self.create_only


@dataclass
class ImportResult:
    inserts: int = 0
    updates: int = 0
    fails: int = 0
    log: list[tuple[int, str, Any]] = field(default_factory=list)  # (severity, message, item)

    def error(self, message: str, item: Any) -> None:
        self.fails += 1
        self.log.append((3, message, item))

    def warning(self, message: str, item: Any) -> None:
        self.log.append((2, message, item))

    #: Whether a row naming an unknown PartNo/price list counts as not imported (EmulatorConfig).
    unknown_reference_fails: bool = True

    def unknown_reference(self, what: str, reason: str, item: Any, *, whole_record: bool) -> None:
        """A row that names something Norce does not have: a failed record (severity 3, counted in
        Fail) when it is the whole record and the setting says so, else a warning (part skipped)."""
        if whole_record and self.unknown_reference_fails:
            self.error(f"{what} not imported: {reason}", item)
        else:
            self.warning(f"{what} ignored: {reason}", item)


def write_props(row: Row, item: Row, fs: FieldSet, is_new: bool, skip: Iterable[str] = ()) -> set[str]:
    """Copy allowed properties from item to row; return the names that actually changed."""
    skipped = set(skip)
    changed: set[str] = set()
    for prop, value in item.items():
        if prop in skipped or not fs.allows(prop, is_new):
            continue
        if row.get(prop) != value:
            row[prop] = copy.deepcopy(value) if isinstance(value, dict | list) else value
            changed.add(prop)
    return changed


def merge_cultures(
    existing: list[Row] | None, incoming: Any, fs: FieldSet, is_new: bool
) -> tuple[list[Row], bool]:
    by_code = {c.get("CultureCode"): c for c in (existing or [])}
    changed = False
    for culture in incoming if isinstance(incoming, list) else []:
        if not isinstance(culture, dict):
            continue
        code = culture.get("CultureCode")
        target = by_code.get(code)
        new_culture = target is None
        if target is None:
            target = {"CultureCode": code}
            by_code[code] = target
            changed = True
        if write_props(target, culture, fs, is_new or new_culture, skip=("CultureCode",)):
            changed = True
    return list(by_code.values()), changed


def is_active_status(status: Any) -> bool:
    return status not in (SKU_STATUS_INACTIVE, SKU_STATUS_NOT_ACTIVATED)


DATETIME_PROPS = {"Created", "Updated", "StartDate", "StopDate", "NextDeliveryDate", "OrderDate", "EndDate"}


def parse_datetime_value(prop: str, value: Any) -> Any:
    """Seeds may pass ISO strings for datetime properties; store them as aware UTC datetimes."""
    if prop in DATETIME_PROPS and isinstance(value, str):
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return value


def product_key_errors(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["item is not an object"]
    errors: list[str] = []
    if not item.get("Code"):
        errors.append("Product is missing key field Code")
    variants = item.get("Variants")
    if variants is not None and not isinstance(variants, list):
        errors.append("Variants must be an array")
        return errors
    for variant in variants or []:
        if not isinstance(variant, dict):
            errors.append("Variant is not an object")
            continue
        for sku in variant.get("Skus") or []:
            if not isinstance(sku, dict) or not sku.get("PartNo"):
                errors.append("Sku is missing key field PartNo")
    return errors


def request_key_errors(kind: str, item: Row) -> list[str]:
    """Cheap key check used when ``reject_items_missing_keys`` is on (request-time 400)."""
    if kind == "products":
        return product_key_errors(item)
    needed = {
        "prices": ("PartNo", "PriceListCode"),
        "onhand": KEY_FIELDS["onhand"],
        "price_lists": ("Code",),
        "customers": ("Code",),
        "companies": ("Code",),
        "supplier_products": ("SupplierPartNo",),
        "relations": KEY_FIELDS["relations"],
    }[kind]
    return [f"missing key field {k}" for k in needed if not item.get(k)]


def enum_value(enum_name: str, member: str) -> int:
    return ENUMS[enum_name][member]
