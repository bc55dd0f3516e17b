"""A restart of a named import's job (``imports:`` form: the import's name is not its kind)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from norcekit.deadline import Deadline
from norcekit.jobs import Restarter, RestartPolicy, RestartResult
from norcekit.jobs.completion import check_entity_order
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.jobs import JobDto, JobStatus
from norcekit.state.jobs import JobRecord
from norcekit.state.memory import MemoryJobStore, MemoryLocks, MemoryRunStore, MemoryState

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class NorceJobs:
    """Job/Restart answers job 2; Job/Get says the restarted job is still running."""

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse:
        return JobResponse.model_validate({"JobId": 2})

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        return JobDto(JobId=int(job_id), StatusId=JobStatus.INITIALIZED)


def test_a_restarted_job_keeps_its_kind_so_the_next_run_of_that_kind_waits_for_it(
    memory: MemoryState,
) -> None:
    job_store = MemoryJobStore(memory)
    job_store.create(
        JobRecord(
            job_id=1,
            entity="onhand-erp",
            kind="onhand",
            mode="delta",
            run_id=None,
            submitted_at=NOW - timedelta(hours=1),
        )
    )
    job_store.record_status(1, JobStatus.FAILED, source="poll", at=NOW)
    norce = NorceJobs()
    restarter = Restarter(
        jobs_client=norce,
        job_store=job_store,
        run_store=MemoryRunStore(memory),
        locks=MemoryLocks(memory),
        policy=RestartPolicy(),
        clock=lambda: NOW,
    )

    result = restarter.restart(1, trigger="manual")

    assert isinstance(result, RestartResult) and result.new_job_id == 2
    assert job_store.get(2).kind_name == "onhand"
    # The restart re-runs an old payload: no newer job of on-hand may be submitted before it ends.
    decision = check_entity_order(
        "onhand-erp",
        job_store=job_store,
        jobs_client=norce,
        job_deadline_s=3600,
        clock=lambda: NOW,
        kind="onhand",
    )
    assert not decision.proceed
    assert "job 2 of onhand-erp still running" in decision.message
