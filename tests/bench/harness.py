"""Shared pieces of the benchmarks: figures, medians, machine facts, subprocess workers, output files.

Every benchmark returns a :class:`BenchResult` made of :class:`Figure` rows. A figure that has a
goal carries its baseline (measured in the same run, on the same machine) and the ratio the goal
is judged on, so a busy machine slows baseline and candidate alike and the verdict stays fair.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
RESULTS_PATH = REPO / "tests" / "bench" / "results.json"
DOC_PATH = REPO / "docs" / "performance.md"
#: Generated sample exports are cached here between runs (``make clean`` removes ``.local``).
DATA_DIR = REPO / ".local" / "bench-data"


@dataclass
class Figure:
    """One measured number; ``passed`` is None for figures without a goal."""

    name: str
    value: float
    unit: str
    repetitions: int = 1
    baseline: float | None = None
    baseline_label: str | None = None
    ratio: float | None = None
    goal: str | None = None
    passed: bool | None = None
    samples: list[float] = field(default_factory=list)


@dataclass
class BenchResult:
    name: str
    title: str
    method: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    @property
    def passed(self) -> bool | None:
        verdicts = [f.passed for f in self.figures if f.passed is not None]
        return all(verdicts) if verdicts else None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


def machine_info() -> dict[str, Any]:
    """What the figures were measured on (the load average says how busy the machine was)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "memory_mb": mem_kb // 1024,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run_worker(
    module: str, args: Iterable[str], *, timeout: float = 600, env: dict[str, str] | None = None
) -> Any:
    """Run ``python -m <module> <args>`` in a fresh process; its last stdout line is JSON."""
    completed = subprocess.run(
        [PYTHON, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"worker {module} {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
        )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def ratio_figure(
    name: str,
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    unit: str,
    baseline_label: str,
    goal_ratio: float | None,
    higher_is_better: bool = True,
    goal_text: str | None = None,
) -> Figure:
    """Median of ``candidate`` vs median of ``baseline``; the goal is ``ratio >= goal_ratio``
    (or ``<=`` when lower is better)."""
    value, base = median(candidate), median(baseline)
    ratio = value / base if base else float("inf")
    passed = None
    if goal_ratio is not None:
        passed = ratio >= goal_ratio if higher_is_better else ratio <= goal_ratio
    return Figure(
        name=name,
        value=round(value, 3),
        unit=unit,
        repetitions=len(candidate),
        baseline=round(base, 3),
        baseline_label=baseline_label,
        ratio=round(ratio, 3),
        goal=goal_text
        or (f"ratio {'>=' if higher_is_better else '<='} {goal_ratio}" if goal_ratio else None),
        passed=passed,
        samples=[round(x, 4) for x in candidate],
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# --- output ---------------------------------------------------------------------------------------


def results_document(
    results: list[BenchResult], *, mode: str, started: datetime, machine_before: dict[str, Any]
) -> dict[str, Any]:
    finished = datetime.now(UTC)
    return {
        "timestamp": finished.isoformat(timespec="seconds"),
        "mode": mode,
        "duration_s": round((finished - started).total_seconds(), 1),
        "machine": {**machine_before, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "summary": {
            "goals": sum(1 for r in results for f in r.figures if f.passed is not None),
            "passed": sum(1 for r in results for f in r.figures if f.passed is True),
            "failed": sum(1 for r in results for f in r.figures if f.passed is False),
        },
        "benchmarks": {
            r.name: {
                "title": r.title,
                "method": r.method,
                "passed": r.passed,
                "duration_s": round(r.duration_s, 1),
                "measured_at": finished.isoformat(timespec="seconds"),
                "load_average": machine_before["load_average"],
                "figures": [asdict(f) for f in r.figures],
                "notes": r.notes,
            }
            for r in results
        },
    }


def merge_results(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``current`` with the benchmarks of ``previous`` it did not run kept as they were.

    Each kept benchmark carries ``measured_at``/``load_average`` (its own run's, else the previous
    file's), so the page can say which rows are older; goals are counted over all of them.
    """
    kept = {
        name: {
            **bench,
            "measured_at": bench.get("measured_at", previous["timestamp"]),
            "load_average": bench.get("load_average", previous["machine"]["load_average"]),
        }
        for name, bench in previous["benchmarks"].items()
    }
    benchmarks = {**kept, **current["benchmarks"]}  # previous order; re-measured ones replaced
    figures = [fig for bench in benchmarks.values() for fig in bench["figures"]]
    summary = {
        "goals": sum(1 for f in figures if f["passed"] is not None),
        "passed": sum(1 for f in figures if f["passed"] is True),
        "failed": sum(1 for f in figures if f["passed"] is False),
    }
    return {**current, "summary": summary, "benchmarks": benchmarks}


def write_json(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "**MISS**", None: ""}[passed]


def _older_rows(document: dict[str, Any]) -> list[str]:
    """A line naming the benchmarks kept from earlier runs (``--merge``), with when they were run."""
    older = [
        f"{bench['title']} ({bench['measured_at']}, load average {bench['load_average'][0]})"
        for bench in document["benchmarks"].values()
        if bench.get("measured_at") and bench["measured_at"] != document["timestamp"]
    ]
    if not older:
        return []
    return [f"Rows kept from earlier runs (`--merge`): {'; '.join(older)}.", ""]


def render_markdown(document: dict[str, Any], *, extra_sections: list[str]) -> str:
    machine = document["machine"]
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`python -m tests.bench`); the raw figures are in "
        "`tests/bench/results.json`. Do not edit by hand: rerun the benchmarks.",
        "",
        f"Measured {document['timestamp']} ({document['mode']} run, {document['duration_s']:.0f} s) on "
        f"{machine['cpu_count']} x {machine['cpu_model'] or machine['machine']}, "
        f"{machine['memory_mb']:,} MB, Python {machine['python']}; load average "
        f"{machine['load_average'][0]} at start, {machine['load_average_at_end'][0]} at end. "
        "Other processes share this machine, so absolute figures vary from run to run; every goal "
        "is judged on a ratio against a baseline measured in the same run (medians over repetitions).",
        "",
        *_older_rows(document),
        f"Goals: {document['summary']['passed']} of {document['summary']['goals']} met.",
        "",
        "| Benchmark | Figure | Value | Unit | Baseline | Ratio | Goal | Verdict | Reps |",
        "|---|---|---:|---|---:|---:|---|---|---:|",
    ]
    for bench in document["benchmarks"].values():
        for fig in bench["figures"]:
            base = _fmt(fig["baseline"])
            if fig["baseline"] is not None and fig["baseline_label"]:
                base = f"{base} ({fig['baseline_label']})"
            cells = [
                bench["title"], fig["name"], _fmt(fig["value"]), fig["unit"], base, _fmt(fig["ratio"]),
                fig["goal"] or "", _verdict(fig["passed"]), str(fig["repetitions"]),
            ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Method", ""]
    for bench in document["benchmarks"].values():
        lines += [f"### {bench['title']}", "", bench["method"], ""]
        for note in bench["notes"]:
            lines.append(f"- {note}")
        if bench["notes"]:
            lines.append("")
    for section in extra_sections:
        lines += [section.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"
