"""Delta imports against the emulator: windows, boundaries, batching, ordering, locks, time budget."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from tests.fixtures.aws import TABLE_NAME, moto_table
from tests.integration.imports.run.runner_support import (
    T0,
    MemorySource,
    RecordingMetrics,
    SlowConnect,
    Stack,
    customer,
    integration_config,
)

from norce_emulator import Emulator
from norcekit.deadline import Deadline
from norcekit.imports.lookups import LookupContext, LookupSpec
from norcekit.imports.mappings import load_mapping
from norcekit.imports.runner import RunnerOptions
from norcekit.jobs.completion import CommitResult, commit_run_watermark_if_complete, settle_jobs
from norcekit.norce.jobs import JobStatus
from norcekit.state.locks import LeaseLock
from norcekit.state.runs import RunOutcome, RunRecord, RunStore
from norcekit.state.watermarks import Watermark

pytestmark = pytest.mark.integration

W0 = T0 - timedelta(hours=1)
LAG = timedelta(seconds=60)


def _start_chain(stack: Stack) -> None:
    """The watermark a first full import would have committed."""
    assert stack.watermarks.commit("customers", Watermark.timestamp(W0), run_id="full-before")


def _settle(stack: Stack, job_ids: list[int]) -> None:
    result = settle_jobs(job_ids, stack.clients.jobs, stack.jobs, 10, run_store=stack.runs,
                         watermark_store=stack.watermarks)  # fmt: skip
    assert not result.unfinished


def _names(emulator: Emulator) -> dict[str, str]:
    return {row["Code"]: row["FirstName"] for row in emulator.catalog_rows("customers")}


def test_delta_reads_a_fixed_half_open_window_with_overlap_and_dedupe(
    stack: Stack, emulator: Emulator
) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    upper1 = T0 - LAG
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=30))
    # Two rows stamped exactly at the first run's upper bound: they belong to the next run.
    source.add("customers", "B", customer("B"), upper1)
    source.add("customers", "C", customer("C"), upper1)
    # A long ERP transaction: stamped inside run 1's window, visible only after run 1 read it.
    source.add(
        "customers", "D", customer("D"), T0 - timedelta(minutes=3), visible_at=T0 + timedelta(minutes=5)
    )
    # Changed twice before the second run: only the later version may be sent.
    source.add("customers", "E", customer("E", "Old"), T0 + timedelta(minutes=2))
    source.add("customers", "E", customer("E", "New"), T0 + timedelta(minutes=4))
    runner = stack.runner(source=source)

    first = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert first.outcome is RunOutcome.SUBMITTED, first.message
    assert first.window_until == Watermark.timestamp(upper1)  # source clock minus the safety lag
    assert first.window_since == Watermark.timestamp(W0 - timedelta(seconds=300))
    assert first.candidate_watermark == Watermark.timestamp(upper1)  # upper, not max(changed_at)
    assert first.counts.submitted == 1
    _settle(stack, first.job_ids)
    assert stack.watermarks.get("customers") == Watermark.timestamp(upper1)
    assert set(_names(emulator)) == {"A"}
    settled = stack.runs.get(first.run_id)
    assert settled.outcome is RunOutcome.SUCCEEDED
    assert settled.message == f"all 1 job(s) succeeded; watermark committed at {Watermark.timestamp(upper1)}"

    stack.clock.advance(600)
    second = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert second.outcome is RunOutcome.SUBMITTED, second.message
    assert second.window_since == Watermark.timestamp(upper1 - timedelta(seconds=300))
    assert second.counts.read == 5  # B, C, D (late, inside the overlap), E twice
    assert second.counts.deduplicated == 1
    assert second.counts.submitted == 4
    _settle(stack, second.job_ids)
    assert _names(emulator) == {"A": "Anna", "B": "Anna", "C": "Anna", "D": "Anna", "E": "New"}
    assert stack.watermarks.get("customers") == Watermark.timestamp(stack.clock.now - LAG)


def test_delta_batches_changes_into_jobs_of_batch_size(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    for n in range(7):
        source.add("customers", f"K{n}", customer(f"K{n}"), T0 - timedelta(minutes=10 - n))
    config = integration_config(stack.root, customers={"delta": {"batch_size": 3}})

    result = stack.runner(config, source=source).run("customers", "delta", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED
    assert [emulator.job(j)["ItemCount"] for j in result.job_ids] == [3, 3, 1]
    assert [emulator.job(j)["FullFile"] for j in result.job_ids] == [False, False, False]
    assert [stack.jobs.get(j).item_count for j in result.job_ids] == [3, 3, 1]
    assert stack.runs.get(result.run_id).job_ids == result.job_ids


def test_a_failed_job_leaves_the_watermark_where_it_was(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    emulator.set_job_processing(False)
    result = stack.runner(source=source).run("customers", "delta", deadline=Deadline.after(600))
    emulator.force_job_status(result.job_ids[0], int(JobStatus.FAILED))

    _settle(stack, result.job_ids)

    assert stack.watermarks.get("customers") == Watermark.timestamp(W0)
    assert stack.runs.get(result.run_id).outcome is RunOutcome.FAILED
    outcome = commit_run_watermark_if_complete(
        result.run_id, run_store=stack.runs, job_store=stack.jobs, watermark_store=stack.watermarks
    )
    assert outcome is CommitResult.NOT_COMMITTABLE
    assert stack.watermarks.get("customers") == Watermark.timestamp(W0)


def test_an_unfinished_earlier_job_defers_the_next_run(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    emulator.set_job_processing(False)
    runner = stack.runner(source=source)
    first = runner.run("customers", "delta", deadline=Deadline.after(600))
    stack.clock.advance(300)

    second = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert second.outcome is RunOutcome.SKIPPED_JOB_RUNNING
    assert f"job {first.job_ids[0]}" in (second.message or "") and "still running" in (second.message or "")
    assert second.job_ids == []
    assert len(emulator.jobs()) == 1
    assert stack.jobs.get(first.job_ids[0]).stuck is False

    # Once the job has finished, the next run goes ahead (and applies the earlier completion).
    emulator.set_job_processing(True)
    emulator.wait_for_job(first.job_ids[0])
    third = runner.run("customers", "delta", deadline=Deadline.after(600))
    assert third.outcome is RunOutcome.SUBMITTED
    assert stack.runs.get(first.run_id).outcome is RunOutcome.SUCCEEDED


def test_a_stuck_job_defers_is_flagged_and_counted(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    emulator.set_job_processing(False)
    metrics = RecordingMetrics()
    runner = stack.runner(source=source, metrics=metrics)
    first = runner.run("customers", "delta", deadline=Deadline.after(600))
    stack.clock.advance(3601)  # job_deadline_s = 3600

    second = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert second.outcome is RunOutcome.SKIPPED_JOB_RUNNING
    assert "stuck" in (second.message or "")
    assert second.stuck_job_ids == first.job_ids
    assert stack.jobs.get(first.job_ids[0]).stuck is True
    assert metrics.total("JobsStuck", "customers") == 1
    assert metrics.total("ImportRunsDeferred", "customers") == 1


def test_stuck_policy_proceed_submits_despite_a_stuck_job(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    emulator.set_job_processing(False)
    config = integration_config(stack.root, customers={"stuck_policy": "proceed"})
    runner = stack.runner(config, source=source)
    runner.run("customers", "delta", deadline=Deadline.after(600))
    stack.clock.advance(3601)

    second = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert second.outcome is RunOutcome.SUBMITTED
    assert len(emulator.jobs()) == 2


def test_two_concurrent_runs_exactly_one_proceeds(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    reading = threading.Event()
    release = threading.Event()

    class BlockingSource(MemorySource):
        def iter_changed(self, entity, since, until):  # type: ignore[no-untyped-def]
            reading.set()
            assert release.wait(10)
            yield from super().iter_changed(entity, since, until)

    source = BlockingSource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    results = {}

    def first_run() -> None:
        runner = stack.runner(source=source, table=moto_table(TABLE_NAME))
        results["first"] = runner.run("customers", "delta", deadline=Deadline.after(600))

    worker = threading.Thread(target=first_run)
    worker.start()
    assert reading.wait(10)
    try:
        second = stack.runner(source=MemorySource(stack.clock)).run(
            "customers", "delta", deadline=Deadline.after(600)
        )
    finally:
        release.set()
        worker.join(10)

    assert second.outcome is RunOutcome.SKIPPED_LOCKED
    assert "locked by run " + results["first"].run_id in (second.message or "")
    assert results["first"].outcome is RunOutcome.SUBMITTED
    assert len(emulator.jobs()) == 1
    # The lock is released at the end: a later run is not locked out.
    assert LeaseLock(stack.table, "customers", "someone", 60, clock=stack.clock.epoch).acquire()


def test_a_duplicate_trigger_with_the_same_run_id_does_not_free_the_first_runs_lock(
    stack: Stack, emulator: Emulator
) -> None:
    _start_chain(stack)
    starting = threading.Event()
    release = threading.Event()

    class BlockingSource(MemorySource):
        def now(self):  # type: ignore[no-untyped-def]
            starting.set()  # the first run holds the lock but has not stored its run record yet
            assert release.wait(10)
            return super().now()

    source = BlockingSource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    duplicate_source = MemorySource(stack.clock)
    duplicate_source.add("customers", "A", customer("A", "Duplicate"), T0 - timedelta(minutes=5))
    results = {}

    def first_run() -> None:
        runner = stack.runner(source=source, table=moto_table(TABLE_NAME))
        results["first"] = runner.run("customers", "delta", deadline=Deadline.after(600), run_id="run-dup")

    worker = threading.Thread(target=first_run)
    worker.start()
    assert starting.wait(10)
    try:
        second = stack.runner(source=duplicate_source).run(
            "customers", "delta", deadline=Deadline.after(600), run_id="run-dup"
        )
        # The first run still holds the entity: nobody else may take it.
        assert not LeaseLock(stack.table, "customers", "someone", 60, clock=stack.clock.epoch).acquire()
    finally:
        release.set()
        worker.join(10)

    assert second.stored is False
    assert results["first"].outcome is RunOutcome.SUBMITTED, results["first"].message
    assert len(emulator.jobs()) == 1
    assert stack.runs.get("run-dup").outcome is RunOutcome.SUBMITTED


def test_a_run_whose_jobs_end_before_it_is_marked_submitted_still_commits_its_watermark(
    stack: Stack, emulator: Emulator
) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    runner = stack.runner(source=source)

    class EventFirstRunStore(RunStore):
        """The job's JobCompletedEvent is handled right after the runner records the job."""

        def update(self, run_id: str, **changes: Any) -> RunRecord:
            record = super().update(run_id, **changes)
            for job_id in changes.get("add_job_ids", ()):
                emulator.wait_for_job(job_id)
                _settle(stack, [job_id])
            return record

    runner.stores.runs = EventFirstRunStore(stack.table)

    result = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert len(result.job_ids) == 1
    assert stack.watermarks.get("customers") == result.candidate_watermark
    assert stack.runs.get(result.run_id).outcome is RunOutcome.SUCCEEDED
    assert result.outcome is RunOutcome.SUCCEEDED


