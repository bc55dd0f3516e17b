"""Deterministic rows for every entity of the sample export (a seeded ``random.Random``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from .files import (
    iso,
)
from .model import (
    ADJECTIVES,
    CATEGORIES,
    CITIES,
    COLORS,
    FIRST,
    LAST,
    MANUFACTURERS,
    NOUNS,
    PRICE_LISTS,
    SIZES,
    STREETS,
    WAREHOUSES,
)

# --- Row builders -------------------------------------------------------------------------------


def _ean13(serial: int) -> str:
    body = f"73{serial:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


class RowBuilder:
    """Row factories sharing one seeded RNG (call order fixes the output)."""

    def __init__(self, seed: int, as_of: datetime) -> None:
        self.rng = Random(seed)
        self.as_of = as_of
        self.base_prices: dict[str, Decimal] = {}

    def updated_at(self) -> str:
        return iso(self.as_of - timedelta(seconds=self.rng.randint(60, 30 * 86400)))

    def product(self, index: int) -> dict[str, Any]:
        rng = self.rng
        code = f"P{index:06d}"
        category, cat_sv, cat_en, vat = rng.choice(CATEGORIES)
        adj, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        manufacturer = rng.choice(MANUFACTURERS)
        base = Decimal(rng.randint(99, 2999))
        variants = []
        for v in range(1, rng.randint(1, 3) + 1):
            color = rng.choice(COLORS)
            skus = []
            for size in rng.sample(SIZES, rng.randint(1, 3)):
                part_no = f"{code}-{v:02d}-{size}"
                self.base_prices[part_no] = base
                skus.append(
                    {
                        "part_no": part_no,
                        "ean": _ean13(index * 100 + v * 10 + SIZES.index(size)),
                        "size": size,
                        "status": "active",
                        "uom": "pcs",
                        "weight_kg": f"{rng.uniform(0.1, 3.0):.3f}",
                        "vat_rates": {"SE": vat, "NO": "25"},
                    }
                )
            variants.append(
                {
                    "code": f"{code}-{v:02d}",
                    "color": color[1],
                    "names": {"sv-SE": color[0], "en-GB": color[1]},
                    "skus": skus,
                }
            )
        return {
            "code": code,
            "manufacturer_code": manufacturer[0],
            "manufacturer_name": manufacturer[1],
            "category_codes": [category],
            "names": {
                "sv-SE": f"{adj[0]} {noun[0]} {cat_sv.lower()}",
                "en-GB": f"{adj[1]} {noun[1]} {cat_en.lower()}",
            },
            "descriptions": {
                "sv-SE": f"{adj[0]} kvalitet från {manufacturer[1]}.",
                "en-GB": f"{adj[1]} quality from {manufacturer[1]}.",
            },
            "variants": variants,
            "updated_at": self.updated_at(),
        }

    def prices(self, product: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for variant in product["variants"]:
            for sku in variant["skus"]:
                base = self.base_prices.get(sku["part_no"], Decimal(499))
                for plist in PRICE_LISTS:
                    sale = base * Decimal(plist["factor"])
                    yield {
                        "part_no": sku["part_no"],
                        "price_list_code": plist["code"],
                        "quantity_break": "1",
                        "currency_code": plist["currency_code"],
                        "price_sale": money(sale),
                        "price_recommended": money(sale * Decimal("1.2")),
                        "cost_purchase": money(sale * Decimal("0.45")),
                        "is_active": "true",
                        "updated_at": self.updated_at(),
                    }

    def onhand(self, product: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for variant in product["variants"]:
            for sku in variant["skus"]:
                for warehouse, location in WAREHOUSES:
                    incoming = self.rng.random() < 0.2
                    yield {
                        "part_no": sku["part_no"],
                        "warehouse_code": warehouse,
                        "location_code": location,
                        "onhand_value": str(self.rng.randint(0, 250)),
                        "incoming_value": str(self.rng.randint(10, 100)) if incoming else "",
                        "next_delivery_date": (self.as_of + timedelta(days=self.rng.randint(3, 30)))
                        .date()
                        .isoformat()
                        if incoming
                        else "",
                        "lead_time_days": str(self.rng.randint(1, 14)),
                        "is_active": "true",
                        "updated_at": self.updated_at(),
                    }

    def address(self) -> dict[str, Any]:
        city, zip_code = self.rng.choice(CITIES)
        return {
            "line1": f"{self.rng.choice(STREETS)} {self.rng.randint(1, 99)}",
            "zip_code": zip_code,
            "city": city,
            "country_code": "SE",
        }

    def company(self, index: int) -> dict[str, Any]:
        code = f"B{index:05d}"
        org_no = f"55{self.rng.randint(10000000, 99999999)}"
        return {
            "code": code,
            "application_key": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "name": f"{self.rng.choice(NOUNS)[1]} {self.rng.choice(LAST)} AB",
            "organization_no": f"{org_no[:6]}-{org_no[6:]}",
            "vat_no": f"SE{org_no}01",
            "email": f"order@{code.lower()}.example.com",
            "phone": f"+46 8 {self.rng.randint(100000, 999999)}",
            "address": self.address(),
            "price_list_codes": ["SE-B2C"],
            "is_active": True,
            "updated_at": self.updated_at(),
        }

    def customer(self, index: int, company_codes: list[str]) -> dict[str, Any]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        code = f"C{index:06d}"
        # Every third customer is a company contact (links customers ↔ companies).
        company = company_codes[index % len(company_codes)] if company_codes and index % 3 == 0 else None
        return {
            "code": code,
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower()}.{index}@example.com",
            "phone": f"+46 70 {self.rng.randint(1000000, 9999999)}",
            "company_code": company,
            "address": self.address(),
            "price_list_codes": ["SE-B2C"],
            "is_active": True,
            "updated_at": self.updated_at(),
        }

    def supplier_product(self, index: int) -> dict[str, Any]:
        rng = self.rng
        category = rng.choice(CATEGORIES)
        manufacturer = rng.choice(MANUFACTURERS)
        cost = Decimal(rng.randint(50, 1500))
        return {
            "supplier_part_no": f"SUP-{index:05d}",
            "product_name": f"{rng.choice(ADJECTIVES)[1]} {category[2].rstrip('s')}",
            "manufacturer": manufacturer[1],
            "manufacturer_part_no": f"{manufacturer[0]}-{index:05d}",
            "ean": _ean13(9_000_000_000 + index),
            "category_code": category[0],
            "onhand": [
                {"warehouse_code": "SUPPLIER", "location_code": "DC1", "value": str(rng.randint(0, 500))}
            ],
            "prices": [{"price_list_code": "SE-B2C", "currency_code": "SEK", "cost_purchase": money(cost)}],
            "updated_at": self.updated_at(),
        }


def price_list_rows(as_of: datetime) -> list[dict[str, Any]]:
    return [
        {
            "code": plist["code"],
            "names": {"sv-SE": f"Pris {plist['code']}", "en-GB": f"Prices {plist['code']}"},
            "currency_code": plist["currency_code"],
            "sales_area": plist["sales_area"],
            "is_public": True,
            "is_primary": plist["primary"],
            "warehouses": [{"code": code, "locations": [loc]} for code, loc in WAREHOUSES],
            "updated_at": iso(as_of - timedelta(days=60)),
        }
        for plist in PRICE_LISTS
    ]
