"""JobMonitor.tick with a fake Job service: concurrency bound, deadline, poll interval, lag metric."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.imports.config import load_config
from norcekit.jobs import JobMonitor, JobTracker, MonitorOptions, Restarter, RestartPolicy
from norcekit.jobs.monitor import import_kinds
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobDto, JobLogEntry, JobStatus
from norcekit.observability import MetricName
from norcekit.state.jobs import JobRecord
from norcekit.state.memory import (
    MemoryFinishClaims,
    MemoryJobStore,
    MemoryLocks,
    MemoryRunStore,
    MemoryState,
    MemoryWatermarkStore,
)
from norcekit.state.watermarks import Watermark

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class SlowJobService:
    """Job/Get answers "Queued" after ``delay`` seconds; records how many calls overlap."""

    def __init__(self, delay: float, on_call: Callable[[], None] | None = None) -> None:
        self.delay = delay
        self.on_call = on_call
        self.calls: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        with self.lock:
            self.calls.append(int(job_id))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.delay)
        if self.on_call is not None:
            self.on_call()
        with self.lock:
            self.in_flight -= 1
        return JobDto(JobId=int(job_id), StatusId=JobStatus.QUEUED)

    def get_log(self, job_id: int | str, *, deadline: Deadline | None = None) -> list[JobLogEntry]:
        return []

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse:
        raise AssertionError("no restart expected")


class Points:
    def __init__(self) -> None:
        self.points: list[tuple[str, float, str]] = []
        self.imports: list[str | None] = []

    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        self.points.append((name.value, value, entity))
        self.imports.append(import_name)


def make_monitor(
    memory: MemoryState,
    service: SlowJobService,
    metrics: Points,
    *,
    concurrency: int = 4,
    interval: float = 0,
    entities: tuple[str, ...] = ("products", "onhand"),
    kind_of: Any = None,
) -> JobMonitor:
    job_store, runs, watermarks = MemoryJobStore(memory), MemoryRunStore(memory), MemoryWatermarkStore(memory)

    def clock() -> datetime:
        return NOW

    restarter = Restarter(
        jobs_client=service,
        job_store=job_store,
        run_store=runs,
        locks=MemoryLocks(memory),
        policy=RestartPolicy(),
        clock=clock,
    )
    tracker = JobTracker(
        job_store=job_store,
        watermark_store=watermarks,
        restarter=restarter,
        claims=MemoryFinishClaims(memory, clock=clock),
        metrics=metrics,
        jobs_client=service,
        clock=clock,
    )
    return JobMonitor(
        tracker,
        jobs_client=service,
        job_store=job_store,
        watermark_store=watermarks,
        metrics=metrics,
        entities=lambda: list(entities),
        job_deadline_s=lambda entity: 3600,
        options=MonitorOptions(poll_min_interval_s=interval, concurrency=concurrency, sweep_recent=0),
        clock=clock,
        kind_of=kind_of,
    )


def open_jobs(memory: MemoryState, count: int) -> list[int]:
    store = MemoryJobStore(memory)
    for job_id in range(1, count + 1):
        store.create(
            JobRecord(job_id=job_id, entity="products", mode="delta", submitted_at=NOW - timedelta(minutes=1))
        )
    return list(range(1, count + 1))


def test_polls_run_in_parallel_but_never_more_than_the_concurrency_setting(memory: MemoryState) -> None:
    ids = open_jobs(memory, 12)
    service = SlowJobService(delay=0.05)
    summary = make_monitor(memory, service, Points(), concurrency=3).tick(Deadline.after(60))

    assert sorted(service.calls) == ids and summary.polled == 12
    assert service.max_in_flight == 3


def test_polling_stops_when_the_deadline_is_near(memory: MemoryState) -> None:
    open_jobs(memory, 10)
    elapsed = [0.0]

    def each_call_takes_300_ms() -> None:
        elapsed[0] += 0.3

    service = SlowJobService(delay=0, on_call=each_call_takes_300_ms)
    deadline = Deadline(2.5, clock=lambda: elapsed[0])
    # POLL_MIN_REMAINING_S is 2 s: calls start with 2.5 s and 2.2 s left, not with 1.9 s.
    summary = make_monitor(memory, service, Points(), concurrency=1).tick(deadline)

    assert summary.polled == 2 and len(service.calls) == 2
    assert summary.skipped_deadline == 8


def test_a_job_polled_recently_is_skipped_until_the_interval_passes(memory: MemoryState) -> None:
    open_jobs(memory, 2)
    service = SlowJobService(delay=0)
    monitor = make_monitor(memory, service, Points(), interval=3600)

    monitor.tick(Deadline.after(60))
    second = monitor.tick(Deadline.after(60))

    assert len(service.calls) == 2
    assert second.polled == 0 and second.skipped_recently_polled == 2


def test_watermark_lag_is_reported_per_enabled_entity_with_a_timestamp_watermark(
    memory: MemoryState,
) -> None:
    watermarks = MemoryWatermarkStore(memory)
    watermarks.commit("products", Watermark.timestamp(NOW - timedelta(minutes=15)), run_id="r1")
    watermarks.commit("onhand", Watermark.cursor(42), run_id="r2")  # a cursor has no age
    watermarks.commit("customers", Watermark.timestamp(NOW - timedelta(days=1)), run_id="r3")  # not enabled
    metrics = Points()

    summary = make_monitor(memory, SlowJobService(0), metrics).tick(Deadline.after(60))

    assert summary.watermark_lag_s == {"products": pytest.approx(900.0)}
    assert [(name, entity) for name, _, entity in metrics.points] == [("WatermarkLagSeconds", "products")]
    assert metrics.points[0][1] == pytest.approx(900.0)


def test_watermark_lag_of_a_named_import_carries_its_kind_and_its_name(memory: MemoryState) -> None:
    config = load_config(
        {
            "sources": {
                "pim": {
                    "type": "filedrop",
                    "root": "/nonexistent",
                    "entities": {"products": {"key_fields": ["code"]}},
                }
            },
            "imports": {"pim_products": {"kind": "products", "source": "pim", "mapping": "sample"}},
        },
        environ={},
    )
    MemoryWatermarkStore(memory).commit(
        "pim_products", Watermark.timestamp(NOW - timedelta(minutes=5)), run_id="r1"
    )
    metrics = Points()
    monitor = make_monitor(
        memory, SlowJobService(0), metrics, entities=("pim_products",), kind_of=import_kinds(config)
    )

    summary = monitor.tick(Deadline.after(60))

    assert summary.watermark_lag_s == {"pim_products": pytest.approx(300.0)}
    # entity = the kind, like every other import metric; import = the import's name.
    assert [(name, entity) for name, _, entity in metrics.points] == [("WatermarkLagSeconds", "products")]
    assert metrics.imports == ["pim_products"]
    assert import_kinds(None)("products") == "products"
