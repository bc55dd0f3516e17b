"""``make demo`` (``python -m norcekit_local.demo``): the whole of norcekit, end to end, on loopback.

Starts the local stack in this process (moto, the Norce emulator, the webhook front, the SQS
consumer, the HTTP sink and the job monitor ticks) and tells the story a merchant cares about,
checking every step against what actually happened:

1. full imports of every entity from the sample ERP export, tracked to success by the job monitor;
   the emulator's catalogue matches the source;
2. the ERP changes (prices, stock, a new product, a removed product, a customer; and a product
   deleted outright, which only a full import can notice): delta imports, then a full import;
3. Norce's change events → webhook → queue → Query look-up → HTTP sink, S3 and EventBridge;
4. what goes wrong is kept: a malformed webhook and a malformed source row in the quarantine, a
   target that refuses a document → DLQ → redrive once it accepts again;
5. a summary (also ``<root>/out/summary.json``) and the outputs under ``<root>/out/``.

Exit 0 only when every check passed; otherwise the failed stage, what was expected and what was
seen, and exit 1. ``--sabotage`` breaks one thing on purpose to show (and test) that.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .consumer import EventConsumerService
from .demo_output import Reporter, redirect_process_output
from .monitor_service import JobMonitorService
from .sample_data.generate import (
    ChangeSet,
    apply_change_set,
    generate,
    newest_full,
    read_csv,
    read_jsonl,
    stamp,
    write_jsonl,
)
from .sink import SinkService
from .stack import DEFAULT_SERVICE_FACTORIES, STACK_FILE, LocalStack, Service
from .webhook_front import WebhookFrontService

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
                lead = max((j.lead_time_s or 0.0 for j in _jobs(demo, record)), default=0.0)
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
    from norcekit.deadline import Deadline  # noqa: PLC0415
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415

    result = demo.svc.runner.run(entity, mode, deadline=Deadline.after(600))  # type: ignore[arg-type]
    demo.expect(
        result.outcome in (RunOutcome.SUBMITTED, RunOutcome.SUCCEEDED),
        f"the {entity} {mode} import to submit its jobs",
        f"outcome {result.outcome.value}: {result.message}",
    )
    return result


def _jobs(demo: Demo, run: RunRecord) -> list[Any]:
    return [job for job in (demo.svc.job_store.find(j) for j in run.job_ids) if job is not None]


def wait_run_succeeded(demo: Demo, result: RunResult) -> RunRecord:
    """Until the job monitor (or a JobCompletedEvent) has marked every job and the run succeeded
    and the watermark is committed — read from the state table, never assumed."""
    from norcekit.norce.jobs import JobStatus  # noqa: PLC0415
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415

    def check() -> RunRecord | None:
        run = demo.svc.run_store.get(result.run_id)
        if run.outcome is RunOutcome.FAILED:
            raise StageFailed(f"the {run.entity} {run.mode} run to succeed", f"failed: {run.message}")
        if run.outcome is not RunOutcome.SUCCEEDED:
            return None
        if any(job.status is not JobStatus.SUCCEEDED for job in _jobs(demo, run)):
            return None
        if run.candidate_watermark is not None:
            committed = demo.svc.watermark_store.get(run.entity)
            if committed is None or committed < run.candidate_watermark:
                return None
        return run

    def seen() -> str:
        run = demo.svc.run_store.get(result.run_id)
        jobs = ", ".join(f"{j.job_id} {j.status.name.lower()}" for j in _jobs(demo, run)) or "no jobs"
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


# --- stages ------------------------------------------------------------------------------------------


def stage_stack(demo: Demo) -> None:
    info = demo.stack.info
    front = info.get("webhook_url", "")
    demo.out.table(
        "Local stack",
        ["component", "where"],
        [
            ["Norce emulator", info["norce_url"]],
            ["AWS (moto)", info["aws_endpoint_url"]],
            ["webhook front (API Gateway)", front],
            ["HTTP sink (target)", info.get("sink_url", "-")],
            ["state table", info["table"]],
            [
                "event queue / DLQ",
                f"{info['queue_url'].rsplit('/', 1)[-1]} / {info['dlq_url'].rsplit('/', 1)[-1]}",
            ],
            ["bucket", f"s3://{info['bucket']}"],
            ["event bus", info["event_bus"]],
            ["sample ERP export", str(demo.sample_dir)],
        ],
    )
    subscriptions = demo.stack.emulator.subscriptions()
    wrong = [s["EventType"] for s in subscriptions if not s["Url"].startswith(front + "/")]
    demo.expect(
        bool(front) and bool(subscriptions) and not wrong,
        "every Norce event subscription to point at the webhook front",
        f"{len(subscriptions)} subscriptions, not at {front or 'no front'}: {wrong}",
    )
    demo.out.ok(f"Norce emulator: {len(subscriptions)} event types subscribed to {front}/<EventType>")
    # The initial load changes every row of the catalogue (~20k notifications for 1,000 products);
    # events are switched on after it, as a merchant would after go-live.
    demo.subscriptions = subscriptions
    demo.stack.emulator.unsubscribe()
    demo.out.say("  Norce events are paused during the initial load and switched on after it.")


def stage_full_imports(demo: Demo) -> None:
    config = demo.svc.config
    entities = [e for e in config.enabled_entities() if config.entity(e).full.enabled]
    if demo.sabotage == "jobs":
        demo.stack.emulator.set_job_processing(False)  # Norce never runs a job: nothing may succeed
        demo.out.say("  [sabotage] the emulator's job worker is paused")
    expected_source = source_counts(demo.sample_dir)
    runs = {run.entity: run for run in run_imports(demo, "full", entities)}
    if demo.sabotage == "catalog":
        victim = demo.stack.emulator.catalog_rows("products")[0]["Code"]
        demo.stack.emulator.mutate("products", {"Code": victim}, delete=True)
        demo.out.say(f"  [sabotage] product {victim} deleted in Norce behind the import's back")

    emulator = demo.stack.emulator
    in_norce = {
        "products": len(emulator.catalog_rows("products")),
        "skus": sum(1 for row in emulator.catalog_rows("skus") if row["IsActive"]),
        "sku_prices": len(emulator.catalog_rows("prices")),
        "onhand": len(emulator.catalog_rows("onhand")),
        "price_lists": len(emulator.catalog_rows("price_lists")),
        "customers": len(emulator.catalog_rows("customers")),
        "companies": len(emulator.catalog_rows("companies")),
        "supplier_products": len(emulator.catalog_rows("supplier_products")),
    }
    rows = []
    mismatches = []
    for entity, expected in expected_source.items():
        run = runs.get(entity)
        jobs = _jobs(demo, run) if run else []
        lead = max((j.lead_time_s or 0.0 for j in jobs), default=None)
        match = in_norce[entity] == expected
        if not match:
            mismatches.append(f"{entity}: {in_norce[entity]} in Norce vs {expected} in the ERP export")
        rows.append(
            [
                entity,
                expected,
                run.counts.submitted if run else "(in products)",
                in_norce[entity],
                len(jobs) or "-",
                lead,
                match,
            ]
        )
    demo.out.table(
        "Initial load: ERP export vs Norce",
        ["entity", "ERP rows", "submitted", "in Norce", "jobs", "lead time s", "match"],
        rows,
    )
    demo.expect(not mismatches, "Norce's catalogue to match the ERP export", "; ".join(mismatches))
    demo.summary["imports"] = {"full": _run_figures(demo, runs.values())}
    demo.summary["catalog"] = in_norce
    demo.out.ok(
        f"{sum(expected_source.values())} source rows are in Norce; "
        f"{len(runs)} full imports tracked to success"
    )


def stage_changes(demo: Demo) -> None:
    sample = demo.sample_dir
    # The files are named a few seconds in the past so the delta window (now - safety lag) has them.
    now = datetime.now(UTC)
    change = apply_change_set(sample, at=now - timedelta(seconds=3))
    demo.change = change
    deleted = _delete_outright(demo, at=now - timedelta(seconds=2))
    demo.out.table(
        "The ERP changed",
        ["change", "rows"],
        [
            ["prices changed", ", ".join(change.changed_prices)],
            ["stock changed", ", ".join(change.changed_onhand)],
            ["product added", change.added_product],
            ["product removed (delta marks its SKUs inactive)", change.removed_product],
            ["product deleted outright (only missing from the full export)", deleted],
            ["customer changed (moved, new phone)", change.changed_customer],
        ],
    )
    # Events on from here on: the changes below reach the targets (stage 3).
    for sub in demo.subscriptions:
        demo.stack.emulator.subscribe(sub["EventType"], sub["Url"], sub["Headers"])
    demo.out.say(f"  Norce events switched on ({len(demo.subscriptions)} types)")

    config = demo.svc.config
    delta_entities = [e for e in config.enabled_entities() if config.entity(e).delta.enabled]
    deltas = run_imports(demo, "delta", delta_entities)
    emulator = demo.stack.emulator
    checks: list[list[Any]] = []
    prices = {
        f"{r['PartNo']}|{r['PriceListCode']}|{r['QuantityBreak']}": r for r in emulator.catalog_rows("prices")
    }
    delta_prices = {
        f"{r['part_no']}|{r['price_list_code']}|{r['quantity_break']}": r
        for path in (sample / "sku_prices" / "delta").glob("*.csv")
        for r in read_csv(path)
    }
    for key in change.changed_prices:
        want = delta_prices[key]["price_sale"]
        got = prices.get(key, {}).get("PriceSale")
        checks.append([f"price {key}", want, got, _same_number(want, got)])
    onhand = {
        f"{r['PartNo']}|{r['WarehouseCode']}|{r['LocationCode']}": r for r in emulator.catalog_rows("onhand")
    }
    delta_onhand = {
        f"{r['part_no']}|{r['warehouse_code']}|{r['location_code']}": r
        for path in (sample / "onhand" / "delta").glob("*.csv")
        for r in read_csv(path)
    }
    for key in change.changed_onhand:
        want = delta_onhand[key]["onhand_value"]
        got = onhand.get(key, {}).get("OnhandValue")
        checks.append([f"stock {key}", want, got, _same_number(want, got)])
    added = product_skus(sample, change.added_product)
    checks.append(
        [
            f"new product {change.added_product}",
            f"{len(added)} active SKUs",
            _active(demo, added),
            _active(demo, added) == len(added) > 0,
        ]
    )
    removed = product_skus(sample, change.removed_product)
    checks.append(
        [
            f"removed product {change.removed_product}",
            "0 active SKUs",
            _active(demo, removed),
            _active(demo, removed) == 0 and bool(removed),
        ]
    )
    customer = next(r for r in emulator.catalog_rows("customers") if r["Code"] == change.changed_customer)
    want_phone = next(r["phone"] for r in read_jsonl(next((sample / "customers" / "delta").glob("*.jsonl"))))
    checks.append(
        [
            f"customer {change.changed_customer} phone",
            want_phone,
            customer.get("PhoneNumber"),
            customer.get("PhoneNumber") == want_phone,
        ]
    )
    gone = product_skus(sample, deleted)
    checks.append(
        [
            f"deleted product {deleted} (no delta row)",
            "still active until a full import",
            _active(demo, gone),
            _active(demo, gone) == len(gone) > 0,
        ]
    )
    demo.out.table("After the delta imports", ["change", "ERP", "Norce", "ok"], checks)
    bad = [str(row[0]) for row in checks if row[-1] is not True]
    demo.expect(not bad, "every ERP change in Norce after the deltas", f"not applied: {', '.join(bad)}")
    demo.out.ok(
        f"{sum(r.counts.submitted for r in deltas)} changed items in "
        f"{sum(len(r.job_ids) for r in deltas)} delta job(s)"
    )

    [full] = run_imports(demo, "full", ["products"])
    expected_products = source_counts(sample)["products"]
    [job_view] = [emulator.job(job_id) for job_id in full.job_ids]
    after = [
        [f"deleted product {deleted}", "0 active SKUs", _active(demo, gone), _active(demo, gone) == 0],
        [
            f"removed product {change.removed_product}",
            "0 active SKUs",
            _active(demo, removed),
            _active(demo, removed) == 0,
        ],
        [
            f"new product {change.added_product}",
            f"{len(added)} active SKUs",
            _active(demo, added),
            _active(demo, added) == len(added),
        ],
        [
            "full import payload",
            f"{expected_products} products, FullFile",
            f"{job_view['ItemCount']}, FullFile={job_view['FullFile']}",
            job_view["ItemCount"] == expected_products and job_view["FullFile"] is True,
        ],
    ]
    demo.out.table("After the next full products import", ["check", "expected", "Norce", "ok"], after)
    bad = [str(row[0]) for row in after if row[-1] is not True]
    demo.expect(
        not bad,
        "the full import to deactivate what the ERP no longer has",
        f"not as expected: {', '.join(bad)}",
    )
    demo.summary["imports"]["delta"] = _run_figures(demo, deltas)
    demo.summary["imports"]["full_after_changes"] = _run_figures(demo, [full])
    demo.summary["changes"] = {
        "changed_prices": change.changed_prices,
        "changed_onhand": change.changed_onhand,
        "added_product": change.added_product,
        "added_active": True,
        "removed_product": change.removed_product,
        "removed_deactivated": True,
        "deleted_product": deleted,
        "deleted_deactivated_by_full_import": True,
        "changed_customer": change.changed_customer,
    }
    demo.out.ok(f"the full import deactivated {deleted}, which the ERP deleted without a delta row")


def stage_events(demo: Demo) -> None:
    change = demo.change
    assert change is not None
    sample = demo.sample_dir
    emulator = demo.stack.emulator
    skus = {key.split("|")[0] for key in change.changed_prices + change.changed_onhand}
    for code in (change.added_product, change.removed_product, demo.deleted_product):
        skus.update(product_skus(sample, code))
    customer_id = str(
        next(r["Id"] for r in emulator.catalog_rows("customers") if r["Code"] == change.changed_customer)
    )
    expected = {("sku", key) for key in skus} | {("customer", customer_id)}

    def delivered_webhooks() -> list[dict[str, Any]]:
        return [d for d in emulator.deliveries() if d["EventType"] != "JobCompletedEvent"]

    def seen_keys() -> dict[str, set[tuple[str, str]]]:
        sink = {(d["entity"], d["key"]) for d in demo.sink.accepted_docs() if isinstance(d, dict)}
        s3 = set()
        for key in demo.s3_target_keys():
            entity, _, name = key.removeprefix("targets/").partition("/")
            s3.add((entity, _unquote(name.removesuffix(".json"))))
        bus = {
            (e["detail"]["entity"], e["detail"]["key"])
            for e in demo.drain_bus()
            if isinstance(e.get("detail"), dict)
        }
        return {"http sink": sink, "s3": s3, "eventbridge": bus}

    def all_there() -> dict[str, set[tuple[str, str]]] | None:
        pending = [d for d in emulator.deliveries() if d["State"] != "delivered"]
        if pending:
            return None
        keys = seen_keys()
        return keys if all(expected <= found for found in keys.values()) else None

    def seen() -> str:
        keys = seen_keys()
        pending = sum(1 for d in emulator.deliveries() if d["State"] != "delivered")
        missing = {name: sorted(f"{e}:{k}" for e, k in expected - found)[:5] for name, found in keys.items()}
        return f"{pending} webhook(s) not yet delivered; missing per target: {missing}"

    keys = demo.wait(f"documents for all {len(expected)} changed keys at every target", all_there, seen)
    webhooks = delivered_webhooks()
    by_type: dict[str, int] = {}
    for delivery in webhooks:
        by_type[delivery["EventType"]] = by_type.get(delivery["EventType"], 0) + 1
    demo.out.table(
        "Norce events sent to the webhook front", ["event type", "webhooks"], sorted(by_type.items())
    )
    consumer = demo.service(EventConsumerService).consumer
    stats = consumer.stats if consumer else None
    rows = [
        [name, len(found), len({k for k in found if k in expected}), len(expected)]
        for name, found in keys.items()
    ]
    demo.out.table(
        "Delivered to the targets", ["target", "documents", "changed keys covered", "changed keys"], rows
    )
    demo.summary["events"] = {
        "webhooks_delivered": len(webhooks),
        "by_type": by_type,
        "job_completed_events": len(emulator.deliveries("JobCompletedEvent")),
        "queue_messages_processed": stats.succeeded if stats else None,
        "changed_keys": len(expected),
        "delivered": {name: len(found) for name, found in keys.items()},
    }
    demo.out.ok(
        f"{len(webhooks)} Norce events → {len(expected)} changed keys delivered to the HTTP sink, "
        "S3 and EventBridge"
    )


def stage_failures(demo: Demo) -> None:
    _malformed_webhook(demo)
    _bad_source_row(demo)
    _dead_letter_and_redrive(demo)


def _malformed_webhook(demo: Demo) -> None:
    info = demo.stack.info
    before = len(demo.svc.quarantine.list("webhook", limit=1000))
    response = httpx.post(
        f"{info['webhook_url']}/SkuChangedNotification",
        content=b'{"ClientId": 1234, "PartNo": ',  # cut off mid-way
        headers={info["webhook_secret_header"]: info["webhook_secret"], "Content-Type": "application/json"},
        timeout=10,
    )
    demo.expect(
        response.status_code == 400, "HTTP 400 for a malformed webhook", f"HTTP {response.status_code}"
    )
    items = demo.svc.quarantine.list("webhook", limit=1000)
    demo.expect(
        len(items) == before + 1,
        "the malformed webhook in the quarantine",
        f"{len(items) - before} new item(s)",
    )
    demo.out.ok(f"malformed webhook answered 400 and quarantined: {items[0].key} ({items[0].reason})")


def _bad_source_row(demo: Demo) -> None:
    at = datetime.now(UTC) - timedelta(seconds=2)
    path = demo.sample_dir / "customers" / "delta" / f"{stamp(at)}-broken.jsonl"
    good = next(read_jsonl(newest_full(demo.sample_dir, "customers")))
    good = {**good, "phone": "+46 70 0000000", "updated_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    path.write_bytes(json.dumps(good).encode() + b"\n" + b'{"code": "C999999", "first_name": "Trunc\n')
    path.with_name(path.name + ".done").write_bytes(b"")
    demo.out.say(f"  the ERP wrote {path.relative_to(demo.stack.root)} with a malformed line")
    [run] = run_imports(demo, "delta", ["customers"])
    stored = demo.svc.quarantine.list("import_record", limit=1000)
    mine = [item for item in stored if item.metadata.get("run_id") == run.run_id]
    demo.expect(
        run.counts.quarantined >= 1 and len(mine) == run.counts.quarantined,
        "the malformed source row quarantined by the delta run",
        f"run quarantined {run.counts.quarantined}, quarantine holds {len(mine)} for this run",
    )
    demo.out.ok(f"malformed source row quarantined ({mine[0].reason}); the good row was imported")
    demo.summary["quarantine"] = {
        "webhook": len(demo.svc.quarantine.list("webhook", limit=1000)),
        "import_record": len(stored),
        "total": len(demo.svc.quarantine.list(limit=1000)),
        "where": f"s3://{demo.stack.info['bucket']}/quarantine/",
    }


def _dead_letter_and_redrive(demo: Demo) -> None:
    from norcekit.events.dlq import peek, redrive  # noqa: PLC0415

    change = demo.change
    assert change is not None
    svc, sink, emulator = demo.svc, demo.sink, demo.stack.emulator
    key = product_skus(demo.sample_dir, change.added_product)[0]
    attributes = svc.sqs.get_queue_attributes(QueueUrl=svc.queue_url, AttributeNames=["RedrivePolicy"])
    max_receives = int(json.loads(attributes["Attributes"]["RedrivePolicy"])["maxReceiveCount"])
    sink.fail_key(key, 400)
    new_ean = "7399999999994"
    emulator.mutate("skus", {"PartNo": key}, set={"EanCode": new_ean})
    demo.out.say(f"  SKU {key} edited in Norce; the HTTP sink refuses it (400) until told otherwise")

    def refusals() -> int:
        return sum(
            1
            for r in sink.received
            if isinstance(r.body, dict) and r.body.get("key") == key and r.status == 400
        )

    def in_dlq() -> list[Any] | None:
        if svc.queue_depth(svc.dlq_url)["visible"] < 1:
            return None
        return [m for m in peek(svc.dlq_url, 10, sqs=svc.sqs) if m.entity_key == key] or None

    dead = demo.wait(
        f"the event for {key} in the DLQ after {max_receives} receives",
        in_dlq,
        lambda: f"{refusals()} refusal(s) so far, DLQ {svc.queue_depth(svc.dlq_url)}",
    )
    demo.out.ok(f"{key}: refused {refusals()} times, then moved to the DLQ (maxReceiveCount {max_receives})")
    sink.reset()
    result = redrive(svc.dlq_url, svc.queue_url, sqs=svc.sqs)
    demo.out.say(
        f"  sink accepts again; redrive ({result.method}) moved {max(result.moved, len(dead))} message(s)"
    )

    def delivered() -> bool:
        docs = sink.accepted_docs(key)
        return (
            any((doc.get("data") or {}).get("EanCode") == new_ean for doc in docs)
            and svc.queue_depth(svc.dlq_url)["visible"] == 0
        )

    demo.wait(
        f"{key} with EanCode {new_ean} delivered to the sink after the redrive",
        delivered,
        lambda: (
            f"{len(sink.accepted_docs(key))} accepted doc(s) for {key}, DLQ {svc.queue_depth(svc.dlq_url)}"
        ),
    )
    demo.out.ok(f"redriven: {key} delivered with its current state")
    demo.summary["dlq"] = {
        "key": key,
        "refusals": refusals(),
        "max_receive_count": max_receives,
        "dead_lettered": len(dead),
        "redrive_method": result.method,
        "redriven": len(dead) if result.moved < 0 else result.moved,
        "delivered_after_redrive": True,
    }


def stage_summary(demo: Demo) -> None:
    out = demo.out_dir
    s3 = demo.svc.quarantine.client
    bucket = demo.stack.info["bucket"]
    written = 0
    for key in demo.s3_target_keys():
        target = out / "s3" / key.removeprefix("targets/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        written += 1
    bus_dir = out / "eventbridge"
    bus_dir.mkdir(parents=True, exist_ok=True)
    events = demo.drain_bus()
    with (bus_dir / "events.jsonl").open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    for event in events:  # the latest per key, like the other targets
        detail = event.get("detail") or {}
        if isinstance(detail, dict) and "entity" in detail and "key" in detail:
            path = bus_dir / detail["entity"] / f"{_quote(str(detail['key']))}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(event, indent=2), encoding="utf-8")
    http_dir = out / "http"
    demo.summary["outputs"] = {
        "http": str(http_dir),
        "http_documents": sum(1 for _ in http_dir.rglob("*.json")) if http_dir.is_dir() else 0,
        "s3": str(out / "s3"),
        "s3_documents": written,
        "eventbridge": str(bus_dir),
        "eventbridge_events": len(events),
        "log": str(out / "demo.log"),
        "summary": str(out / SUMMARY_FILE),
    }
    jobs = [job for run in demo.runs for job in _jobs(demo, run)]
    leads = sorted(j.lead_time_s for j in jobs if j.lead_time_s is not None)
    # Which path first recorded each job's end: the monitor's Job/Get poll or a JobCompletedEvent.
    recorded_by: dict[str, int] = {}
    for job in jobs:
        ended = next((c.source for c in job.status_history if c.status.is_terminal), "unknown")
        recorded_by[str(ended)] = recorded_by.get(str(ended), 0) + 1
    demo.summary["jobs"] = {
        "total": len(jobs),
        "succeeded": sum(1 for j in jobs if j.status.name == "SUCCEEDED"),
        "end_recorded_by": recorded_by,
        "lead_time_s": {
            "min": round(leads[0], 3) if leads else None,
            "median": round(leads[len(leads) // 2], 3) if leads else None,
            "max": round(leads[-1], 3) if leads else None,
        },
    }
    monitor = demo.service(JobMonitorService)
    demo.summary["job_monitor"] = {"ticks": monitor.stats.ticks, "errors": monitor.stats.errors}


def _delete_outright(demo: Demo, *, at: datetime) -> str:
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


def _active(demo: Demo, skus: Iterable[str]) -> int:
    emulator = demo.stack.emulator
    return sum(1 for sku in skus if (row := emulator.sku(sku)) is not None and row["IsActive"])


def _same_number(want: Any, got: Any) -> bool:
    try:
        return got is not None and Decimal(str(want)) == Decimal(str(got))
    except InvalidOperation:
        return False


def _run_figures(demo: Demo, runs: Iterable[RunRecord]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for run in runs:
        jobs = _jobs(demo, run)
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


def _quote(text: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(text, safe="-_.~:")


def _unquote(text: str) -> str:
    from urllib.parse import unquote  # noqa: PLC0415

    return unquote(text)


STAGES: list[tuple[str, Callable[[Demo], None]]] = [
    ("local stack", stage_stack),
    ("full imports from the ERP export", stage_full_imports),
    ("the ERP changes: delta imports, then a full import", stage_changes),
    ("Norce events to the targets", stage_events),
    ("what goes wrong is kept: quarantine and DLQ", stage_failures),
    ("summary", stage_summary),
]


# --- running it ---------------------------------------------------------------------------------------


def demo_services() -> list[Service]:
    """The local stack's services, with retries quick enough to watch a message reach the DLQ."""
    services = [factory() for factory in DEFAULT_SERVICE_FACTORIES]
    for service in services:
        if isinstance(service, EventConsumerService):
            service.retry_visibility_s = 1
    kinds = {type(s) for s in services}
    missing = {SinkService, WebhookFrontService, EventConsumerService, JobMonitorService} - kinds
    if missing:
        raise RuntimeError(
            f"the local stack lacks services the demo needs: {sorted(k.__name__ for k in missing)}"
        )
    return services


