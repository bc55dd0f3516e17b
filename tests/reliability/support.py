"""Helpers shared by the reliability tests: fault profiles, settling jobs despite faults, catalog views."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

from norce_emulator import Emulator
from norcekit.jobs.completion import SettleResult, settle_jobs
from norcekit.norce.http import NorceError
from norcekit.norce.jobs import JobClient
from norcekit.state.jobs import JobStore
from norcekit.state.runs import RunStore
from norcekit.state.watermarks import WatermarkStore

#: 20% of requests fail: 10% 429, 5% 5xx, 5% dropped connections; plus a little latency.
#: Retry-After 0 keeps the suite fast (the retry logic still honours it).
FAULTS_20 = {
    "rate_429": 0.10,
    "rate_5xx": 0.05,
    "drop_rate": 0.05,
    "latency_ms": 2,
    "retry_after_seconds": 0,
}
FAULT_GROUPS = ("token", "connect", "job", "query")

#: Catalog row key per Connect import kind, as the emulator stores it.
CATALOG_KEYS: dict[str, tuple[str, ...]] = {
    "products": ("Code",),
    "sku_prices": ("PartNo", "PriceListCode", "QuantityBreak"),
    "price_lists": ("Code",),
    "onhand": ("PartNo", "WarehouseCode", "LocationCode"),
    "customers": ("Code",),
    "companies": ("Code",),
}


def item_key(kind: str, item: dict[str, Any]) -> tuple[Any, ...]:
    """The key of one Connect item (a JSON object) of ``kind``."""
    key = tuple(item.get(name) for name in CATALOG_KEYS[kind])
    if kind == "sku_prices":
        key = (*key[:2], key[2] or 1)
    return key


def settle(
    job_ids: list[int],
    *,
    jobs_client: JobClient,
    job_store: JobStore,
    run_store: RunStore,
    watermark_store: WatermarkStore,
    timeout: float = 30.0,
) -> SettleResult:
    """``settle_jobs`` until every job ended; a poll that fails after its retries is just polled again."""
    stop_at = time.monotonic() + timeout
    while True:
        try:
            result = settle_jobs(
                job_ids,
                jobs_client,
                job_store,
                max(0.1, stop_at - time.monotonic()),
                run_store=run_store,
                watermark_store=watermark_store,
                poll_interval_s=0.02,
            )
        except NorceError:
            if time.monotonic() > stop_at:
                raise
            continue
        if not result.unfinished or time.monotonic() > stop_at:
            return result


def fault_counts(emulator: Emulator) -> dict[str, dict[str, int]]:
    """Faults the emulator injected, per endpoint group and kind (429, 500, drop, ...)."""
    counts: dict[str, Counter[str]] = {}
    for record in emulator.requests():
        if record.get("Fault") is not None:
            counts.setdefault(record["Group"], Counter())[str(record["Fault"])] += 1
    return {group: dict(counter) for group, counter in counts.items()}


def dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
