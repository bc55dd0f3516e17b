"""Running the demo: the stage list, the stack with its services, arguments, the end summary."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from norcekit.cli.services import Services
from norcekit.stack import resolve_local, stack_environ

from ..consumer import EventConsumerService
from ..demo_output import Reporter, redirect_process_output
from ..monitor_service import JobMonitorService
from ..sample_data.generate import (
    generate,
)
from ..sink import SinkService
from ..stack import DEFAULT_SERVICE_FACTORIES, STACK_FILE, LocalStack, Service
from ..webhook_front import WebhookFrontService
from .core import (
    DEFAULT_ROOT,
    SABOTAGE,
    SUMMARY_FILE,
    Demo,
    StageFailed,
    StageRecord,
)
from .stages import (
    stage_changes,
    stage_full_imports,
    stage_stack,
)
from .stages_events import (
    stage_events,
    stage_failures,
    stage_summary,
)
from .stages_guardrails import stage_guardrails
from .stages_named import stage_named_imports
from .stages_orders import stage_orders

DESCRIPTION = "make demo: the whole of norcekit, end to end, on loopback."

STAGES: list[tuple[str, Callable[[Demo], None]]] = [
    ("local stack", stage_stack),
    ("full imports from the ERP export", stage_full_imports),
    ("a second system: the PIM's product names under its own account", stage_named_imports),
    ("the ERP changes: delta imports, then a full import", stage_changes),
    ("Norce events to the targets", stage_events),
    ("what goes wrong is kept: quarantine and DLQ", stage_failures),
    ("a full import that would deactivate is refused; items Norce rejects are kept", stage_guardrails),
    ("a Norce checkout to the ERP, the ERP's answers back to Norce", stage_orders),
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
    parser = argparse.ArgumentParser(prog="python -m norcekit_local.demo", description=DESCRIPTION)
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
    outputs, lead, orders = summary["outputs"], summary["jobs"]["lead_time_s"], summary["orders"]
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
            [
                "orders",
                f"checkout posted {orders['checkout_posts']}x → {orders['at_erp']} at the ERP; Norce shows "
                f"{orders['status']} as {orders['erp_order_no']}",
            ],
            ["HTTP sink output", f"{outputs['http']} ({outputs['http_documents']} documents)"],
            ["S3 target output", f"{outputs['s3']} ({outputs['s3_documents']} documents)"],
            ["EventBridge output", f"{outputs['eventbridge']} ({outputs['eventbridge_events']} events)"],
            ["logs / summary", f"{outputs['log']} / {outputs['summary']}"],
        ],
    )
    out.ok(f"all stages verified in {summary['wall_time_s']}s")