def _refuse_running_stack(root: Path) -> None:
    path = root / STACK_FILE
    try:
        pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return
    try:
        os.kill(pid, 0)
    except OSError:
        return  # left behind by a process that is gone
    raise SystemExit(f"a local stack (pid {pid}) is running with root {root}; stop it or pass --root")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m norcekit_local.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--root", default=DEFAULT_ROOT, help="state and output folder (outputs in <root>/out)"
    )
    parser.add_argument("--products", type=int, default=1000, help="products in the sample ERP export")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds any one wait may take")
    parser.add_argument("--job-delay", type=float, default=0.05, help="emulator seconds per job status step")
    parser.add_argument("--quiet", action="store_true", help="print only failures and the final JSON line")
    parser.add_argument(
        "--sabotage", choices=SABOTAGE, help="break one thing on purpose (the demo must fail)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.root).resolve()
    _refuse_running_stack(root)
    # The demo owns <root>/sample and <root>/out: a fresh export and fresh outputs every run.
    for folder in (root / "sample", root / "out"):
        shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    records: list[StageRecord] = []
    summary: dict[str, Any] = {}
    with redirect_process_output(root / "out" / "demo.log") as (stdout, stderr):
        out = Reporter(stdout, stderr, quiet=args.quiet)
        ok = _run(args, root, out, records, summary)
        summary.update(
            {
                "ok": ok,
                "wall_time_s": round(time.monotonic() - started, 2),
                "stages": [record.__dict__ for record in records],
            }
        )
        failed = next((r for r in records if not r.ok), None)
        summary["failed_stage"] = f"{failed.number}: {failed.name}" if failed else None
        summary_path = root / "out" / SUMMARY_FILE
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        _print_end(out, summary, summary_path)
        stdout.write(
            json.dumps({"demo_summary": str(summary_path), "ok": ok, "wall_time_s": summary["wall_time_s"]})
            + "\n"
        )
    return 0 if ok else 1


def _run(
    args: argparse.Namespace, root: Path, out: Reporter, records: list[StageRecord], summary: dict[str, Any]
) -> bool:
    from norcekit.cli.services import Services  # noqa: PLC0415
    from norcekit.stack import resolve_local, stack_environ  # noqa: PLC0415

    out.say(f"norcekit demo: local stack in {root} (Lambda logs: {root / 'out' / 'demo.log'})")
    export = generate(root / "sample", products=args.products)
    out.say(
        f"  sample ERP export: {export.counts.products} products, {export.counts.skus} SKUs, "
        f"{export.counts.sku_prices} prices, {export.counts.onhand} stock rows, "
        f"{export.counts.customers} customers"
    )
    stack = LocalStack(root, emulator_overrides={"job_delay": args.job_delay}, services=demo_services())
    record = StageRecord(0, "local stack")
    records.append(record)
    stack_began = time.monotonic()
    try:
        stack.start()
    except Exception as exc:
        record.expected, record.seen = "the local stack to start", f"{type(exc).__name__}: {exc}"
        out.fail(f"stage 0 (local stack): {record.expected}; seen {record.seen}")
        return False
    try:
        resources = resolve_local(root)
        environ = stack_environ(stack.environ(), resources)
        with Services(resources, environ=environ) as svc:
            demo = Demo(stack, svc, out, args.timeout, sabotage=args.sabotage, summary=summary)
            for number, (name, stage) in enumerate(STAGES):
                if number:
                    record = StageRecord(number, name)
                    records.append(record)
                out.stage(number, name)
                began = stack_began if number == 0 else time.monotonic()
                try:
                    stage(demo)
                except StageFailed as failure:
                    record.expected, record.seen = failure.expected, failure.seen
                except Exception as exc:  # a bug or a dead dependency: still a failed stage, named
                    record.expected, record.seen = "the stage to run", f"{type(exc).__name__}: {exc}"
                record.seconds = round(time.monotonic() - began, 2)
                if record.expected is not None:
                    out.fail(f"stage {number} ({name}): expected {record.expected}; seen {record.seen}")
                    return False
                record.ok = True
            return True
    finally:
        stack.stop()


def _print_end(out: Reporter, summary: dict[str, Any], path: Path) -> None:
    if not summary.get("ok"):
        out.fail(
            f"demo failed at stage {summary['failed_stage']} after {summary['wall_time_s']}s; "
            f"details in {path}"
        )
        return
    imports = summary.get("imports", {})
    rows = []
    for entity, full in imports.get("full", {}).items():
        delta = imports.get("delta", {}).get(entity, {})
        rows.append(
            [
                entity,
                full["submitted"],
                delta.get("submitted"),
                len(full["jobs"]) + len(delta.get("jobs", [])),
                full["lead_time_s"],
            ]
        )
    out.table("Items imported", ["entity", "full", "delta", "jobs", "full job lead time s"], rows)
    jobs, events, quarantine, dlq = summary["jobs"], summary["events"], summary["quarantine"], summary["dlq"]
    outputs, lead = summary["outputs"], summary["jobs"]["lead_time_s"]
    out.table(
        "Summary",
        ["what", "result"],
        [
            [
                "jobs",
                f"{jobs['succeeded']}/{jobs['total']} succeeded; lead time min/median/max "
                f"{lead['min']}/{lead['median']}/{lead['max']} s; end seen by {jobs['end_recorded_by']}",
            ],
            [
                "events",
                f"{events['webhooks_delivered']} webhooks → {events['changed_keys']} changed keys; "
                f"delivered {events['delivered']}",
            ],
            [
                "quarantine",
                f"{quarantine['webhook']} webhook(s), {quarantine['import_record']} source row(s) "
                f"in {quarantine['where']}",
            ],
            [
                "DLQ",
                f"{dlq['dead_lettered']} dead-lettered ({dlq['key']}), {dlq['redriven']} redriven, "
                f"delivered after redrive: {dlq['delivered_after_redrive']}",
            ],
            ["HTTP sink output", f"{outputs['http']} ({outputs['http_documents']} documents)"],
            ["S3 target output", f"{outputs['s3']} ({outputs['s3_documents']} documents)"],
            ["EventBridge output", f"{outputs['eventbridge']} ({outputs['eventbridge_events']} events)"],
            ["logs / summary", f"{outputs['log']} / {outputs['summary']}"],
        ],
    )
    out.ok(f"all stages verified in {summary['wall_time_s']}s")


if __name__ == "__main__":
    sys.exit(main())
