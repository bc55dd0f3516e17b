"""Demo stages 3-5: Norce events to the targets, what goes wrong is kept, the summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from norcekit.events.dlq import peek, redrive

from ..consumer import EventConsumerService
from ..monitor_service import JobMonitorService
from ..sample_data.generate import (
    newest_full,
    read_jsonl,
    stamp,
)
from .core import (
    SUMMARY_FILE,
    Demo,
    product_skus,
    quote_text,
    run_imports,
    run_jobs,
    unquote_text,
)


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
            s3.add((entity, unquote_text(name.removesuffix(".json"))))
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
    # Authentic but invalid: kept and answered 2xx, since Norce would retry any non-2xx for ~22 h.
    demo.expect(
        200 <= response.status_code < 300,
        "HTTP 2xx for a malformed (but authentic) webhook",
        f"HTTP {response.status_code}",
    )
    items = demo.svc.quarantine.list("webhook", limit=1000)
    demo.expect(
        len(items) == before + 1,
        "the malformed webhook in the quarantine",
        f"{len(items) - before} new item(s)",
    )
    demo.out.ok(
        f"malformed webhook answered {response.status_code} and quarantined: "
        f"{items[0].key} ({items[0].reason})"
    )


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
            path = bus_dir / detail["entity"] / f"{quote_text(str(detail['key']))}.json"
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
    jobs = [job for run in demo.runs for job in run_jobs(demo, run)]
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
