"""In-memory stand-ins for everything an import run touches: stores, lock, Connect, Job/Get, source.

Small on purpose: each fake keeps what a test wants to look at (records, quarantined items, the
requests Connect received) and nothing evaluates DynamoDB expressions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from norcekit.deadline import Deadline
from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.imports.records import SourceRecord, WatermarkValue
from norcekit.imports.runner import Clocks, ImportRunner, NorceSide, RunnerOptions, RunStores
from norcekit.imports.sources.base import SourceCapabilities
from norcekit.norce.connect import ImportResult
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobDto, JobStatus
from norcekit.quarantine import QuarantineItem, QuarantineItemNotFoundError
from norcekit.state.baselines import MemoryFullCounts
from norcekit.state.jobs import JobNotFoundError, JobRecord
from norcekit.state.locks import LeaseInfo, LockLostError
from norcekit.state.runs import RunNotFoundError, RunRecord
from norcekit.state.table import ConditionFailed
from norcekit.state.watermarks import Watermark

T0 = datetime(2026, 11, 27, 8, 0, 0, tzinfo=UTC)


@dataclass
class Clock:
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


class FakeRuns:
    def __init__(self) -> None:
        self.records: dict[str, RunRecord] = {}

    def create(self, record: RunRecord) -> RunRecord:
        if record.run_id in self.records:
            raise ConditionFailed(f"run {record.run_id} exists")
        self.records[record.run_id] = record
        return record

    def update(self, run_id: str, *, add_job_ids: Iterable[int] = (), **changes: Any) -> RunRecord:
        if run_id not in self.records:
            raise RunNotFoundError(run_id)
        current = self.records[run_id]
        values = {k: v for k, v in changes.items() if v is not None}
        if "finished_at" in values:
            values["duration_s"] = round((values["finished_at"] - current.started_at).total_seconds(), 3)
        values["job_ids"] = [*current.job_ids, *add_job_ids]
        self.records[run_id] = current.model_copy(update=values)
        return self.records[run_id]

    def get(self, run_id: str) -> RunRecord:
        if run_id not in self.records:
            raise RunNotFoundError(run_id)
        return self.records[run_id]

    def list_by_entity(
        self, entity: str, *, limit: int = 20, since: datetime | None = None
    ) -> list[RunRecord]:
        runs = sorted((r for r in self.records.values() if r.entity == entity), key=lambda r: r.started_at)
        return list(reversed(runs))[:limit]

    def latest(self, entity: str) -> RunRecord | None:
        runs = self.list_by_entity(entity, limit=1)
        return runs[0] if runs else None


class FakeJobs:
    def __init__(self) -> None:
        self.records: dict[int, JobRecord] = {}

    def create(self, record: JobRecord) -> JobRecord:
        self.records[record.job_id] = record
        return record

    def get(self, job_id: int) -> JobRecord:
        if job_id not in self.records:
            raise JobNotFoundError(job_id)
        return self.records[job_id]

    def find(self, job_id: int) -> JobRecord | None:
        return self.records.get(job_id)

    def unfinished_for_entity(self, entity: str) -> list[JobRecord]:
        return [j for j in self.records.values() if j.entity == entity and not j.is_terminal]

    def list_open(self) -> list[JobRecord]:
        return sorted(
            (j for j in self.records.values() if not j.is_terminal), key=lambda j: (j.submitted_at, j.job_id)
        )

    def jobs_for_run(self, run_id: str) -> list[JobRecord]:
        return [j for j in self.records.values() if j.run_id == run_id]

    def record_status(self, job_id: int, status: JobStatus | int, **kwargs: Any) -> tuple[JobRecord, bool]:
        job = self.records[job_id]
        if job.is_terminal:
            return job, False
        update: dict[str, Any] = {"status": JobStatus(status)}
        if kwargs.get("counters") is not None:
            update["counters"] = kwargs["counters"]
        self.records[job_id] = job.model_copy(update=update)
        return self.records[job_id], True

    def mark_stuck(self, job_id: int, *, at: datetime) -> tuple[JobRecord, bool]:
        job = self.records[job_id]
        if job.stuck:
            return job, False
        self.records[job_id] = job.model_copy(update={"stuck": True, "stuck_at": at})
        return self.records[job_id], True

    def mark_superseded(self, entity: str, before: datetime, by_job_id: int) -> list[int]:
        return []


class FakeWatermarks:
    def __init__(self) -> None:
        self.values: dict[str, Watermark] = {}

    def get(self, entity: str) -> Watermark | None:
        return self.values.get(entity)

    def commit(self, entity: str, new: Watermark, *, run_id: str) -> bool:
        current = self.values.get(entity)
        if current is not None and new <= current:
            return False
        self.values[entity] = new
        return True


class FakeLease:
    def __init__(self, locks: FakeLocks, name: str, owner: str, lease_s: float) -> None:
        self.locks, self.name, self.owner, self.lease_s = locks, name, owner, lease_s
        self.blocked_by: LeaseInfo | None = None

    def acquire(self) -> bool:
        held = self.locks.held.get(self.name)
        if held is not None and held.owner != self.owner:
            self.blocked_by = held
            return False
        self.locks.held[self.name] = LeaseInfo(self.owner, self.locks.clock.epoch() + self.lease_s)
        return True

    def renew(self) -> None:
        self.locks.renewals += 1
        held = self.locks.held.get(self.name)
        if held is None or held.owner != self.owner:
            raise LockLostError(f"lock {self.name!r} is no longer ours")

    def release(self) -> bool:
        held = self.locks.held.get(self.name)
        if held is None or held.owner != self.owner:
            return False
        del self.locks.held[self.name]
        return True


class FakeLocks:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.held: dict[str, LeaseInfo] = {}
        self.renewals = 0

    def lease(self, name: str, owner: str, lease_s: float) -> FakeLease:
        return FakeLease(self, name, owner, lease_s)


class FakeQuarantine:
    """Keeps :class:`QuarantineItem` s in a dict; ``replayed`` holds the items moved by a replay."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.items: dict[str, QuarantineItem] = {}
        self.replayed: dict[str, QuarantineItem] = {}

    def put(
        self,
        kind: str,
        reason: str,
        payload: Any,
        *,
        metadata: dict[str, Any] | None = None,
        content_key: str | None = None,
    ) -> str:
        key = f"quarantine/{kind}/{content_key or len(self.items) + len(self.replayed) + 1}.json"
        encoding = "json" if isinstance(payload, dict | list) else "text"
        self.items.setdefault(
            key,
            QuarantineItem(
                key=key,
                kind=kind,  # type: ignore[arg-type]
                reason=reason,
                received_at=self.clock.now,
                metadata=dict(metadata or {}),
                payload_encoding=encoding,
                payload=payload,
            ),
        )
        return key

    def get(self, key: str) -> QuarantineItem:
        if key not in self.items:
            raise QuarantineItemNotFoundError(key)
        return self.items[key]

    def mark_replayed(self, key: str) -> str:
        item = self.items.pop(key)
        new_key = "replayed/" + key.removeprefix("quarantine/")
        self.replayed[new_key] = item.model_copy(update={"key": new_key, "replayed_at": self.clock.now})
        return new_key


