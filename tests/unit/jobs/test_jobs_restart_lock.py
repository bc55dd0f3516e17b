"""Restarts under the entity lock: two restarts of one job never both reach Job/Restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from norcekit.deadline import Deadline
from norcekit.jobs import EntityBusyError, Restarter, RestartPolicy, RestartResult
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobStatus
from norcekit.state.jobs import JobRecord
from norcekit.state.locks import writer_lock_name
from norcekit.state.memory import MemoryJobStore, MemoryLocks, MemoryRunStore, MemoryState

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class ReenteringJobs:
    """Job/Restart that, while the first call is in flight, lets a second restarter try the same job."""

    def __init__(self, memory: MemoryState) -> None:
        self.locks = MemoryLocks(memory)
        self.calls: list[int] = []
        self.second: Restarter | None = None
        self.second_outcome: object = None
        self.runner_could_lock: bool | None = None

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse:
        self.calls.append(int(job_id))
        if len(self.calls) == 1 and self.second is not None:
            try:
                self.second_outcome = self.second.restart(int(job_id), trigger="manual")
            except EntityBusyError as exc:
                self.second_outcome = exc
            # The first restart is still calling Norce: no import run may take the entity now.
            self.runner_could_lock = self.locks.lease("products", "products-delta-run", 960).acquire()
        return JobResponse.model_validate({"JobId": 100 + len(self.calls)})


def test_a_second_restart_of_the_same_job_waits_while_the_first_calls_norce(memory: MemoryState) -> None:
    job_store = MemoryJobStore(memory)
    job_store.create(
        JobRecord(
            job_id=1, entity="products", mode="delta", run_id=None, submitted_at=NOW - timedelta(hours=1)
        )
    )
    job_store.record_status(1, JobStatus.FAILED, source="poll", at=NOW)
    jobs = ReenteringJobs(memory)

    def restarter() -> Restarter:
        return Restarter(
            jobs_client=jobs,
            job_store=job_store,
            run_store=MemoryRunStore(memory),
            locks=MemoryLocks(memory),
            policy=RestartPolicy(),
            clock=lambda: NOW,
        )

    jobs.second = restarter()

    first = restarter().restart(1, trigger="auto")

    assert isinstance(first, RestartResult) and first.new_job_id == 101
    assert jobs.calls == [1]  # exactly one Job/Restart
    assert isinstance(jobs.second_outcome, EntityBusyError)
    assert jobs.runner_could_lock is False
    assert [r.new_job_id for r in job_store.get(1).restarts] == [101]
    # The lock is released once the restart is recorded.
    assert MemoryLocks(memory).lease("products", "later-run", 960).acquire()


@pytest.mark.parametrize("trigger", ["auto", "manual"])
def test_the_restart_lock_never_frees_a_lock_held_by_someone_else(memory: MemoryState, trigger: str) -> None:
    job_store = MemoryJobStore(memory)
    job_store.create(
        JobRecord(
            job_id=1, entity="products", mode="delta", run_id=None, submitted_at=NOW - timedelta(hours=1)
        )
    )
    job_store.record_status(1, JobStatus.FAILED, source="poll", at=NOW)
    holder = MemoryLocks(memory).lease("products", "products-delta-run", 960)
    assert holder.acquire()
    jobs = ReenteringJobs(memory)
    restarter = Restarter(
        jobs_client=jobs,
        job_store=job_store,
        run_store=MemoryRunStore(memory),
        locks=MemoryLocks(memory),
        policy=RestartPolicy(),
        clock=lambda: NOW,
    )

    with pytest.raises(EntityBusyError):
        restarter.restart(1, trigger=trigger)  # type: ignore[arg-type]

    assert jobs.calls == []
    holder.assert_held()


def test_a_restart_waits_while_another_import_of_the_same_kind_is_submitting(memory: MemoryState) -> None:
    job_store = MemoryJobStore(memory)
    job_store.create(
        JobRecord(
            job_id=1,
            entity="erp_products",
            kind="products",
            mode="delta",
            run_id=None,
            submitted_at=NOW - timedelta(hours=1),
        )
    )
    job_store.record_status(1, JobStatus.FAILED, source="poll", at=NOW)
    # A run of the PIM's products import holds the products writer lease: its payload is newer.
    pim_run = MemoryLocks(memory).lease(writer_lock_name("products"), "pim_products-full-run", 960)
    assert pim_run.acquire()
    jobs = ReenteringJobs(memory)
    restarter = Restarter(
        jobs_client=jobs,
        job_store=job_store,
        run_store=MemoryRunStore(memory),
        locks=MemoryLocks(memory),
        policy=RestartPolicy(),
        clock=lambda: NOW,
    )

    with pytest.raises(EntityBusyError, match="products is being written by pim_products-full-run"):
        restarter.restart(1, trigger="auto")

    assert jobs.calls == []
    pim_run.assert_held()
    # The restart gave its own import's lock back.
    later = MemoryLocks(memory).lease("erp_products", "later-run", 960)
    assert later.acquire() and later.release()
    pim_run.release()
    assert isinstance(restarter.restart(1, trigger="auto"), RestartResult)
