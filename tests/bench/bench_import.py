"""Full import streaming: file drop → sample mapping → one chunked Connect request.

Each case runs in a fresh process (``python -m tests.bench.bench_import <mode> <root> <url>``) so
its peak RSS (``VmHWM``) is its own; the receiving side is the draining sink in a third process.

* ``kit``: what ``ImportRunner._full_items`` streams: ``FileDropSource.iter_all`` → ``count_read``
  → ``first_of_each_key`` → ``map_records`` (sample mapping, pydantic contract models) →
  ``ConnectClient.import_items`` (``dump_item`` per item, 64 KB chunks).
* ``own``: the kit's own cost: the ``kit`` stream with the mapping's work done before the clock
  starts (each record's payload looked up by key), so what is timed is read + contract validation
  (``wire_item``) + serialization + streaming.
* ``raw`` (baseline): the same export lines, ``orjson.loads`` → ``ConnectClient.import_items``
  (``orjson.dumps`` per item): same client, header, endpoint and streaming, no mapping.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.data import integration_config, products_file, sample_export
from tests.bench.harness import BenchResult, Figure, median, ratio_figure, run_worker
from tests.bench.servers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET, sink_process

NAME = "import_full"
#: Lambda: 1,769 MB = one full vCPU; the 15-minute limit bounds one streamed full import.
LAMBDA_LIMIT_S = 900.0
ONE_MILLION = 1_000_000


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """Peak RSS of this process image: ``VmHWM`` (``ru_maxrss`` also carries the forking parent's
    high-water mark across exec on Linux, so it would report the bench driver's size)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def worker(mode: str, root: str, url: str) -> dict[str, Any]:
    import orjson  # noqa: PLC0415

    from norcekit.deadline import Deadline  # noqa: PLC0415
    from norcekit.imports.pipeline import RunCounts, count_read, first_of_each_key, map_records  # noqa: PLC0415
    from norcekit.imports.records import SourceRecord  # noqa: PLC0415
    from norcekit.settings import load_settings  # noqa: PLC0415
    from norcekit.wiring import build_norce_clients  # noqa: PLC0415

    config = integration_config(Path(root))
    settings = load_settings(
        norce_base_url=url,
        norce_client_id=CLIENT_ID,
        norce_client_secret=CLIENT_SECRET,
        norce_application_id=APPLICATION_ID,
        norce_account_id=1,
    )
    clients = build_norce_clients(settings)
    header = config.build_header("products", account_id=1, full_file=True)
    counts = RunCounts()
    rejected: list[str] = []

    def reject(record: SourceRecord, reason: str) -> None:
        rejected.append(f"{record.key}: {reason}")

    if mode in ("kit", "own"):
        from norcekit.imports.config import build_source  # noqa: PLC0415

        source = build_source(config, "erp")
        mapping = config.mapping_for("products")
        if mode == "own":
            mapping = _premapped(source)

        def items() -> Iterator[Any]:
            records = first_of_each_key(count_read(source.iter_all("products"), counts), counts, reject)
            if mode == "own":
                yield from map_records(records, lambda record: mapping(record.key), counts, reject)
            else:
                yield from map_records(records, lambda record: mapping(record.data or {}), counts, reject)

    else:
        path = products_file(Path(root))

        def items() -> Iterator[Any]:
            with path.open("rb") as lines:
                for line in lines:
                    yield orjson.loads(line)

    clients.tokens.token(Deadline.none())  # the token fetch is not part of the stream
    rss_before = _peak_rss_mb()
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    result = clients.connect.import_items("products", header, items)
    wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
    clients.close()
    return {
        "mode": mode,
        "items": result.items_sent,
        "job_id": result.job_id,
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_before_stream_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
        "rejected": len(rejected),
        "first_rejections": rejected[:3],
    }


def _premapped(source: Any) -> Any:
    """``key → wire_item(Product, payload)`` with every payload mapped now (not timed)."""
    from norcekit.imports.mappings import sample  # noqa: PLC0415
    from norcekit.imports.mappings.fields import wire_item  # noqa: PLC0415
    from norcekit.norce.contracts import Product  # noqa: PLC0415

    payloads: dict[str, Any] = {}
    original = sample.wire_item
    sample.wire_item = lambda model, payload: payload  # type: ignore[assignment,return-value]
    try:
        for record in source.iter_all("products"):
            payloads[record.key] = sample.products(record.data)
    finally:
        sample.wire_item = original
    return lambda key: wire_item(Product, payloads[key])


def stage_breakdown(root: Path, *, limit: int) -> tuple[dict[str, float], dict[str, float]]:
    """CPU µs per item of each stage of the kit's stream, and of the old model path for comparison.

    The mapping's ``wire_item`` is intercepted, so the mapping's own Python work is what runs with
    it replaced by a pass-through; the captured payloads are then validated and serialized alone.
    """
    import orjson  # noqa: PLC0415

    from norcekit.imports.config import build_source  # noqa: PLC0415
    from norcekit.imports.mappings import sample  # noqa: PLC0415
    from norcekit.imports.mappings.fields import wire_item  # noqa: PLC0415
    from norcekit.imports.pipeline import RunCounts, count_read, first_of_each_key  # noqa: PLC0415
    from norcekit.norce.contracts import Product, dump_item  # noqa: PLC0415

    source = build_source(integration_config(root), "erp")
    with products_file(root).open("rb") as stream:
        lines = [line for _, line in zip(range(limit), stream, strict=False)]
    rows = [orjson.loads(line) for line in lines]
    original = sample.wire_item
    sample.wire_item = lambda model, payload: payload  # type: ignore[assignment,return-value]
    try:
        payloads = [sample.products(row) for row in rows]
    finally:
        sample.wire_item = original
    items = [wire_item(Product, p) for p in payloads]
    models = [Product.model_validate(p) for p in payloads]

    def best(fn: Any, inputs: list[Any]) -> float:
        times = []
        for _ in range(5):
            started = time.process_time()
            for value in inputs:
                fn(value)
            times.append(time.process_time() - started)
        return min(times) / len(inputs) * 1e6

    def read_records(_: Any) -> None:
        counts = RunCounts()
        for _record in first_of_each_key(count_read(source.iter_all("products"), counts), counts, None):  # type: ignore[arg-type]
            pass

    sample.wire_item = lambda model, payload: payload  # type: ignore[assignment,return-value]
    try:
        helper_us = best(sample.products, rows)
    finally:
        sample.wire_item = original
    record_count = sum(1 for _ in source.iter_all("products"))
    stages = {
        "file drop read (orjson.loads, records, dedupe)": best(read_records, [None]) / record_count,
        "mapping helpers (Row reads, dict building)": helper_us,
        "contract validation (wire_item)": best(lambda p: wire_item(Product, p), payloads),
        "serialization (orjson)": best(dump_item, items),
    }
    reference = {
        "orjson.loads alone": best(orjson.loads, lines),
        "model validation (Product.model_validate, before)": best(Product.model_validate, payloads),
        "model serialization (dump_item of the model, before)": best(dump_item, models),
    }
    return stages, reference


def validation_floor(root: Path, *, passes: int) -> dict[str, list[float]]:
    """CPU µs per item, in one process, alternating: the raw pass-through, the same plus contract
    validation alone (the fast schema's ``validate_python`` on each item's mapped payload, no records,
    dedupe or wrappers), the same with the file-drop source's read (records, keys, dedupe), and the
    kit's own stream. Each is the stream ``ConnectClient`` writes (``_Body``), without the HTTP send.

    What no validation on pydantic-core can go below: the raw pass-through plus one validation.
    """
    import orjson  # noqa: PLC0415

    from norcekit.imports.config import build_source  # noqa: PLC0415
    from norcekit.imports.pipeline import RunCounts, count_read, first_of_each_key, map_records  # noqa: PLC0415
    from norcekit.norce.connect import _Body  # noqa: PLC0415
    from norcekit.norce.contracts import Product  # noqa: PLC0415
    from norcekit.norce.contracts.wire import wire_validator  # noqa: PLC0415

    source = build_source(integration_config(root), "erp")
    premapped = _premapped(source)
    payloads = {key: premapped(key).data for key in (r.key for r in source.iter_all("products"))}
    fast = wire_validator(Product)._fast
    if fast is None:
        raise RuntimeError("the Product contract has no fast schema")
    path = products_file(root)

    def drain(items: Iterator[Any]) -> None:
        for _chunk in _Body(items, None)():
            pass

    def raw() -> Iterator[Any]:
        with path.open("rb") as lines:
            for line in lines:
                yield orjson.loads(line)

    def raw_and_validation() -> Iterator[Any]:
        with path.open("rb") as lines:
            for line, payload in zip(lines, payloads.values(), strict=True):
                orjson.loads(line)
                yield fast.validate_python(payload)

    def read_and_validation() -> Iterator[Any]:
        counts = RunCounts()
        for record in first_of_each_key(count_read(source.iter_all("products"), counts), counts, None):  # type: ignore[arg-type]
            yield fast.validate_python(payloads[record.key])

    def own() -> Iterator[Any]:
        counts = RunCounts()
        records = first_of_each_key(count_read(source.iter_all("products"), counts), counts, None)  # type: ignore[arg-type]
        return map_records(records, lambda record: premapped(record.key), counts, None)  # type: ignore[arg-type]

    cases = {
        "raw": raw,
        "raw + validation": raw_and_validation,
        "read + validation": read_and_validation,
        "own": own,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for items in cases.values():  # warm-up: the fast schema learns the fields
        drain(items())
    for _ in range(passes):
        for name, items in cases.items():
            started = time.process_time()
            drain(items())
            times[name].append((time.process_time() - started) / len(payloads) * 1e6)
    return times


def run(*, quick: bool = False, reps: int | None = None) -> BenchResult:
    sizes = [400] if quick else [10_000, 100_000]
    reps = reps or (1 if quick else 3)
    result = BenchResult(
        NAME,
        "Full import streaming",
        "File drop (sample export, products with variants, 2 cultures) → sample mapping → one "
        "streamed chunked Connect request, each case in a fresh process (peak RSS = high-water mark of "
        "that process, `VmHWM`). The receiver is a minimal chunk-draining HTTP server in a separate process "
        "(`tests/bench/sink.py`): the emulator parses and keeps every item and would be the "
        "bottleneck. Baseline: the same export lines `orjson.loads` → the same `ConnectClient` "
        "(orjson per item, same header, same streaming). The kit's own cost: the kit's stream with the "
        "mapping's work done before the clock starts (read + contract validation + serialization + "
        "streaming). Baseline, kit and own cost alternate per repetition. Items are Connect product "
        "items (~4 SKUs each).",
    )
    per_size: dict[int, dict[str, list[dict[str, Any]]]] = {}
    with sink_process() as url:
        for skus in sizes:
            root, counts = sample_export(skus)
            runs: dict[str, list[dict[str, Any]]] = {"raw": [], "kit": [], "own": []}
            for _ in range(reps):
                for mode in ("raw", "kit", "own"):
                    outcome = run_worker("tests.bench.bench_import", [mode, str(root), url], timeout=900)
                    if outcome["items"] != counts["products"] or outcome["rejected"]:
                        raise RuntimeError(
                            f"{mode} import sent {outcome['items']} of {counts['products']}: {outcome}"
                        )
                    runs[mode].append(outcome)
            per_size[skus] = runs
            label = (
                f"{round(counts['skus'] / 1000)}k SKUs"
                if counts["skus"] >= 1000
                else f"{counts['skus']} SKUs"
            )
            kit_rate = [r["items"] / r["wall_s"] for r in runs["kit"]]
            raw_rate = [r["items"] / r["wall_s"] for r in runs["raw"]]
            result.add(
                ratio_figure(
                    f"{label} ({counts['products']:,} items): throughput",
                    kit_rate,
                    raw_rate,
                    unit="items/s",
                    baseline_label="raw JSON pass-through",
                    goal_ratio=0.25,
                    goal_text=">= 0.25 x baseline (whole stream)",
                )
            )
            result.add(
                Figure(
                    f"{label}: SKUs per second",
                    round(
                        median(
                            [
                                r["items"] / r["wall_s"] * counts["skus"] / counts["products"]
                                for r in runs["kit"]
                            ]
                        ),
                        1,
                    ),
                    "SKUs/s",
                    repetitions=reps,
                )
            )
            kit_cpu_us = [r["cpu_s"] / r["items"] * 1e6 for r in runs["kit"]]
            raw_cpu_us = [r["cpu_s"] / r["items"] * 1e6 for r in runs["raw"]]
            result.add(
                ratio_figure(
                    f"{label}: CPU per item (sender)",
                    kit_cpu_us,
                    raw_cpu_us,
                    unit="µs CPU/item",
                    baseline_label="raw JSON pass-through",
                    goal_ratio=None,
                    higher_is_better=False,
                )
            )
            result.add(
                ratio_figure(
                    f"{label}: kit's own cost per item (read + validate + serialize + stream)",
                    [r["cpu_s"] / r["items"] * 1e6 for r in runs["own"]],
                    raw_cpu_us,
                    unit="µs CPU/item",
                    baseline_label="raw JSON pass-through",
                    goal_ratio=2.0,
                    higher_is_better=False,
                    goal_text="<= 2 x baseline",
                )
            )
            rss = [r["peak_rss_mb"] for r in runs["kit"]]
            result.add(
                Figure(
                    f"{label}: peak RSS",
                    round(median(rss), 1),
                    "MB",
                    repetitions=reps,
                    baseline=round(median([r["peak_rss_mb"] for r in runs["raw"]]), 1),
                    baseline_label="raw JSON pass-through",
                    goal="< 256 MB",
                    passed=median(rss) < 256,
                    samples=[round(x, 1) for x in rss],
                )
            )
            rss_at_start = median([r["rss_before_stream_mb"] for r in runs["kit"]])
            result.notes.append(
                f"{label}: {counts['products']:,} products, {counts['variants']:,} variants, "
                f"{counts['skus']:,} SKUs; RSS after imports, before streaming {rss_at_start:.1f} MB (kit)."
            )

    if len(sizes) == 2:
        small, large = (median([r["peak_rss_mb"] for r in per_size[s]["kit"]]) for s in sizes)
        result.add(
            Figure(
                "peak RSS growth 10k → 100k SKUs",
                round(large / small, 3),
                "x",
                repetitions=reps,
                baseline=round(small, 1),
                baseline_label="10k peak RSS, MB",
                ratio=round(large / small, 3),
                goal="<= 1.3x",
                passed=large / small <= 1.3,
            )
        )
    floor = validation_floor(sample_export(sizes[0])[0], passes=3 if quick else 9)
    for name in ("raw + validation", "read + validation", "own"):
        result.add(
            ratio_figure(
                f"floor, in-process: {name} (no HTTP)",
                floor[name],
                floor["raw"],
                unit="µs CPU/item",
                baseline_label="raw JSON pass-through, same process",
                goal_ratio=None,
                higher_is_better=False,
            )
        )
    result.notes.append(
        "Floor (in one process, alternating, no HTTP send): 'raw + validation' is the raw pass-through "
        "plus only pydantic-core's validation of each item's mapped payload (no records, dedupe or "
        "wrappers); 'read + validation' adds the file-drop source's read (records, keys, timestamps, "
        "dedupe) that every import needs; 'own' is the kit's own stream. No validation on pydantic-core "
        "can cost less than the first."
    )
    stages, reference = stage_breakdown(sample_export(sizes[0])[0], limit=200 if quick else 2000)
    total = sum(stages.values())
    result.notes.append(
        "Where the kit's CPU goes per item (in-process, min of 5 passes, same items): "
        + ", ".join(f"{name} {us:.1f} µs ({us / total:.0%})" for name, us in stages.items())
        + ". For comparison: "
        + ", ".join(f"{name} {us:.1f} µs" for name, us in reference.items())
        + "."
    )
    largest = per_size[sizes[-1]]["kit"]
    _, counts = sample_export(sizes[-1])
    skus_per_cpu_s = median([r["items"] / r["cpu_s"] for r in largest]) * counts["skus"] / counts["products"]
    skus_per_wall_s = (
        median([r["items"] / r["wall_s"] for r in largest]) * counts["skus"] / counts["products"]
    )
    projected = ONE_MILLION / skus_per_cpu_s
    result.add(
        Figure(
            "projected 1M SKUs in one Lambda (1 vCPU)",
            round(projected, 1),
            "s",
            repetitions=reps,
            goal=f"< {LAMBDA_LIMIT_S:.0f} s (Lambda limit)",
            passed=projected < LAMBDA_LIMIT_S,
        )
    )
    result.notes.append(
        f"1M projection: 1,000,000 SKUs ÷ {skus_per_cpu_s:,.0f} SKUs per CPU-second of the sender "
        f"(median of the largest case; by wall clock on this shared machine {skus_per_wall_s:,.0f} SKUs/s "
        f"→ {ONE_MILLION / skus_per_wall_s:,.0f} s). Assumes a 1,769 MB Lambda = one full vCPU ≈ one core "
        "here, the stream is CPU-bound (Norce reads as fast as we write), and memory stays flat (the "
        "only per-item state kept is the set of seen keys, ~100 B per product)."
    )
    return result


def _main(argv: list[str]) -> int:
    import json  # noqa: PLC0415

    mode, root, url = argv
    print(json.dumps(worker(mode, root, url)))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
