"""Every way an import run ends, driven through ``ImportRunner.run`` with in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.imports.run.run_fakes import T0, World, config, customer, onhand, price

from norcekit.deadline import Deadline
from norcekit.imports.runner import RunnerOptions, UnknownEntityError
from norcekit.norce.contracts import item_field
from norcekit.norce.http import DeadlineExceeded
from norcekit.norce.jobs import JobStatus
from norcekit.state.jobs import JobCounters, JobRecord
from norcekit.state.locks import LeaseInfo
from norcekit.state.runs import RunOutcome, RunRecord
from norcekit.state.watermarks import Watermark


def _long() -> Deadline:
    return Deadline.after(600)


def test_a_full_import_submits_one_fullfile_job_and_records_run_and_job() -> None:
    world = World()
    for part_no in ("A", "B", "C"):
        world.source.add("sku_prices", f"{part_no}|SEK|1", price(part_no))

    result = world.runner().run("sku_prices", "full", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert [len(r.items) for r in world.connect.requests] == [3]
    assert world.connect.requests[0].header.FullFile is True
    assert result.counts.read == result.counts.mapped == result.counts.submitted == 3
    stored = world.runs.get(result.run_id)
    assert stored.outcome is RunOutcome.SUBMITTED and stored.job_ids == result.job_ids == [101]
    assert world.jobs.get(101).run_id == result.run_id
    assert world.locks.held == {}  # released
    assert world.source.closed == 1
    assert world.metrics.total("ItemsSubmitted") == 3


def test_a_delta_submits_batches_and_its_jobs_succeeding_commit_the_candidate() -> None:
    world = World()
    world.committed("sku_prices", T0 - timedelta(hours=1))
    for part_no in ("A", "B", "C"):
        world.source.add("sku_prices", f"{part_no}|SEK|1", price(part_no), T0 - timedelta(minutes=10))

    result = world.runner().run("sku_prices", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert [len(r.items) for r in world.connect.requests] == [2, 1]  # batch_size 2
    assert world.connect.requests[0].header.FullFile is False
    assert result.candidate_watermark == Watermark.timestamp(T0 - timedelta(seconds=60))
    assert world.watermarks.get("sku_prices") == Watermark.timestamp(T0 - timedelta(hours=1))

    # A later run's ordering check sees the jobs ended (Job/Get says Succeeded): the watermark moves.
    world.clock.advance(60)
    world.runner().run("sku_prices", "delta", deadline=_long())
    assert world.runs.get(result.run_id).outcome is RunOutcome.SUCCEEDED
    assert world.watermarks.get("sku_prices") is not None
    assert world.watermarks.get("sku_prices") >= result.candidate_watermark  # type: ignore[operator]


def test_a_delta_with_nothing_changed_succeeds_and_commits_its_upper_bound_at_once() -> None:
    world = World()
    world.committed("customers", T0 - timedelta(hours=1))

    result = world.runner().run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUCCEEDED
    assert "no items to submit" in (result.message or "")
    assert world.connect.requests == []
    assert world.watermarks.get("customers") == Watermark.timestamp(T0 - timedelta(seconds=60))


def test_a_delta_whose_upper_bound_is_not_past_the_watermark_reads_nothing() -> None:
    world = World()
    world.committed("customers", T0)  # newer than now - safety lag

    result = world.runner().run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUCCEEDED
    assert "nothing to read" in (result.message or "")
    assert world.connect.requests == []


def test_an_unfinished_earlier_job_defers_the_run_without_reading_or_submitting() -> None:
    world = World()
    world.jobs.create(
        JobRecord(job_id=55, entity="customers", mode="delta", submitted_at=T0 - timedelta(minutes=1))
    )
    world.job_client.statuses[55] = JobStatus.QUEUED
    world.source.add("customers", "A", customer("A"))

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.outcome is RunOutcome.SKIPPED_JOB_RUNNING
    assert "job 55" in (result.message or "")
    assert world.connect.requests == []
    assert world.metrics.total("ImportRunsDeferred") == 1
    assert world.runs.get(result.run_id).outcome is RunOutcome.SKIPPED_JOB_RUNNING


def test_a_stuck_job_is_flagged_and_counted_when_the_run_defers() -> None:
    world = World()
    world.jobs.create(
        JobRecord(job_id=56, entity="customers", mode="full", submitted_at=T0 - timedelta(days=1))
    )
    world.job_client.statuses[56] = JobStatus.VALIDATING

    result = world.runner(config(customers={"job_deadline_s": 3600})).run(
        "customers", "full", deadline=_long()
    )

    assert result.outcome is RunOutcome.SKIPPED_JOB_RUNNING
    assert result.stuck_job_ids == [56]
    assert world.metrics.total("JobsStuck") == 1


def test_a_run_finding_the_entity_locked_is_skipped_and_counted() -> None:
    world = World()
    world.locks.held["customers"] = LeaseInfo("customers-full-other#abc", T0.timestamp() + 600)

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.outcome is RunOutcome.SKIPPED_LOCKED
    assert "customers-full-other#abc" in (result.message or "")
    assert world.metrics.total("ImportRunsSkippedLocked") == 1
    assert world.locks.held["customers"].owner == "customers-full-other#abc"  # not taken, not released


def test_a_duplicate_trigger_of_a_running_run_id_writes_nothing() -> None:
    world = World()
    world.locks.held["customers"] = LeaseInfo("run-1#first", T0.timestamp() + 600)

    result = world.runner().run("customers", "full", deadline=_long(), run_id="run-1")

    assert result.outcome is RunOutcome.SKIPPED_LOCKED
    assert result.stored is False
    assert "duplicate trigger" in (result.message or "")
    assert world.runs.records == {}
    assert world.metrics.metrics == []


def test_a_run_id_already_used_returns_the_stored_record_and_does_nothing() -> None:
    world = World()
    world.runs.create(
        RunRecord(
            run_id="run-2", entity="customers", mode="full", started_at=T0, outcome=RunOutcome.SUCCEEDED
        )
    )
    world.source.add("customers", "A", customer("A"))

    result = world.runner().run("customers", "full", deadline=_long(), run_id="run-2")

    assert result.outcome is RunOutcome.SUCCEEDED and result.stored is False
    assert world.connect.requests == []
    assert world.locks.held == {}


def test_a_connect_failure_ends_the_run_failed_with_the_reason_and_no_candidate() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    world.connect.fail = RuntimeError("Connect said 500")

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.outcome is RunOutcome.FAILED
    assert "Connect said 500" in (result.message or "")
    assert "not committable" in (world.runs.get(result.run_id).message or "")
    assert world.watermarks.get("customers") is None
    assert world.metrics.total("ImportRunsFailed") == 1
    assert world.locks.held == {}


def test_a_delta_without_a_watermark_fails_and_asks_for_a_full_import_first() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))

    result = world.runner().run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.FAILED
    assert "run a full import first" in (result.message or "")
    assert world.connect.requests == []


def test_a_delta_from_the_beginning_reads_everything_when_configured() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"), T0 - timedelta(days=400))

    runner = world.runner(options=RunnerOptions(initial_delta="from_beginning", min_remaining_s=5))
    result = runner.run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED
    assert result.window_since is None
    assert result.counts.submitted == 1


def test_a_watermark_of_another_kind_fails_the_delta() -> None:
    world = World()
    world.watermarks.values["customers"] = Watermark.cursor(42)

    result = world.runner().run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.FAILED
    assert "watermarks set" in (result.message or "")


def test_a_lock_lost_mid_run_fails_the_run() -> None:
    world = World()
    world.committed("customers", T0 - timedelta(hours=1))
    for code in ("A", "B", "C", "D"):
        world.source.add("customers", code, customer(code), T0 - timedelta(minutes=10))

    def steal(number: int) -> None:  # another run took the expired lease after the first batch
        world.locks.held["customers"] = LeaseInfo("thief#1", T0.timestamp() + 900)
        world.clock.advance(400)  # past a third of the lease: the next tick renews

    world.connect.after_each = steal
    result = world.runner(options=RunnerOptions(lock_lease_s=900, min_remaining_s=0)).run(
        "customers", "delta", deadline=_long()
    )

    assert result.outcome is RunOutcome.FAILED
    assert "lost the customers lock" in (result.message or "")
    assert len(world.connect.requests) == 1  # never submitted without the lease
    assert world.locks.held["customers"].owner == "thief#1"  # not released: not ours


def test_a_full_import_without_time_to_start_ends_partial_timeout_without_a_request() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))

    result = world.runner(options=RunnerOptions(full_min_remaining_s=120)).run(
        "customers", "full", deadline=Deadline.after(60)
    )

    assert result.outcome is RunOutcome.PARTIAL_TIMEOUT
    assert "not started" in (result.message or "")
    assert world.connect.requests == []
    assert world.metrics.total("ImportRunsPartial") == 1


def test_a_delta_stops_between_batches_when_time_runs_short_and_keeps_the_watermark() -> None:
    world = World()
    world.committed("customers", T0 - timedelta(hours=1))
    for code in ("A", "B", "C", "D", "E"):
        world.source.add("customers", code, customer(code), T0 - timedelta(minutes=10))
    deadline = Deadline.after(600)
    world.connect.after_each = lambda number: world.clock.advance(1)
    runner = world.runner(options=RunnerOptions(min_remaining_s=10_000))

    result = runner.run("customers", "delta", deadline=deadline)

    assert result.outcome is RunOutcome.PARTIAL_TIMEOUT
    assert "stopped before batch 1" in (result.message or "")
    assert "not committable" in (result.message or "")
    assert world.watermarks.get("customers") == Watermark.timestamp(T0 - timedelta(hours=1))


def test_a_deadline_reached_while_streaming_ends_partial_timeout() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    world.connect.fail = DeadlineExceeded("deadline reached while streaming")

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.outcome is RunOutcome.PARTIAL_TIMEOUT
    assert "deadline reached" in (result.message or "")


def test_a_dry_run_maps_and_reports_but_stores_sends_and_locks_nothing() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    world.source.add("customers", "B", customer("B", email="no-address"))
    world.locks.held["customers"] = LeaseInfo("someone-else#1", T0.timestamp() + 600)  # a dry run ignores it

    result = world.runner().run("customers", "full", deadline=_long(), dry_run=True)

    assert result.outcome is RunOutcome.SUCCEEDED and result.dry_run and not result.stored
    assert "1 item(s) would be submitted in 1 job(s); 1 record(s) would be quarantined" in (
        result.message or ""
    )
    assert [r.key for r in result.rejections] == ["B"]
    assert result.rejections[0].quarantine_key is None
    assert world.connect.requests == [] and world.runs.records == {} and world.quarantine.items == {}
    assert world.metrics.metrics == []


def test_a_delta_dry_run_counts_the_jobs_it_would_submit() -> None:
    world = World()
    world.committed("customers", T0 - timedelta(hours=1))
    for code in ("A", "B", "C"):
        world.source.add("customers", code, customer(code), T0 - timedelta(minutes=10))

    result = world.runner().run("customers", "delta", deadline=_long(), dry_run=True)

    assert result.outcome is RunOutcome.SUCCEEDED
    assert "3 item(s) would be submitted in 2 job(s)" in (result.message or "")
    assert world.connect.requests == []


def test_rejected_records_are_quarantined_with_key_reason_and_row_and_the_rest_is_imported() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    world.source.add("customers", "B", customer("B", email="not-an-address"))
    world.source.add_broken("customers", "export.jsonl:3")
    world.source.add("customers", "A", customer("A"))  # duplicate key in a full export

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED
    assert result.counts.submitted == 1 and result.counts.quarantined == 2 and result.counts.deduplicated == 1
    stored = {item.metadata["record_key"]: item for item in world.quarantine.items.values()}
    assert set(stored) == {"A", "B", "export.jsonl:3"}
    assert "not-an-address" in stored["B"].reason and stored["B"].payload["email"] == "not-an-address"
    assert "duplicate key" in stored["A"].reason
    assert stored["B"].metadata["run_id"] == result.run_id
    assert {r.key for r in result.rejections} == set(stored)
    assert world.metrics.total("ItemsQuarantined") == 2


def test_onhand_split_by_warehouse_sends_one_fullfile_job_per_warehouse() -> None:
    world = World()
    for part, warehouse in (("P1", "W1"), ("P2", "W2"), ("P3", "W1")):
        world.source.add("onhand", f"{part}|{warehouse}|A", onhand(part, warehouse))

    runner = world.runner(config(onhand={"full_scope_split": "warehouse"}))
    result = runner.run("onhand", "full", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED
    by_warehouse = {
        item_field(r.items[0], "WarehouseCode"): [item_field(i, "PartNo") for i in r.items]
        for r in world.connect.requests
    }
    assert by_warehouse == {"W1": ["P1", "P3"], "W2": ["P2"]}
    assert result.counts.submitted == 3 and len(result.job_ids) == 2


def test_an_unknown_or_disabled_entity_is_an_error_not_a_run() -> None:
    world = World()
    with pytest.raises(UnknownEntityError):
        world.runner().run("nonsense", "full", deadline=_long())
    with pytest.raises(UnknownEntityError, match="disabled"):
        world.runner(config(customers={"enabled": False})).run("customers", "full", deadline=_long())
    with pytest.raises(ValueError, match="mode"):
        world.runner().run("customers", "sideways", deadline=_long())  # type: ignore[arg-type]
    assert world.runs.records == {}


def test_jobs_that_end_before_the_run_says_submitted_make_it_succeed_and_commit_at_once() -> None:
    world = World()
    world.committed("customers", T0 - timedelta(hours=1))
    world.source.add("customers", "A", customer("A"), T0 - timedelta(minutes=10))
    record_job = world.jobs.create

    def ended_at_once(
        record: JobRecord,
    ) -> JobRecord:  # the tracker finished the job before the runner's last write
        return record_job(
            record.model_copy(
                update={"status": JobStatus.SUCCEEDED, "counters": JobCounters(totals=1, fail=0)}
            )
        )

    world.jobs.create = ended_at_once  # type: ignore[method-assign]
    result = world.runner().run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUCCEEDED, result.message
    assert world.watermarks.get("customers") == Watermark.timestamp(T0 - timedelta(seconds=60))


def test_a_job_known_succeeded_only_from_its_event_leaves_the_run_to_the_tracker() -> None:
    # The JobCompletedEvent names the status, not Norce's counters: whether Norce rejected items
    # (succeeded_with_failures) is known only once the tracker has read them.
    world = World()
    world.committed("customers", T0 - timedelta(hours=1))
    world.source.add("customers", "A", customer("A"), T0 - timedelta(minutes=10))
    record_job = world.jobs.create

    def ended_by_event(record: JobRecord) -> JobRecord:
        return record_job(record.model_copy(update={"status": JobStatus.SUCCEEDED}))

    world.jobs.create = ended_by_event  # type: ignore[method-assign]
    result = world.runner().run("customers", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert world.watermarks.get("customers") == Watermark.timestamp(T0 - timedelta(hours=1))


def test_a_full_import_takes_the_earlier_of_upper_and_the_exports_snapshot_as_candidate() -> None:
    world = World()
    world.source.add("customers", "A", customer("A"))
    snapshot = T0 - timedelta(hours=3)
    world.source.snapshot_position = lambda entity: snapshot  # type: ignore[attr-defined]

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.window_until == Watermark.timestamp(T0 - timedelta(seconds=60))
    assert result.candidate_watermark == Watermark.timestamp(snapshot)
