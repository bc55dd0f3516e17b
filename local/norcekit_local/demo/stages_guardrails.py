"""Demo stage: a full import that would deactivate by accident is refused; rejected items are kept.

* An empty products export (the ``.done`` marker, no rows) and a half-size one are refused by the
  full-import guardrails: no job, the catalogue unchanged (DESIGN rule 10).
* A delta with a price for a PartNo Norce does not know ends ``succeeded_with_failures``: Norce's
  job Succeeded with ``Fail = 1``, the item is in ``norcekit quarantine list`` (rule 11).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from norcekit.state.runs import RunOutcome

from ..sample_data.files import iso, newest_full, stamp
from .core import Demo, StageFailed

if TYPE_CHECKING:
    from norcekit.state.runs import RunRecord

UNKNOWN_PART_NO = "DEMO-UNKNOWN-SKU"


def _drop(path: Path, body: str) -> list[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    done = path.with_name(path.name + ".done")
    done.write_text("", encoding="utf-8")
    return [path, done]


def _active_skus(demo: Demo) -> int:
    return sum(1 for row in demo.stack.emulator.catalog_rows("skus") if row["IsActive"])


def stage_guardrails(demo: Demo) -> None:
    from norcekit.deadline import Deadline  # noqa: PLC0415 - the library loads with the stack

    emulator = demo.stack.emulator
    current = newest_full(demo.sample_dir, "products")
    lines = [line for line in current.read_text(encoding="utf-8").splitlines() if line.strip()]
    jobs_before, active_before = len(emulator.jobs()), _active_skus(demo)
    rows = []
    exports = [
        ("an empty export (a .done marker, no rows)", ""),
        (
            f"a half-size export ({len(lines) // 2} of {len(lines)} products)",
            "\n".join(lines[: len(lines) // 2]),
        ),
    ]
    for n, (label, body) in enumerate(exports, 1):
        name = f"{stamp(datetime.now(UTC) + timedelta(seconds=n))}-demo.jsonl"
        dropped = _drop(current.parent / name, body)
        try:
            result = demo.svc.runner.run("products", "full", deadline=Deadline.after(600))
        finally:
            for path in dropped:  # the real export is the newest again for whatever runs next
                path.unlink()
        demo.expect(
            result.outcome is RunOutcome.REFUSED,
            f"{label} to be refused by a guardrail",
            f"outcome {result.outcome.value}: {result.message}",
        )
        rows.append([label, result.outcome.value, (result.message or "").split("; nothing")[0]])
    demo.out.table(
        "A full import that would deactivate the catalogue", ["products export", "outcome", "why"], rows
    )
    demo.expect(
        len(emulator.jobs()) == jobs_before and _active_skus(demo) == active_before,
        "no job submitted and the catalogue unchanged",
        f"jobs {jobs_before} → {len(emulator.jobs())}, active SKUs {active_before} → {_active_skus(demo)}",
    )
    demo.out.ok(f"refused twice: no job submitted, {active_before} SKUs still active in Norce")

    # A price for a SKU Norce does not know: the job Succeeds with Fail = 1.
    price_list = next(iter(emulator.catalog_rows("price_lists")))["Code"]
    changed = datetime.now(UTC) - timedelta(seconds=3)
    price_csv = io.StringIO()
    writer = csv.writer(price_csv)
    writer.writerow(["part_no", "price_list_code", "quantity_break", "price_sale", "updated_at"])
    writer.writerow([UNKNOWN_PART_NO, price_list, "1", "199.00", iso(changed)])
    _drop(demo.sample_dir / "sku_prices" / "delta" / f"{stamp(changed)}-demo.csv", price_csv.getvalue())
    result = demo.svc.runner.run("sku_prices", "delta", deadline=Deadline.after(600))
    demo.expect(
        result.job_ids != [], "the delta with the unknown PartNo to be submitted", str(result.message)
    )

    def settled() -> RunRecord | None:
        run = demo.svc.run_store.get(result.run_id)
        return run if run.outcome not in (RunOutcome.SUBMITTED, RunOutcome.RUNNING) else None

    run = demo.wait("the delta's job to end", settled, lambda: "still submitted")
    if run.outcome is not RunOutcome.SUCCEEDED_WITH_FAILURES:
        raise StageFailed("outcome succeeded_with_failures", f"{run.outcome.value}: {run.message}")
    kept = [
        item
        for item in demo.svc.quarantine.list("norce_item", limit=1000)
        if UNKNOWN_PART_NO in str(item.metadata.get("record_key", ""))
    ]
    demo.expect(bool(kept), f"{UNKNOWN_PART_NO} in `norcekit quarantine list`", "not in the quarantine")
    demo.out.table(
        "A price Norce rejected inside a Succeeded job",
        ["run outcome", "quarantined (norce_item)", "Norce's message"],
        [["succeeded_with_failures", kept[0].metadata["record_key"], kept[0].reason]],
    )
    demo.summary["guardrails"] = {
        "refused": [row[0] for row in rows],
        "active_skus_unchanged": active_before,
        "succeeded_with_failures": result.run_id,
        "quarantined_norce_items": [item.metadata["record_key"] for item in kept],
    }
