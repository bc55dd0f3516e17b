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
    <out>/pim/products/full/<as_of>.jsonl      the PIM's export: product names and descriptions
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
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import orjson

from .files import (
    finish_file,
    iso,
    newest_full,
    read_csv,
    read_jsonl,
    stamp,
    write_csv,
    write_jsonl,
)
from .model import (
    DEFAULT_AS_OF,
    DEFAULT_SEED,
    KEY_FIELDS,
    ONHAND_COLUMNS,
    PRICE_COLUMNS,
    ChangeSet,
    SampleCounts,
    SampleExport,
)
from .rows import (
    RowBuilder,
    money,
    price_list_rows,
)

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
    build = RowBuilder(seed, as_of)
    counts = SampleCounts()
    files: list[Path] = []

    # Products, prices, on-hand and the PIM's products are written in one pass over the products.
    kinds = (("products", "jsonl"), ("sku_prices", "csv"), ("onhand", "csv"), ("pim/products", "jsonl"))
    paths = {kind: out / kind / "full" / f"{name}.{ext}" for kind, ext in kinds}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    with (
        paths["products"].open("wb", buffering=1024 * 1024) as product_out,
        paths["sku_prices"].open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as price_out,
        paths["onhand"].open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as onhand_out,
        paths["pim/products"].open("wb", buffering=1024 * 1024) as pim_out,
    ):
        prices = csv.DictWriter(price_out, fieldnames=PRICE_COLUMNS, lineterminator="\n")
        onhand = csv.DictWriter(onhand_out, fieldnames=ONHAND_COLUMNS, lineterminator="\n")
        prices.writeheader()
        onhand.writeheader()
        first_skus: list[str] = []
        for index in range(1, products + 1):
            product = build.product(index)
            first_skus.append(product["variants"][0]["skus"][0]["part_no"])
            product_out.write(orjson.dumps(product) + b"\n")
            pim_out.write(orjson.dumps(pim_product(product)) + b"\n")
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
        finish_file(path)
        files.append(path)

    company_rows = [build.company(i) for i in range(1, companies + 1)]
    company_codes = [row["code"] for row in company_rows]
    simple: list[tuple[str, Callable[[], Iterable[dict[str, Any]]]]] = [
        ("price_lists", lambda: price_list_rows(as_of)),
        ("companies", lambda: company_rows),
        ("customers", lambda: (build.customer(i, company_codes) for i in range(1, customers + 1))),
        ("supplier_products", lambda: (build.supplier_product(i) for i in range(1, supplier_products + 1))),
        ("relations", lambda: relation_rows(first_skus, as_of)),
    ]
    for kind, rows in simple:
        path = out / kind / "full" / f"{name}.jsonl"
        setattr(counts, kind, write_jsonl(path, rows()))
        files.append(path)
    return SampleExport(out, as_of, counts, files)


def pim_product(product: dict[str, Any]) -> dict[str, Any]:
    """The PIM's row of an ERP product: its own (marketing) names and descriptions, and the product's
    variants and SKUs by key only (the sample mapping requires them; the PIM's header writes none of
    their fields)."""
    maker = product["manufacturer_name"]
    names = product["names"]
    return {
        "code": product["code"],
        "names": {"sv-SE": f"{names['sv-SE']} från {maker}", "en-GB": f"{names['en-GB']} by {maker}"},
        "descriptions": {
            "sv-SE": f"{names['sv-SE']}: utvald av vårt sortimentsteam.",
            "en-GB": f"{names['en-GB']}: picked by our range team.",
        },
        "variants": [
            {"code": v["code"], "skus": [{"part_no": sku["part_no"]} for sku in v["skus"]]}
            for v in product["variants"]
        ],
        "updated_at": product["updated_at"],
    }


def relation_rows(first_skus: list[str], as_of: datetime) -> Iterator[dict[str, Any]]:
    """Each product's first SKU is an accessory of the previous product's (a PIM-style relation)."""
    for sort_order, (part_no, related) in enumerate(zip(first_skus[1:], first_skus, strict=False)):
        yield {
            "part_no": part_no,
            "related_part_no": related,
            "relation_type": "ACCESSORY",
            "sort_order": sort_order,
            "names": {"sv-SE": "Passar till", "en-GB": "Fits"},
            "updated_at": iso(as_of),
        }


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
    build = RowBuilder(rng.randint(0, 2**31), at)
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
        row["price_sale"] = money(Decimal(row["price_sale"]) * Decimal(rng.choice(("0.90", "1.10", "0.75"))))
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


__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_SEED",
    "KEY_FIELDS",
    "PRICE_COLUMNS",
    "ChangeSet",
    "SampleCounts",
    "SampleExport",
    "apply_change_set",
    "generate",
    "iso",
    "main",
    "newest_full",
    "read_csv",
    "read_jsonl",
    "stamp",
    "write_csv",
    "write_jsonl",
]


if __name__ == "__main__":
    raise SystemExit(main())
