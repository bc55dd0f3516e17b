"""Job tracking against the emulator (real HTTP on loopback) and a moto state table."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from tests.fixtures.emulator import post_import, product
from tests.fixtures.norce_settings import emulator_settings

from norce_emulator import Emulator
from norcekit.deadline import Deadline
from norcekit.jobs import JobMonitor
from norcekit.norce.factory import NorceClients
from norcekit.observability import MetricName
from norcekit.settings import Settings
from norcekit.state.jobs import JobRecord, JobStore
from norcekit.state.runs import RunOutcome, RunRecord, RunStore
from norcekit.state.table import StateTable
from norcekit.state.watermarks import Watermark, WatermarkStore
from norcekit.wiring import build_job_monitor, build_job_tracker, build_norce_clients

IMPORT_PATH = "Product/ImportProducts"


class FakeClock:
    """Wall clock the tests move by hand (the emulator's clock offset is moved alongside)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class RecordingMetrics:
    points: list[tuple[str, float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        with self.lock:
            self.points.append((name.value, value, entity))

    def count(self, name: MetricName) -> int:
        return sum(1 for n, _, _ in self.points if n == name.value)


def tracker_settings(emulator: Emulator, **overrides: Any) -> Settings:
    return emulator_settings(emulator, job_poll_min_interval_s=0, **overrides)


@dataclass
class Harness:
    emulator: Emulator
    http: httpx.Client
    headers: dict[str, str]
    table: StateTable
    clients: NorceClients
    clock: FakeClock
    metrics: RecordingMetrics
    monitor: JobMonitor
    job_store: JobStore
    run_store: RunStore
    watermarks: WatermarkStore
    run_seq: int = 0

    @property
    def tracker(self) -> Any:
        return self.monitor.tracker

    def new_run(
        self, *, mode: str = "delta", candidate: datetime | None = None, entity: str = "products"
    ) -> str:
        self.run_seq += 1
        run_id = f"run-{self.run_seq}"
        self.run_store.create(
            RunRecord(
                run_id=run_id,
                entity=entity,
                mode=mode,  # type: ignore[arg-type]
                started_at=self.clock() - timedelta(seconds=1),
                candidate_watermark=Watermark.timestamp(candidate) if candidate else None,
                outcome=RunOutcome.RUNNING,
            )
        )
        return run_id

    def submit(
        self, run_id: str | None, *, mode: str = "delta", items: list[dict[str, Any]] | None = None
    ) -> int:
        """POST an import to the emulator and record the job as the import runner would."""
        items = items if items is not None else [product("P1", "SKU-1")]
        resp = post_import(self.http, self.headers, IMPORT_PATH, items, FullFile=mode == "full")
        assert resp.status_code == 200, resp.text
        job_id = int(resp.json()["JobId"])
        self.job_store.create(
            JobRecord(
                job_id=job_id,
                entity="products",
                mode=mode,  # type: ignore[arg-type]
                run_id=run_id,
                item_count=len(items),
                submitted_at=self.clock(),
            )
        )
        if run_id is not None:
            self.run_store.update(run_id, add_job_ids=[job_id])
        return job_id

    def close_run(self, run_id: str) -> None:
        """The runner's last step: everything submitted, the tracker decides the rest."""
        self.run_store.update(run_id, outcome=RunOutcome.SUBMITTED)

    def wait(self, job_id: int) -> None:
        self.emulator.wait_for_job(job_id)

    def settle(self, rounds: int = 20) -> None:
        """Tick until no job is open (restarts included)."""
        for _ in range(rounds):
            for job in self.job_store.list_open():
                self.emulator.wait_for_job(job.job_id)
            self.monitor.tick(Deadline.after(30))
            if not self.job_store.list_open():
                return
        raise AssertionError("jobs did not settle")


@pytest.fixture
def harness(
    emulator: Emulator, state_table: StateTable, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> Iterator[Harness]:
    clock = FakeClock()
    metrics = RecordingMetrics()
    with build_norce_clients(tracker_settings(emulator)) as clients:
        settings = tracker_settings(emulator)
        tracker = build_job_tracker(
            settings, table=state_table, clients=clients, metrics=metrics, clock=clock
        )
        monitor = build_job_monitor(
            settings, None, tracker=tracker, clients=clients, metrics=metrics, clock=clock
        )
        yield Harness(
            emulator=emulator,
            http=emulator_http,
            headers=emulator_headers,
            table=state_table,
            clients=clients,
            clock=clock,
            metrics=metrics,
            monitor=monitor,
            job_store=JobStore(state_table),
            run_store=RunStore(state_table),
            watermarks=WatermarkStore(state_table),
        )
