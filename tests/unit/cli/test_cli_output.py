"""JSON output shapes and the human/progress switches of the operator CLI."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from norcekit.cli.commands.jobs import job_summary
from norcekit.cli.commands.watermarks import watermark_row
from norcekit.cli.output import Output, ago, duration, to_jsonable
from norcekit.norce.jobs import JobStatus
from norcekit.state.jobs import JobCounters, JobRecord, Restart
from norcekit.state.watermarks import CommittedWatermark, Watermark

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)

JOB_SUMMARY_KEYS = {
    "job_id",
    "entity",
    "import",
    "kind",
    "mode",
    "run_id",
    "status",
    "status_name",
    "submitted_at",
    "finished_at",
    "item_count",
    "counters",
    "restart_count",
    "restarted_from",
    "restarted_as",
    "superseded",
    "stuck",
}


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_datetimes_become_utc_iso_with_z() -> None:
    cet = timezone(timedelta(hours=2))
    assert to_jsonable(datetime(2025, 6, 2, 14, 0, tzinfo=cet)) == "2025-06-02T12:00:00Z"
    assert to_jsonable(datetime(2025, 6, 2, 12, 0, 0, 120000)) == "2025-06-02T12:00:00.120000Z"


@dataclass
class Point:
    at: datetime
    amount: Decimal


def test_enums_models_dataclasses_and_numbers_are_plain_json() -> None:
    value = {
        "status": JobStatus.FAILED,
        "counters": JobCounters(totals=3, inserts=1),
        "point": Point(NOW, Decimal("2")),
        "ratio": Decimal("0.5"),
        "ids": {3, 1},
        "elapsed": timedelta(seconds=90),
    }
    assert to_jsonable(value) == {
        "status": 3,
        "counters": {"totals": 3, "inserts": 1, "updates": None, "fail": None},
        "point": {"at": "2025-06-02T12:00:00Z", "amount": 2},
        "ratio": 0.5,
        "ids": [1, 3],
        "elapsed": 90.0,
    }


def test_job_summary_shape() -> None:
    job = JobRecord(
        job_id=12,
        entity="products",
        mode="full",
        run_id="r1",
        item_count=5,
        submitted_at=NOW,
        status=JobStatus.FAILED,
        restarts=[Restart(at=NOW, new_job_id=13)],
        restart_count=1,
    )
    summary = job_summary(job)
    assert set(summary) == JOB_SUMMARY_KEYS
    assert summary["status"] == 3 and summary["status_name"] == "failed"
    assert summary["restarted_as"] == 13
    assert summary["submitted_at"] == "2025-06-02T12:00:00Z"
    json.dumps(summary)  # plain JSON already


def test_watermark_row_has_lag_only_for_timestamps() -> None:
    stamp = CommittedWatermark("products", Watermark.timestamp(NOW - timedelta(hours=1)), NOW, "run-1")
    cursor = CommittedWatermark("onhand", Watermark.cursor(42), NOW, "manual:ops")
    assert watermark_row(stamp, NOW)["lag_s"] == 3600.0
    row = watermark_row(cursor, NOW)
    assert row == {
        "entity": "onhand",
        "value": "42",
        "kind": "cursor",
        "committed_at": NOW,
        "run_id": "manual:ops",
        "lag_s": None,
    }


def test_json_mode_prints_one_document_and_no_table() -> None:
    stdout = io.StringIO()
    out = Output(json_mode=True, stdout=stdout, stderr=io.StringIO())

    def render(console: object) -> None:
        raise AssertionError("no human rendering with --json")

    out.emit([{"at": NOW}], render)
    assert json.loads(stdout.getvalue()) == [{"at": "2025-06-02T12:00:00Z"}]


def test_human_mode_renders_tables_on_stdout_and_messages_on_stderr() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(stdout=stdout, stderr=stderr)
    out.emit({"x": 1}, lambda console: console.print("a table"))
    out.error("it broke")
    assert stdout.getvalue() == "a table\n"
    assert stderr.getvalue() == "error: it broke\n"


def test_progress_only_for_a_person_at_a_terminal() -> None:
    assert Output(stdout=io.StringIO(), stderr=FakeTTY()).progress_enabled
    assert not Output(stdout=io.StringIO(), stderr=io.StringIO()).progress_enabled  # a pipe
    assert not Output(json_mode=True, stdout=io.StringIO(), stderr=FakeTTY()).progress_enabled
    assert not Output(stdout=io.StringIO(), stderr=FakeTTY(), progress=False).progress_enabled


def test_disabled_progress_writes_nothing() -> None:
    stderr = io.StringIO()
    out = Output(stdout=io.StringIO(), stderr=stderr)
    with out.progress("working", total=3) as progress:
        progress.update("still working", advance=1)
    assert stderr.getvalue() == ""


def test_human_times_and_durations() -> None:
    assert ago(NOW - timedelta(minutes=3), NOW) == "2025-06-02 11:57:00Z (3m00s ago)"
    assert ago("2025-06-02T10:00:00Z", NOW) == "2025-06-02 10:00:00Z (2h00m ago)"
    assert ago(None, NOW) == "-"
    assert [duration(s) for s in (5, 75, 3 * 3600 + 120, 2 * 86400 + 3600, None)] == [
        "5s",
        "1m15s",
        "3h02m",
        "2d01h",
        "-",
    ]
