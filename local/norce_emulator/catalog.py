"""In-memory Norce catalog and the Connect import semantics applied to it.

Not thread-safe by itself: the Emulator holds its state lock around every call.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from .contracts import ENUMS, SKU_STATUS_INACTIVE, SKU_STATUS_NOT_ACTIVATED, ParsedHeader

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


def _write(row: Row, item: Row, fs: FieldSet, is_new: bool, skip: Iterable[str] = ()) -> set[str]:
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


def _merge_cultures(
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
        if _write(target, culture, fs, is_new or new_culture, skip=("CultureCode",)):
            changed = True
    return list(by_code.values()), changed


def is_active_status(status: Any) -> bool:
    return status not in (SKU_STATUS_INACTIVE, SKU_STATUS_NOT_ACTIVATED)


class Catalog:
    def __init__(self, now: Callable[[], datetime], norce_client_id: int, application_id: int) -> None:
        self.now = now
        self.norce_client_id = norce_client_id
        self.application_id = application_id
        self.tables: dict[str, dict[Any, Row]] = {k: {} for k in KINDS}
        self._next_id = dict(ID_START)
        self._customer_by_id: dict[int, str] = {}
        self._company_by_id: dict[int, str] = {}
        self.events: list[Event] = []
        self._event_keys: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def new_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return value

    def drain_events(self) -> list[Event]:
        events, self.events = self.events, []
        self._event_keys.clear()
        return events

    def _emit(self, event_type: str, **payload: Any) -> None:
        body = {"ClientId": self.norce_client_id, "ApplicationId": self.application_id, **payload}
        key = event_type + orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
        if key in self._event_keys:  # one notification per entity+table per batch of changes
            return
        self._event_keys.add(key)
        self.events.append((event_type, body))

    def _sku_changed(self, part_no: str, table: str) -> None:
        self._emit("SkuChangedNotification", PartNo=part_no, EntityChanged=table)

    def _price_changed(self, row: Row) -> None:
        pl = self.tables["price_lists"].get(row["PriceListCode"], {})
        self._emit(
            "SkuPriceChangedNotification",
            PartNo=row["PartNo"],
            PricelistId=pl.get("Id"),
            PricelistCode=row["PriceListCode"],
            PriceSaleValue=row.get("PriceSale"),
            QuantityBreak=row["QuantityBreak"],
        )
        self._sku_changed(row["PartNo"], "tClientProductSkuPriceList")

    def _touch(self, row: Row, is_new: bool) -> None:
        now = self.now()
        if is_new:
            row["Created"] = now
            row.setdefault("Updated", None)
        else:
            row["Updated"] = now

    def ensure_price_list(self, code: str) -> Row:
        pl = self.tables["price_lists"].get(code)
        if pl is None:
            pl = {"Code": code, "Id": self.new_id("price_lists"), "Name": code, "IsActive": True}
            self._touch(pl, True)
            self.tables["price_lists"][code] = pl
        return pl

    # ------------------------------------------------------------------ imports
    def apply_import(
        self,
        kind: str,
        header: ParsedHeader,
        items: list[Any],
        *,
        absent_means_all: bool,
        auto_create_price_lists: bool,
    ) -> ImportResult:
        def fs(prop: str) -> FieldSet:
            return FieldSet(header.fields.get(prop), absent_means_all=absent_means_all)

        result = ImportResult()
        if kind == "products":
            self._import_products(header, items, fs, result, auto_create_price_lists)
        elif kind == "prices":
            self._import_prices(header, items, fs, result, auto_create_price_lists)
        elif kind == "onhand":
            self._import_onhand(header, items, fs, result)
        elif kind == "price_lists":
            self._import_price_lists(items, fs, result)
        elif kind in ("customers", "companies"):
            self._import_parties(kind, items, fs, result)
        elif kind == "supplier_products":
            self._import_supplier(header, items, fs, result)
        else:  # pragma: no cover - routing guarantees a known kind
            raise ValueError(kind)
        return result

    def _import_products(
        self,
        header: ParsedHeader,
        items: list[Any],
        fs: Callable[[str], FieldSet],
        result: ImportResult,
        auto_pl: bool,
    ) -> None:
        pf, pcf = fs("ProductFieldsThatAreSet"), fs("ProductCultureFieldsThatAreSet")
        vf, vcf = fs("VariantFieldsThatAreSet"), fs("VariantCultureFieldsThatAreSet")
        sf, scf = fs("SkuFieldsThatAreSet"), fs("SkuCultureFieldsThatAreSet")
        ignore_empty = header.fields.get("IgnoreSkuPriceListFieldsWhenEmpty", frozenset())
        seen_part_nos: set[str] = set()
        for item in items:
            errors = product_key_errors(item)
            if errors:
                result.error("; ".join(errors), item)
                continue
            code = item["Code"]
            product = self.tables["products"].get(code)
            p_new = product is None
            if product is None:
                product = {"Code": code, "Id": self.new_id("products"), "Variants": []}
                self.tables["products"][code] = product
            p_changed = bool(_write(product, item, pf, p_new, skip=("Code", "Variants", "Cultures")))
            if pf.allows("Cultures", p_new) and "Cultures" in item:
                product["Cultures"], changed = _merge_cultures(
                    product.get("Cultures"), item["Cultures"], pcf, p_new
                )
                p_changed |= changed
            result.inserts += p_new
            result.updates += not p_new
            variants = {v.get("ManufacturerPartNo"): v for v in product["Variants"]}
            for index, variant in enumerate(item.get("Variants") or []):
                vkey = variant.get("ManufacturerPartNo") or f"{code}#{index}"
                stored = variants.get(vkey)
                v_new = stored is None
                if stored is None:
                    stored = {"ManufacturerPartNo": vkey, "Skus": []}
                    variants[vkey] = stored
                    product["Variants"].append(stored)
                if pf.allows("Variants", p_new):
                    p_changed |= bool(
                        _write(stored, variant, vf, v_new, skip=("ManufacturerPartNo", "Skus", "Cultures"))
                    )
                    if vf.allows("Cultures", v_new) and "Cultures" in variant:
                        stored["Cultures"], changed = _merge_cultures(
                            stored.get("Cultures"), variant["Cultures"], vcf, v_new
                        )
                        p_changed |= changed
                for sku in variant.get("Skus") or []:
                    part_no = sku["PartNo"]
                    seen_part_nos.add(part_no)
                    if part_no not in stored["Skus"]:
                        stored["Skus"].append(part_no)
                    self._apply_sku(
                        product,
                        vkey,
                        sku,
                        sf,
                        scf,
                        fs("SkuPriceListFieldsThatAreSet"),
                        ignore_empty,
                        auto_pl,
                        result,
                    )
            if p_new:
                self._touch(product, True)
            elif p_changed:
                self._touch(product, False)
                for variant in product["Variants"]:
                    for part_no in variant["Skus"]:
                        self._sku_changed(part_no, "tClientProduct")
        if header.full_file:
            # Emulator's reading of FullFile for products: every SKU not in the payload is deactivated.
            for part_no, row in self.tables["skus"].items():
                if part_no not in seen_part_nos and row.get("Status") != SKU_STATUS_INACTIVE:
                    row["Status"] = SKU_STATUS_INACTIVE
                    self._touch(row, False)
                    self._sku_changed(part_no, "tClientProductSku")

    def _apply_sku(  # noqa: PLR0917
        self,
        product: Row,
        variant_key: str,
        sku: Row,
        sf: FieldSet,
        scf: FieldSet,
        plf: FieldSet,
        ignore_empty: frozenset[str],
        auto_pl: bool,
        result: ImportResult,
    ) -> None:
        part_no = sku["PartNo"]
        row = self.tables["skus"].get(part_no)
        is_new = row is None
        if row is None:
            row = {"PartNo": part_no, "Id": self.new_id("skus"), "Status": 1}
            self.tables["skus"][part_no] = row
        before = (row.get("ProductCode"), row.get("ManufacturerPartNo"))
        row["ProductId"], row["ProductCode"], row["ManufacturerPartNo"] = (
            product["Id"],
            product["Code"],
            variant_key,
        )
        changed = bool(_write(row, sku, sf, is_new, skip=("PartNo", "Cultures", "StandardPrice")))
        changed |= before != (product["Code"], variant_key) and not is_new
        culture_changed = False
        if "Cultures" in sku:
            row["Cultures"], culture_changed = _merge_cultures(
                row.get("Cultures"), sku["Cultures"], scf, is_new
            )
        price = sku.get("StandardPrice")
        if sf.allows("StandardPrice", is_new) and isinstance(price, dict):
            price = {**price, "PartNo": part_no}
            self._apply_price(price, plf, ignore_empty, auto_pl, result)
        if is_new or changed or culture_changed:
            self._touch(row, is_new)
        if is_new or changed:
            self._sku_changed(part_no, "tClientProductSku")
        if culture_changed:
            self._sku_changed(part_no, "tClientProductSkuCulture")

    def _apply_price(
        self,
        item: Row,
        plf: FieldSet,
        ignore_empty: frozenset[str],
        auto_pl: bool,
        result: ImportResult,
    ) -> tuple[Any, ...] | None:
        part_no, pl_code = item.get("PartNo"), item.get("PriceListCode")
        if not part_no or not pl_code:
            result.error("SkuPriceList requires PartNo and PriceListCode", item)
            return None
        if part_no not in self.tables["skus"]:
            result.warning(f"Price ignored: unknown PartNo {part_no!r}", item)
            return None
        if pl_code not in self.tables["price_lists"]:
            if not auto_pl:
                result.warning(f"Price ignored: unknown price list {pl_code!r}", item)
                return None
            self.ensure_price_list(pl_code)
        for name in ignore_empty:
            if item.get(name) in (None, 0, ""):
                result.warning(
                    f"Price row skipped: {name} is empty (IgnoreSkuPriceListFieldsWhenEmpty)", item
                )
                return None
        qb = item.get("QuantityBreak") or 1
        key = (part_no, pl_code, qb)
        row = self.tables["prices"].get(key)
        is_new = row is None
        if row is None:
            row = {
                "PartNo": part_no,
                "PriceListCode": pl_code,
                "QuantityBreak": qb,
                "IsActive": True,
                "Id": self.new_id("prices"),
            }
            self.tables["prices"][key] = row
        # Docs: null/0 price values are ignored (not written).
        values = {k: v for k, v in item.items() if not (k in PRICE_VALUE_FIELDS and v in (None, 0))}
        if "IsPriceDiscountable" in values:
            values["IsDiscountable"] = values["IsPriceDiscountable"]
        changed = _write(row, values, plf, is_new, skip=("PartNo", "PriceListCode", "QuantityBreak"))
        if "CurrencyCode" in item and row.get("CurrencyCode") is None:
            row["CurrencyCode"] = item["CurrencyCode"]
        if is_new or changed:
            self._touch(row, is_new)
            self._price_changed(row)
        return key

    def _import_prices(
        self,
        header: ParsedHeader,
        items: list[Any],
        fs: Callable[[str], FieldSet],
        result: ImportResult,
        auto_pl: bool,
    ) -> None:
        plf = fs("SkuPriceListFieldsThatAreSet")
        ignore_empty = header.fields.get("IgnoreSkuPriceListFieldsWhenEmpty", frozenset())
        seen: set[tuple[Any, ...]] = set()
        lists_in_import: set[str] = set()
        for item in items:
            before = len(self.tables["prices"])
            key = self._apply_price(item, plf, ignore_empty, auto_pl, result)
            if key is None:
                continue
            seen.add(key)
            lists_in_import.add(key[1])
            if len(self.tables["prices"]) > before:
                result.inserts += 1
            else:
                result.updates += 1
        if header.full_file:
            for key, row in self.tables["prices"].items():
                if key[1] in lists_in_import and key not in seen and row.get("IsActive") is not False:
                    row["IsActive"] = False
                    self._touch(row, False)
                    self._price_changed(row)

    def _import_onhand(
        self,
        header: ParsedHeader,
        items: list[Any],
        fs: Callable[[str], FieldSet],
        result: ImportResult,
    ) -> None:
        of = fs("SkuOnhandFieldsThatAreSet")
        seen: set[tuple[str, str, str]] = set()
        scopes: set[tuple[str, str]] = set()
        for item in items:
            missing = [k for k in KEY_FIELDS["onhand"] if not item.get(k)]
            if missing:
                result.error(f"SkuOnhand is missing key field(s): {', '.join(missing)}", item)
                continue
            key = (item["PartNo"], item["WarehouseCode"], item["LocationCode"])
            if key[0] not in self.tables["skus"]:
                result.warning(f"Onhand ignored: unknown PartNo {key[0]!r}", item)
                continue
            seen.add(key)
            scopes.add(key[1:])
            row = self.tables["onhand"].get(key)
            is_new = row is None
            if row is None:
                row = {
                    "PartNo": key[0],
                    "WarehouseCode": key[1],
                    "LocationCode": key[2],
                    "IsActive": True,
                    "Id": self.new_id("onhand"),
                }
                self.tables["onhand"][key] = row
            changed = _write(row, item, of, is_new, skip=KEY_FIELDS["onhand"])
            result.inserts += is_new
            result.updates += not is_new
            if is_new or changed:
                self._touch(row, is_new)
                self._sku_changed(key[0], "tClientProductSkuOnHand")
        if header.full_file:
            for key, row in self.tables["onhand"].items():
                if key[1:] in scopes and key not in seen and row.get("IsActive") is not False:
                    row["IsActive"] = False
                    self._touch(row, False)
                    self._sku_changed(key[0], "tClientProductSkuOnHand")

    def _import_price_lists(
        self, items: list[Any], fs: Callable[[str], FieldSet], result: ImportResult
    ) -> None:
        plf = fs("PriceListFieldsThatAreSet")
        for item in items:
            if not item.get("Code"):
                result.error("PriceList is missing key field Code", item)
                continue
            row = self.tables["price_lists"].get(item["Code"])
            is_new = row is None
            if row is None:
                row = self.ensure_price_list(item["Code"])
            changed = _write(row, item, plf, is_new, skip=("Code",))
            result.inserts += is_new
            result.updates += not is_new
            if changed and not is_new:
                self._touch(row, False)

    def _find_party(self, kind: str, item: Row) -> Row | None:
        table = self.tables[kind]
        if item.get("Code") and item["Code"] in table:
            return table[item["Code"]]
        by_id = self._customer_by_id if kind == "customers" else self._company_by_id
        if isinstance(item.get("Id"), int) and item["Id"] in by_id:
            return table[by_id[item["Id"]]]
        alt = "EmailAddress" if kind == "customers" else "OrganizationNo"
        if item.get(alt) and not item.get("Code"):  # slow path, only when no Code was given
            for row in table.values():
                if row.get(alt) == item[alt]:
                    return row
        return None

    def _import_parties(
        self,
        kind: str,
        items: list[Any],
        fs: Callable[[str], FieldSet],
        result: ImportResult,
    ) -> None:
        cf = fs("CustomerFieldsThatAreSet" if kind == "customers" else "CompanyFieldsThatAreSet")
        required = (
            ("Code", "FirstName", "LastName", "EmailAddress")
            if kind == "customers"
            else ("Code", "Name", "OrganizationNo")
        )
        for item in items:
            row = self._find_party(kind, item)
            if row is None:
                missing = [k for k in required if not item.get(k)]
                if missing:
                    label = "Customer" if kind == "customers" else "Company"
                    result.error(f"{label} insert requires: {', '.join(missing)}", item)
                    continue
                row = self.upsert_party(kind, {"Code": item["Code"]})
                is_new = True
            else:
                is_new = False
            changed = _write(row, item, cf, is_new, skip=("Code", "Id"))
            result.inserts += is_new
            result.updates += not is_new
            if is_new or changed:
                self._touch(row, is_new)
                self._party_changed(kind, row, changed, is_new)

    def upsert_party(self, kind: str, values: Row) -> Row:
        row = self.tables[kind].get(values["Code"])
        if row is None:
            row = {"Code": values["Code"], "Id": self.new_id(kind), "IsActive": True}
            self.tables[kind][values["Code"]] = row
            (self._customer_by_id if kind == "customers" else self._company_by_id)[row["Id"]] = row["Code"]
        return row

    def _party_changed(self, kind: str, row: Row, changed: set[str], is_new: bool) -> None:
        tables = CUSTOMER_TABLES if kind == "customers" else COMPANY_TABLES
        base = "tClientCustomer" if kind == "customers" else "tClientCompany"
        names = {base} if is_new else {tables.get(p, base) for p in changed} or {base}
        for table in sorted(names):
            if kind == "customers":
                self._emit("CustomerChangedNotification", CustomerId=row["Id"], EntityChanged=table)
            else:
                self._emit("CompanyChangedNotification", CompanyId=row["Id"], EntityChanged=table)

    def _import_supplier(
        self,
        header: ParsedHeader,
        items: list[Any],
        fs: Callable[[str], FieldSet],
        result: ImportResult,
    ) -> None:
        pf, of, prf = fs("FieldsThatAreSet"), fs("OnhandFieldsThatAreSet"), fs("PriceFieldsThatAreSet")
        supplier_id = header.supplier_id
        stock_scopes: set[tuple[Any, Any]] = set()
        price_scopes: set[Any] = set()
        touched: list[tuple[Row, set[tuple[Any, Any]], set[tuple[Any, Any]]]] = []
        for item in items:
            if not item.get("SupplierPartNo"):
                result.error("SupplierProduct is missing key field SupplierPartNo", item)
                continue
            key = (supplier_id, item["SupplierPartNo"])
            row = self.tables["supplier_products"].get(key)
            is_new = row is None
            if row is None:
                row = {
                    "SupplierId": supplier_id,
                    "SupplierPartNo": item["SupplierPartNo"],
                    "Id": self.new_id("supplier_products"),
                    "OnHand": [],
                    "PriceList": [],
                    "IsActive": True,
                }
                self.tables["supplier_products"][key] = row
            changed = bool(_write(row, item, pf, is_new, skip=("SupplierPartNo", "OnHand", "PriceList")))
            stock_seen: set[tuple[Any, Any]] = set()
            stock = {(s.get("WarehouseCode"), s.get("LocationCode")): s for s in row["OnHand"]}
            for entry in item.get("OnHand") or []:
                skey = (entry.get("WarehouseCode"), entry.get("LocationCode"))
                stock_seen.add(skey)
                stock_scopes.add(skey)
                target = stock.setdefault(
                    skey, {"WarehouseCode": skey[0], "LocationCode": skey[1], "IsActive": True}
                )
                changed |= bool(
                    _write(target, entry, of, skey not in stock, skip=("WarehouseCode", "LocationCode"))
                )
            row["OnHand"] = list(stock.values())
            price_seen: set[tuple[Any, Any]] = set()
            prices = {(p.get("PriceListCode"), p.get("QtyBreak") or 1): p for p in row["PriceList"]}
            for entry in item.get("PriceList") or []:
                pkey = (entry.get("PriceListCode"), entry.get("QtyBreak") or 1)
                price_seen.add(pkey)
                price_scopes.add(pkey[0])
                target = prices.setdefault(
                    pkey, {"PriceListCode": pkey[0], "QtyBreak": pkey[1], "IsActive": True}
                )
                changed |= bool(_write(target, entry, prf, False, skip=("PriceListCode", "QtyBreak")))
            row["PriceList"] = list(prices.values())
            touched.append((row, stock_seen, price_seen))
            result.inserts += is_new
            result.updates += not is_new
            if is_new or changed:
                self._touch(row, is_new)
                self._supplier_changed(row, "tSupplierProductSku")
        if header.full_file:
            # Docs: stock/prices on warehouses/price lists present in the import but missing for a product
            # are inactivated (category deactivation is not modelled).
            for row, stock_seen, price_seen in touched:
                for s in row["OnHand"]:
                    skey = (s.get("WarehouseCode"), s.get("LocationCode"))
                    if skey in stock_scopes and skey not in stock_seen and s.get("IsActive") is not False:
                        s["IsActive"] = False
                        self._touch(row, False)
                        self._supplier_changed(row, "tSupplierProductSkuOnHand")
                for p in row["PriceList"]:
                    pkey = (p.get("PriceListCode"), p.get("QtyBreak") or 1)
                    if pkey[0] in price_scopes and pkey not in price_seen and p.get("IsActive") is not False:
                        p["IsActive"] = False
                        self._touch(row, False)
                        self._supplier_changed(row, "tSupplierProductSkuPriceList")

    def _supplier_changed(self, row: Row, table: str) -> None:
        self._emit(
            "SupplierSkuChangedNotification",
            SupplierId=row["SupplierId"],
            PartNo=row["SupplierPartNo"],
            EntityChanged=table,
        )

    # ------------------------------------------------------------------ admin: seed & mutate
    def seed(self, kind: str, rows: list[Row]) -> int:
        """Insert/replace rows directly (no FieldsThatAreSet, no events unless the caller drains them)."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        if kind == "products":
            header = ParsedHeader(
                raw={}, account_id=0, full_file=False, supplier_id=None, storage_name=None, fields={}
            )
            result = self.apply_import(
                "products", header, rows, absent_means_all=True, auto_create_price_lists=True
            )
            if result.fails:
                raise ValueError(f"invalid product seed rows: {[m for _, m, _ in result.log]}")
            return len(rows)
        for raw in rows:
            self.mutate(kind, raw, set_values=raw, create=True)
        return len(rows)

    def key_of(self, kind: str, values: Row) -> Any:
        names = KEY_FIELDS[kind]
        if kind == "prices":
            return (values.get("PartNo"), values.get("PriceListCode"), values.get("QuantityBreak") or 1)
        if kind == "supplier_products":
            return (values.get("SupplierId"), values.get("SupplierPartNo"))
        missing = [n for n in names if values.get(n) in (None, "")]
        if missing and kind != "orders":
            raise ValueError(f"{kind} key requires {names}, missing {missing}")
        return values.get(names[0])

    def mutate(
        self, kind: str, key: Row, *, set_values: Row | None = None, delete: bool = False, create: bool = True
    ) -> Row | None:
        """Change one row directly, emitting the notifications Norce would."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        table = self.tables[kind]
        values = {k: parse_datetime_value(k, v) for k, v in (set_values or {}).items()}
        if kind == "orders" and key.get("Id") is None:
            key = {**key, "Id": self.new_id("orders")}
        if kind in ("customers", "companies") and "Code" not in key and isinstance(key.get("Id"), int):
            by_id = self._customer_by_id if kind == "customers" else self._company_by_id
            key = {**key, "Code": by_id.get(key["Id"])}
        k = self.key_of(kind, key)
        row = table.get(k)
        if delete:
            if row is None:
                raise KeyError(f"{kind} {k!r} not found")
            del table[k]
            if kind == "skus":
                for sub in ("prices", "onhand"):
                    for sk in [sk for sk in self.tables[sub] if sk[0] == k]:
                        del self.tables[sub][sk]
            self._after_mutation(kind, row, {"*"}, False)
            return None
        is_new = row is None
        if row is None:
            if not create:
                raise KeyError(f"{kind} {k!r} not found")
            row = self._new_row(kind, key, values)
        changed = {p for p, v in values.items() if row.get(p) != v and p not in ("Created", "Updated")}
        for p, v in values.items():
            row[p] = v
        if "StatusId" in values and kind == "skus":  # Query-style name accepted in seeds
            row["Status"] = values["StatusId"]
        if "Created" not in values and is_new:
            row["Created"] = self.now()
        if "Updated" not in values:
            if is_new:
                row.setdefault("Updated", None)
            elif changed:
                row["Updated"] = self.now()
        if is_new or changed:
            self._after_mutation(kind, row, changed, is_new)
        return row

    def _new_row(self, kind: str, key: Row, values: Row) -> Row:
        k = self.key_of(kind, key)
        if kind in ("customers", "companies"):
            row = self.upsert_party(kind, {"Code": k})
            if isinstance(values.get("Id"), int):  # seeds may fix the Id
                by_id = self._customer_by_id if kind == "customers" else self._company_by_id
                by_id.pop(row["Id"], None)
                by_id[values["Id"]] = k
            return row
        row = {name: key.get(name) for name in KEY_FIELDS[kind]}
        if kind == "prices":
            row["QuantityBreak"] = k[2]
            row["IsActive"] = True
            self.ensure_price_list(k[1])
        if kind == "onhand":
            row["IsActive"] = True
        if kind == "skus":
            row["Status"] = 1
        if kind == "products":
            row["Variants"] = []
        if kind == "orders":
            row["Id"] = k
            row.setdefault("ApplicationId", self.application_id)
            row.setdefault("Items", [])
        elif kind not in ("customers", "companies"):
            row["Id"] = self.new_id(kind)
        self.tables[kind][k] = row
        return row

    def _after_mutation(self, kind: str, row: Row, changed: set[str], is_new: bool) -> None:
        if kind == "skus":
            self._sku_changed(row["PartNo"], "tClientProductSku")
        elif kind == "products":
            for variant in row.get("Variants") or []:
                for part_no in variant.get("Skus", []):
                    self._sku_changed(part_no, "tClientProduct")
        elif kind == "prices":
            self._price_changed(row)
        elif kind == "onhand":
            self._sku_changed(row["PartNo"], "tClientProductSkuOnHand")
        elif kind in ("customers", "companies"):
            self._party_changed(kind, row, changed - {"*"}, is_new or "*" in changed)
        elif kind == "supplier_products":
            self._supplier_changed(row, "tSupplierProductSku")

    def dump(self, kind: str) -> list[Row]:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        rows = [dict(r) for r in self.tables[kind].values()]
        if kind == "skus":
            for r in rows:
                r["IsActive"] = is_active_status(r.get("Status"))
        return rows


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
    }[kind]
    return [f"missing key field {k}" for k in needed if not item.get(k)]


def enum_value(enum_name: str, member: str) -> int:
    return ENUMS[enum_name][member]
