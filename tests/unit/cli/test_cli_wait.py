"""``import run --wait``: poll the run's jobs through the tracker until the run is settled."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from norcekit.cli.commands.run_wait import wait_for_run
from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ProgressHandle
from norcekit.norce.jobs import JobDto, JobStatus
from norcekit.state.jobs import JobRecord
from norcekit.state.runs import RunOutcome, RunRecord

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


class FakeNorce:
    """Job/Get answers: a status sequence per job id."""

    def __init__(self, statuses: dict[int, list[JobStatus]]) -> None:
        self.statuses = statuses
        self.calls: list[int] = []

    def get(self, job_id: int, *, deadline: Any = None) -> JobDto:
        self.calls.append(job_id)
        sequence = self.statuses[job_id]
        status = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        return JobDto(JobId=job_id, StatusId=status)


class FakeState:
    """Run and job records plus a tracker that settles the run like ``complete_run`` would."""

    def __init__(self, job_ids: list[int]) -> None:
        self.run = RunRecord(
            run_id="r1",
            entity="products",
            mode="full",
            started_at=NOW,
            job_ids=job_ids,
            outcome=RunOutcome.SUBMITTED,
        )
        self.jobs = {
            j: JobRecord(job_id=j, entity="products", mode="full", run_id="r1", submitted_at=NOW)
            for j in job_ids
        }
        self.sweeps: list[list[str]] = []

    # run_store
    def get(self, run_id: str) -> RunRecord:
        return self.run

    # job_store
    def find(self, job_id: int) -> JobRecord | None:
        return self.jobs.get(job_id)

    # tracker
    def on_status(
        self, job_id: int, status: JobStatus, source: str, dto: Any = None, *, deadline: Any = None
    ) -> JobRecord:
        job = self.jobs[job_id] = self.jobs[job_id].model_copy(update={"status": status})
        if all(j.is_terminal for j in self.jobs.values()):
            failed = any(j.is_failed for j in self.jobs.values())
            self.run = self.run.model_copy(
                update={"outcome": RunOutcome.FAILED if failed else RunOutcome.SUCCEEDED}
            )
        return job

    def sweep(self, entities: list[str], *, recent: int = 3, deadline: Any = None) -> int:
        self.sweeps.append(entities)
        return 0


def services(state: FakeState, norce: FakeNorce) -> Any:
    return SimpleNamespace(run_store=state, job_store=state, tracker=state, norce=SimpleNamespace(jobs=norce))


def test_polls_until_every_job_ended_and_returns_the_settled_run() -> None:
    state = FakeState([1, 2])
    norce = FakeNorce(
        {
            1: [JobStatus.QUEUED, JobStatus.INITIALIZED, JobStatus.SUCCEEDED],
            2: [JobStatus.QUEUED, JobStatus.SUCCEEDED],
        }
    )
    sleeps: list[float] = []
    run = wait_for_run(
        services(state, norce), "r1", timeout_s=60, progress=ProgressHandle(), sleep=sleeps.append
    )
    assert run.outcome is RunOutcome.SUCCEEDED
    assert norce.calls == [1, 2, 1, 2, 1]  # a job that ended is not asked again
    assert sleeps == [0.5, 0.75]  # backs off between polls
    assert state.sweeps and state.sweeps[0] == ["products"]


def test_a_failed_job_settles_the_run_as_failed() -> None:
    state = FakeState([7])
    run = wait_for_run(
        services(state, FakeNorce({7: [JobStatus.FAILED]})),
        "r1",
        timeout_s=60,
        progress=ProgressHandle(),
        sleep=lambda s: None,
    )
    assert run.outcome is RunOutcome.FAILED


def test_still_running_after_the_timeout_is_a_conflict() -> None:
    state = FakeState([3])
    with pytest.raises(CliError) as info:
        wait_for_run(
            services(state, FakeNorce({3: [JobStatus.QUEUED]})),
            "r1",
            timeout_s=0,
            progress=ProgressHandle(),
            sleep=lambda s: None,
        )
    assert info.value.code is ExitCode.CONFLICT
    assert "3 queued" in str(info.value)


def test_an_already_settled_run_is_returned_without_polling() -> None:
    state = FakeState([4])
    state.run = state.run.model_copy(update={"outcome": RunOutcome.SUCCEEDED})
    norce = FakeNorce({4: [JobStatus.SUCCEEDED]})
    assert (
        wait_for_run(services(state, norce), "r1", timeout_s=5, progress=ProgressHandle()).outcome
        is RunOutcome.SUCCEEDED
    )
    assert norce.calls == []
