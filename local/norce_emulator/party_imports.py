"""Connect import rules for price lists, customers, companies and supplier products."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog_state import CatalogState
from .contracts import ParsedHeader
from .rows import FieldSet, ImportResult, Row, write_props


class PartyImports(CatalogState):
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
            changed = write_props(row, item, plf, is_new, skip=("Code",))
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
            changed = write_props(row, item, cf, is_new, skip=("Code", "Id"))
            result.inserts += is_new
            result.updates += not is_new
            if is_new or changed:
                self._touch(row, is_new)
                self._party_changed(kind, row, changed, is_new)

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
            changed = bool(write_props(row, item, pf, is_new, skip=("SupplierPartNo", "OnHand", "PriceList")))
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
                    write_props(target, entry, of, skey not in stock, skip=("WarehouseCode", "LocationCode"))
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
                changed |= bool(write_props(target, entry, prf, False, skip=("PriceListCode", "QtyBreak")))
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
