"""Demo stages 0-2: the stack, full imports of the sample export, the ERP's changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..sample_data.generate import (
    apply_change_set,
    read_csv,
    read_jsonl,
)
from .core import (
    Demo,
    active_count,
    delete_outright,
    product_skus,
    run_figures,
    run_imports,
    run_jobs,
    same_number,
    source_counts,
)

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
    # The ERP export's imports are named after their kinds; the PIM's import has its own stage.
    entities = [
        e for e in config.enabled_entities() if config.entity(e).full.enabled and e == config.entity(e).kind
    ]
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
        jobs = run_jobs(demo, run) if run else []
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
    demo.summary["imports"] = {"full": run_figures(demo, runs.values())}
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
    deleted = delete_outright(demo, at=now - timedelta(seconds=2))
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
        checks.append([f"price {key}", want, got, same_number(want, got)])
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
        checks.append([f"stock {key}", want, got, same_number(want, got)])
    added = product_skus(sample, change.added_product)
    checks.append(
        [
            f"new product {change.added_product}",
            f"{len(added)} active SKUs",
            active_count(demo, added),
            active_count(demo, added) == len(added) > 0,
        ]
    )
    removed = product_skus(sample, change.removed_product)
    checks.append(
        [
            f"removed product {change.removed_product}",
            "0 active SKUs",
            active_count(demo, removed),
            active_count(demo, removed) == 0 and bool(removed),
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
            active_count(demo, gone),
            active_count(demo, gone) == len(gone) > 0,
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
        [
            f"deleted product {deleted}",
            "0 active SKUs",
            active_count(demo, gone),
            active_count(demo, gone) == 0,
        ],
        [
            f"removed product {change.removed_product}",
            "0 active SKUs",
            active_count(demo, removed),
            active_count(demo, removed) == 0,
        ],
        [
            f"new product {change.added_product}",
            f"{len(added)} active SKUs",
            active_count(demo, added),
            active_count(demo, added) == len(added),
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
    demo.summary["imports"]["delta"] = run_figures(demo, deltas)
    demo.summary["imports"]["full_after_changes"] = run_figures(demo, [full])
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
