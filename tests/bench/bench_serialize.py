"""Item serialization: ``dump_item`` (pydantic-core ``to_json``) vs ``orjson.dumps(model_dump())``.

``norcekit.norce.contracts.serialize.dump_item`` says pydantic-core writing JSON directly beats
building dicts and handing them to orjson; this checks the claim on sample product items. It is
also the cheap benchmark the harness smoke test runs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from tests.bench.data import products_file, sample_export
from tests.bench.harness import BenchResult, ratio_figure

NAME = "serialize"


def _models(root: Path, limit: int) -> list[Any]:
    from norcekit.imports.mappings import load_mapping  # noqa: PLC0415
    from norcekit.norce.contracts import WireItem  # noqa: PLC0415

    mapping = load_mapping("sample", entity="products")
    models = []
    with products_file(root).open("rb") as lines:
        for line in lines:
            item = mapping(orjson.loads(line))
            # The sample mapping gives wire items; this benchmark is about serializing models.
            models.append(item.to_model() if isinstance(item, WireItem) else item)
            if len(models) >= limit:
                break
    return models


def _rate(fn: Any, models: list[Any]) -> float:
    started = time.perf_counter()
    for model in models:
        fn(model)
    return len(models) / (time.perf_counter() - started)


def run(*, quick: bool = False) -> BenchResult:
    from norcekit.norce.contracts import dump_item  # noqa: PLC0415

    count, reps = (200, 3) if quick else (5_000, 7)
    result = BenchResult(
        NAME,
        "Item serialization",
        f"{count:,} sample product items (mapped once, outside the timing); items/s of `dump_item` vs "
        "`orjson.dumps(model.model_dump(mode='json', exclude_none=True))`, alternating, median of "
        f"{reps} passes.",
    )

    def via_orjson(model: Any) -> bytes:
        return orjson.dumps(model.model_dump(mode="json", exclude_none=True))

    with tempfile.TemporaryDirectory() as tmp:
        if quick:
            from norcekit_local.sample_data.generate import generate  # noqa: PLC0415

            generate(tmp, products=count, customers=1, companies=1, supplier_products=1)
            root = Path(tmp)
        else:
            root, _ = sample_export(count * 4)
        models = _models(root, count)
    assert all(dump_item(m) == via_orjson(m) for m in models[:50]), "the two serializations differ"
    kit: list[float] = []
    base: list[float] = []
    for _ in range(reps):
        base.append(_rate(via_orjson, models))
        kit.append(_rate(dump_item, models))
    result.add(
        ratio_figure(
            "dump_item throughput",
            kit,
            base,
            unit="items/s",
            baseline_label="orjson(model_dump)",
            goal_ratio=1.0,
            goal_text=">= 1.0 x baseline (dump_item's claim)",
        )
    )
    return result
