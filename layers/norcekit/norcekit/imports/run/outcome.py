"""What a run step and a whole run return: typed outcomes, never exceptions for a normal ending.

A step either carries on (returns ``None`` or its value) or ends the run with an :class:`Ended`
(an outcome and the sentence that explains it). Only real failures raise: the façade turns an
unexpected exception into a ``failed`` run, a deadline into ``partial_timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from norcekit.observability import MetricName
from norcekit.state.runs import RunOutcome, RunRecord


@dataclass(frozen=True)
class Ended:
    """A run's ending: its outcome and the operator-facing explanation."""

    outcome: RunOutcome
    message: str

    @property
    def committable(self) -> bool:
        """Whether the run's candidate watermark may be committed (once its jobs succeed)."""
        return self.outcome in (RunOutcome.SUBMITTED, RunOutcome.SUCCEEDED)


#: Per-outcome run counters (alarms on ImportRunsFailed / ImportRunsPartial / ImportRunsDeferred /
#: ImportRunsRefused).
OUTCOME_METRICS: dict[RunOutcome, str] = {
    RunOutcome.FAILED: MetricName.IMPORT_RUNS_FAILED,
    RunOutcome.PARTIAL_TIMEOUT: MetricName.IMPORT_RUNS_PARTIAL,
    RunOutcome.SKIPPED_LOCKED: MetricName.IMPORT_RUNS_SKIPPED_LOCKED,
    RunOutcome.SKIPPED_JOB_RUNNING: MetricName.IMPORT_RUNS_DEFERRED,
    RunOutcome.REFUSED: MetricName.IMPORT_RUNS_REFUSED,
}


class Rejection(BaseModel):
    """A record that was not imported: its key, where it came from and why."""

    key: str
    origin: str
    reason: str
    quarantine_key: str | None = None


class RunResult(RunRecord):
    """The run record plus what is only reported, never stored (dry runs, rejection sample)."""

    dry_run: bool = False
    #: False when nothing was written to the run store (dry run, duplicate trigger).
    stored: bool = True
    #: The first ``max_reported_rejections`` rejected records (all are in the quarantine).
    rejections: list[Rejection] = Field(default_factory=list)
    stuck_job_ids: list[int] = Field(default_factory=list)
    #: Keys of rejected rows that this full import deactivates in Norce (their row was not sent).
    deactivated_keys: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary for the Lambda response and the CLI."""
        return self.model_dump(mode="json", exclude_none=True)
