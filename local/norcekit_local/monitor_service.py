"""Local stand-in for the scheduled ``job_monitor`` Lambda: a thread that ticks the job monitor.

In AWS, EventBridge Scheduler invokes ``functions/job_monitor`` every minute; locally a thread calls
:meth:`norcekit.jobs.JobMonitor.tick` every ``interval_s`` (0.5 s) so imports are tracked to their
end in seconds. The monitor is the library's own, built by :mod:`norcekit.wiring` from the stack's
settings and integration configuration exactly as the ``job_monitor`` Lambda builds it; only the
polling pace differs: ``job_poll_min_interval_s`` defaults to 0 here unless
``JOB_POLL_MIN_INTERVAL_S`` is set.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from norcekit.deadline import Deadline

if TYPE_CHECKING:
    from norcekit.jobs import JobMonitor, TickSummary
    from norcekit.orders.sweep import OrderSweeper
    from norcekit.wiring import Components

POLL_INTERVAL_ENV = "JOB_POLL_MIN_INTERVAL_S"


@dataclass
class MonitorStats:
    ticks: int = 0
    errors: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    last_tick_at: float | None = None


class JobMonitorService:
    """Local-stack service: ticks the job monitor every ``interval_s`` in a background thread."""

    name = "job_monitor"

    def __init__(
        self,
        *,
        interval_s: float = 0.5,
        poll_min_interval_s: float = 0.0,
        tick_timeout_s: float = 30.0,
    ) -> None:
        self.interval_s = interval_s
        self.poll_min_interval_s = poll_min_interval_s
        self.tick_timeout_s = tick_timeout_s
        self.stats = MonitorStats()
        self.monitor: JobMonitor | None = None
        self.order_sweeper: OrderSweeper | None = None
        self._components: Components | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_lock = threading.Lock()

    def start(self, stack: Any) -> dict[str, Any]:
        from norcekit.cli.services import QuietJobMetrics  # noqa: PLC0415 - heavy: Norce clients, DynamoDB

        overrides: dict[str, Any] = {}
        if POLL_INTERVAL_ENV not in stack.environ():
            overrides["job_poll_min_interval_s"] = self.poll_min_interval_s
        # EMF lines on a developer's console reach no dashboard: metrics are dropped locally.
        self._components = stack.components(settings_overrides=overrides, job_metrics=QuietJobMetrics())
        self.monitor = self._components.monitor
        self.order_sweeper = self._components.order_sweeper
        settings = self._components.settings
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="job-monitor", daemon=True)
        self._thread.start()
        return {
            "interval_s": self.interval_s,
            "job_poll_min_interval_s": settings.job_poll_min_interval_s,
        }

    def tick(self) -> TickSummary:
        """One tick now (the thread's ticks and this one never overlap)."""

        if self.monitor is None:
            raise RuntimeError("job monitor service not started")
        with self._tick_lock:
            summary = self.monitor.tick(Deadline.after(self.tick_timeout_s))
            if self.order_sweeper is not None:  # as the job_monitor Lambda does
                self.order_sweeper.sweep()
        self.stats.ticks += 1
        self.stats.last_tick_at = time.monotonic()
        for status, count in summary.finished.items():
            self.stats.finished[status] = self.stats.finished.get(status, 0) + count
        return summary

    def wake(self) -> None:
        """Tick as soon as possible instead of at the next interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # moto or the emulator briefly unavailable: the next tick retries
                self.stats.errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.tick_timeout_s + 5)
            self._thread = None
        if self._components is not None:
            with contextlib.suppress(Exception):
                self._components.close()
            self._components = None
        self.monitor = None
