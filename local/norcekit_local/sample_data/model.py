"""The sample export's fixed vocabulary (seed, date, columns, key fields) and what a run reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20261127
DEFAULT_AS_OF = datetime(2026, 11, 27, 6, 0, 0, tzinfo=UTC)
CULTURES = ("sv-SE", "en-GB")
WAREHOUSES = (("MAIN", "STO"), ("OUTLET", "STO"))
PRICE_LISTS: tuple[dict[str, Any], ...] = (
    {
        "code": "SE-B2C",
        "currency_code": "SEK",
        "sales_area": "SE",
        "factor": Decimal("1.00"),
        "primary": True,
    },
    {
        "code": "NO-B2C",
        "currency_code": "NOK",
        "sales_area": "NO",
        "factor": Decimal("1.02"),
        "primary": False,
    },
)
PRICE_COLUMNS = (
    "part_no", "price_list_code", "quantity_break", "currency_code", "price_sale", "price_recommended",
    "cost_purchase", "is_active", "updated_at",
)  # fmt: skip
ONHAND_COLUMNS = (
    "part_no", "warehouse_code", "location_code", "onhand_value", "incoming_value", "next_delivery_date",
    "lead_time_days", "is_active", "updated_at",
)  # fmt: skip
#: Columns forming each entity's record key (the ``key_fields`` of the file-drop configuration).
KEY_FIELDS: dict[str, list[str]] = {
    "products": ["code"],
    "sku_prices": ["part_no", "price_list_code", "quantity_break"],
    "price_lists": ["code"],
    "onhand": ["part_no", "warehouse_code", "location_code"],
    "customers": ["code"],
    "companies": ["code"],
    "supplier_products": ["supplier_part_no"],
    "relations": ["part_no", "related_part_no", "relation_type"],
}

CATEGORIES = (
    ("jackets", "Jackor", "Jackets", "25"), ("shoes", "Skor", "Shoes", "25"),
    ("bags", "Väskor", "Bags", "25"), ("knitwear", "Stickat", "Knitwear", "25"),
    ("books", "Böcker", "Books", "6"), ("coffee", "Kaffe", "Coffee", "12"),
)  # fmt: skip
ADJECTIVES = (
    ("Lätt", "Light"), ("Varm", "Warm"), ("Klassisk", "Classic"), ("Robust", "Rugged"), ("Mjuk", "Soft"),
    ("Nordisk", "Nordic"), ("Urban", "Urban"), ("Vattentät", "Waterproof"), ("Smidig", "Nimble"),
)  # fmt: skip
NOUNS = (("Fjäll", "Fell"), ("Skog", "Forest"), ("Kust", "Coast"), ("Stad", "City"), ("Sjö", "Lake"))
COLORS = (("Röd", "Red"), ("Svart", "Black"), ("Blå", "Blue"), ("Grön", "Green"), ("Grå", "Grey"))
SIZES = ("S", "M", "L", "XL", "38", "40", "42")
MANUFACTURERS = (("NORDIC", "Nordic Outdoor AB"), ("KUSTEN", "Kusten Design"), ("STADS", "Stads & Co"))
FIRST = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sara", "Nils", "Emma", "Olof", "Ingrid", "Per")
LAST = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Berg")
CITIES = (("Stockholm", "111 22"), ("Göteborg", "411 03"), ("Malmö", "211 19"), ("Uppsala", "753 20"))
STREETS = ("Storgatan", "Kungsgatan", "Drottninggatan", "Sveavägen", "Hamngatan")


@dataclass
class SampleCounts:
    """How many rows of each kind a run wrote."""

    products: int = 0
    variants: int = 0
    skus: int = 0
    sku_prices: int = 0
    price_lists: int = 0
    onhand: int = 0
    customers: int = 0
    companies: int = 0
    supplier_products: int = 0
    relations: int = 0


@dataclass
class SampleExport:
    root: Path
    as_of: datetime
    counts: SampleCounts
    files: list[Path] = field(default_factory=list)


@dataclass
class ChangeSet:
    """What :func:`apply_change_set` changed, for the demo to print and check."""

    at: datetime
    changed_prices: list[str] = field(default_factory=list)  # record keys part_no|list|qty
    changed_onhand: list[str] = field(default_factory=list)  # record keys part_no|wh|loc
    added_product: str = ""
    removed_product: str = ""
    changed_customer: str = ""
    files: list[Path] = field(default_factory=list)
