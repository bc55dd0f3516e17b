"""The bundled sample ERP export: deterministic, the promised counts, and a demo change set."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from norcekit.imports.sources.filedrop import FileDropOptions, FileDropSource
from norcekit_local.sample_data.generate import KEY_FIELDS, apply_change_set, generate, main

AS_OF = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
ENTITIES = tuple(KEY_FIELDS)


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def drop(root: Path) -> FileDropSource:
    options = FileDropOptions(root=str(root), entities={e: {"key_fields": KEY_FIELDS[e]} for e in ENTITIES})  # type: ignore[misc]
    return FileDropSource("sample", options)


@pytest.fixture(scope="module")
def default_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, float]:
    root = tmp_path_factory.mktemp("default")
    # CPU time, not wall time: the budget is about the generator, not about a busy CI machine.
    started = time.process_time()
    export = generate(root)
    return root, export, time.process_time() - started


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    generate(tmp_path / "a", products=50, customers=20, companies=5)
    generate(tmp_path / "b", products=50, customers=20, companies=5)
    generate(tmp_path / "c", products=50, customers=20, companies=5, seed=7)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_default_export_counts_and_speed(default_export: tuple[Path, object, float]) -> None:
    root, export, seconds = default_export
    source = drop(root)
    assert seconds < 3.0

    products = [r.data for r in source.iter_all("products")]
    assert len(products) == 1000
    variant_counts = Counter(len(p["variants"]) for p in products if p)
    sku_counts = Counter(len(v["skus"]) for p in products if p for v in p["variants"])
    assert set(variant_counts) == {1, 2, 3} and set(sku_counts) == {1, 2, 3}
    skus = [s for p in products if p for v in p["variants"] for s in v["skus"]]
    assert len({s["part_no"] for s in skus}) == len(skus) == export.counts.skus  # type: ignore[attr-defined]
    assert len({s["ean"] for s in skus}) == len(skus)
    assert all(set(p["names"]) == {"sv-SE", "en-GB"} and p["updated_at"] for p in products if p)

    prices = list(source.iter_all("sku_prices"))
    assert len(prices) == 2 * len(skus)
    assert {r.data["price_list_code"] for r in prices if r.data} == {"SE-B2C", "NO-B2C"}
    assert {r.data["currency_code"] for r in prices if r.data} == {"SEK", "NOK"}
    assert [r.key for r in source.iter_all("price_lists")] == ["SE-B2C", "NO-B2C"]

    onhand = list(source.iter_all("onhand"))
    assert len(onhand) == 2 * len(skus)
    assert {(r.data["warehouse_code"], r.data["location_code"]) for r in onhand if r.data} == {
        ("MAIN", "STO"),
        ("OUTLET", "STO"),
    }

    companies = {r.key for r in source.iter_all("companies")}
    customers = [r.data for r in source.iter_all("customers")]
    assert len(companies) == 20 and len(customers) == 200
    linked = {c["company_code"] for c in customers if c and c["company_code"]}
    assert linked and linked <= companies
    assert 1 <= sum(1 for _ in source.iter_all("supplier_products")) <= 20
    # Every record read cleanly and carries its own change time.
    for entity in ENTITIES:
        assert all(r.ok and r.changed_at is not None for r in source.iter_all(entity)), entity


def test_change_set_writes_deltas_and_new_full_exports(tmp_path: Path) -> None:
    generate(tmp_path, products=60, customers=30, companies=5, as_of=AS_OF)
    at = AS_OF + timedelta(hours=3)
    change = apply_change_set(tmp_path, at=at)
    source = drop(tmp_path)
    window = (AS_OF + timedelta(hours=1), at + timedelta(seconds=1))

    delta_products = {r.key: r.data for r in source.iter_changed("products", *window)}
    assert set(delta_products) == {change.added_product, change.removed_product}
    removed = delta_products[change.removed_product]
    assert removed and all(s["status"] == "inactive" for v in removed["variants"] for s in v["skus"])
    full_products = {r.key for r in source.iter_all("products")}
    assert change.added_product in full_products and change.removed_product not in full_products

    delta_prices = {r.key for r in source.iter_changed("sku_prices", *window)}
    assert set(change.changed_prices) <= delta_prices and len(change.changed_prices) == 5
    assert any(key.startswith(change.added_product + "-") for key in delta_prices)
    full_prices = {r.key for r in source.iter_all("sku_prices")}
    assert not any(key.startswith(change.removed_product + "-") for key in full_prices)

    assert set(change.changed_onhand) <= {r.key for r in source.iter_changed("onhand", *window)}
    assert [r.key for r in source.iter_changed("customers", *window)] == [change.changed_customer]
    # Nothing before the change set is a delta.
    assert list(source.iter_changed("products", None, AS_OF + timedelta(hours=1))) == []
    assert all(p.with_name(p.name + ".done").exists() for p in change.files)


def test_change_set_is_deterministic_for_the_same_time(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate(tmp_path / name, products=40, customers=10, companies=3, as_of=AS_OF)
        apply_change_set(tmp_path / name, at=AS_OF + timedelta(hours=2))
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--products", "25", "--customers", "9", "--companies", "3"]) == 0
    assert "wrote 25 products" in capsys.readouterr().out
    assert sum(1 for _ in drop(tmp_path).iter_all("products")) == 25
    assert main(["--out", str(tmp_path), "--changes"]) == 0
    assert "added P000026" in capsys.readouterr().out
