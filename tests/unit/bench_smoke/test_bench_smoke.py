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


def test_merge_keeps_the_other_benchmarks_rows(tmp_path: Path) -> None:
    results, page = tmp_path / "results.json", tmp_path / "performance.md"
    earlier = {
        "timestamp": "2026-01-02T03:04:05+00:00",
        "machine": {"load_average": [1.5, 1.0, 0.5]},
        "benchmarks": {
            "events": {
                "title": "Event processing",
                "method": "m",
                "passed": False,
                "duration_s": 1.0,
                "notes": [],
                "figures": [{**dict.fromkeys(FIGURE_FIELDS), "name": "throughput", "unit": "x",
                             "value": 1.0, "repetitions": 1, "passed": False}],
            },
            "serialize": {"title": "stale", "method": "m", "figures": [], "notes": []},
        },
    }  # fmt: skip
    results.write_text(json.dumps(earlier))

    args = ["--quick", "--only", "serialize", "--out", str(results), "--doc", str(page), "--merge"]
    assert main(args) == 0

    document = json.loads(results.read_text())
    assert list(document["benchmarks"]) == ["events", "serialize"]
    assert document["benchmarks"]["events"]["figures"][0]["name"] == "throughput"
    assert document["benchmarks"]["serialize"]["title"] == "Item serialization"
    assert document["summary"]["goals"] == 2 and document["summary"]["failed"] >= 1
    text = page.read_text()
    assert "| Event processing | throughput |" in text
    assert "Event processing (2026-01-02T03:04:05+00:00, load average 1.5)" in text
    assert "Item serialization (" not in text.split("Goals:")[0]  # this run's rows are not "older"