def test_a_run_whose_lease_ran_out_while_reading_submits_nothing(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    other = LeaseLock(stack.table, "customers", "other-run", 600, clock=stack.clock.epoch)

    class SlowSource(MemorySource):
        def iter_changed(self, entity, since, until):  # type: ignore[no-untyped-def]
            for n, record in enumerate(super().iter_changed(entity, since, until)):
                if n == 1:  # a long read: the lease runs out and another run takes the entity
                    stack.clock.advance(120)
                    assert other.acquire()
                yield record

    source = SlowSource(stack.clock)
    for n in range(3):
        source.add("customers", f"K{n}", customer(f"K{n}"), T0 - timedelta(minutes=10 - n))
    options = RunnerOptions(min_remaining_s=5, full_min_remaining_s=5, lock_lease_s=60)

    result = stack.runner(source=source, options=options).run(
        "customers", "delta", deadline=Deadline.after(600)
    )

    assert result.outcome is RunOutcome.FAILED
    assert "lost the customers lock" in (result.message or "")
    assert result.job_ids == []
    assert emulator.jobs() == []
    other.assert_held()  # the run's own release did not free the other run's lock


def test_a_run_about_to_time_out_stops_between_batches(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    for n in range(5):
        source.add("customers", f"K{n}", customer(f"K{n}"), T0 - timedelta(minutes=10 - n))
    config = integration_config(stack.root, customers={"delta": {"batch_size": 2}})
    # The first batch "takes" 80 s of a 100 s budget: too little is left for another one.
    slow = SlowConnect(stack.clients.connect, lambda number: stack.clock.advance(80))
    runner = stack.runner(config, source=source, connect=slow, options=RunnerOptions(min_remaining_s=10))
    deadline = Deadline.after(100, clock=stack.clock.monotonic)

    result = runner.run("customers", "delta", deadline=deadline)

    assert result.outcome is RunOutcome.PARTIAL_TIMEOUT
    assert "stopped before batch 2" in (result.message or "")
    assert len(result.job_ids) == 1 and result.counts.submitted == 2
    assert LeaseLock(stack.table, "customers", "next-run", 60, clock=stack.clock.epoch).acquire()
    _settle(stack, result.job_ids)
    assert stack.watermarks.get("customers") == Watermark.timestamp(W0)


def test_an_empty_delta_commits_upper_without_a_job(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    result = stack.runner(source=MemorySource(stack.clock)).run(
        "customers", "delta", deadline=Deadline.after(600)
    )

    assert result.outcome is RunOutcome.SUCCEEDED
    assert result.job_ids == [] and emulator.jobs() == []
    assert stack.watermarks.get("customers") == Watermark.timestamp(T0 - LAG)


def test_a_first_delta_without_a_watermark_asks_for_a_full_import(stack: Stack, emulator: Emulator) -> None:
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))

    result = stack.runner(source=source).run("customers", "delta", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.FAILED
    assert "run a full import first" in (result.message or "")
    assert emulator.jobs() == [] and source.reads == []
    assert stack.watermarks.get("customers") is None


def test_a_dry_run_maps_and_reports_but_stores_and_submits_nothing(stack: Stack, emulator: Emulator) -> None:
    _start_chain(stack)
    source = MemorySource(stack.clock)
    source.add("customers", "A", customer("A"), T0 - timedelta(minutes=5))
    source.add("customers", "BAD", customer("BAD", email="nope"), T0 - timedelta(minutes=4))

    result = stack.runner(source=source).run("customers", "delta", deadline=Deadline.after(600), dry_run=True)

    assert result.dry_run and not result.stored
    assert result.outcome is RunOutcome.SUCCEEDED
    assert result.counts.mapped == 1 and result.counts.quarantined == 1
    assert [r.key for r in result.rejections] == ["BAD"] and result.rejections[0].quarantine_key is None
    assert emulator.jobs() == []
    assert stack.quarantine.list("import_record") == []
    assert stack.runs.list_by_entity("customers") == []
    assert stack.watermarks.get("customers") == Watermark.timestamp(W0)


def test_a_mapping_can_use_batched_query_lookups(stack: Stack, emulator: Emulator) -> None:
    emulator.seed(skus=[{"PartNo": f"P{n}", "Status": 1} for n in range(3)])
    sample = load_mapping("sample", entity="customers")
    seen: dict[str, bool] = {}

    def mapping(data: dict, *, lookups: LookupContext):  # type: ignore[no-untyped-def, type-arg]
        seen[data["code"]] = lookups.get("skus", data["part_no"]) is not None
        return sample(data)

    mapping.lookup_keys = lambda data: {"skus": [data["part_no"]]}  # type: ignore[attr-defined]
    _start_chain(stack)
    source = MemorySource(stack.clock)
    for n in range(5):
        source.add(
            "customers", f"K{n}", {**customer(f"K{n}"), "part_no": f"P{n}"}, T0 - timedelta(minutes=9 - n)
        )
    runner = stack.runner(
        source=source,
        mapping_factory=lambda entity: mapping,
        query=stack.clients.query,
        lookups={"customers": {"skus": LookupSpec("Products/ProductSkus", "PartNo", select=("PartNo",))}},
        options=RunnerOptions(lookup_batch_size=2),
    )
    before = len(emulator.requests("query"))

    result = runner.run("customers", "delta", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert seen == {"K0": True, "K1": True, "K2": True, "K3": False, "K4": False}
    calls = emulator.requests("query")[before:]
    # ceil(5 / 2) batched look-ups, plus the one OData `in` probe QUERY_KEY_FILTER=auto makes (the
    # emulator, like Norce as far as anyone knows, refuses `in`; or-chains from then on).
    assert len(calls) == 4 and " in (" in dict(calls[0]["Params"])["$filter"]
