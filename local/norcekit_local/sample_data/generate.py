"""Deterministic sample ERP export in the file-drop layout (the "sample" format).

Same arguments → same bytes (a seeded ``random.Random``, a fixed ``as_of``), so tests and benchmarks
can rely on it. Files are written row by row, never built in memory, so 100k SKUs take seconds::

    python -m norcekit_local.sample_data.generate --out .local/sample [--products 1000]

Layout (see ``norcekit.imports.sources.filedrop``)::

    <out>/products/full/<as_of>.jsonl          products with nested variants and SKUs
    <out>/sku_prices/full/<as_of>.csv          one row per SKU per price list
    <out>/price_lists/full/<as_of>.jsonl       SE-B2C (SEK), NO-B2C (NOK)
    <out>/onhand/full/<as_of>.csv              one row per SKU per warehouse (MAIN/STO, OUTLET/STO)
    <out>/customers/full/<as_of>.jsonl         persons, some linked to companies
    <out>/companies/full/<as_of>.jsonl
    <out>/supplier_products/full/<as_of>.jsonl
    ... each with a ``.done`` marker written after the data file is complete.

:func:`apply_change_set` then simulates a day in the ERP for the demo: some prices and stock change,
a product is added, one is removed and a customer changes. It writes delta files (+ ``.done``) with
the changed rows and new full exports (the removed product is absent from the new full export; the
delta carries it with every SKU ``inactive``, since a delta cannot delete).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import orjson

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
}

_CATEGORIES = (
    ("jackets", "Jackor", "Jackets", "25"), ("shoes", "Skor", "Shoes", "25"),
    ("bags", "Väskor", "Bags", "25"), ("knitwear", "Stickat", "Knitwear", "25"),
    ("books", "Böcker", "Books", "6"), ("coffee", "Kaffe", "Coffee", "12"),
)  # fmt: skip
_ADJECTIVES = (
    ("Lätt", "Light"), ("Varm", "Warm"), ("Klassisk", "Classic"), ("Robust", "Rugged"), ("Mjuk", "Soft"),
    ("Nordisk", "Nordic"), ("Urban", "Urban"), ("Vattentät", "Waterproof"), ("Smidig", "Nimble"),
)  # fmt: skip
_NOUNS = (("Fjäll", "Fell"), ("Skog", "Forest"), ("Kust", "Coast"), ("Stad", "City"), ("Sjö", "Lake"))
_COLORS = (("Röd", "Red"), ("Svart", "Black"), ("Blå", "Blue"), ("Grön", "Green"), ("Grå", "Grey"))
_SIZES = ("S", "M", "L", "XL", "38", "40", "42")
_MANUFACTURERS = (("NORDIC", "Nordic Outdoor AB"), ("KUSTEN", "Kusten Design"), ("STADS", "Stads & Co"))
_FIRST = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sara", "Nils", "Emma", "Olof", "Ingrid", "Per")
_LAST = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Berg")
_CITIES = (("Stockholm", "111 22"), ("Göteborg", "411 03"), ("Malmö", "211 19"), ("Uppsala", "753 20"))
_STREETS = ("Storgatan", "Kungsgatan", "Drottninggatan", "Sveavägen", "Hamngatan")


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


# --- Writing ------------------------------------------------------------------------------------


def stamp(value: datetime) -> str:
    """File-name position: ``20261127T060000Z``."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finish(path: Path) -> None:
    """The completion marker: written last, so readers never see a half-written export."""
    path.with_name(path.name + ".done").write_bytes(b"")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb", buffering=1024 * 1024) as out:
        for row in rows:
            out.write(orjson.dumps(row))
            out.write(b"\n")
            count += 1
    _finish(path)
    return count


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as out:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    _finish(path)
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                yield orjson.loads(line)


