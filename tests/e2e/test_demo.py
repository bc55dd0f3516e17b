"""``make demo`` end to end: ``python -m norcekit_local.demo`` in a subprocess, as a user runs it.

The demo checks each stage itself; these tests hold it to its word: exit 0 comes with the figures
in ``<root>/out/summary.json`` and the outputs on disk, and a broken stage exits 1 naming it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_demo(
    root: Path, *args: str, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    process = subprocess.run(
        [sys.executable, "-m", "norcekit_local.demo", "--root", str(root), "--quiet", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    last_line = json.loads(process.stdout.strip().splitlines()[-1])
    summary: dict[str, Any] = json.loads(Path(last_line["demo_summary"]).read_text())
    assert last_line["ok"] is summary["ok"]
    return process, summary


def test_demo_runs_every_stage_and_verifies_it(tmp_path: Path) -> None:
    process, summary = run_demo(tmp_path)
    assert process.returncode == 0, process.stderr
    assert summary["ok"] is True and summary["failed_stage"] is None
    assert [s["number"] for s in summary["stages"] if s["ok"]] == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    # Issue 15: a checkout posted three times reaches the ERP once; the ERP's answers reach Norce.
    orders = summary["orders"]
    assert (orders["checkout_posts"], orders["stored"], orders["at_erp"]) == (3, 1, 1)
    assert (orders["status"], orders["erp_order_no"]) == ("Confirmed", "ERP-300001")
    # Issue 12: empty and half-size exports refused, an unknown PartNo's price kept for replay.
    guardrails = summary["guardrails"]
    assert len(guardrails["refused"]) == 2 and guardrails["active_skus_unchanged"] > 0
    assert guardrails["quarantined_norce_items"] and guardrails["succeeded_with_failures"]
    assert summary["wall_time_s"] < 180

    # 1. the initial load, tracked to success
    full = summary["imports"]["full"]
    assert full["products"]["submitted"] >= 1000 and summary["catalog"]["products"] >= 1000
    assert set(full) == {
        "products",
        "sku_prices",
        "price_lists",
        "onhand",
        "customers",
        "companies",
        "supplier_products",
    }
    assert all(figures["job_status"] == ["succeeded"] for figures in full.values())
    assert summary["jobs"]["succeeded"] == summary["jobs"]["total"] > 7

    # Issue 14: the PIM's import (its own AccountId) wrote the names, the ERP's kept the statuses.
    named = summary["named_imports"]
    assert named["account_ids"]["products"] != named["account_ids"]["pim_products"]
    assert named["names_from_pim"] == summary["catalog"]["products"]
    assert named["statuses_from_erp"] == summary["catalog"]["skus"]

    # 2. deltas, then the full import that deactivates what the ERP no longer has
    changes = summary["changes"]
    assert changes["removed_deactivated"] is True and changes["deleted_deactivated_by_full_import"] is True
    assert changes["added_active"] is True
    assert summary["imports"]["delta"]["sku_prices"]["submitted"] >= len(changes["changed_prices"]) > 0
    assert (
        summary["imports"]["full_after_changes"]["products"]["submitted"] == full["products"]["submitted"] - 1
    )

    # 3. events delivered to each target, for every changed key
    events = summary["events"]
    assert events["webhooks_delivered"] > 0
    for target in ("http sink", "s3", "eventbridge"):
        assert events["delivered"][target] >= events["changed_keys"] > 0

    # 4. quarantine and DLQ
    assert summary["quarantine"]["webhook"] >= 1 and summary["quarantine"]["import_record"] >= 1
    assert summary["quarantine"]["total"] >= 2
    dlq = summary["dlq"]
    assert dlq["dead_lettered"] >= 1 and dlq["redriven"] >= 1 and dlq["delivered_after_redrive"] is True
    assert dlq["refusals"] >= dlq["max_receive_count"]

    # 5. outputs a user can open, and nothing left running
    out = tmp_path / "out"
    http_docs = list((out / "http").rglob("*.json"))
    assert http_docs and json.loads(http_docs[0].read_text())["entity"] in {"sku", "customer"}
    assert list((out / "s3").rglob("*.json"))
    assert (out / "eventbridge" / "events.jsonl").read_text().strip()
    redriven = out / "http" / "sku" / f"{dlq['key']}.json"
    assert json.loads(redriven.read_text())["key"] == dlq["key"]
    assert not (tmp_path / "stack.json").exists()


@pytest.mark.parametrize(
    ("sabotage", "seen"),
    [
        ("jobs", "queued"),  # Norce never runs the jobs: success must be seen, not assumed
        ("catalog", "products: 19 in Norce vs 20 in the ERP export"),
    ],
)
def test_a_failed_check_names_the_stage_and_exits_1(tmp_path: Path, sabotage: str, seen: str) -> None:
    process, summary = run_demo(
        tmp_path, "--products", "20", "--timeout", "4", "--sabotage", sabotage, timeout=120
    )
    assert process.returncode == 1
    assert summary["ok"] is False
    assert summary["failed_stage"] == "1: full imports from the ERP export"
    failed = summary["stages"][-1]
    assert failed["ok"] is False and seen in failed["seen"]
    assert "stage 1 (full imports from the ERP export): expected" in process.stderr
    assert seen in process.stderr.replace("\n", " ")
    assert not (tmp_path / "stack.json").exists()
