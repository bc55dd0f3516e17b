"""What the demo's stages share: the :class:`Demo` state, import runs and waits, source reading."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, unquote

from norcekit.deadline import Deadline
from norcekit.norce.jobs import JobStatus
from norcekit.state.runs import RunOutcome

from ..demo_output import Reporter
from ..sample_data.generate import (
    ChangeSet,
    newest_full,
    read_csv,
    read_jsonl,
    stamp,
    write_jsonl,
)
from ..sink import SinkService
from ..stack import LocalStack

if TYPE_CHECKING:
    from rich.progress import TaskID

    from norcekit.cli.services import Services
    from norcekit.imports.runner import RunResult
    from norcekit.state.runs import RunRecord


T = TypeVar("T")

DEFAULT_ROOT = ".local"
SUMMARY_FILE = "summary.json"
#: Entities whose rows refer to others: they are imported once those have succeeded.
DEPENDS_ON: dict[str, set[str]] = {
    "sku_prices": {"products", "price_lists"},
    "onhand": {"products"},
    "customers": {"companies", "price_lists"},
}
SABOTAGE = ("jobs", "catalog")


class StageFailed(Exception):  # noqa: N818 - a verdict, reported to the user
    def __init__(self, expected: str, seen: str) -> None:
        super().__init__(f"expected {expected}; seen {seen}")
        self.expected = expected
        self.seen = seen


@dataclass
class StageRecord:
    number: int
    name: str
    ok: bool = False
    seconds: float = 0.0
    expected: str | None = None
    seen: str | None = None


@dataclass
class Demo:
    """Everything the stages share: the stack, its services, and what was seen so far."""

    stack: LocalStack
    svc: Services
    out: Reporter
    timeout: float
    sabotage: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    bus_events: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    change: ChangeSet | None = None
    deleted_product: str = ""
    runs: list[RunRecord] = field(default_factory=list)

    # --- services of the stack ---

    def service(self, kind: type[T]) -> T:
        for service in self.stack.services:
            if isinstance(service, kind):
                return service
        raise RuntimeError(f"the local stack runs no {kind.__name__}")

    @property
    def sink(self) -> Any:
        sink = self.service(SinkService).sink
        assert sink is not None
        return sink

    @property
    def sample_dir(self) -> Path:
        return self.stack.sample_dir

    @property
    def out_dir(self) -> Path:
        return self.stack.root / "out"

    # --- waiting ---

    def wait(self, expected: str, check: Callable[[], T | None], seen: Callable[[], str]) -> T:
        """Poll ``check`` until it returns something truthy, or fail naming what was seen."""
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise StageFailed(f"{expected} within {self.timeout:.0f}s", seen())
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def expect(self, condition: bool, expected: str, seen: str) -> None:
        if not condition:
            raise StageFailed(expected, seen)

    # --- AWS reads ---

    def drain_bus(self) -> list[dict[str, Any]]:
        """Read (and delete) what the bus rule forwarded to the bus sink queue; keep it in memory."""
        sqs = self.svc.sqs
        url = self.stack.info["bus_sink_queue_url"]
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                return self.bus_events
            for message in messages:
                with contextlib.suppress(ValueError):
                    self.bus_events.append(json.loads(message["Body"]))
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def s3_target_keys(self) -> list[str]:
        s3 = self.svc.quarantine.client
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.stack.info["bucket"], Prefix="targets/"
        ):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
        return keys


# --- imports ----------------------------------------------------------------------------------------


def waves(entities: Sequence[str]) -> list[list[str]]:
    """Entities in import order: each wave only refers to entities of earlier waves."""
    pending = list(entities)
    done: set[str] = set()
    ordered: list[list[str]] = []
    while pending:
        wave = [e for e in pending if not (DEPENDS_ON.get(e, set()) & set(pending)) or e in done]
        if not wave:  # a cycle cannot happen with DEPENDS_ON; keep going rather than spin
            wave = pending[:]
        ordered.append(wave)
        done.update(wave)
        pending = [e for e in pending if e not in done]
    return ordered


def run_imports(demo: Demo, mode: str, entities: Sequence[str]) -> list[RunRecord]:
    """Run imports wave by wave; each wave's jobs are tracked to success before the next starts."""
    progress = demo.out.progress()
    finished: list[RunRecord] = []
    with progress or contextlib.nullcontext():
        for wave in waves(entities):
            started: list[tuple[RunResult, TaskID | None]] = []
            for entity in wave:
                task = (
                    progress.add_task(f"{entity} {mode}", total=2, status="reading the ERP export…")
                    if progress
                    else None
                )
                result = _run_one(demo, entity, mode)
                jobs = ", ".join(map(str, result.job_ids))
                status = (
                    f"{result.counts.submitted} items → job {jobs}" if jobs else "nothing changed, no job"
                )
                if progress and task is not None:
                    progress.update(task, advance=1, status=status + ", tracking…")
                else:
                    demo.out.say(f"  {entity:<18} {mode:<5} {status}")
                started.append((result, task))
            for result, task in started:
                record = wait_run_succeeded(demo, result)
                finished.append(record)
                lead = max((j.lead_time_s or 0.0 for j in run_jobs(demo, record)), default=0.0)
                text = f"{record.counts.submitted} items, succeeded (job lead time {lead:.1f}s)"
                if not record.job_ids:
                    text = "nothing to import, watermark moved"
                if progress and task is not None:
                    progress.update(task, advance=1, status=text)
                else:
                    demo.out.say(f"  {result.entity:<18} {mode:<5} {text}")
    demo.runs += finished
    return finished