def read_csv(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as stream:
        yield from csv.DictReader(stream)


def newest_full(root: Path, entity: str) -> Path:
    complete = sorted(
        p
        for p in (root / entity / "full").iterdir()
        if p.suffix != ".done" and p.with_name(p.name + ".done").exists()
    )
    if not complete:
        raise FileNotFoundError(f"no complete full export under {root / entity / 'full'}")
    return complete[-1]


# --- Row builders -------------------------------------------------------------------------------


def _ean13(serial: int) -> str:
    body = f"73{serial:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


class _Builder:
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
        category, cat_sv, cat_en, vat = rng.choice(_CATEGORIES)
        adj, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        manufacturer = rng.choice(_MANUFACTURERS)
        base = Decimal(rng.randint(99, 2999))
        variants = []
        for v in range(1, rng.randint(1, 3) + 1):
            color = rng.choice(_COLORS)
            skus = []
            for size in rng.sample(_SIZES, rng.randint(1, 3)):
                part_no = f"{code}-{v:02d}-{size}"
                self.base_prices[part_no] = base
                skus.append(
                    {
                        "part_no": part_no,
                        "ean": _ean13(index * 100 + v * 10 + _SIZES.index(size)),
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
                        "price_sale": _money(sale),
                        "price_recommended": _money(sale * Decimal("1.2")),
                        "cost_purchase": _money(sale * Decimal("0.45")),
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
        city, zip_code = self.rng.choice(_CITIES)
        return {
            "line1": f"{self.rng.choice(_STREETS)} {self.rng.randint(1, 99)}",
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
            "name": f"{self.rng.choice(_NOUNS)[1]} {self.rng.choice(_LAST)} AB",
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
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
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
        category = rng.choice(_CATEGORIES)
        manufacturer = rng.choice(_MANUFACTURERS)
        cost = Decimal(rng.randint(50, 1500))
        return {
            "supplier_part_no": f"SUP-{index:05d}",
            "product_name": f"{rng.choice(_ADJECTIVES)[1]} {category[2].rstrip('s')}",
            "manufacturer": manufacturer[1],
            "manufacturer_part_no": f"{manufacturer[0]}-{index:05d}",
            "ean": _ean13(9_000_000_000 + index),
            "category_code": category[0],
            "onhand": [
                {"warehouse_code": "SUPPLIER", "location_code": "DC1", "value": str(rng.randint(0, 500))}
            ],
            "prices": [{"price_list_code": "SE-B2C", "currency_code": "SEK", "cost_purchase": _money(cost)}],
            "updated_at": self.updated_at(),
        }


def _price_list_rows(as_of: datetime) -> list[dict[str, Any]]:
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


# --- Public API ---------------------------------------------------------------------------------


def generate(
    root: str | Path,
    *,
    products: int = 1000,
    customers: int = 200,
    companies: int = 20,
    supplier_products: int = 10,
    seed: int = DEFAULT_SEED,
    as_of: datetime = DEFAULT_AS_OF,
) -> SampleExport:
    """Write a full sample export of every entity under ``root``; returns counts and file paths."""
    out = Path(root)
    name = stamp(as_of)
    build = _Builder(seed, as_of)
    counts = SampleCounts()
    files: list[Path] = []

    # Products, prices and on-hand are written in one pass over the products, three files at once.
    paths = {kind: out / kind / "full" / f"{name}.{ext}" for kind, ext in
             (("products", "jsonl"), ("sku_prices", "csv"), ("onhand", "csv"))}  # fmt: skip
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    with (
        paths["products"].open("wb", buffering=1024 * 1024) as product_out,
        paths["sku_prices"].open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as price_out,
        paths["onhand"].open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as onhand_out,
    ):
        prices = csv.DictWriter(price_out, fieldnames=PRICE_COLUMNS, lineterminator="\n")
        onhand = csv.DictWriter(onhand_out, fieldnames=ONHAND_COLUMNS, lineterminator="\n")
        prices.writeheader()
        onhand.writeheader()
        for index in range(1, products + 1):
            product = build.product(index)
            product_out.write(orjson.dumps(product) + b"\n")
            counts.products += 1
            counts.variants += len(product["variants"])
            counts.skus += sum(len(v["skus"]) for v in product["variants"])
            for row in build.prices(product):
                prices.writerow(row)
                counts.sku_prices += 1
            for row in build.onhand(product):
                onhand.writerow(row)
                counts.onhand += 1
    for path in paths.values():
        _finish(path)
        files.append(path)

    company_rows = [build.company(i) for i in range(1, companies + 1)]
    company_codes = [row["code"] for row in company_rows]
    simple: list[tuple[str, Callable[[], Iterable[dict[str, Any]]]]] = [
        ("price_lists", lambda: _price_list_rows(as_of)),
        ("companies", lambda: company_rows),
        ("customers", lambda: (build.customer(i, company_codes) for i in range(1, customers + 1))),
        ("supplier_products", lambda: (build.supplier_product(i) for i in range(1, supplier_products + 1))),
    ]
    for kind, rows in simple:
        path = out / kind / "full" / f"{name}.jsonl"
        setattr(counts, kind, write_jsonl(path, rows()))
        files.append(path)
    return SampleExport(out, as_of, counts, files)


def apply_change_set(root: str | Path, *, at: datetime | None = None, seed: int = DEFAULT_SEED) -> ChangeSet:
    """Simulate ERP changes: delta files plus new full exports, named after ``at`` (default: now)."""
    out = Path(root)
    at = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    name = stamp(at)
    rng = Random(f"{seed}:{name}")
    change = ChangeSet(at=at)
    when = iso(at - timedelta(seconds=1))

    # Products: remove one, add one.
    products_full = newest_full(out, "products")
    codes = [row["code"] for row in read_jsonl(products_full)]
    change.removed_product = rng.choice(codes[1:]) if len(codes) > 1 else ""
    build = _Builder(rng.randint(0, 2**31), at)
    new_index = max(int(code[1:]) for code in codes) + 1 if codes else 1
    added = build.product(new_index)
    added["updated_at"] = when
    change.added_product = added["code"]
    removed_row: dict[str, Any] | None = None

    def products_rows() -> Iterator[dict[str, Any]]:
        nonlocal removed_row
        for row in read_jsonl(products_full):
            if row["code"] == change.removed_product:
                removed_row = row
                continue
            yield row
        yield added

    change.files.append(_write_full(out, "products", name, "jsonl", products_rows()))
    retired: list[dict[str, Any]] = []
    if removed_row is not None:
        for variant in removed_row["variants"]:
            for sku in variant["skus"]:
                sku["status"] = "inactive"
        removed_row["updated_at"] = when
        retired.append(removed_row)
    change.files.append(_write_delta(out, "products", name, "jsonl", [added, *retired]))

    removed_prefix = change.removed_product + "-"
    # Prices: about five changed rows, plus rows for the new product.
    price_rows = [
        r for r in read_csv(newest_full(out, "sku_prices")) if not r["part_no"].startswith(removed_prefix)
    ]
    changed_prices = rng.sample(range(len(price_rows)), min(5, len(price_rows)))
    for i in changed_prices:
        row = price_rows[i]
        row["price_sale"] = _money(Decimal(row["price_sale"]) * Decimal(rng.choice(("0.90", "1.10", "0.75"))))
        row["updated_at"] = when
        change.changed_prices.append(f"{row['part_no']}|{row['price_list_code']}|{row['quantity_break']}")
    new_prices = list(build.prices(added))
    for row in new_prices:
        row["updated_at"] = when
    change.files.append(_write_full(out, "sku_prices", name, "csv", [*price_rows, *new_prices]))
    delta_prices = [price_rows[i] for i in sorted(changed_prices)] + new_prices
    change.files.append(_write_delta(out, "sku_prices", name, "csv", delta_prices))

    # On-hand: about five changed rows, plus stock for the new product.
    onhand_rows = [
        r for r in read_csv(newest_full(out, "onhand")) if not r["part_no"].startswith(removed_prefix)
    ]
    changed_onhand = rng.sample(range(len(onhand_rows)), min(5, len(onhand_rows)))
    for i in changed_onhand:
        row = onhand_rows[i]
        row["onhand_value"] = str(max(0, int(row["onhand_value"]) + rng.choice((-3, -1, 5, 20))))
        row["updated_at"] = when
        change.changed_onhand.append(f"{row['part_no']}|{row['warehouse_code']}|{row['location_code']}")
    new_onhand = list(build.onhand(added))
    for row in new_onhand:
        row["updated_at"] = when
    change.files.append(_write_full(out, "onhand", name, "csv", [*onhand_rows, *new_onhand]))
    change.files.append(
        _write_delta(
            out, "onhand", name, "csv", [onhand_rows[i] for i in sorted(changed_onhand)] + new_onhand
        )
    )

    # Customers: one moves and gets a new phone number.
    customers = list(read_jsonl(newest_full(out, "customers")))
    if customers:
        customer = rng.choice(customers)
        customer["phone"] = f"+46 70 {rng.randint(1000000, 9999999)}"
        customer["address"] = build.address()
        customer["updated_at"] = when
        change.changed_customer = customer["code"]
        change.files.append(_write_full(out, "customers", name, "jsonl", customers))
        change.files.append(_write_delta(out, "customers", name, "jsonl", [customer]))
    return change


def _write_full(root: Path, entity: str, name: str, ext: str, rows: Iterable[dict[str, Any]]) -> Path:
    return _write(root / entity / "full" / f"{name}.{ext}", ext, rows)


def _write_delta(root: Path, entity: str, name: str, ext: str, rows: Iterable[dict[str, Any]]) -> Path:
    return _write(root / entity / "delta" / f"{name}.{ext}", ext, rows)


def _write(path: Path, ext: str, rows: Iterable[dict[str, Any]]) -> Path:
    if ext == "csv":
        columns = PRICE_COLUMNS if path.parts[-3] == "sku_prices" else ONHAND_COLUMNS
        write_csv(path, columns, rows)
    else:
        write_jsonl(path, rows)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the deterministic sample ERP export (file-drop layout)."
    )
    parser.add_argument("--out", required=True, type=Path, help="Output folder (the file-drop root).")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--changes", action="store_true", help="Apply a change set to an existing export.")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.changes:
        change = apply_change_set(args.out, seed=args.seed)
        summary = io.StringIO()
        summary.write(f"added {change.added_product}, removed {change.removed_product}, ")
        summary.write(f"{len(change.changed_prices)} prices, {len(change.changed_onhand)} stock rows, ")
        summary.write(f"customer {change.changed_customer}")
        print(summary.getvalue())
        return 0
    export = generate(
        args.out, products=args.products, customers=args.customers, companies=args.companies, seed=args.seed
    )
    c = export.counts
    print(
        f"wrote {c.products} products, {c.variants} variants, {c.skus} SKUs, {c.sku_prices} prices, "
        f"{c.onhand} on-hand rows, {c.customers} customers, {c.companies} companies, "
        f"{c.supplier_products} supplier products to {export.root} in {time.perf_counter() - started:.2f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
