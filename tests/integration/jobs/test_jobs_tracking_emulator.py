"""Job tracking end to end: emulator jobs, moto state table, poll and JobCompletedEvent in any order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from tests.integration.jobs.conftest import Harness

from norcekit.deadline import Deadline
from norcekit.jobs import EmfJobMetrics, Refusal, RestartRefusedError
from norcekit.norce.jobs import JobStatus
from norcekit.observability import MetricName
from norcekit.state.locks import LeaseLock
from norcekit.state.runs import RunOutcome
from norcekit.state.watermarks import Watermark

pytestmark = pytest.mark.integration

INVALID_PRODUCT = {"ManufacturerCode": "ACME", "Variants": []}  # no Code: the emulator rejects it


def restart_calls(h: Harness) -> list[dict[str, object]]:
    return [r for r in h.emulator.requests("job") if str(r.get("Path", "")).endswith("/Restart")]


def test_poll_records_success_counters_metrics_and_commits_the_run_watermark(harness: Harness) -> None:
    h = harness
    candidate = h.clock() - timedelta(minutes=1)
    run_id = h.new_run(candidate=candidate)
    job_id = h.submit(run_id)
    h.close_run(run_id)
    h.wait(job_id)

    summary = h.monitor.tick(Deadline.after(30))

    job = h.job_store.get(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert job.counters is not None and job.counters.totals == 1
    assert job.lead_time_s is not None and job.lead_time_s >= 0
    assert summary.polled == 1 and summary.finished == {"succeeded": 1}
    assert h.metrics.count(MetricName.JOBS_SUCCEEDED) == 1
    assert h.metrics.count(MetricName.JOB_LEAD_TIME_SECONDS) == 1
    assert h.run_store.get(run_id).outcome is RunOutcome.SUCCEEDED
    assert h.watermarks.get("products") == Watermark.timestamp(candidate)


def test_event_first_then_poll_runs_the_terminal_actions_once(harness: Harness) -> None:
    h = harness
    run_id = h.new_run(candidate=h.clock())
    job_id = h.submit(run_id)
    h.close_run(run_id)
    h.wait(job_id)

    h.tracker.on_status(job_id, 2, "event")  # what the event processor does
    # A poll that listed the job before the event landed reports the same ending.
    dto = h.clients.jobs.get(job_id)
    h.tracker.on_status(job_id, dto.StatusId, "poll", dto=dto)
    h.monitor.tick(Deadline.after(30))

    job = h.job_store.get(job_id)
    assert [c.source for c in job.status_history if c.status.is_terminal] == ["event"]
    assert job.counters is not None and job.counters.totals == 1  # fetched once after the event
    assert h.metrics.count(MetricName.JOBS_SUCCEEDED) == 1
    assert h.metrics.count(MetricName.JOB_LEAD_TIME_SECONDS) == 1
    assert h.run_store.get(run_id).outcome is RunOutcome.SUCCEEDED


def test_poll_first_then_event_runs_the_terminal_actions_once(harness: Harness) -> None:
    h = harness
    job_id = h.submit(None)
    h.wait(job_id)

    h.monitor.tick(Deadline.after(30))
    record = h.tracker.on_status(job_id, 2, "event")
    h.tracker.on_status(job_id, 2, "event")  # Norce retries deliveries

    assert record.status is JobStatus.SUCCEEDED
    assert [c.source for c in record.status_history if c.status.is_terminal] == ["poll"]
    assert h.metrics.count(MetricName.JOBS_SUCCEEDED) == 1


def test_failed_job_keeps_a_log_summary_emits_emf_and_logs_an_error(
    harness: Harness, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    h.tracker.metrics = EmfJobMetrics()  # real EMF on stdout for this test
    h.tracker.restarter.policy = type(h.tracker.restarter.policy)(max_restarts=0)
    h.emulator.configure(job_failure_rate=1.0)
    job_id = h.submit(h.new_run())
    h.wait(job_id)

    h.monitor.tick(Deadline.after(30))

    job = h.job_store.get(job_id)
    assert job.status is JobStatus.FAILED
    assert job.log_summary is not None
    assert job.log_summary.counts["error"] == 1
    assert "Import failed" in (job.log_summary.first_errors[0].message or "")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line and "JobsFailed" in line]
    assert len(emf) == 1 and emf[0]["entity"] == "products" and emf[0]["JobsFailed"] == [1.0]
    errors = [r for r in caplog.records if r.levelname == "ERROR" and getattr(r, "job_id", None) == job_id]
    assert errors and getattr(errors[0], "entity", None) == "products"


def test_validation_failed_is_summarised_with_rows_and_never_restarted(harness: Harness) -> None:
    h = harness
    run_id = h.new_run(candidate=h.clock())
    job_id = h.submit(run_id, items=[INVALID_PRODUCT])
    h.close_run(run_id)
    h.wait(job_id)

    h.monitor.tick(Deadline.after(30))

    job = h.job_store.get(job_id)
    assert job.status is JobStatus.VALIDATION_FAILED
    assert job.log_summary is not None and job.log_summary.first_errors[0].imported_row
    assert h.metrics.count(MetricName.JOBS_VALIDATION_FAILED) == 1
    assert restart_calls(h) == [] and job.restart_count == 0
    assert h.run_store.get(run_id).outcome is RunOutcome.FAILED
    assert h.watermarks.get("products") is None


def test_failed_job_is_restarted_and_the_run_commits_when_the_restart_succeeds(harness: Harness) -> None:
    h = harness
    candidate = h.clock() - timedelta(minutes=5)
    run_id = h.new_run(candidate=candidate)
    h.emulator.configure(job_failure_rate=1.0)
    job_id = h.submit(run_id)
    h.close_run(run_id)
    h.wait(job_id)
    h.emulator.configure(job_failure_rate=0.0)  # the restart will succeed

    h.monitor.tick(Deadline.after(30))
    original = h.job_store.get(job_id)
    assert original.restart_count == 1
    new_id = original.restarts[0].new_job_id
    restarted = h.job_store.get(new_id)
    assert restarted.restarted_from == job_id and restarted.run_id == run_id
    assert h.run_store.get(run_id).outcome is RunOutcome.SUBMITTED  # waits for the restart
    assert h.watermarks.get("products") is None

    h.settle()

    assert h.job_store.get(new_id).status is JobStatus.SUCCEEDED
    assert h.run_store.get(run_id).outcome is RunOutcome.SUCCEEDED
    assert h.watermarks.get("products") == Watermark.timestamp(candidate)
    assert h.metrics.count(MetricName.JOB_RESTARTS) == 1


def test_restarts_stop_at_the_limit_and_the_run_fails_without_moving_the_watermark(harness: Harness) -> None:
    h = harness
    run_id = h.new_run(candidate=h.clock())
    h.emulator.configure(job_failure_rate=1.0)
    job_id = h.submit(run_id)
    h.close_run(run_id)

    h.settle()

    chain = [h.job_store.get(job_id)]
    while chain[-1].restarts:
        chain.append(h.job_store.get(chain[-1].restarts[-1].new_job_id))
    assert len(chain) == 3  # the original and two restarts (default limit 2)
    assert all(job.status is JobStatus.FAILED for job in chain)
    assert len(restart_calls(h)) == 2
    assert h.metrics.count(MetricName.JOB_RESTARTS) == 2
    assert h.metrics.count(MetricName.JOBS_FAILED) == 3
    assert h.run_store.get(run_id).outcome is RunOutcome.FAILED
    assert h.watermarks.get("products") is None


def test_no_restart_after_the_two_week_window(harness: Harness) -> None:
    h = harness
    h.emulator.configure(job_failure_rate=1.0)
    job_id = h.submit(h.new_run())
    h.wait(job_id)
    h.clock.advance(days=14)
    h.emulator.set_clock(offset_seconds=14 * 86400)

    h.monitor.tick(Deadline.after(30))

    assert h.job_store.get(job_id).status is JobStatus.FAILED
    assert restart_calls(h) == []
    decision = h.tracker.restarter.check(h.job_store.get(job_id), force=True)
    assert decision.refusal is Refusal.WINDOW_EXPIRED  # not even an operator may


def test_no_restart_when_a_later_job_of_the_entity_exists(harness: Harness) -> None:
    h = harness
    h.emulator.configure(job_failure_rate=1.0)
    old = h.submit(h.new_run())
    h.wait(old)
    h.emulator.configure(job_failure_rate=0.0)
    newer = h.submit(h.new_run())
    h.wait(newer)

    h.monitor.tick(Deadline.after(30))

    assert h.job_store.get(old).status is JobStatus.FAILED
    assert h.job_store.get(newer).status is JobStatus.SUCCEEDED
    assert restart_calls(h) == []
    assert h.tracker.restarter.check(h.job_store.get(old)).refusal is Refusal.NEWER_JOB


def test_restart_waits_while_an_import_run_holds_the_entity(harness: Harness) -> None:
    h = harness
    h.emulator.configure(job_failure_rate=1.0)
    job_id = h.submit(h.new_run())
    h.wait(job_id)
    h.emulator.configure(job_failure_rate=0.0)
    run_lock = LeaseLock(h.table, "products", "run-elsewhere", 600)
    assert run_lock.acquire()

    h.monitor.tick(Deadline.after(30))
    assert restart_calls(h) == []  # deferred, not refused

    run_lock.release()
    h.clock.advance(seconds=61)
    summary = h.monitor.tick(Deadline.after(30))

    assert summary.resumed == 1
    assert h.job_store.get(job_id).restart_count == 1
    assert h.metrics.count(MetricName.JOBS_FAILED) == 1  # resumed actions do not count again


def test_stuck_job_is_flagged_once_with_a_metric(harness: Harness) -> None:
    h = harness
    h.emulator.set_job_processing(False)  # stays Queued
    job_id = h.submit(h.new_run())

    h.monitor.tick(Deadline.after(30))
    assert not h.job_store.get(job_id).stuck

    h.clock.advance(seconds=3601)  # EntityConfig's default job_deadline_s is 3600
    first = h.monitor.tick(Deadline.after(30))
    second = h.monitor.tick(Deadline.after(30))

    job = h.job_store.get(job_id)
    assert job.stuck and job.stuck_at is not None
    assert first.newly_stuck == [job_id] and second.newly_stuck == []
    assert h.metrics.count(MetricName.JOBS_STUCK) == 1
    assert [j.job_id for j in h.job_store.unfinished_for_entity("products")] == [job_id]


def test_watermark_waits_for_every_job_of_the_run_and_never_moves_back(harness: Harness) -> None:
    h = harness
    newer = Watermark.timestamp(h.clock())
    candidate = h.clock() - timedelta(hours=1)
    run_id = h.new_run(candidate=candidate)
    first = h.submit(run_id)
    h.wait(first)
    h.emulator.set_job_processing(False)
    second = h.submit(run_id)
    h.close_run(run_id)

    h.monitor.tick(Deadline.after(30))
    assert h.job_store.get(first).status is JobStatus.SUCCEEDED
    assert h.watermarks.get("products") is None  # the second job is still queued

    h.watermarks.commit("products", newer, run_id="a-later-run")
    h.emulator.set_job_processing(True)
    h.wait(second)
    h.monitor.tick(Deadline.after(30))

    assert h.run_store.get(run_id).outcome is RunOutcome.SUCCEEDED
    assert h.watermarks.get("products") == newer  # the older candidate did not overwrite it


def test_job_ended_elsewhere_is_finished_by_the_sweep(harness: Harness) -> None:
    h = harness
    run_id = h.new_run(candidate=h.clock())
    job_id = h.submit(run_id)
    h.close_run(run_id)
    h.wait(job_id)
    # The import runner's ordering check records endings itself (jobs.completion.record_dto).
    h.job_store.record_status(job_id, 2, source="poll", at=h.clock())

    summary = h.monitor.tick(Deadline.after(30))
    h.monitor.tick(Deadline.after(30))

    assert summary.resumed == 1
    assert h.metrics.count(MetricName.JOBS_SUCCEEDED) == 1
    assert h.run_store.get(run_id).outcome is RunOutcome.SUCCEEDED


def test_manual_restart_uses_the_same_checks_and_force_lifts_only_the_count(harness: Harness) -> None:
    h = harness
    h.tracker.restarter.policy = type(h.tracker.restarter.policy)(max_restarts=0)
    h.emulator.configure(job_failure_rate=1.0)
    job_id = h.submit(h.new_run())
    h.wait(job_id)
    h.monitor.tick(Deadline.after(30))
    assert restart_calls(h) == []

    with pytest.raises(RestartRefusedError) as refused:
        h.tracker.restart(job_id)
    assert refused.value.decision.refusal is Refusal.LIMIT_REACHED

    h.emulator.configure(job_failure_rate=0.0)
    result = h.tracker.restart(job_id, force=True)
    assert result.trigger == "manual" and h.job_store.get(result.new_job_id).restarted_from == job_id
    h.settle()
    assert h.job_store.get(result.new_job_id).status is JobStatus.SUCCEEDED
