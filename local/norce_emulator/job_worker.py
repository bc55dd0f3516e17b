"""Connect jobs: creation, the one worker that runs them, Job/Get, Job/GetLog, Job/Restart, admin views.

A job passes through the statuses Norce's JobCompletedEvent schema lists, each for a configurable
time (``job_queued_seconds``, ``job_validating_seconds``, ``job_running_seconds``; ``job_delay``
when unset): Queued (6) → Validating (5) → Initialized (1, "Starting import.") → Succeeded (2),
Failed (3) or Validation failed (4, every item lacks its keys). The order of Validating and
Initialized is the emulator's reading (not documented). A Succeeded job can still carry item
failures: rows Norce did not import (e.g. a price or on-hand row for an unknown PartNo, with
``unknown_reference_rows="fail"``) are counted in ``Fail`` and listed in ``Job/GetLog`` with
severity 3 and the row.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .config import EmulatorConfig
from .contracts import ParsedHeader
from .errors import ApiError
from .jobs import (
    FAILED,
    FINISHED,
    INITIALIZED,
    RESTARTABLE,
    SUCCEEDED,
    VALIDATING,
    VALIDATION_FAILED,
    Job,
    job_response,
)
from .rows import request_key_errors

if TYPE_CHECKING:
    from .catalog import Catalog
    from .events import EventBus
    from .faults import FaultInjector


class JobWorker:
    """Mixin of :class:`~norce_emulator.core.EmulatorCore`: job state lives on the emulator."""

    config: EmulatorConfig
    lock: threading.RLock
    catalog: Catalog
    events: EventBus
    faults: FaultInjector
    _jobs: dict[int, Job]
    _job_queue: deque[int]
    _job_cond: threading.Condition
    _next_job_id: int
    _stopping: bool

    def now(self) -> datetime:
        raise NotImplementedError

    def configure(self, **changes: Any) -> EmulatorConfig:
        raise NotImplementedError

    # ---------------------------------------------------------------- the worker
    def _create_job(
        self, kind: str, path: str, header: ParsedHeader, items: list[Any], restart_of: int | None = None
    ) -> Job:
        with self._job_cond:
            job_id = self._next_job_id
            self._next_job_id += 1
            now = self.now()
            job = Job(
                id=job_id,
                kind=kind,
                path=path,
                header=header,
                items=items,
                created=now,
                last_updated=now,
                totals=len(items),
                restart_of=restart_of,
                storage_name=header.storage_name or f"imports/{now:%Y/%m/%d}/{job_id}.json",
            )
            self._jobs[job_id] = job
            self._job_queue.append(job_id)
            self._job_cond.notify_all()
            return job

    def _job_worker(self) -> None:
        # One worker: jobs of a tenant run one at a time, later ones stay Queued (Norce throttling).
        while True:
            with self._job_cond:
                while not self._stopping and (not self._job_queue or not self.config.job_processing):
                    self._job_cond.wait(0.5)
                if self._stopping:
                    return
                job = self._jobs.get(self._job_queue.popleft())
            if job is None:
                continue
            try:
                self._run_job(job)
            except Exception as exc:  # keep the worker alive; surface the bug in the job log
                with self.lock:
                    if not job.finished:
                        job.add_log(3, f"Emulator error: {type(exc).__name__}: {exc}", self.now())
                        self._finish(job, FAILED)

    def _step_seconds(self, step: str) -> float:
        configured: float | None = getattr(self.config, f"job_{step}_seconds")
        return self.config.job_delay if configured is None else configured

    def _sleep_step(self, job: Job, seconds: float) -> bool:
        """Wait one status step; False when the job was forced/reset meanwhile."""
        deadline = time.monotonic() + seconds
        with self._job_cond:
            while True:
                if self._stopping or job.forced or self._jobs.get(job.id) is not job:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0 and self.config.job_processing:
                    return True
                self._job_cond.wait(max(remaining, 0.05))

    def _enter(self, job: Job, status: int) -> bool:
        """Move the job to ``status``; False when it was forced/reset meanwhile."""
        with self.lock:
            if job.forced or self._jobs.get(job.id) is not job:
                return False
            job.status = status
            job.last_updated = self.now()
            self._job_cond.notify_all()
            return True

    def _run_job(self, job: Job) -> None:
        if not self._sleep_step(job, self._step_seconds("queued")) or not self._enter(job, VALIDATING):
            return
        if not self._sleep_step(job, self._step_seconds("validating")):
            return
        with self.lock:
            if job.forced or self._jobs.get(job.id) is not job:
                return
            now = self.now()
            errors = [(request_key_errors(job.kind, it), it) for it in job.items]
            if job.items and all(errs for errs, _ in errors):
                for errs, item in errors:
                    job.add_log(3, "; ".join(errs), now, item)
                job.fails = len(job.items)
                self._finish(job, VALIDATION_FAILED)
                return
        if not self._enter(job, INITIALIZED):
            return
        with self.lock:
            job.start = self.now()
            job.add_log(1, "Starting import.", job.start)
        if not self._sleep_step(job, self._step_seconds("running")):
            return
        with self.lock:
            if job.forced or self._jobs.get(job.id) is not job:
                return
            now = self.now()
            if self.config.job_failure_rate and self.faults.random() < self.config.job_failure_rate:
                job.add_log(3, "Import failed: an unexpected error occurred (injected by emulator).", now)
                self._finish(job, FAILED)
                return
            result = self.catalog.apply_import(
                job.kind,
                job.header,
                job.items,
                absent_means_all=self.config.fields_absent_means_all,
                auto_create_price_lists=self.config.auto_create_price_lists,
                unknown_reference_fails=self.config.unknown_reference_rows == "fail",
            )
            for severity, message, item in result.log:
                job.add_log(severity, message, now, item)
            job.inserts, job.updates, job.fails = result.inserts, result.updates, result.fails
            self.events.publish(self.catalog.drain_events())  # change notifications before JobCompletedEvent
            self._finish(job, SUCCEEDED)

    def _finish(self, job: Job, status: int) -> None:
        now = self.now()
        job.status = status
        job.start = job.start or now
        job.stop = job.last_updated = now
        job.add_log(1, "Import finished.", now)
        self.events.publish(
            [
                (
                    "JobCompletedEvent",
                    {
                        "ClientId": self.config.norce_client_id,
                        "ApplicationId": self.config.application_id,
                        "JobId": job.id,
                        "StatusId": status,
                    },
                )
            ]
        )
        self._job_cond.notify_all()

    # ---------------------------------------------------------------- Job service
    def _job_or_404(self, job_id: int) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, {"StatusCode": "Failed", "Description": f"Job {job_id} not found"})
        return job

    def get_job_dto(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            return self._job_or_404(job_id).dto(
                self.now(), insert_singular=self.config.job_emit_insert_singular
            )

    def get_job_log(self, job_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._job_or_404(job_id).log)

    def restart_job(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            job = self._job_or_404(job_id)
            if job.status not in RESTARTABLE:
                raise ApiError(
                    400,
                    {
                        "StatusCode": "Failed",
                        "Description": f"Job {job_id} has status {job.status}; only finished jobs "
                        "(2 Succeeded, 3 Failed) can be restarted",
                    },
                )
            if self.now() - job.created > timedelta(days=self.config.job_restart_window_days):
                raise ApiError(
                    400,
                    {
                        "StatusCode": "Failed",
                        "Description": f"Job {job_id} is older than "
                        f"{self.config.job_restart_window_days} days; payload expired",
                    },
                )
            new = self._create_job(job.kind, job.path, job.header, job.items, restart_of=job.id)
            return job_response(new.id, len(job.items))

    # ---------------------------------------------------------------- admin: jobs
    def jobs(self) -> list[dict[str, Any]]:
        with self.lock:
            now = self.now()
            return [{k: v for k, v in j.admin_view(now).items() if k != "Log"} for j in self._jobs.values()]

    def job(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            return self._job_or_404(job_id).admin_view(self.now())

    def job_items(self, job_id: int) -> list[Any]:
        """The item array Connect received for a job, as parsed (what Norce stores for a restart)."""
        with self.lock:
            return list(self._job_or_404(job_id).items)

    def force_job_status(self, job_id: int, status: int) -> dict[str, Any]:
        """Force a status (e.g. keep a job Initialized forever). Finished statuses emit JobCompletedEvent."""
        if status not in (1, 2, 3, 4, 5, 6):
            raise ValueError("status must be 1..6")
        with self.lock:
            job = self._job_or_404(job_id)
            job.forced = True
            if status in FINISHED:
                self._finish(job, status)
            else:
                job.status = status
                job.stop = None
                if status == INITIALIZED and job.start is None:
                    job.start = self.now()
                job.last_updated = self.now()
            self._job_cond.notify_all()
            return job.admin_view(self.now())

    def set_job_processing(self, enabled: bool) -> None:
        """Pause (False) or resume the job worker; paused jobs stay Queued."""
        self.configure(job_processing=enabled)

    def wait_for_job(self, job_id: int | str, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the job is finished; returns the admin view."""
        deadline = time.monotonic() + timeout
        with self._job_cond:
            while True:
                job = self._job_or_404(int(job_id))
                if job.finished:
                    return job.admin_view(self.now())
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"job {job_id} still has status {job.status}")
                self._job_cond.wait(min(remaining, 0.05))
