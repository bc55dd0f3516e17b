"""Import run records: what one scheduled (or manual) import did, for operators and the job tracker.

``RUN#<run_id>`` items, listed per entity newest first through GSI1 (``RUNS#<entity>``,
``<started_at>#<run_id>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from norcekit.state.table import GSI1, TTL_ATTRIBUTE, ConditionFailed, Keys, StateTable, epoch_s, iso_utc
from norcekit.state.watermarks import Watermark

ImportMode = Literal["full", "delta"]

#: Run and job records are garbage-collected after this long (TTL).
DEFAULT_RETENTION = timedelta(days=90)


class RunOutcome(StrEnum):
    RUNNING = "running"
    SUBMITTED = "submitted"  # all jobs submitted; the job tracker decides the rest
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED_LOCKED = "skipped_locked"
    SKIPPED_JOB_RUNNING = "skipped_job_running"
    PARTIAL_TIMEOUT = "partial_timeout"
    #: A full import's guardrail tripped: nothing was submitted (the message names rule and figures).
    REFUSED = "refused"
    #: Every job succeeded but Norce rejected some items (kept in the quarantine for replay).
    SUCCEEDED_WITH_FAILURES = "succeeded_with_failures"


class RunCounts(BaseModel):
    read: int = 0
    mapped: int = 0
    quarantined: int = 0
    submitted: int = 0
    deduplicated: int = 0
    #: Mapped items outside the import's configured scope (another import's warehouses or price lists).
    out_of_scope: int = 0


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run_id: str
    #: The import's name: every state key (watermark, lock, run and job lists) is per import.
    #: For the ``entities:`` form the name is the kind, so records written before named imports
    #: existed keep their keys.
    entity: str
    #: The Norce entity written (an ``IMPORT_KINDS`` name); ``None`` in older records: the name.
    kind: str | None = None
    mode: ImportMode
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    #: The window read: ``[window_since, window_until)``; ``window_since`` is ``None`` for a full import.
    window_since: Watermark | None = None
    window_until: Watermark | None = None
    #: Committed as the entity's watermark once every job of the run has succeeded.
    candidate_watermark: Watermark | None = None
    counts: RunCounts = Field(default_factory=RunCounts)
    job_ids: list[int] = Field(default_factory=list)
    outcome: RunOutcome = RunOutcome.RUNNING
    message: str | None = None
    duration_s: float | None = None
    #: Full-import guardrails an operator allowed this run past (``--allow shrink``).
    allowed: list[str] = Field(default_factory=list)
    #: What an operator must know beyond the outcome (a guardrail allowed, keys a full import
    #: deactivates); kept when the jobs' ending rewrites ``message``.
    notes: list[str] = Field(default_factory=list)

    @property
    def kind_name(self) -> str:
        return self.kind or self.entity


class RunNotFoundError(KeyError):
    pass


class RunExistsError(ConditionFailed):
    """A run with this id is already stored (a duplicate trigger)."""


class RunStore:
    def __init__(self, table: StateTable, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.table = table
        self.retention = retention

    def create(self, record: RunRecord) -> RunRecord:
        """Store a new run; :class:`RunExistsError` if the run id exists (a duplicate trigger)."""
        item: dict[str, Any] = {
            **Keys.run(record.run_id),
            **record.model_dump(mode="json"),
            "GSI1PK": Keys.runs_of(record.entity),
            "GSI1SK": f"{iso_utc(record.started_at)}#{record.run_id}",
            TTL_ATTRIBUTE: epoch_s(record.started_at + self.retention),
        }
        try:
            self.table.put(item, condition=Attr("PK").not_exists())
        except ConditionFailed as exc:
            raise RunExistsError(f"run {record.run_id} exists", exc.item) from None
        return record

    def update(
        self,
        run_id: str,
        *,
        counts: RunCounts | None = None,
        add_job_ids: Iterable[int] = (),
        outcome: RunOutcome | None = None,
        message: str | None = None,
        candidate_watermark: Watermark | None = None,
        window_until: Watermark | None = None,
        finished_at: datetime | None = None,
        notes: list[str] | None = None,
    ) -> RunRecord:
        """Change the given fields (job ids are appended); ``duration_s`` follows ``finished_at``."""
        values: dict[str, Any] = {}
        if notes is not None:
            values["notes"] = list(notes)
        if counts is not None:
            values["counts"] = counts.model_dump(mode="json")
        if outcome is not None:
            values["outcome"] = outcome.value
        if message is not None:
            values["message"] = message
        if candidate_watermark is not None:
            values["candidate_watermark"] = candidate_watermark.model_dump(mode="json")
        if window_until is not None:
            values["window_until"] = window_until.model_dump(mode="json")
        if finished_at is not None:
            current = self.get(run_id)
            values["finished_at"] = finished_at.isoformat()
            values["duration_s"] = round((finished_at - current.started_at).total_seconds(), 3)
        job_ids = [int(j) for j in add_job_ids]
        if not values and not job_ids:
            return self.get(run_id)
        try:
            item = self.table.update(
                Keys.run(run_id),
                set_values=values,
                append={"job_ids": job_ids} if job_ids else None,
                condition=Attr("PK").exists(),
            )
        except ConditionFailed:
            raise RunNotFoundError(run_id) from None
        return RunRecord.model_validate(item)

    def get(self, run_id: str) -> RunRecord:
        item = self.table.get(Keys.run(run_id))
        if item is None:
            raise RunNotFoundError(run_id)
        return RunRecord.model_validate(item)

    def list_by_entity(
        self, entity: str, *, limit: int = 20, since: datetime | None = None
    ) -> list[RunRecord]:
        """Runs of ``entity``, newest first, optionally only those started at or after ``since``."""
        condition: ConditionBase = Key("GSI1PK").eq(Keys.runs_of(entity))
        if since is not None:
            condition = condition & Key("GSI1SK").gte(iso_utc(since))
        items = self.table.query(condition, index=GSI1, forward=False, limit=limit)
        return [RunRecord.model_validate(item) for item in items]

    def latest(self, entity: str) -> RunRecord | None:
        runs = self.list_by_entity(entity, limit=1)
        return runs[0] if runs else None
