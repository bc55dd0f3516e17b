"""Shared pieces of the reliability suite: the figures each test records for docs/reliability.md.

Every test may ask for ``figures`` (a dict) and fill it; at teardown the dict (plus the test's wall
time) is merged into ``.local/reliability-figures.json`` under the test's name. The file is updated
under an exclusive lock, so ``pytest -n 2`` workers do not overwrite each other.
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURES_FILE = REPO_ROOT / ".local" / "reliability-figures.json"


def record_figures(name: str, figures: dict[str, Any]) -> None:
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    with (FIGURES_FILE.parent / ".reliability-figures.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = json.loads(FIGURES_FILE.read_text()) if FIGURES_FILE.is_file() else {}
        except ValueError:
            current = {}
        current[name] = figures
        tmp = FIGURES_FILE.with_suffix(".tmp")
        tmp.write_text(json.dumps(current, indent=2, sort_keys=True, default=str) + "\n")
        tmp.replace(FIGURES_FILE)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Numbers this test wants in docs/reliability.md (written only when the test passed)."""
    data: dict[str, Any] = {}
    started = time.monotonic()
    yield data
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        data["wall_time_s"] = round(time.monotonic() - started, 2)
        record_figures(request.node.name, data)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
