"""The wait loop of ``import run --wait``: follow a run's jobs through the job tracker until it settles."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ProgressHandle
from norcekit.deadline import Deadline

if TYPE_CHECKING:
    from norcekit.cli.services import Services
    from norcekit.state.runs import RunRecord


def wait_for_run(
    services: Services,
    run_id: str,
    *,
    timeout_s: float,
    progress: ProgressHandle,
    poll_interval_s: float = 0.5,
    max_poll_interval_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> RunRecord:
    """Poll the run's unfinished jobs (Job/Get) through the job tracker until the run is settled.

    The tracker records each status and runs an ended job's terminal actions (log summary,
    automatic restart, supersede, run outcome + watermark commit), exactly as the job monitor
    would; a restarted job joins the run and is waited for too. Raises :class:`CliError`
    (``CONFLICT``) when the jobs are still running after ``timeout_s``.
    """
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415 - CLI start-up (its command loads it)

    deadline = Deadline.after(timeout_s)
    tracker = services.tracker
    interval = poll_interval_s
    while True:
        run = services.run_store.get(run_id)
        if run.outcome is not RunOutcome.SUBMITTED:
            return run
        jobs = [services.job_store.find(job_id) for job_id in dict.fromkeys(run.job_ids)]
        waiting = []
        for job in jobs:
            if job is None or job.is_terminal:
                continue
            dto = services.norce.jobs.get(job.job_id, deadline=deadline)
            record = tracker.on_status(job.job_id, dto.StatusId, "poll", dto=dto, deadline=deadline)
            if not record.is_terminal:
                waiting.append(f"{record.job_id} {record.status.name.lower()}")
        # Terminal actions deferred (entity busy) or left by a crashed runner: resume them.
        tracker.sweep([run.entity], recent=len(jobs) + 1, deadline=deadline)
        run = services.run_store.get(run_id)
        if run.outcome is not RunOutcome.SUBMITTED:
            return run
        progress.update(f"waiting for job(s) {', '.join(waiting) or 'to settle'}")
        if deadline.expired:
            raise CliError(
                f"run {run_id}: job(s) still running after {timeout_s:.0f}s "
                f"({', '.join(waiting) or 'terminal actions pending'}); "
                "check later with `norcekit jobs list`",
                ExitCode.CONFLICT,
            )
        sleep(min(interval, max(0.0, deadline.remaining())))
        interval = min(interval * 1.5, max_poll_interval_s)
