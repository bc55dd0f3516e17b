"""One behaviour suite for every implementation of the state protocols (``norcekit.state.interfaces``).

``tests/unit/state/test_state_contract_memory.py`` runs it against the in-memory stores and
``tests/integration/state/test_state_contract_dynamodb.py`` against the DynamoDB stores on moto, so
the two cannot drift: a rule changed in one and not the other fails one of the two runs. Each
test speaks only the protocols; a :class:`Backend` builds fresh store instances on one shared
storage (a second instance is a second Lambda container).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from norcekit.norce.jobs import JobStatus
from norcekit.norce.tokens import CachedToken, TokenStore
from norcekit.state.claims import CLAIM_LEASE_S, ClaimLostError
from norcekit.state.interfaces import FinishClaims, JobRecords, Locks, RunRecords, Watermarks
from norcekit.state.jobs import JobCounters, JobExistsError, JobNotFoundError, JobRecord, LogError, LogSummary
from norcekit.state.locks import LockHeld, LockLostError
from norcekit.state.runs import RunCounts, RunExistsError, RunNotFoundError, RunOutcome, RunRecord
from norcekit.state.watermarks import Watermark, WatermarkKindMismatchError

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock, as ``datetime`` (``clock()``) and as epoch seconds (``clock.epoch()``)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Backend:
    """Builds store instances on one shared storage."""

    jobs: Callable[[], JobRecords]
    runs: Callable[[], RunRecords]
    watermarks: Callable[[Clock], Watermarks]
    locks: Callable[[Clock], Locks]
    claims: Callable[[Clock], FinishClaims]
    tokens: Callable[[str, Clock], TokenStore]


def job(job_id: int, at: datetime = T0, *, entity: str = "products", run_id: str | None = "r1") -> JobRecord:
    return JobRecord(
        job_id=job_id, entity=entity, mode="delta", run_id=run_id, item_count=10, submitted_at=at
    )


def run(run_id: str, at: datetime = T0, *, entity: str = "products") -> RunRecord:
    return RunRecord(run_id=run_id, entity=entity, mode="delta", started_at=at)


def ids(jobs: list[JobRecord]) -> list[int]:
    return [j.job_id for j in jobs]


class StateStoreContract:
    """The behaviour every implementation keeps. Subclasses provide the ``backend`` fixture."""

    @pytest.fixture
    def clock(self) -> Clock:
        return Clock()

    # --- job records ------------------------------------------------------------------------------

    def test_a_job_is_recorded_once_with_its_submission_in_the_history(self, backend: Backend) -> None:
        jobs = backend.jobs()
        jobs.create(job(1))
        stored = jobs.get(1)
        assert stored.status is JobStatus.INITIALIZED
        assert [(h.status, h.source) for h in stored.status_history] == [(JobStatus.INITIALIZED, "submit")]
        with pytest.raises(JobExistsError):
            jobs.create(job(1))
        with pytest.raises(JobNotFoundError):
            jobs.get(2)
        assert jobs.find(2) is None
        with pytest.raises(JobNotFoundError):
            jobs.record_status(2, JobStatus.SUCCEEDED, source="poll", at=T0)

    def test_status_reports_are_idempotent_and_a_terminal_status_is_sticky(self, backend: Backend) -> None:
        jobs = backend.jobs()
        jobs.create(job(1))
        _, changed = jobs.record_status(1, JobStatus.QUEUED, source="poll", at=T0 + timedelta(seconds=5))
        assert changed
        _, changed = jobs.record_status(1, JobStatus.QUEUED, source="event", at=T0 + timedelta(seconds=6))
        assert not changed
        ended, changed = jobs.record_status(1, 3, source="event", at=T0 + timedelta(seconds=90))
        assert changed and ended.status is JobStatus.FAILED and ended.is_failed
        assert ended.finished_at == T0 + timedelta(seconds=90) and ended.lead_time_s == 90.0
        late, changed = jobs.record_status(
            1, JobStatus.QUEUED, source="poll", at=T0 + timedelta(seconds=99), counters=JobCounters(totals=10)
        )
        assert changed  # the counters were filled in ...
        assert late.status is JobStatus.FAILED  # ... but the status stays terminal
        assert [h.status for h in jobs.get(1).status_history] == [
            JobStatus.INITIALIZED,
            JobStatus.QUEUED,
            JobStatus.FAILED,
        ]
        assert jobs.get(1).counters == JobCounters(totals=10)

    def test_open_jobs_are_listed_oldest_first_and_per_entity(self, backend: Backend) -> None:
        jobs = backend.jobs()
        jobs.create(job(3, T0 + timedelta(seconds=2)))
        jobs.create(job(1, T0 + timedelta(seconds=5)))
        jobs.create(job(2, T0 + timedelta(seconds=1), entity="prices"))
        jobs.create(job(4, T0))
        jobs.record_status(4, JobStatus.SUCCEEDED, source="poll", at=T0 + timedelta(seconds=9))
        assert ids(jobs.list_open()) == [2, 3, 1]
        assert ids(jobs.unfinished_for_entity("products")) == [3, 1]
        assert jobs.unfinished_for_entity("onhand") == []

    def test_an_entitys_jobs_are_listed_newest_first_in_a_half_open_window(self, backend: Backend) -> None:
        jobs = backend.jobs()
        for n in range(1, 6):
            jobs.create(job(n, T0 + timedelta(minutes=n)))
        jobs.create(job(9, T0 + timedelta(minutes=3), entity="prices"))
        jobs.record_status(2, JobStatus.FAILED, source="poll", at=T0 + timedelta(hours=1))
        jobs.record_status(4, JobStatus.VALIDATION_FAILED, source="poll", at=T0 + timedelta(hours=1))
        since, until = T0 + timedelta(minutes=2), T0 + timedelta(minutes=4)
        assert ids(jobs.list_by_entity("products")) == [5, 4, 3, 2, 1]
        assert ids(jobs.list_by_entity("products", since=since, until=until)) == [3, 2]
        assert ids(jobs.list_by_entity("products", limit=2)) == [5, 4]
        assert ids(jobs.list_by_entity("products", status=JobStatus.FAILED, limit=None)) == [2]
        failed = {JobStatus.FAILED, JobStatus.VALIDATION_FAILED}
        assert ids(jobs.list_by_entity("products", status=failed, limit=1)) == [4]

    def test_a_runs_jobs_are_those_it_submitted_in_submission_order(self, backend: Backend) -> None:
        jobs, runs = backend.jobs(), backend.runs()
        runs.create(run("r1", T0))
        jobs.create(job(1, T0 - timedelta(minutes=1)))  # before the run started: another run's
        jobs.create(job(3, T0 + timedelta(minutes=2)))
        jobs.create(job(2, T0 + timedelta(minutes=1)))
        jobs.create(job(4, T0 + timedelta(minutes=3), run_id="r2"))
        assert ids(jobs.jobs_for_run("r1")) == [2, 3]
        assert jobs.jobs_for_run("unknown") == []

    def test_a_full_import_supersedes_earlier_failures_once(self, backend: Backend) -> None:
        jobs = backend.jobs()
        for n, status in ((1, JobStatus.FAILED), (2, JobStatus.VALIDATION_FAILED), (3, JobStatus.SUCCEEDED)):
            jobs.create(job(n, T0 + timedelta(minutes=n)))
            jobs.record_status(n, status, source="poll", at=T0 + timedelta(hours=1))
        jobs.create(job(4, T0 + timedelta(minutes=9)))
        jobs.record_status(4, JobStatus.FAILED, source="poll", at=T0 + timedelta(hours=1))
        assert sorted(jobs.mark_superseded("products", T0 + timedelta(minutes=5), by_job_id=7)) == [1, 2]
        assert jobs.mark_superseded("products", T0 + timedelta(minutes=5), by_job_id=7) == []
        assert jobs.get(1).superseded and jobs.get(1).superseded_by == 7
        assert not jobs.get(3).superseded and not jobs.get(4).superseded

    def test_stuck_restart_and_log_summary_are_noted_once(self, backend: Backend) -> None:
        jobs = backend.jobs()
        jobs.create(job(1))
        assert jobs.mark_stuck(1, at=T0 + timedelta(hours=2))[1]
        assert not jobs.mark_stuck(1, at=T0 + timedelta(hours=3))[1]
        assert jobs.get(1).stuck_at == T0 + timedelta(hours=2)
        jobs.create(job(2))
        jobs.record_status(2, JobStatus.FAILED, source="poll", at=T0)
        assert not jobs.mark_stuck(2, at=T0 + timedelta(hours=2))[1]  # ended jobs are never stuck
        jobs.record_restart(2, 20, at=T0 + timedelta(minutes=1))
        again = jobs.record_restart(2, 20, at=T0 + timedelta(minutes=2))
        assert again.restart_count == 1 and [r.new_job_id for r in again.restarts] == [20]
        summary = LogSummary(counts={"error": 1}, first_errors=[LogError(message="bad row")])
        assert jobs.set_log_summary(2, summary).log_summary == summary
        assert jobs.get(2).log_summary == summary

    # --- run records ------------------------------------------------------------------------------

    def test_a_run_record_is_created_once_and_updated_field_by_field(self, backend: Backend) -> None:
        runs = backend.runs()
        runs.create(run("r1"))
        with pytest.raises(RunExistsError):
            runs.create(run("r1"))
        runs.update("r1", add_job_ids=[1, 2], counts=RunCounts(read=5, submitted=5))
        updated = runs.update(
            "r1",
            add_job_ids=[3],
            outcome=RunOutcome.SUBMITTED,
            candidate_watermark=Watermark.cursor(42),
            finished_at=T0 + timedelta(seconds=12.5),
        )
        assert updated.job_ids == [1, 2, 3] and updated.counts.read == 5
        assert updated.outcome is RunOutcome.SUBMITTED and updated.duration_s == 12.5
        assert runs.get("r1") == updated
        assert runs.update("r1") == updated  # nothing to change
        noted = runs.update("r1", notes=["guardrail allowed by the operator: shrink"])
        assert runs.update("r1", message="all 1 job(s) succeeded").notes == noted.notes != []
        with pytest.raises(RunNotFoundError):
            runs.update("unknown", outcome=RunOutcome.FAILED)
        with pytest.raises(RunNotFoundError):
            runs.get("unknown")

    def test_an_entitys_runs_are_listed_newest_first(self, backend: Backend) -> None:
        runs = backend.runs()
        for n in range(4):
            runs.create(run(f"r{n}", T0 + timedelta(minutes=n)))
        runs.create(run("other", T0 + timedelta(hours=1), entity="prices"))
        assert [r.run_id for r in runs.list_by_entity("products")] == ["r3", "r2", "r1", "r0"]
        assert [r.run_id for r in runs.list_by_entity("products", limit=2)] == ["r3", "r2"]
        since = T0 + timedelta(minutes=2)
        assert [r.run_id for r in runs.list_by_entity("products", since=since)] == ["r3", "r2"]
        latest = runs.latest("products")
        assert latest is not None and latest.run_id == "r3"
        assert runs.latest("onhand") is None

    # --- watermarks -------------------------------------------------------------------------------

    def test_a_watermark_only_moves_forward(self, backend: Backend, clock: Clock) -> None:
        marks = backend.watermarks(clock)
        assert marks.get("products") is None
        assert marks.commit("products", Watermark.timestamp(T0), run_id="r1")
        assert not marks.commit("products", Watermark.timestamp(T0), run_id="r2")  # not newer
        assert not marks.commit("products", Watermark.timestamp(T0 - timedelta(seconds=1)), run_id="r3")
        clock.advance(60)
        assert marks.commit("products", Watermark.timestamp(T0 + timedelta(microseconds=1)), run_id="r4")
        record = marks.get_record("products")
        assert record is not None and record.run_id == "r4" and record.committed_at == clock.now
        assert marks.get("products") == Watermark.timestamp(T0 + timedelta(microseconds=1))
        # Cursors compare as numbers, not as text.
        assert marks.commit("prices", Watermark.cursor(9), run_id="r1")
        assert marks.commit("prices", Watermark.cursor(10), run_id="r2")
        assert not marks.commit("prices", Watermark.cursor(9), run_id="r3")

    def test_a_watermark_of_another_kind_needs_an_operator(self, backend: Backend, clock: Clock) -> None:
        marks = backend.watermarks(clock)
        marks.commit("products", Watermark.timestamp(T0), run_id="r1")
        with pytest.raises(WatermarkKindMismatchError):
            marks.commit("products", Watermark.cursor(5), run_id="r2")
        assert marks.force_set("products", Watermark.cursor(5), actor="ops") == Watermark.timestamp(T0)
        record = marks.get_record("products")
        assert (
            record is not None and record.watermark == Watermark.cursor(5) and record.run_id == "manual:ops"
        )
        assert marks.force_set("products", Watermark.cursor(1)) == Watermark.cursor(5)  # may go back
        marks.commit("customers", Watermark.cursor(3), run_id="r1")
        assert [m.entity for m in marks.list()] == ["customers", "products"]
        assert marks.clear("products") == Watermark.cursor(1)
        assert marks.clear("products") is None and marks.get("products") is None

    # --- locks ------------------------------------------------------------------------------------

    def test_a_lease_has_one_holder_until_it_expires(self, backend: Backend, clock: Clock) -> None:
        locks = backend.locks(clock)
        first = locks.lease("products", "run-1", 30)
        second = locks.lease("products", "run-2", 30)
        assert first.acquire()
        assert first.acquire()  # re-entrant for its owner
        assert not second.acquire()
        assert second.blocked_by is not None and second.blocked_by.owner == "run-1"
        assert locks.lease("prices", "run-2", 30).acquire()  # another name is another lock
        clock.advance(31)
        assert first.holder() is None
        assert second.acquire() and second.blocked_by is None
        with pytest.raises(LockLostError):
            first.assert_held()
        with pytest.raises(LockLostError):
            first.renew()
        assert not first.release()  # not ours any more: nothing changes
        second.assert_held()
        clock.advance(20)
        second.renew()
        clock.advance(20)
        holder = second.holder()
        assert holder is not None and holder.owner == "run-2"
        assert second.release()
        assert second.holder() is None and first.acquire()

    def test_a_held_lease_refuses_the_with_block(self, backend: Backend, clock: Clock) -> None:
        locks = backend.locks(clock)
        with locks.lease("products", "run-1", 30):
            with pytest.raises(LockHeld) as refused, locks.lease("products", "run-2", 30):
                pass
            assert refused.value.holder == "run-1"
        assert locks.lease("products", "run-2", 30).acquire()  # released on leaving the block

    def test_only_one_of_many_concurrent_callers_gets_the_lease(self, backend: Backend, clock: Clock) -> None:
        locks = backend.locks(clock)
        won = self._race(8, lambda n: locks.lease("products", f"run-{n}", 30).acquire())
        assert sum(won) == 1

    # --- finish claims ----------------------------------------------------------------------------

    def test_a_jobs_terminal_actions_are_claimed_once(self, backend: Backend, clock: Clock) -> None:
        claims = backend.claims(clock)
        record = job(1)
        first = claims.claim(record, "tracker-a")
        assert first is not None and first.steps == set()
        assert backend.claims(clock).claim(record, "tracker-b") is None  # another container
        claims.step_done(first, "metrics")
        state = claims.state(1)
        assert state is not None and not state.done
        assert [s.job_id for s in claims.unfinished()] == [1]
        claims.done(first)
        state = claims.state(1)
        assert state is not None and state.done
        assert list(claims.unfinished()) == []
        clock.advance(CLAIM_LEASE_S + 1)
        assert claims.claim(record, "tracker-b") is None  # done is done, whatever the lease
        assert claims.state(2) is None

    def test_an_abandoned_claim_is_taken_over_with_its_steps(self, backend: Backend, clock: Clock) -> None:
        claims = backend.claims(clock)
        record = job(1)
        dead = claims.claim(record, "tracker-a")
        assert dead is not None
        claims.step_done(dead, "restart")
        clock.advance(CLAIM_LEASE_S - 1)
        assert claims.claim(record, "tracker-b") is None  # still protected
        clock.advance(2)
        taken = claims.claim(record, "tracker-b")
        assert taken is not None and taken.steps == {"restart"}
        with pytest.raises(ClaimLostError):
            claims.step_done(dead, "metrics")
        with pytest.raises(ClaimLostError):
            claims.done(dead)
        claims.defer(taken, 60)
        state = claims.state(1)
        assert state is not None and state.lease_until == int(clock.now.timestamp()) + 60
        assert [s.job_id for s in claims.unfinished()] == [1]
        clock.advance(59)
        assert claims.claim(record, "tracker-c") is None
        clock.advance(2)
        assert claims.claim(record, "tracker-c") is not None

    def test_only_one_of_many_concurrent_claimants_wins(self, backend: Backend, clock: Clock) -> None:
        record = job(1)
        won = self._race(8, lambda n: backend.claims(clock).claim(record, f"tracker-{n}") is not None)
        assert sum(won) == 1

    # --- the shared token -------------------------------------------------------------------------

    def test_one_caller_at_a_time_refreshes_the_token(self, backend: Backend, clock: Clock) -> None:
        store = backend.tokens("k1", clock)
        assert store.load() is None
        assert store.try_acquire_refresh("a", 30)
        assert store.try_acquire_refresh("a", 30)  # re-entrant for the holder
        assert not store.try_acquire_refresh("b", 30)
        store.release("b")  # not b's: nothing changes
        assert not store.try_acquire_refresh("b", 30)
        clock.advance(31)
        assert store.try_acquire_refresh("b", 30)  # a's lease ran out
        store.save(CachedToken(SecretStr("tok-a"), clock.epoch() + 3600), "a")  # a, late
        assert not store.try_acquire_refresh("c", 30)  # ... does not cut b's refresh short
        store.release("b")
        assert store.try_acquire_refresh("c", 30)

    def test_the_token_is_shared_and_never_replaced_by_an_older_one(
        self, backend: Backend, clock: Clock
    ) -> None:
        store = backend.tokens("k1", clock)
        store.save(CachedToken(SecretStr("new"), clock.epoch() + 3600), "a")
        store.save(CachedToken(SecretStr("old"), clock.epoch() + 60), "b")
        other_container = backend.tokens("k1", clock)
        loaded = other_container.load()
        assert loaded is not None and loaded.access_token.get_secret_value() == "new"
        assert loaded.expires_at == pytest.approx(clock.epoch() + 3600)
        assert backend.tokens("k2", clock).load() is None  # another client's token

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _race(n: int, attempt: Callable[[int], bool]) -> list[bool]:
        start = threading.Barrier(n)
        results = [False] * n

        def worker(i: int) -> None:
            start.wait()
            results[i] = attempt(i)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results