@dataclass
class Request:
    kind: str
    header: Any
    items: list[Any]


class FakeConnect:
    """Accepts every import (a new JobId each) unless ``fail`` says otherwise; keeps the requests."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[Request] = []
        self.job_ids = itertools.count(101)
        self.fail: Exception | None = None
        #: Called after each accepted request (to move clocks, take the lock away...).
        self.after_each: Callable[[int], None] = lambda number: None

    def import_items(
        self,
        kind: Any,
        header: Any,
        items: Iterable[Any] | Callable[[], Iterable[Any]],
        *,
        deadline: Deadline | None = None,
        on_item: Any = None,
    ) -> ImportResult:
        if self.fail is not None:
            raise self.fail
        sent = list(items() if callable(items) else items)
        self.requests.append(Request(str(kind), header, sent))
        job_id = next(self.job_ids)
        self.after_each(len(self.requests))
        return ImportResult(
            kind=str(kind), job=JobResponse(StatusCode="OK", JobId=str(job_id)), items_sent=len(sent)
        )


class FakeJobClient:
    """``Job/Get``: the status a test set per job id (default Succeeded)."""

    def __init__(self) -> None:
        self.statuses: dict[int, JobStatus] = {}

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        return JobDto(JobId=int(job_id), StatusId=self.statuses.get(int(job_id), JobStatus.SUCCEEDED))


@dataclass
class FakeSource:
    """A timestamp source: ``iter_changed`` = rows with ``since <= changed_at < until``."""

    clock: Clock
    rows: dict[str, list[SourceRecord]] = field(default_factory=dict)
    capabilities: SourceCapabilities = field(
        default_factory=lambda: SourceCapabilities(delta_supported=True, watermark_kind="timestamp")
    )
    closed: int = 0

    def add(self, entity: str, key: str, data: dict[str, Any], changed_at: datetime | None = None) -> None:
        stamp = changed_at or self.clock.now - timedelta(minutes=5)
        self.rows.setdefault(entity, []).append(
            SourceRecord(key=key, data=data, origin=f"memory:{entity}:{key}", changed_at=stamp)
        )

    def add_broken(self, entity: str, origin: str) -> None:
        self.rows.setdefault(entity, []).append(
            SourceRecord.failed(origin, f"{origin}: invalid JSON", "{not")
        )

    def iter_all(self, entity: str) -> Iterator[SourceRecord]:
        yield from self.rows.get(entity, [])

    def iter_changed(
        self, entity: str, since: WatermarkValue | None, until: WatermarkValue
    ) -> Iterator[SourceRecord]:
        for record in self.rows.get(entity, []):
            stamp = record.changed_at
            if stamp is None or ((since is None or stamp >= since) and stamp < until):  # type: ignore[operator]
                yield record

    def now(self) -> WatermarkValue:
        return self.clock.now

    def close(self) -> None:
        self.closed += 1


class RecordingMetrics:
    def __init__(self) -> None:
        self.dimensions: dict[str, str] = {}
        self.metrics: list[tuple[str, float, dict[str, str]]] = []

    def add_dimension(self, name: str, value: str) -> None:
        self.dimensions[name] = value

    def add_metadata(self, key: str, value: Any) -> None:
        pass

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.metrics.append((str(name), value, dict(self.dimensions)))

    def total(self, name: str) -> float:
        return sum(v for n, v, _ in self.metrics if n == name)


def customer(code: str, *, email: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "first_name": "Anna",
        "last_name": "Svensson",
        "email": email or f"{code.lower()}@example.com",
    }


def price(part_no: str, price_sale: str = "10.00", price_list: str = "SEK") -> dict[str, Any]:
    return {
        "part_no": part_no,
        "price_list_code": price_list,
        "quantity_break": "1",
        "price_sale": price_sale,
    }


def onhand(part_no: str, warehouse: str, quantity: int = 5) -> dict[str, Any]:
    return {"part_no": part_no, "warehouse_code": warehouse, "location_code": "A", "onhand_value": quantity}


KEY_FIELDS: dict[str, list[str]] = {
    "products": ["code"],
    "sku_prices": ["part_no", "price_list_code", "quantity_break"],
    "onhand": ["part_no", "warehouse_code", "location_code"],
    "customers": ["code"],
}


def config(**entity_overrides: dict[str, Any]) -> IntegrationConfig:
    entities: dict[str, Any] = {
        name: {
            "source": "erp",
            "mapping": "sample",
            "delta": {"batch_size": 2, "overlap_s": 300, "safety_lag_s": 60},
        }
        for name in KEY_FIELDS
    }
    for name, override in entity_overrides.items():
        entities[name] = {**entities[name], **override}
    return load_config(
        {
            "sources": {
                "erp": {
                    "type": "filedrop",
                    "root": "/nonexistent",
                    "entities": {name: {"key_fields": keys} for name, keys in KEY_FIELDS.items()},
                }
            },
            "entities": entities,
        },
        environ={},
    )


@dataclass
class World:
    """A runner over fakes, and the fakes to look at afterwards."""

    clock: Clock = field(default_factory=Clock)
    runs: FakeRuns = field(default_factory=FakeRuns)
    jobs: FakeJobs = field(default_factory=FakeJobs)
    watermarks: FakeWatermarks = field(default_factory=FakeWatermarks)
    quarantine: FakeQuarantine = field(default_factory=FakeQuarantine)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    job_client: FakeJobClient = field(default_factory=FakeJobClient)
    full_counts: MemoryFullCounts = field(default_factory=MemoryFullCounts)

    def __post_init__(self) -> None:
        self.quarantine.clock = self.clock
        self.locks = FakeLocks(self.clock)
        self.connect = FakeConnect(self.clock)
        self.source = FakeSource(self.clock)

    def runner(self, integration: IntegrationConfig | None = None, **kwargs: Any) -> ImportRunner:
        options = kwargs.pop("options", None) or RunnerOptions(min_remaining_s=5, full_min_remaining_s=5)
        return ImportRunner(
            integration or config(),
            stores=RunStores(
                runs=self.runs,  # type: ignore[arg-type]
                jobs=self.jobs,  # type: ignore[arg-type]
                watermarks=self.watermarks,  # type: ignore[arg-type]
                quarantine=self.quarantine,  # type: ignore[arg-type]
                locks=self.locks,
                full_counts=self.full_counts,
            ),
            norce=NorceSide(connect=self.connect, jobs=self.job_client, account_id_for=lambda source: 7),
            metrics=self.metrics,  # type: ignore[arg-type]
            options=options,
            clocks=Clocks(now=self.clock, monotonic=self.clock.monotonic, epoch=self.clock.epoch),
            # source_factory=None: the runner builds the configured sources itself.
            source_factory=kwargs.pop("source_factory", lambda name: self.source),
            **kwargs,
        )

    def committed(self, entity: str, at: datetime) -> None:
        self.watermarks.values[entity] = Watermark.timestamp(at)
