"""The catalog's state and the notifications a change raises (the base of the import rules).

Not thread-safe by itself: the Emulator holds its state lock around every call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from .rows import COMPANY_TABLES, CUSTOMER_TABLES, ID_START, KINDS, Event, Row


class CatalogState:
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
        """SkuPriceChangedNotification as documented: PricelistId int32 and PriceSaleValue double are
        required, QuantityBreak a double. A row without a sale price (or list id) fires only the
        SkuChangedNotification for its table, never a payload with a null in a required field."""
        pl = self.tables["price_lists"].get(row["PriceListCode"], {})
        price, list_id = row.get("PriceSale"), pl.get("Id")
        if (
            isinstance(price, int | float | Decimal)
            and not isinstance(price, bool)
            and isinstance(list_id, int)
        ):
            self._emit(
                "SkuPriceChangedNotification",
                PartNo=row["PartNo"],
                PricelistId=list_id,
                PricelistCode=row["PriceListCode"],
                PriceSaleValue=float(price),
                QuantityBreak=float(row.get("QuantityBreak") or 1),
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

    def _supplier_changed(self, row: Row, table: str) -> None:
        """The documented type per supplier table: SupplierSkuChangedNotification (tSupplierProductSku,
        tSupplierProductSkuClient), SupplierSkuOnHandChangedNotification (tSupplierProductSkuOnHand),
        SupplierSkuPriceChangedNotification (only its key fields are published: no EntityChanged)."""
        keys = {"SupplierId": row["SupplierId"], "PartNo": row["SupplierPartNo"]}
        if table == "tSupplierProductSkuPriceList":
            self._emit("SupplierSkuPriceChangedNotification", **keys)
        elif table == "tSupplierProductSkuOnHand":
            self._emit("SupplierSkuOnHandChangedNotification", **keys, EntityChanged=table)
        else:
            self._emit("SupplierSkuChangedNotification", **keys, EntityChanged=table)
