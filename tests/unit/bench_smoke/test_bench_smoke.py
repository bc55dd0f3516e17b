"""Keeps the benchmark harness from rotting: one cheap benchmark in --quick mode, outputs checked.

Timings are not asserted (they depend on the machine); the shape of the results file and the page is.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.__main__ import main

FIGURE_FIELDS = {
    "name", "value", "unit", "repetitions", "baseline", "baseline_label",
    "ratio", "goal", "passed", "samples",
}  # fmt: skip


def test_quick_serialize_run_writes_results_and_page(tmp_path: Path) -> None:
    results, page = tmp_path / "results.json", tmp_path / "performance.md"

    status = main(["--quick", "--only", "serialize", "--out", str(results), "--doc", str(page)])

    assert status == 0
    document = json.loads(results.read_text())
    assert document["mode"] == "quick"
    assert {"timestamp", "duration_s", "machine", "summary", "benchmarks"} <= set(document)
    assert document["machine"]["cpu_count"] >= 1
    assert document["machine"]["python"]
    assert list(document["benchmarks"]) == ["serialize"]
    bench = document["benchmarks"]["serialize"]
    assert bench["title"] and bench["method"]
    figure = bench["figures"][0]
    assert set(figure) == FIGURE_FIELDS
    assert figure["value"] > 0 and figure["baseline"] > 0
    assert abs(figure["ratio"] - figure["value"] / figure["baseline"]) <= 0.01 * figure["ratio"]
    assert figure["passed"] in (True, False)
    assert figure["repetitions"] == len(figure["samples"]) >= 1
    summary = document["summary"]
    assert summary["goals"] == 1 and summary["passed"] + summary["failed"] == 1
    text = page.read_text()
    assert text.startswith("# Performance")
    assert "| Item serialization | dump_item throughput |" in text
    rerendered = tmp_path / "again.md"
    assert main(["--render", "--out", str(results), "--doc", str(rerendered)]) == 0
    assert rerendered.read_text() == text


def test_unknown_benchmark_name_is_refused(tmp_path: Path) -> None:
    try:
        main(["--quick", "--only", "nope", "--out", str(tmp_path / "r.json"), "--no-doc"])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover - argparse always exits here
        raise AssertionError("an unknown benchmark name was accepted")
    assert not (tmp_path / "r.json").exists()
