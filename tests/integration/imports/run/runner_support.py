"""Shared pieces for the import-runner integration tests: an in-memory source, clocks, wiring."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fixtures.aws import moto_quarantine

from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.imports.records import SourceRecord, WatermarkValue
from norcekit.imports.runner import Clocks, ImportRunner, NorceSide, RunnerOptions, RunStores
from norcekit.imports.sources.base import SourceCapabilities
from norcekit.norce.factory import NorceClients
from norcekit.quarantine import S3QuarantineStore
from norcekit.state.jobs import JobStore
from norcekit.state.runs import RunStore
from norcekit.state.table import StateTable
from norcekit.state.watermarks import WatermarkStore

T0 = datetime(2026, 11, 27, 8, 0, 0, tzinfo=UTC)
SAMPLE_KEY_FIELDS: dict[str, list[str]] = {
    "products": ["code"],
    "sku_prices": ["part_no", "price_list_code", "quantity_break"],
    "price_lists": ["code"],
    "onhand": ["part_no", "warehouse_code", "location_code"],
    "customers": ["code"],
    "companies": ["code"],
    "supplier_products": ["supplier_part_no"],
}


@dataclass
class Clock:
    """Wall clock (aware UTC) and monotonic clock moved together by tests."""

    now: datetime = T0
    mono: float = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class MemoryRow:
    record: SourceRecord
    #: When the row becomes visible to readers (a long ERP transaction commits late).
    visible_at: datetime | None = None


@dataclass
class MemorySource:
    """An in-memory timestamp source: ``iter_changed`` = visible rows with ``since <= changed_at < until``."""

    clock: Clock
    rows: dict[str, list[MemoryRow]] = field(default_factory=dict)
    name: str = "erp"
    capabilities: SourceCapabilities = field(
        default_factory=lambda: SourceCapabilities(delta_supported=True, watermark_kind="timestamp")
    )
    reads: list[tuple[str, Any, Any]] = field(default_factory=list)
    closed: int = 0

    def add(
        self,
        entity: str,
        key: str,
        data: dict[str, Any],
        changed_at: datetime,
        *,
        visible_at: datetime | None = None,
    ) -> None:
        record = SourceRecord(key=key, data=data, origin=f"memory:{entity}:{key}", changed_at=changed_at)
        self.rows.setdefault(entity, []).append(MemoryRow(record, visible_at))

    def add_broken(self, entity: str, origin: str, error: str, changed_at: datetime | None = None) -> None:
        self.rows.setdefault(entity, []).append(MemoryRow(SourceRecord.failed(origin, error, "{not json")))

    def entities(self) -> frozenset[str]:
        return frozenset(self.rows)

    def _visible(self, entity: str) -> Iterator[SourceRecord]:
        for row in self.rows.get(entity, []):
            if row.visible_at is None or row.visible_at <= self.clock.now:
                yield row.record

    def iter_all(self, entity: str) -> Iterator[SourceRecord]:
        self.reads.append(("all", None, None))
        yield from self._visible(entity)

    def iter_changed(
        self, entity: str, since: WatermarkValue | None, until: WatermarkValue
    ) -> Iterator[SourceRecord]:
        self.reads.append(("changed", since, until))
        for record in self._visible(entity):
            stamp = record.changed_at
            if stamp is None:
                yield record  # unreadable rows carry no stamp: always in the window
                continue
            if (since is None or stamp >= since) and stamp < until:  # type: ignore[operator]
                yield record

    def now(self) -> WatermarkValue:
        return self.clock.now

    def close(self) -> None:
        self.closed += 1


def customer(code: str, first_name: str = "Anna", *, email: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "first_name": first_name,
        "last_name": "Svensson",
        "email": email or f"{code.lower()}@example.com",
    }


def integration_config(root: Path, **entity_overrides: dict[str, Any]) -> IntegrationConfig:
    """A configuration with a file-drop source ``erp`` at ``root`` and every entity on the sample mapping."""
    entities: dict[str, Any] = {
        name: {
            "source": "erp",
            "mapping": "sample",
            "delta": {"batch_size": 1000, "overlap_s": 300, "safety_lag_s": 60},
            "job_deadline_s": 3600,
        }
        for name in SAMPLE_KEY_FIELDS
    }
    for name, override in entity_overrides.items():
        entities[name] = {**entities[name], **override}
    return load_config(
        {
            "sources": {
                "erp": {
                    "type": "filedrop",
                    "root": str(root),
                    "entities": {name: {"key_fields": keys} for name, keys in SAMPLE_KEY_FIELDS.items()},
                }
            },
            "entities": entities,
        },
        environ={},
    )


@dataclass
class Stack:
    """Everything a test needs to build runners against moto + the emulator."""

    clients: NorceClients
    table: StateTable
    bucket: str
    root: Path
    clock: Clock = field(default_factory=Clock)

    @property
    def jobs(self) -> JobStore:
        return JobStore(self.table)

    @property
    def runs(self) -> RunStore:
        return RunStore(self.table)

    @property
    def watermarks(self) -> WatermarkStore:
        return WatermarkStore(self.table)

    @property
    def quarantine(self) -> S3QuarantineStore:
        return moto_quarantine(self.bucket)

    def runner(
        self,
        config: IntegrationConfig | None = None,
        *,
        source: Any = None,
        options: RunnerOptions | None = None,
        metrics: Any = None,
        connect: Any = None,
        real_clock: bool = False,
        table: StateTable | None = None,
        query: Any = None,
        job_status_sink: Any = None,
        **kwargs: Any,
    ) -> ImportRunner:
        clocks = Clocks()
        if not real_clock:
            clocks = Clocks(now=self.clock, monotonic=self.clock.monotonic, epoch=self.clock.epoch)
        return ImportRunner(
            config or integration_config(self.root),
            stores=RunStores.on_table(table or self.table, self.quarantine, lock_clock=clocks.epoch),
            norce=NorceSide(
                connect=connect or self.clients.connect,
                jobs=self.clients.jobs,
                account_id_for=lambda source_name: 123,
                query=query,
                status_sink=job_status_sink,
            ),
            metrics=metrics if metrics is not None else RecordingMetrics(),
            options=options or RunnerOptions(min_remaining_s=5, full_min_remaining_s=5),
            clocks=clocks,
            source_factory=(lambda name: source) if source is not None else None,
            **kwargs,
        )


class RecordingMetrics:
    """Stands in for Powertools Metrics: keeps every metric added, with the dimensions of the time."""

    def __init__(self) -> None:
        self.dimensions: dict[str, str] = {}
        self.metadata: dict[str, Any] = {}
        self.metrics: list[tuple[str, float, dict[str, str]]] = []

    def add_dimension(self, name: str, value: str) -> None:
        self.dimensions[name] = value

    def add_metadata(self, key: str, value: Any) -> None:
        self.metadata[key] = value

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.metrics.append((str(name), value, dict(self.dimensions)))

    def total(self, name: str, entity: str | None = None) -> float:
        return sum(
            v for n, v, dims in self.metrics if n == name and (entity is None or dims.get("entity") == entity)
        )


class SlowConnect:
    """Wraps a ConnectClient: runs ``after_each`` after every accepted import (to move clocks, pause)."""

    def __init__(self, inner: Any, after_each: Callable[[int], None]) -> None:
        self.inner = inner
        self.after_each = after_each
        self.calls = 0
        self.lock = threading.Lock()

    def import_items(self, kind: Any, header: Any, items: Any, **kwargs: Any) -> Any:
        result = self.inner.import_items(kind, header, items, **kwargs)
        with self.lock:
            self.calls += 1
            number = self.calls
        self.after_each(number)
        return result
