"""Property: whatever the change history, delta imports deliver every change and the watermark is safe.

Each example drives the *real* delta path — :class:`ImportRunner` (lock, ordering check, window,
dedupe, batching, run records), :class:`FileDropSource` (file selection by name position and
``.done`` marker) and the state stores — against a fake Norce (Connect + Job/Get in memory) and the
in-memory state stores (``norcekit.state.memory``, held to the DynamoDB stores' behaviour by
``tests/contracts/state_stores.py``); a few histories are replayed on the DynamoDB stores on moto.
Hypothesis generates the history:

* ERP writes at arbitrary moments, several rows per file, the same key changed again and again,
  many files with **equal timestamps**, files stamped exactly on a run's upper bound;
* the exporter's **clock skewed** against ours by less than the safety lag;
* **late commits**: a file's ``.done`` marker appears up to ``overlap + safety_lag`` after its
  name's timestamp (in per-key order: a later version of a row never becomes visible before an
  earlier one, as with row locks in a database);
* runs at arbitrary moments; Norce finishing jobs with or without us polling; **failed jobs**;
  **crashed runs** (killed after Norce accepted a job: the job is orphaned, the lease stays held
  until it expires).

After every step: the committed watermark, less the overlap, never passed a change that is not in
Norce yet (so some future window still contains it), and it never runs ahead of the source clock.
After the history: once the runs settle, Norce holds the latest version of every key.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import boto3
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from tests.fixtures.aws import REGION, moto_table
from tests.integration.imports.run.runner_support import Clock, RecordingMetrics, integration_config

from norcekit.deadline import Deadline
from norcekit.imports.runner import Clocks, ImportRunner, NorceSide, RunnerOptions, RunStores
from norcekit.imports.sources.filedrop import FileDropOptions, FileDropSource
from norcekit.jobs.completion import settle_jobs
from norcekit.norce.connect import ImportResult
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobDto, JobStatus
from norcekit.state.interfaces import JobRecords, Lease, Locks, RunRecords, Watermarks
from norcekit.state.jobs import JobStore
from norcekit.state.locks import LeaseLocks
from norcekit.state.memory import (
    MemoryJobStore,
    MemoryLocks,
    MemoryRunStore,
    MemoryState,
    MemoryWatermarkStore,
)
from norcekit.state.runs import RunStore
from norcekit.state.table import StateTable, create_table
from norcekit.state.watermarks import WatermarkStore

pytestmark = pytest.mark.integration

ENTITY = "customers"
LAG_S, OVERLAP_S, LEASE_S = 5, 10, 30
T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = ("K0", "K1", "K2", "K3")
EXAMPLES = 200
#: Examples replayed on the DynamoDB stores on moto, to show the in-memory stores agree.
MOTO_EXAMPLES = 8


class Crash(BaseException):
    """The Lambda is killed (timeout, OOM) right after Norce accepted a job."""


# --- the source: a file drop in memory, files appear when written, markers when committed ---------


@dataclass
class MemoryDrop:
    clock: Clock
    files: dict[str, tuple[bytes, datetime, datetime]] = field(default_factory=dict)  # key → data, t, visible

    def list(self, prefix: str) -> list[str]:
        now = self.clock.now
        keys = []
        for key, (_, written, visible) in self.files.items():
            if key.startswith(prefix) and written <= now:
                keys.append(key)
                if visible <= now:
                    keys.append(key + ".done")
        return sorted(keys)

    def open(self, key: str) -> IO[bytes]:
        return io.BytesIO(self.files[key][0])

    def exists(self, key: str) -> bool:
        return key in self.list(key.rsplit("/", 1)[0] + "/")

    def describe(self, key: str) -> str:
        return f"memory://{key}"

    def close(self) -> None:
        return None


# --- Norce: Connect accepts jobs, processes them in order, Job/Get reports -----------------------


class Item(BaseModel):
    Code: str
    FirstName: str


def mapping(data: dict[str, Any]) -> Item:
    return Item(Code=data["code"], FirstName=data["first_name"])


@dataclass
class NorceJob:
    job_id: int
    items: list[tuple[str, str]]
    fails: bool
    status: JobStatus = JobStatus.QUEUED


@dataclass
class FakeNorce:
    outcomes: list[str] = field(default_factory=list)  # per submission: ok / fail / crash
    jobs: dict[int, NorceJob] = field(default_factory=dict)
    applied: dict[str, str] = field(default_factory=dict)  # key → FirstName ("v<version>")
    next_id: int = 1000
    #: Set while a crash unwinds: the killed run runs no more code (see ``LeasesOutliveACrash``).
    killed: bool = False

    def import_items(self, kind: Any, header: Any, items: Any, **kwargs: Any) -> ImportResult:
        batch: Iterable[Item] = items() if callable(items) else items
        rows = [(item.Code, item.FirstName) for item in batch]
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        self.next_id += 1
        self.jobs[self.next_id] = NorceJob(self.next_id, rows, fails=outcome == "fail")
        if outcome == "crash":
            self.killed = True
            raise Crash()
        return ImportResult(kind=str(kind), job=JobResponse(JobId=str(self.next_id)), items_sent=len(rows))

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        job = self.jobs[int(job_id)]
        return JobDto(JobId=job.job_id, StatusId=job.status, IsFinished=job.status is not JobStatus.QUEUED)

    def process(self) -> None:
        """Norce works through its queue, one job after the other, in submission order."""
        for job in sorted(self.jobs.values(), key=lambda j: j.job_id):
            if job.status is JobStatus.QUEUED:
                job.status = JobStatus.FAILED if job.fails else JobStatus.SUCCEEDED
                if not job.fails:
                    self.applied.update(job.items)


# --- the generated history ------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    keys: tuple[str, ...]
    done_delay: int  # seconds after writing until the .done marker (scaled into the safe range)


@dataclass(frozen=True)
class Step:
    advance_s: int
    writes: tuple[Write, ...]
    action: str  # nothing / run / run_settle / norce_only
    outcomes: tuple[str, ...]


steps = st.lists(
    st.builds(
        Step,
        advance_s=st.sampled_from([0, 0, 1, 2, 3, 5, 7, 12]),
        writes=st.lists(
            st.builds(
                Write,
                keys=st.lists(st.sampled_from(KEYS), min_size=1, max_size=3).map(tuple),
                done_delay=st.integers(0, 10_000),
            ),
            max_size=2,
        ).map(tuple),
        action=st.sampled_from(["nothing", "run", "run_settle", "run_settle", "norce_only"]),
        outcomes=st.lists(st.sampled_from(["ok", "ok", "ok", "fail", "crash"]), max_size=3).map(tuple),
    ),
    min_size=1,
    max_size=14,
)
histories = st.tuples(st.integers(-(LAG_S - 1), LAG_S - 1), st.integers(1, 3), steps)


@dataclass(frozen=True)
class Change:
    key: str
    version: int
    position: datetime


@dataclass
class Stores:
    jobs: JobRecords
    runs: RunRecords
    watermarks: Watermarks
    locks: Locks


def memory_stores(clock: Clock) -> Stores:
    memory = MemoryState()
    return Stores(
        MemoryJobStore(memory),
        MemoryRunStore(memory),
        MemoryWatermarkStore(memory),
        MemoryLocks(memory, clock=clock.epoch),
    )


@dataclass
class LeasesOutliveACrash:
    """A SIGKILLed run never releases its lease: releases are ignored while a crash unwinds."""

    inner: Locks
    norce: FakeNorce

    def lease(self, name: str, owner: str, lease_s: float) -> Lease:
        lease = self.inner.lease(name, owner, lease_s)
        release = lease.release

        def release_unless_killed() -> bool:
            return False if self.norce.killed else release()

        lease.release = release_unless_killed  # type: ignore[method-assign]
        return lease


@dataclass
class World:
    """One example: clock, file drop, Norce, state stores and the runner wired to them."""

    make_stores: Callable[[Clock], Stores]
    clock: Clock = field(default_factory=lambda: Clock(now=T0, mono=1000.0))
    seq: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    visible: dict[str, datetime] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    runs: int = 0
    crashes: int = 0
    checks: int = 0

    def __post_init__(self) -> None:
        self.drop = MemoryDrop(self.clock)
        self.norce = FakeNorce()
        stores = self.make_stores(self.clock)
        self.watermarks = stores.watermarks
        self.job_store = stores.jobs
        self.run_store = stores.runs
        self.locks = LeasesOutliveACrash(stores.locks, self.norce)

    def runner(self, batch_size: int) -> ImportRunner:
        config = integration_config(
            Path("/nonexistent"),
            customers={"delta": {"batch_size": batch_size, "overlap_s": OVERLAP_S, "safety_lag_s": LAG_S}},
        )
        options = FileDropOptions(root="memory", entities={ENTITY: {"key_fields": ["code"]}})
        clock = self.clock
        return ImportRunner(
            config,
            stores=RunStores(
                runs=self.run_store,
                jobs=self.job_store,
                watermarks=self.watermarks,
                quarantine=None,  # type: ignore[arg-type]  # every generated row maps
                locks=self.locks,
            ),
            norce=NorceSide(connect=self.norce, jobs=self.norce, account_id_for=lambda name: 1),
            metrics=RecordingMetrics(),  # type: ignore[arg-type]
            options=RunnerOptions(
                lock_lease_s=LEASE_S,
                min_remaining_s=0,
                full_min_remaining_s=0,
                initial_delta="from_beginning",
            ),
            clocks=Clocks(now=clock, monotonic=clock.monotonic, epoch=clock.epoch),
            source_factory=lambda name: FileDropSource("erp", options, self.drop, clock=clock),  # type: ignore[arg-type]
            mapping_factory=lambda entity: mapping,
        )

    def write(self, write: Write, skew_s: int) -> None:
        written = self.clock.now
        position = written + timedelta(seconds=skew_s)  # the exporter's clock names the file
        # A late commit lands at most overlap + lag after the file's own timestamp.
        latest = skew_s + LAG_S + OVERLAP_S - 1
        visible = written + timedelta(seconds=write.done_delay % (latest + 1) if latest >= 0 else 0)
        rows = []
        for key in write.keys:
            self.versions[key] = self.versions.get(key, 0) + 1
            visible = max(visible, self.visible.get(key, visible))  # row-lock order per key
            rows.append({"code": key, "first_name": f"v{self.versions[key]}", "updated_at": _iso(position)})
            self.changes.append(Change(key, self.versions[key], position))
        for key in write.keys:
            self.visible[key] = visible
        self.seq += 1
        name = f"{position:%Y%m%dT%H%M%SZ}-{self.seq:05d}.jsonl"
        data = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        self.drop.files[f"{ENTITY}/delta/{name}"] = (data, written, visible)

    def run(self, runner: ImportRunner, outcomes: tuple[str, ...]) -> None:
        self.norce.outcomes = list(outcomes)
        self.runs += 1
        try:
            runner.run(ENTITY, "delta", deadline=Deadline.after(600, clock=self.clock.monotonic))
        except Crash:
            # SIGKILL: no `finally` ran, so the dead run's lease stays held until it expires.
            self.crashes += 1
        self.norce.killed = False
        self.norce.outcomes = []

    def settle(self) -> None:
        """Norce finishes its queue and we poll every job our records still show as open."""
        self.norce.process()
        open_jobs = [job.job_id for job in self.job_store.unfinished_for_entity(ENTITY)]
        if open_jobs:
            settle_jobs(open_jobs, self.norce, self.job_store, 0, run_store=self.run_store,
                        watermark_store=self.watermarks, sleep=lambda s: None)  # fmt: skip

    def check_watermark(self) -> None:
        self.checks += 1
        committed = self.watermarks.get(ENTITY)
        if committed is None:
            return
        mark = committed.as_datetime()
        assert mark <= self.clock.now - timedelta(seconds=LAG_S), "watermark ahead of the source clock"
        lowest_next_read = mark - timedelta(seconds=OVERLAP_S)
        for change in self.changes:
            if _version(self.norce.applied.get(change.key)) < change.version:
                assert change.position >= lowest_next_read, (
                    f"watermark {mark} passed {change} which is not in Norce ({self.norce.applied})"
                )

    def latest(self) -> dict[str, str]:
        return {key: f"v{version}" for key, version in self.versions.items()}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _version(first_name: str | None) -> int:
    return int(first_name[1:]) if first_name else 0


def play(world: World, history: tuple[int, int, list[Step]]) -> None:
    skew_s, batch_size, plan = history
    runner = world.runner(batch_size)
    for step in plan:
        world.clock.advance(step.advance_s)
        for write in step.writes:
            world.write(write, skew_s)
        if step.action in ("run", "run_settle"):
            world.run(runner, step.outcomes)
        if step.action in ("run_settle", "norce_only"):
            world.norce.process() if step.action == "norce_only" else world.settle()
        world.check_watermark()

    # Quiet time: every marker is in, a dead run's lease has expired, nothing fails any more.
    world.clock.advance(LEASE_S + LAG_S + OVERLAP_S + 2 * LAG_S)
    for _ in range(4):
        world.run(runner, ())
        world.settle()
        world.check_watermark()
        if world.norce.applied == world.latest():
            break
        world.clock.advance(1)
    assert world.norce.applied == world.latest(), "a change never reached Norce"


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(history=histories)
def test_delta_imports_deliver_every_change_and_the_watermark_never_skips_one(
    history: tuple[int, int, list[Step]], figures: dict[str, Any]
) -> None:
    world = World(memory_stores)
    play(world, history)
    jobs = world.norce.jobs.values()
    for name, value in (
        ("examples", 1),
        ("runs", world.runs),
        ("crashed_runs", world.crashes),
        ("changes", len(world.changes)),
        ("jobs", len(jobs)),
        ("failed_jobs", sum(1 for job in jobs if job.fails)),
        ("watermark_checks", world.checks),
    ):
        figures[name] = figures.get(name, 0) + value


@pytest.fixture
def moto_stores(state_table: StateTable) -> Callable[[Clock], Stores]:
    client = boto3.client("dynamodb", region_name=REGION)
    counter = iter(range(10_000))

    def make(clock: Clock) -> Stores:
        name = f"wm-property-{next(counter)}"
        create_table(client, name)
        table = moto_table(name)
        return Stores(
            JobStore(table), RunStore(table), WatermarkStore(table), LeaseLocks(table, clock=clock.epoch)
        )

    return make


def test_the_same_histories_hold_on_moto(
    moto_stores: Callable[[Clock], Stores], figures: dict[str, Any]
) -> None:
    """A few generated histories replayed on moto: the in-memory stores are not hiding anything."""
    played = 0

    @settings(max_examples=MOTO_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(history=histories)
    def on_moto(history: tuple[int, int, list[Step]]) -> None:
        nonlocal played
        play(World(moto_stores), history)
        played += 1

    on_moto()
    figures.update({"moto_examples": played})
