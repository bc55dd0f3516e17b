"""In-memory Norce catalog: the Connect import semantics applied to it, seeds and admin edits.

Not thread-safe by itself: the Emulator holds its state lock around every call. The import rules
live in ``product_imports`` and ``party_imports``, the row rules in ``rows``.
"""

from __future__ import annotations

from typing import Any

from .contracts import ParsedHeader
from .party_imports import PartyImports
from .product_imports import ProductImports
from .rows import (
    KEY_FIELDS,
    KINDS,
    FieldSet,
    ImportResult,
    Row,
    is_active_status,
    parse_datetime_value,
    request_key_errors,
)

__all__ = ["KEY_FIELDS", "KINDS", "Catalog", "Row", "is_active_status", "request_key_errors"]


class Catalog(ProductImports, PartyImports):
    def apply_import(
        self,
        kind: str,
        header: ParsedHeader,
        items: list[Any],
        *,
        absent_means_all: bool,
        auto_create_price_lists: bool,
        unknown_reference_fails: bool = True,
    ) -> ImportResult:
        def fs(prop: str) -> FieldSet:
            return FieldSet(header.fields.get(prop), absent_means_all=absent_means_all)

        result = ImportResult(unknown_reference_fails=unknown_reference_fails)
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
        elif kind == "relations":
            self._import_relations(header, items, fs, result)
        else:  # pragma: no cover - routing guarantees a known kind
            raise ValueError(kind)
        return result

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
                    self._sku_changed(part_no, "tClientProductSku")
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
