"""``python -m tests.bench [--quick] [--only NAME ...]``: run the benchmarks, write the results.

Writes ``tests/bench/results.json`` and ``docs/performance.md`` (``--out`` / ``--doc`` to change,
``--no-doc`` to skip the page, ``--render`` to rewrite the page from an existing results file,
``--merge`` to keep the results file's other benchmarks when running ``--only`` some).
Exit status 0 even when a goal is missed: the verdicts are in the outputs (``--strict`` exits 1
on a missed goal).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.harness import (
    DOC_PATH,
    RESULTS_PATH,
    BenchResult,
    machine_info,
    merge_results,
    render_markdown,
    results_document,
    write_json,
)

#: name → module with ``run(*, quick: bool) -> BenchResult`` (imported only when selected).
BENCHMARKS: dict[str, str] = {
    "serialize": "tests.bench.bench_serialize",
    "import_full": "tests.bench.bench_import",
    "import_delta": "tests.bench.bench_delta",
    "events": "tests.bench.bench_events",
    "webhook": "tests.bench.bench_webhook",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition (smoke check)")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_PATH, help="results JSON path")
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="markdown page path")
    parser.add_argument("--no-doc", action="store_true", help="do not write the markdown page")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--render", action="store_true", help="only rewrite the markdown page from the results JSON"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the benchmarks of the existing results JSON that this run does not measure",
    )
    args = parser.parse_args(argv)
    if args.render:
        _write_doc(json.loads(args.out.read_text()), args.doc)
        return 0

    names = args.only or list(BENCHMARKS)
    started = datetime.now(UTC)
    machine = machine_info()
    print(
        f"machine: {machine['cpu_count']} x {machine['cpu_model']}, {machine['memory_mb']} MB, "
        f"Python {machine['python']}, load {machine['load_average']}",
        flush=True,
    )
    results: list[BenchResult] = []
    for name in names:
        print(f"--- {name}", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        t0 = time.perf_counter()
        result: BenchResult = module.run(quick=args.quick)
        result.duration_s = time.perf_counter() - t0
        results.append(result)
        for fig in result.figures:
            verdict = {True: "pass", False: "MISS", None: ""}[fig.passed]
            ratio = f" ratio {fig.ratio}" if fig.ratio is not None else ""
            print(f"  {fig.name}: {fig.value} {fig.unit}{ratio} {fig.goal or ''} {verdict}", flush=True)
        print(f"  ({result.duration_s:.1f} s)", flush=True)

    document = results_document(results, mode="quick" if args.quick else "full", started=started,
                                machine_before=machine)  # fmt: skip
    if args.merge and args.out.exists():
        document = merge_results(json.loads(args.out.read_text()), document)
    write_json(document, args.out)
    print(f"wrote {args.out}")
    if not args.no_doc:
        _write_doc(document, args.doc)
    if args.strict and document["summary"]["failed"]:
        return 1
    return 0


def _write_doc(document: dict[str, Any], path: Path) -> None:
    from tests.bench.fixes import FIXES_SECTION  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(document, extra_sections=[FIXES_SECTION]))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
