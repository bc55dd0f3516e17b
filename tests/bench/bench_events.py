"""Event processing: coalesced batch look-ups vs a naive one-call-per-event processor.

1,000 queued events of 5 types (3 SKU notifications, customer, company), 40% naming a key that an
event shortly before already named (Norce sends bursts: price and stock of one SKU, several
address rows of one customer). The emulator (seeded catalog) runs in another process.

* kit: ``EventProcessor.handle`` on SQS batches (the Lambda entry, Powertools BatchProcessor
  included), batch sizes 10 (template default) and 50 (template maximum).
* naive (baseline): per event ``parse_message`` → one Query call for its key (``get_many`` with one
  key: same client, same URL shape) → ``TargetDocument.build`` → ``deliver([doc])``.
Both deliver to an in-memory target that accepts everything.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from random import Random
from typing import Any

from tests.bench.harness import BenchResult, Figure, ratio_figure
from tests.bench.servers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET, admin, emulator_process

NAME = "events"
SKU_TYPES = ("SkuChangedNotification", "SkuPriceChangedNotification", "SkuOnHandBreakPointNotification")
TYPES = (*SKU_TYPES, "CustomerChangedNotification", "CompanyChangedNotification")
#: Documented Query calls per batch: one per entity set and this many keys (URL length permitting).
KEYS_PER_CALL = 50
DUPLICATE_SHARE = 0.4
#: A duplicate repeats a key named by one of this many preceding events (a burst).
BURST = 8


class _AcceptAll:
    """A target that accepts every document (counts them)."""

    def __init__(self) -> None:
        self.documents = 0

    def deliver(self, docs: list[Any], *, deadline: Any = None) -> list[Any]:
        from norcekit.events.targets.base import DeliveryResult  # noqa: PLC0415

        self.documents += len(docs)
        return [DeliveryResult.success() for _ in docs]


def _payload(event_type: str, key: Any) -> dict[str, Any]:
    if event_type == "SkuChangedNotification":
        return {"ClientId": 1234, "PartNo": key, "EntityChanged": "tClientProductSku"}
    if event_type == "SkuPriceChangedNotification":
        return {"ClientId": 1234, "PartNo": key, "PricelistId": 7, "PricelistCode": "SE-B2C",
                "PriceSaleValue": 199.0, "QuantityBreak": 1}  # fmt: skip
    if event_type == "SkuOnHandBreakPointNotification":
        # The documented event names warehouse and location by id (issue 13's field types).
        return {"ClientId": 1234, "PartNo": key, "WarehouseId": 1, "LocationId": 1, "OnHandValue": 3.0,
                "MinimumValue": 5.0}  # fmt: skip
    if event_type == "CustomerChangedNotification":
        return {"ClientId": 1234, "CustomerId": key, "EntityChanged": "tClientCustomer"}
    return {"ClientId": 1234, "CompanyId": key, "EntityChanged": "tClientCompany"}


def make_events(
    total: int, skus: list[str], customers: list[int], companies: list[int], seed: int = 7
) -> list[tuple[str, Any]]:
    """(event type, key) pairs: exactly ``DUPLICATE_SHARE`` of them repeat a key from the burst before."""
    rng = Random(seed)
    duplicates = set(rng.sample(range(1, total), round(total * DUPLICATE_SHARE)))
    fresh_keys = {"sku": iter(skus), "customer": iter(customers), "company": iter(companies)}
    events: list[tuple[str, Any]] = []
    for index in range(total):
        if index in duplicates:
            event_type, key = rng.choice(events[-BURST:])
            if event_type in SKU_TYPES:
                event_type = rng.choice(SKU_TYPES)  # price and stock of the same SKU
        else:
            event_type = TYPES[index % len(TYPES)]
            entity = (
                "sku" if event_type in SKU_TYPES else event_type.removesuffix("ChangedNotification").lower()
            )
            key = next(fresh_keys[entity])
        events.append((event_type, key))
    return events


def sqs_records(events: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "messageId": f"msg-{n:05d}",
            "receiptHandle": f"rh-{n}",
            "body": json.dumps(
                {"event_type": t, "body": _payload(t, key), "received_at": "2026-11-27T08:00:00Z"},
                separators=(",", ":"),
            ),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795766400000"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-north-1:123456789012:bench-events",
            "awsRegion": "eu-north-1",
        }
        for n, (t, key) in enumerate(events)
    ]


def _seed(
    url: str, sku_count: int, customer_count: int, company_count: int
) -> tuple[list[str], list[int], list[int]]:
    part_nos = [f"BENCH-{n:05d}" for n in range(sku_count)]
    admin(
        url,
        "seed",
        {
            "skus": [{"PartNo": p, "Status": 1} for p in part_nos],
            "customers": [
                {
                    "Code": f"C{n:05d}",
                    "FirstName": "Anna",
                    "LastName": "Berg",
                    "EmailAddress": f"c{n}@example.com",
                }
                for n in range(customer_count)
            ],
            "companies": [
                {"Code": f"B{n:05d}", "Name": f"Bolag {n} AB", "OrganizationNo": f"55{n:08d}"}
                for n in range(company_count)
            ],
        },
    )
    customers = [row["Id"] for row in admin(url, "catalog?kind=customers")]
    companies = [row["Id"] for row in admin(url, "catalog?kind=companies")]
    return part_nos, customers, companies


def _clients(url: str) -> Any:
    from norcekit.settings import load_settings  # noqa: PLC0415
    from norcekit.wiring import build_norce_clients  # noqa: PLC0415

    settings = load_settings(
        norce_base_url=url, norce_client_id=CLIENT_ID, norce_client_secret=CLIENT_SECRET,
        norce_application_id=APPLICATION_ID,
    )  # fmt: skip
    return build_norce_clients(settings)


def _processor(query: Any, target: _AcceptAll) -> Any:
    from norcekit.events.cache import TtlCache  # noqa: PLC0415
    from norcekit.events.config import DEFAULT_CACHE_TTL_S, EventsConfig  # noqa: PLC0415
    from norcekit.events.lookups import Lookups, entity_specs  # noqa: PLC0415
    from norcekit.events.processor import EventProcessor  # noqa: PLC0415

    config = EventsConfig.model_validate(
        {"routes": {"*": ["sink"]}, "targets": {"sink": {"type": "s3", "bucket": "unused"}}}
    )
    specs = entity_specs(config)
    cache = TtlCache({ns: config.ttl_for(ns) for ns in DEFAULT_CACHE_TTL_S})
    return EventProcessor(config, lookups=Lookups(query, cache, specs), targets={"sink": target}, specs=specs)


def _run_batched(
    processor: Any, query: Any, records: list[dict[str, Any]], batch_size: int
) -> dict[str, Any]:
    from norcekit.events.lookups import key_for  # noqa: PLC0415
    from norcekit.norce.events import parse_event  # noqa: PLC0415

    calls_per_batch: list[int] = []
    allowed_per_batch: list[int] = []
    failures = 0
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        before = query.calls
        response = processor.handle({"Records": batch})
        calls_per_batch.append(query.calls - before)
        failures += len(response["batchItemFailures"])
    elapsed = time.perf_counter() - started
    # The documented bound, per batch: one call per entity set per KEYS_PER_CALL distinct keys.
    for start in range(0, len(records), batch_size):
        keys: dict[str, set[str]] = defaultdict(set)
        for record in records[start : start + batch_size]:
            envelope = json.loads(record["body"])
            event = parse_event(envelope["event_type"], envelope["body"])
            spec = processor.specs[event.entity]
            keys[spec.entity_set].add(key_for(spec, envelope["body"]).text)
        allowed_per_batch.append(sum(math.ceil(len(k) / KEYS_PER_CALL) for k in keys.values()))
    return {
        "elapsed_s": elapsed,
        "calls": sum(calls_per_batch),
        "calls_per_batch": calls_per_batch,
        "allowed_per_batch": allowed_per_batch,
        "failures": failures,
    }


def _run_naive(query: Any, specs: Any, target: _AcceptAll, records: list[dict[str, Any]]) -> dict[str, Any]:
    from norcekit.events.coalesce import parse_message  # noqa: PLC0415
    from norcekit.events.lookups import key_for  # noqa: PLC0415
    from norcekit.events.targets.base import TargetDocument  # noqa: PLC0415

    before = query.calls
    started = time.perf_counter()
    for record in records:
        queued = parse_message(record["messageId"], record["body"])
        spec = specs[queued.event.entity]
        key = key_for(spec, queued.payload)
        row = None  # an entity without a Query set is delivered from its payload, as the processor does
        if spec.entity_set is not None:
            rows = query.get_many(spec.entity_set, key.key_field, [key.value], expand=spec.expand)
            row = next(iter(rows.values()), None)
        target.deliver([TargetDocument.build(queued.event.entity, key.text, [queued.event_type], row)])
    return {"elapsed_s": time.perf_counter() - started, "calls": query.calls - before}


def run(*, quick: bool = False) -> BenchResult:
    total, reps = (100, 1) if quick else (1000, 3)
    batch_sizes = (10,) if quick else (10, 50)
    result = BenchResult(
        NAME,
        "Event processing",
        f"{total:,} queued events, 5 types (SkuChanged, SkuPriceChanged, SkuOnHandBreakPoint, "
        f"CustomerChanged, CompanyChanged), {DUPLICATE_SHARE:.0%} of them repeating a key named by one "
        f"of the {BURST} events before (a burst). `EventProcessor.handle` per SQS batch vs a naive "
        "processor making one Query call per event (same Query client, same emulator in another "
        f"process, same accept-all target); alternating, median of {reps}. Calls are counted by the "
        "Query client.",
    )
    with emulator_process(job_processing=False) as url:
        skus, customers, companies = _seed(url, total, total // 2, total // 2)
        events = make_events(total, skus, customers, companies)
        records = sqs_records(events)
        distinct = len({(("sku" if t in SKU_TYPES else t), k) for t, k in events})
        clients = _clients(url)
        query = clients.query
        target = _AcceptAll()
        processor = _processor(query, target)
        processor.handle({"Records": records[:5]})  # warm the token and the connection
        naive_runs: list[dict[str, Any]] = []
        batched_runs: dict[int, list[dict[str, Any]]] = {size: [] for size in batch_sizes}
        for _ in range(reps):
            naive_runs.append(_run_naive(query, processor.specs, target, records))
            for size in batch_sizes:
                batched_runs[size].append(_run_batched(processor, query, records, size))
        clients.close()

    naive_rate = [total / r["elapsed_s"] for r in naive_runs]
    result.add(Figure("naive: Query calls", naive_runs[0]["calls"], "calls", repetitions=reps))
    for size, runs in batched_runs.items():
        first = runs[0]
        if any(r["failures"] for r in runs):
            raise RuntimeError(f"batch size {size}: {runs[0]['failures']} records failed")
        excess = max(c - a for c, a in zip(first["calls_per_batch"], first["allowed_per_batch"], strict=True))
        result.add(
            Figure(
                f"batch {size}: Query calls per batch (max over batches)",
                max(first["calls_per_batch"]),
                "calls",
                repetitions=len(first["calls_per_batch"]),
                baseline=max(first["allowed_per_batch"]),
                baseline_label="Σ per entity set ⌈distinct keys/50⌉",
                goal="every batch <= Σ per entity set ⌈distinct keys/50⌉",
                passed=excess <= 0,
            )
        )
        result.add(
            ratio_figure(
                f"batch {size}: Query calls in total",
                [float(r["calls"]) for r in runs],
                [float(r["calls"]) for r in naive_runs],
                unit="calls",
                baseline_label="naive, one call per event",
                goal_ratio=None,
                higher_is_better=False,
            )
        )
        goal = 10.0 if size == max(batch_sizes) else None
        result.add(
            ratio_figure(
                f"batch {size}: events/s",
                [total / r["elapsed_s"] for r in runs],
                naive_rate,
                unit="events/s",
                baseline_label="naive, one call per event",
                goal_ratio=goal,
                goal_text=">= 10 x baseline" if goal else None,
            )
        )
    result.notes.append(
        f"{total:,} events name {distinct:,} distinct entity keys ({total - distinct:,} repeats). "
        "The processor looks up all keys of a batch with one `get_many` per entity set (SKU events share "
        "`Products/ProductSkus`), packing as many keys per call as the URL length allows (≤ 500); so a "
        "batch costs at most one call per entity set present, and calls per event fall as batches grow."
    )
    result.notes.append(
        "Coalescing only happens within a batch: the SQS event source's batch size "
        "(`EventBatchSize`, default 10, max 50) and batching window decide how much. The events/s goal is "
        "judged at batch size 50; the emulator answers a look-up in a few milliseconds on loopback (it "
        "reads every row of the set per request; a key list costs it one set look-up per row), whereas "
        "Norce Query over the internet takes tens of milliseconds, where the call ratio dominates even more."
    )
    return result