def _run_one(demo: Demo, entity: str, mode: str) -> RunResult:
    result = demo.svc.runner.run(entity, mode, deadline=Deadline.after(600))  # type: ignore[arg-type]
    demo.expect(
        result.outcome in (RunOutcome.SUBMITTED, RunOutcome.SUCCEEDED),
        f"the {entity} {mode} import to submit its jobs",
        f"outcome {result.outcome.value}: {result.message}",
    )
    return result


def run_jobs(demo: Demo, run: RunRecord) -> list[Any]:
    return [job for job in (demo.svc.job_store.find(j) for j in run.job_ids) if job is not None]


def wait_run_succeeded(demo: Demo, result: RunResult) -> RunRecord:
    """Until the job monitor (or a JobCompletedEvent) has marked every job and the run succeeded
    and the watermark is committed — read from the state table, never assumed."""

    def check() -> RunRecord | None:
        run = demo.svc.run_store.get(result.run_id)
        if run.outcome is RunOutcome.FAILED:
            raise StageFailed(f"the {run.entity} {run.mode} run to succeed", f"failed: {run.message}")
        if run.outcome is not RunOutcome.SUCCEEDED:
            return None
        if any(job.status is not JobStatus.SUCCEEDED for job in run_jobs(demo, run)):
            return None
        if run.candidate_watermark is not None:
            committed = demo.svc.watermark_store.get(run.entity)
            if committed is None or committed < run.candidate_watermark:
                return None
        return run

    def seen() -> str:
        run = demo.svc.run_store.get(result.run_id)
        jobs = ", ".join(f"{j.job_id} {j.status.name.lower()}" for j in run_jobs(demo, run)) or "no jobs"
        return f"{run.entity} {run.mode} run {run.outcome.value}; jobs: {jobs}"

    return demo.wait(f"{result.entity} {result.mode}: jobs succeeded and watermark committed", check, seen)


# --- source reading -----------------------------------------------------------------------------------


def source_counts(sample: Path) -> dict[str, int]:
    """Rows per entity in the newest full exports, and SKUs in the products export."""
    counts: dict[str, int] = {}
    products = list(read_jsonl(newest_full(sample, "products")))
    counts["products"] = len(products)
    counts["skus"] = sum(len(v["skus"]) for p in products for v in p["variants"])
    for entity in ("sku_prices", "onhand"):
        counts[entity] = sum(1 for _ in read_csv(newest_full(sample, entity)))
    for entity in ("price_lists", "customers", "companies", "supplier_products"):
        counts[entity] = sum(1 for _ in read_jsonl(newest_full(sample, entity)))
    return counts


def part_nos(product: dict[str, Any]) -> list[str]:
    return [sku["part_no"] for variant in product["variants"] for sku in variant["skus"]]


def product_skus(sample: Path, code: str) -> list[str]:
    """SKUs of ``code`` in any products export (full or delta) of the sample."""
    for path in sorted((sample / "products").glob("*/*.jsonl"), reverse=True):
        for row in read_jsonl(path):
            if row["code"] == code:
                return part_nos(row)
    return []


def delete_outright(demo: Demo, *, at: datetime) -> str:
    """The ERP deletes a product without any delta row: its next full export just lacks it."""
    change = demo.change
    assert change is not None
    touched = {key.split("|")[0].rsplit("-", 2)[0] for key in change.changed_prices + change.changed_onhand}
    touched |= {change.added_product, change.removed_product}
    rows = list(read_jsonl(newest_full(demo.sample_dir, "products")))
    victim = str(next(row["code"] for row in rows if row["code"] not in touched))
    write_jsonl(
        demo.sample_dir / "products" / "full" / f"{stamp(at)}.jsonl",
        (row for row in rows if row["code"] != victim),
    )
    demo.deleted_product = victim
    return victim


def active_count(demo: Demo, skus: Iterable[str]) -> int:
    emulator = demo.stack.emulator
    return sum(1 for sku in skus if (row := emulator.sku(sku)) is not None and row["IsActive"])


def same_number(want: Any, got: Any) -> bool:
    try:
        return got is not None and Decimal(str(want)) == Decimal(str(got))
    except InvalidOperation:
        return False


def run_figures(demo: Demo, runs: Iterable[RunRecord]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for run in runs:
        jobs = run_jobs(demo, run)
        figures[run.entity] = {
            "run_id": run.run_id,
            "read": run.counts.read,
            "submitted": run.counts.submitted,
            "quarantined": run.counts.quarantined,
            "jobs": [j.job_id for j in jobs],
            "job_status": sorted({j.status.name.lower() for j in jobs}),
            "lead_time_s": max((j.lead_time_s or 0.0 for j in jobs), default=None),
        }
    return figures


def quote_text(text: str) -> str:
    return quote(text, safe="-_.~:")


def unquote_text(text: str) -> str:
    return unquote(text)
