"""Connect import rules for products, SKUs, SKU prices and on-hand rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog_state import CatalogState
from .contracts import SKU_STATUS_INACTIVE, ParsedHeader
from .rows import (
    KEY_FIELDS,
    PRICE_VALUE_FIELDS,
    FieldSet,
    ImportResult,
    Row,
    merge_cultures,
    product_key_errors,
    write_props,
)


class ProductImports(CatalogState):
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
            p_changed = bool(write_props(product, item, pf, p_new, skip=("Code", "Variants", "Cultures")))
            if pf.allows("Cultures", p_new) and "Cultures" in item:
                product["Cultures"], changed = merge_cultures(
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
                        write_props(
                            stored, variant, vf, v_new, skip=("ManufacturerPartNo", "Skus", "Cultures")
                        )
                    )
                    if vf.allows("Cultures", v_new) and "Cultures" in variant:
                        stored["Cultures"], changed = merge_cultures(
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
                        self._sku_changed(part_no, "tClientProductSku")
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
        changed = bool(write_props(row, sku, sf, is_new, skip=("PartNo", "Cultures", "StandardPrice")))
        changed |= before != (product["Code"], variant_key) and not is_new
        culture_changed = False
        if "Cultures" in sku:
            row["Cultures"], culture_changed = merge_cultures(
                row.get("Cultures"), sku["Cultures"], scf, is_new
            )
        price = sku.get("StandardPrice")
        if sf.allows("StandardPrice", is_new) and isinstance(price, dict):
            price = {**price, "PartNo": part_no}
            self._apply_price(price, plf, ignore_empty, auto_pl, result, whole_record=False)
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
        *,
        whole_record: bool,
    ) -> tuple[Any, ...] | None:
        """Write one price row; ``whole_record`` is False for a SKU's StandardPrice (part of a product)."""
        part_no, pl_code = item.get("PartNo"), item.get("PriceListCode")
        if not part_no or not pl_code:
            result.error("SkuPriceList requires PartNo and PriceListCode", item)
            return None
        if part_no not in self.tables["skus"]:
            result.unknown_reference("Price", f"unknown PartNo {part_no!r}", item, whole_record=whole_record)
            return None
        if pl_code not in self.tables["price_lists"]:
            if not auto_pl:
                result.unknown_reference(
                    "Price", f"unknown price list {pl_code!r}", item, whole_record=whole_record
                )
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
        changed = write_props(row, values, plf, is_new, skip=("PartNo", "PriceListCode", "QuantityBreak"))
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
            key = self._apply_price(item, plf, ignore_empty, auto_pl, result, whole_record=True)
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

    def _import_relations(
        self,
        header: ParsedHeader,
        items: list[Any],
        fs: Callable[[str], FieldSet],
        result: ImportResult,
    ) -> None:
        """Relations between two known SKUs; FullFile deactivates the missing relations of the
        (PartNo, RelationTypeCode) pairs present in the import (scope not documented: a setting gap)."""
        of, cultures_of = fs("RelationFieldsThatAreSet"), fs("RelationCultureFieldsThatAreSet")
        seen: set[tuple[str, str, str]] = set()
        for item in items:
            missing = [k for k in KEY_FIELDS["relations"] if not item.get(k)]
            if missing:
                result.error(f"Relation is missing key field(s): {', '.join(missing)}", item)
                continue
            key = (item["PartNo"], item["RelatedPartNo"], item["RelationTypeCode"])
            unknown = [p for p in key[:2] if p not in self.tables["skus"]]
            if unknown:
                result.unknown_reference(
                    "Relation", f"unknown PartNo {unknown[0]!r}", item, whole_record=True
                )
                continue
            seen.add(key)
            row = self.tables["relations"].get(key)
            is_new = row is None
            if row is None:
                row = dict(zip(KEY_FIELDS["relations"], key, strict=True))
                row.update(IsActive=True, Id=self.new_id("relations"))
                self.tables["relations"][key] = row
            changed = write_props(row, item, of, is_new, skip=(*KEY_FIELDS["relations"], "Cultures"))
            if "Cultures" in item and of.allows("Cultures", is_new):
                row["Cultures"], cultures_changed = merge_cultures(
                    row.get("Cultures"), item["Cultures"], cultures_of, is_new
                )
                if cultures_changed:
                    changed.add("Cultures")
            result.inserts += is_new
            result.updates += not is_new
            if is_new or changed:
                self._touch(row, is_new)
        if header.full_file:
            scopes = {(key[0], key[2]) for key in seen}
            for key, row in self.tables["relations"].items():
                if (key[0], key[2]) in scopes and key not in seen and row.get("IsActive") is not False:
                    row["IsActive"] = False
                    self._touch(row, False)

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
                result.unknown_reference("Onhand", f"unknown PartNo {key[0]!r}", item, whole_record=True)
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
            changed = write_props(row, item, of, is_new, skip=KEY_FIELDS["onhand"])
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
