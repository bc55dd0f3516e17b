"""A Succeeded job with ``Fail > 0``: its log is read, each rejected item quarantined and counted, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.jobs import JobTracker, Restarter, RestartPolicy
from norcekit.jobs.failed_items import FailedItemKeeper, item_key
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.errors import NorceUnavailable
from norcekit.norce.jobs import JobDto, JobLogEntry, JobSeverity, JobStatus
from norcekit.observability import MetricName
from norcekit.state.jobs import JobCounters, JobRecord
from norcekit.state.memory import (
    MemoryFinishClaims,
    MemoryJobStore,
    MemoryLocks,
    MemoryRunStore,
    MemoryState,
    MemoryWatermarkStore,
)
from norcekit.state.runs import RunOutcome, RunRecord
from norcekit.state.watermarks import Watermark

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
UNKNOWN = {"PartNo": "NO-SUCH-SKU", "PriceListCode": "SEK", "PriceSale": 10.0, "IsActive": True}


class JobService:
    def __init__(self) -> None:
        self.dto: dict[int, JobDto] = {}
        self.logs: dict[int, list[JobLogEntry]] = {}
        self.log_reads: list[int] = []
        self.failing = False
        self.log_failing = False

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        if self.failing:
            raise NorceUnavailable("Job/Get: 503 after retries")
        return self.dto[int(job_id)]

    def get_log(self, job_id: int | str, *, deadline: Deadline | None = None) -> list[JobLogEntry]:
        self.log_reads.append(int(job_id))
        if self.log_failing:
            raise NorceUnavailable("Job/GetLog: 503 after retries")
        return self.logs.get(int(job_id), [])

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse:
        raise AssertionError("a succeeded job is never restarted")


class Points:
    def __init__(self) -> None:
        self.points: list[tuple[str, float, str]] = []

    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        self.points.append((name.value, value, entity))

    def total(self, name: MetricName) -> float:
        return sum(v for n, v, _ in self.points if n == name.value)


class Quarantine:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def put(
        self, kind: str, reason: str, payload: Any, *, metadata: Any = None, content_key: Any = None
    ) -> str:
        key = f"quarantine/{kind}/{content_key}.json"
        self.items.setdefault(key, {"kind": kind, "reason": reason, "payload": payload, "metadata": metadata})
        return key


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def world() -> dict[str, Any]:
    clock = Clock()
    memory = MemoryState()
    service, points, quarantine = JobService(), Points(), Quarantine()
    jobs, runs, watermarks = MemoryJobStore(memory), MemoryRunStore(memory), MemoryWatermarkStore(memory)
    restarter = Restarter(
        jobs_client=service,
        job_store=jobs,
        run_store=runs,
        locks=MemoryLocks(memory),
        policy=RestartPolicy(),
        clock=clock,
    )
    tracker = JobTracker(
        job_store=jobs,
        watermark_store=watermarks,
        restarter=restarter,
        claims=MemoryFinishClaims(memory, clock=clock),
        metrics=points,
        jobs_client=service,
        clock=clock,
        failed_items=FailedItemKeeper(quarantine, service, points),  # type: ignore[arg-type]
    )
    runs.create(
        RunRecord(
            run_id="run-1",
            entity="sku_prices",
            mode="delta",
            started_at=NOW - timedelta(minutes=2),
            job_ids=[7],
            outcome=RunOutcome.SUBMITTED,
            candidate_watermark=Watermark.timestamp(NOW - timedelta(minutes=3)),
        )
    )
    jobs.create(
        JobRecord(
            job_id=7,
            entity="sku_prices",
            mode="delta",
            run_id="run-1",
            submitted_at=NOW - timedelta(minutes=1),
        )
    )
    return {
        "tracker": tracker,
        "service": service,
        "points": points,
        "quarantine": quarantine,
        "runs": runs,
        "watermarks": watermarks,
        "clock": clock,
    }


def _succeeded_with(service: JobService, job_id: int, fail: int, rows: list[str | None]) -> JobDto:
    dto = JobDto(JobId=job_id, StatusId=JobStatus.SUCCEEDED, Totals=3, Updates=3 - fail, Fail=fail)
    service.dto[job_id] = dto
    service.logs[job_id] = [
        JobLogEntry(SeverityId=JobSeverity.INFORMATION, Message="Starting import."),
        *[
            JobLogEntry(SeverityId=JobSeverity.ERROR, Message=f"PartNo not found (row {n})", ImportedRow=row)
            for n, row in enumerate(rows, 1)
        ],
        JobLogEntry(SeverityId=JobSeverity.INFORMATION, Message="Import finished."),
    ]
    return dto


def test_each_item_norce_rejected_is_quarantined_with_key_message_and_payload(world: dict[str, Any]) -> None:
    service, quarantine = world["service"], world["quarantine"]
    dto = _succeeded_with(service, 7, 1, [orjson.dumps(UNKNOWN).decode()])

    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "event", dto)

    (item,) = quarantine.items.values()
    assert item["kind"] == "norce_item"
    assert item["reason"] == "PartNo not found (row 1)"
    assert item["payload"] == UNKNOWN
    assert item["metadata"]["record_key"] == "NO-SUCH-SKU|SEK"
    assert item["metadata"]["job_id"] == "7" and item["metadata"]["run_id"] == "run-1"
    assert item["metadata"]["complete"] == "yes"
    assert world["points"].total(MetricName.ITEMS_FAILED_IN_NORCE) == 1


def test_the_run_ends_succeeded_with_failures_and_its_watermark_moves_on(world: dict[str, Any]) -> None:
    dto = _succeeded_with(world["service"], 7, 1, [orjson.dumps(UNKNOWN).decode()])

    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "event", dto)

    run = world["runs"].get("run-1")
    assert run.outcome is RunOutcome.SUCCEEDED_WITH_FAILURES
    assert "Norce rejected 1 item(s)" in (run.message or "")
    assert world["watermarks"].get("sku_prices") == Watermark.timestamp(NOW - timedelta(minutes=3))


def test_a_job_whose_counters_cannot_be_read_is_not_called_succeeded_until_they_can(
    world: dict[str, Any],
) -> None:
    # The JobCompletedEvent names only the status; Job/Get for the counters fails the first time.
    service, memory_clock = world["service"], world["clock"]
    dto = _succeeded_with(service, 7, 1, [orjson.dumps(UNKNOWN).decode()])
    service.dto.pop(7)
    service.failing = True

    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "event")
    assert world["runs"].get("run-1").outcome is RunOutcome.SUBMITTED  # not "succeeded" blind
    assert world["watermarks"].get("sku_prices") is None and not world["quarantine"].items
    assert not world["tracker"].decided(7)  # left for a later tick

    service.failing, service.dto[7] = False, dto
    memory_clock.advance(timedelta(seconds=20))
    assert world["tracker"].sweep(["sku_prices"]) == 1

    assert world["runs"].get("run-1").outcome is RunOutcome.SUCCEEDED_WITH_FAILURES
    assert len(world["quarantine"].items) == 1


def test_items_norce_rejected_are_counted_at_once_even_when_the_log_cannot_be_read_yet(
    world: dict[str, Any],
) -> None:
    service, points, clock = world["service"], world["points"], world["clock"]
    dto = _succeeded_with(service, 7, 2, [orjson.dumps(UNKNOWN).decode(), '{"PartNo": "X", "Pri'])
    service.log_failing = True  # Job/GetLog down (or its path wrong): Fail = 2 must still alarm

    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "event", dto)

    assert points.total(MetricName.ITEMS_FAILED_IN_NORCE) == 2
    assert world["quarantine"].items == {} and not world["tracker"].decided(7)

    service.log_failing = False
    clock.advance(timedelta(minutes=10))  # the claim's lease ran out: a later tick resumes
    assert world["tracker"].sweep(["sku_prices"]) == 1

    assert len(world["quarantine"].items) == 2
    assert points.total(MetricName.ITEMS_FAILED_IN_NORCE) == 2  # counted once
    assert points.total(MetricName.JOBS_SUCCEEDED) == 1


def test_a_second_report_of_the_same_ending_keeps_and_counts_nothing_twice(world: dict[str, Any]) -> None:
    dto = _succeeded_with(world["service"], 7, 2, [orjson.dumps(UNKNOWN).decode(), '{"PartNo": "X", "Pri'])

    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "event", dto)
    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "poll", dto)

    assert len(world["quarantine"].items) == 2
    assert world["points"].total(MetricName.ITEMS_FAILED_IN_NORCE) == 2
    truncated = next(i for i in world["quarantine"].items.values() if i["metadata"]["complete"] == "no")
    assert truncated["payload"] == '{"PartNo": "X", "Pri'  # Norce cut the row: kept as text, not replayable


def test_a_job_failing_thousands_of_items_keeps_a_bounded_number_and_counts_them_all(
    world: dict[str, Any],
) -> None:
    rows = [orjson.dumps({**UNKNOWN, "PartNo": f"X{n}"}).decode() for n in range(30)]
    _succeeded_with(world["service"], 7, 30, rows)
    keeper = FailedItemKeeper(world["quarantine"], world["service"], world["points"], max_kept=10)
    record = (
        world["tracker"]
        .job_store.get(7)
        .model_copy(update={"status": JobStatus.SUCCEEDED, "counters": JobCounters(fail=30)})
    )

    assert keeper.keep(record) == 30

    assert len(world["quarantine"].items) == 10
    assert world["points"].total(MetricName.ITEMS_FAILED_IN_NORCE) == 30


def test_a_clean_succeeded_job_does_not_read_its_log(world: dict[str, Any]) -> None:
    dto = _succeeded_with(world["service"], 7, 0, [])

    world["tracker"].on_status(7, JobStatus.SUCCEEDED, "event", dto)

    assert world["service"].log_reads == []
    assert world["quarantine"].items == {}
    assert world["runs"].get("run-1").outcome is RunOutcome.SUCCEEDED


def test_item_keys_follow_the_contract_fields_of_each_kind() -> None:
    assert item_key("sku_prices", UNKNOWN) == "NO-SUCH-SKU|SEK"
    assert item_key("onhand", {"PartNo": "P", "WarehouseCode": "W1", "LocationCode": "A"}) == "P|W1|A"
    assert item_key("customers", {"Code": "C-1"}) == "C-1"
    assert item_key("customers", {"Email": "x"}) is None
    assert item_key("products", "truncated text") is None
