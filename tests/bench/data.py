"""Sample exports for the benchmarks, generated once per size and cached under ``.local/bench-data``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.bench.harness import DATA_DIR

#: The sample generator gives each product 1-3 variants of 1-3 sizes: about 4 SKUs per product.
SKUS_PER_PRODUCT = 4
KEY_FIELDS: dict[str, list[str]] = {
    "products": ["code"],
    "sku_prices": ["part_no", "price_list_code", "quantity_break"],
}


def sample_export(skus: int, *, data_dir: Path = DATA_DIR) -> tuple[Path, dict[str, Any]]:
    """(root, counts) of a sample export with about ``skus`` SKUs (2 cultures, nested variants)."""
    products = max(1, skus // SKUS_PER_PRODUCT)
    root = data_dir / f"products-{products}"
    manifest = root / "counts.json"
    if manifest.exists():
        return root, json.loads(manifest.read_text())
    from norcekit_local.sample_data.generate import generate  # noqa: PLC0415 - only when needed

    export = generate(root, products=products, customers=5, companies=2, supplier_products=1)
    counts = asdict(export.counts)
    manifest.write_text(json.dumps(counts))
    return root, counts


def products_file(root: Path) -> Path:
    """The newest complete full products export under ``root``."""
    folder = root / "products" / "full"
    files = sorted(p for p in folder.glob("*.jsonl") if p.with_name(p.name + ".done").exists())
    return files[-1]


def integration_config(root: Path, *, batch_size: int = 1000) -> Any:
    """A file-drop source ``erp`` at ``root`` with the sample mapping (as the runner would load it)."""
    from norcekit.imports.config import load_config  # noqa: PLC0415

    return load_config(
        {
            "sources": {
                "erp": {
                    "type": "filedrop",
                    "root": str(root),
                    "entities": {name: {"key_fields": keys} for name, keys in KEY_FIELDS.items()},
                }
            },
            "entities": {
                name: {
                    "source": "erp",
                    "mapping": "sample",
                    "delta": {"batch_size": batch_size, "overlap_s": 300, "safety_lag_s": 60},
                    "job_deadline_s": 3600,
                }
                for name in KEY_FIELDS
            },
        },
        environ={},
    )
