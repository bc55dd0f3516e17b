"""Connect job records: every JobId we submitted, tracked until it ends (DESIGN rules 3 and 4).

``JOB#<job_id>`` items. GSI1 (``JOBS#<entity>``, ``<submitted_at>#<job_id>``) lists an entity's jobs in
time order; GSI2 (``OPEN``, ``<entity>#<submitted_at>#<job_id>``) holds only non-terminal jobs, so
"what is still running" and "may this entity submit again" are single small queries.

Status arrives twice (the job monitor polls, Norce sends ``JobCompletedEvent``) and in any order,
so :meth:`JobStore.record_status` is idempotent and a terminal status is sticky. Every change is a
read-modify-write guarded by a ``version`` attribute, retried when a concurrent writer got in first.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from norcekit.norce.jobs import TERMINAL, JobDto, JobLogEntry, JobSeverity, JobStatus
from norcekit.state.runs import DEFAULT_RETENTION, ImportMode
from norcekit.state.table import (
    GSI1,
    GSI2,
    TTL_ATTRIBUTE,
    ConditionFailed,
    Keys,
    StateTable,
    epoch_s,
    iso_utc,
)

StatusSource = Literal["poll", "event", "submit"]
FAILED_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.FAILED, JobStatus.VALIDATION_FAILED})

#: Log excerpts kept on the record (the full log stays in Norce); DynamoDB items max out at 400 KB.
MAX_FIRST_ERRORS = 10
MAX_ROW_CHARS = 1000
_WRITE_ATTEMPTS = 8


class StatusChange(BaseModel):
    status: JobStatus
    at: AwareDatetime
    source: StatusSource


class JobCounters(BaseModel):
    totals: int | None = None
    inserts: int | None = None
    updates: int | None = None
    fail: int | None = None

    @classmethod
    def from_dto(cls, dto: JobDto) -> JobCounters:
        return cls(totals=dto.Totals, inserts=dto.Inserts, updates=dto.Updates, fail=dto.Fail)


class LogError(BaseModel):
    message: str | None = None
    imported_row: str | None = None


class LogSummary(BaseModel):
    #: Entries per severity name (``information``, ``warning``, ``error``).
    counts: dict[str, int] = Field(default_factory=dict)
    first_errors: list[LogError] = Field(default_factory=list)

    @classmethod
    def from_entries(
        cls, entries: Iterable[JobLogEntry], *, max_errors: int = MAX_FIRST_ERRORS
    ) -> LogSummary:
        summary = cls()
        for entry in entries:
            name = entry.SeverityId.name.lower()
            summary.counts[name] = summary.counts.get(name, 0) + 1
            if entry.SeverityId is JobSeverity.ERROR and len(summary.first_errors) < max_errors:
                row = entry.ImportedRow[:MAX_ROW_CHARS] if entry.ImportedRow else None
                summary.first_errors.append(LogError(message=entry.Message, imported_row=row))
        return summary


class Restart(BaseModel):
    at: AwareDatetime
    new_job_id: int


class JobRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_id: int
    #: The import's name (see :class:`~norcekit.state.runs.RunRecord`): the key of its lists.
    entity: str
    #: The Norce entity written; ``None`` in older records, whose import is named after it.
    kind: str | None = None
    mode: ImportMode
    run_id: str | None = None
    item_count: int = 0
    submitted_at: AwareDatetime
    status: JobStatus = JobStatus.INITIALIZED
    status_history: list[StatusChange] = Field(default_factory=list)
    counters: JobCounters | None = None
    runtime_s: float | None = None
    #: Seconds from submission until we learned the job ended.
    lead_time_s: float | None = None
    finished_at: AwareDatetime | None = None
    log_summary: LogSummary | None = None
    restarts: list[Restart] = Field(default_factory=list)
    restart_count: int = 0
    restarted_from: int | None = None
    superseded: bool = False
    superseded_by: int | None = None
    stuck: bool = False
    stuck_at: AwareDatetime | None = None

    @property
    def kind_name(self) -> str:
        return self.kind or self.entity

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES


# --- how a record changes (pure: the DynamoDB and in-memory stores apply the same rules) ----------


def as_submitted(record: JobRecord) -> JobRecord:
    """A new record's history starts with a ``submit`` entry."""
    if record.status_history:
        return record
    first = StatusChange(status=record.status, at=record.submitted_at, source="submit")
    return record.model_copy(update={"status_history": [first]})


def with_status(
    job: JobRecord,
    status: JobStatus,
    *,
    source: StatusSource,
    at: datetime,
    counters: JobCounters | None = None,
    runtime_s: float | None = None,
) -> JobRecord | None:
    """A status report: the current status adds no history; once terminal, only counters change."""
    update: dict[str, Any] = {}
    if not job.is_terminal and status != job.status:
        update["status"] = status
        update["status_history"] = [*job.status_history, StatusChange(status=status, at=at, source=source)]
        if status in TERMINAL:
            update["finished_at"] = at
            update["lead_time_s"] = round((at - job.submitted_at).total_seconds(), 3)
    if counters is not None and counters != job.counters:
        update["counters"] = counters
    if runtime_s is not None and runtime_s != job.runtime_s:
        update["runtime_s"] = runtime_s
    return job.model_copy(update=update) if update else None


def with_log_summary(job: JobRecord, summary: LogSummary) -> JobRecord | None:
    return job.model_copy(update={"log_summary": summary}) if job.log_summary != summary else None


def flagged_stuck(job: JobRecord, at: datetime) -> JobRecord | None:
    """Flag once, and never a job that has ended."""
    if job.stuck or job.is_terminal:
        return None
    return job.model_copy(update={"stuck": True, "stuck_at": at})


def superseded(job: JobRecord, by_job_id: int) -> JobRecord | None:
    """Only a failed job is superseded, once."""
    if job.superseded or not job.is_failed:
        return None
    return job.model_copy(update={"superseded": True, "superseded_by": by_job_id})


def with_restart(job: JobRecord, new_job_id: int, at: datetime) -> JobRecord | None:
    """Idempotent per new job id."""
    if any(r.new_job_id == new_job_id for r in job.restarts):
        return None
    return job.model_copy(
        update={
            "restarts": [*job.restarts, Restart(at=at, new_job_id=new_job_id)],
            "restart_count": job.restart_count + 1,
        }
    )


class JobNotFoundError(KeyError):
    pass


class JobExistsError(ConditionFailed):
    """A job with this id is already recorded."""


class JobStore:
    def __init__(self, table: StateTable, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.table = table
        self.retention = retention

    # --- writes -----------------------------------------------------------------------------------

    def create(self, record: JobRecord) -> JobRecord:
        """Store a just-submitted job (history starts with a ``submit`` entry).

        Raises :class:`JobExistsError` for a job id already recorded.
        """
        record = as_submitted(record)
        try:
            self.table.put(self._item(record, version=1), condition=Attr("PK").not_exists())
        except ConditionFailed as exc:
            raise JobExistsError(f"job {record.job_id} exists", exc.item) from None
        return record

    def record_status(
        self,
        job_id: int,
        status: JobStatus | int,
        *,
        source: StatusSource,
        at: datetime,
        counters: JobCounters | None = None,
        runtime_s: float | None = None,
    ) -> tuple[JobRecord, bool]:
        """Apply a status report; returns the record and whether anything changed.

        A report of the current status adds nothing to the history; once terminal, the status
        never changes again (a late poll saying "Queued" or a second event is ignored) and only
        counters/runtime are filled in.
        """
        new_status = JobStatus(status)
        return self._mutate(
            job_id,
            lambda job: with_status(
                job, new_status, source=source, at=at, counters=counters, runtime_s=runtime_s
            ),
        )

    def set_log_summary(self, job_id: int, summary: LogSummary) -> JobRecord:
        record, _ = self._mutate(job_id, lambda job: with_log_summary(job, summary))
        return record

    def mark_stuck(self, job_id: int, *, at: datetime) -> tuple[JobRecord, bool]:
        """Flag an unfinished job past its deadline; ``changed`` is ``False`` if already flagged or done."""
        return self._mutate(job_id, lambda job: flagged_stuck(job, at))

    def mark_superseded(self, entity: str, before: datetime, by_job_id: int) -> builtins.list[int]:
        """Mark failed jobs of ``entity`` submitted before ``before`` as superseded (rule 4).

        Returns the job ids marked now; superseded jobs are never restarted.
        """
        candidates = self.list_by_entity(entity, until=before, status=FAILED_STATUSES, limit=None)
        marked = []
        for job in candidates:
            if job.superseded or job.job_id == by_job_id:
                continue
            _, changed = self._mutate(job.job_id, lambda j: superseded(j, by_job_id))
            if changed:
                marked.append(job.job_id)
        return marked

    def record_restart(self, job_id: int, new_job_id: int, *, at: datetime | None = None) -> JobRecord:
        """Note that ``job_id`` was restarted as ``new_job_id`` (idempotent per new job id)."""
        when = at or datetime.now(UTC)

        record, changed = self._mutate(job_id, lambda job: with_restart(job, new_job_id, when))
        if changed:
            # The history item per restart (architecture.md); the record keeps the same list inline.
            with contextlib.suppress(ConditionFailed):
                self.table.put(
                    {
                        **Keys.job_restart(job_id, record.restart_count),
                        "job_id": job_id,
                        "new_job_id": new_job_id,
                        "at": iso_utc(when),
                        TTL_ATTRIBUTE: epoch_s(record.submitted_at + self.retention),
                    },
                    condition=Attr("PK").not_exists(),
                )
        return record

    # --- reads ------------------------------------------------------------------------------------

    def get(self, job_id: int) -> JobRecord:
        item = self.table.get(Keys.job(job_id))
        if item is None:
            raise JobNotFoundError(job_id)
        return JobRecord.model_validate(item)

    def find(self, job_id: int) -> JobRecord | None:
        try:
            return self.get(job_id)
        except JobNotFoundError:
            return None

    def list_open(self) -> builtins.list[JobRecord]:
        """Every non-terminal job, oldest submission first."""
        items = self.table.query(Key("GSI2PK").eq(Keys.OPEN_JOBS), index=GSI2)
        return sorted((JobRecord.model_validate(i) for i in items), key=lambda j: (j.submitted_at, j.job_id))

    def unfinished_for_entity(self, entity: str) -> builtins.list[JobRecord]:
        """Non-terminal jobs of ``entity`` (rule 3: none may be running when a new one is submitted).

        Reads a GSI, which is eventually consistent (milliseconds behind a write).
        """
        condition = Key("GSI2PK").eq(Keys.OPEN_JOBS) & Key("GSI2SK").begins_with(f"{entity}#")
        return [JobRecord.model_validate(i) for i in self.table.query(condition, index=GSI2)]

    def list_by_entity(
        self,
        entity: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: JobStatus | Iterable[JobStatus] | None = None,
        limit: int | None = 50,
    ) -> builtins.list[JobRecord]:
        """Jobs of ``entity`` submitted in ``[since, until)``, newest first."""
        condition = _time_range(Key("GSI1PK").eq(Keys.jobs_of(entity)), since, until)
        status_filter = None
        if status is not None:
            wanted = [int(status)] if isinstance(status, JobStatus) else sorted(int(s) for s in status)
            status_filter = Attr("status").is_in(wanted)
        items = self.table.query(
            condition, index=GSI1, forward=False, limit=limit, filter_condition=status_filter
        )
        return [JobRecord.model_validate(i) for i in items]

    def jobs_for_run(self, run_id: str) -> builtins.list[JobRecord]:
        """Jobs submitted by one import run, in submission order."""
        run = self.table.get(Keys.run(run_id))
        if run is None:
            return []
        since = datetime.fromisoformat(run["started_at"])
        condition = _time_range(Key("GSI1PK").eq(Keys.jobs_of(run["entity"])), since, None)
        items = self.table.query(condition, index=GSI1, filter_condition=Attr("run_id").eq(run_id))
        return [JobRecord.model_validate(i) for i in items]

    # --- internals --------------------------------------------------------------------------------

    def _mutate(self, job_id: int, change: Callable[[JobRecord], JobRecord | None]) -> tuple[JobRecord, bool]:
        """Optimistic read-modify-write: ``change`` returns the new record, or ``None`` for no change."""
        for _ in range(_WRITE_ATTEMPTS):
            item = self.table.get(Keys.job(job_id))
            if item is None:
                raise JobNotFoundError(job_id)
            current = JobRecord.model_validate(item)
            updated = change(current)
            if updated is None:
                return current, False
            version = int(item.get("version", 0))
            try:
                self.table.put(self._item(updated, version=version + 1), condition=_version_is(version))
            except ConditionFailed:
                continue  # someone else wrote in between: re-read and re-apply
            return updated, True
        raise RuntimeError(f"job {job_id}: gave up after {_WRITE_ATTEMPTS} concurrent updates")

    def _item(self, record: JobRecord, *, version: int) -> dict[str, Any]:
        submitted = iso_utc(record.submitted_at)
        item: dict[str, Any] = {
            **Keys.job(record.job_id),
            **record.model_dump(mode="json"),
            "version": version,
            "GSI1PK": Keys.jobs_of(record.entity),
            "GSI1SK": f"{submitted}#{record.job_id:010d}",
            TTL_ATTRIBUTE: epoch_s(record.submitted_at + self.retention),
        }
        if not record.is_terminal:  # sparse index: terminal jobs simply have no GSI2 keys
            item["GSI2PK"] = Keys.OPEN_JOBS
            item["GSI2SK"] = f"{record.entity}#{submitted}#{record.job_id:010d}"
        return item


def _version_is(version: int) -> ConditionBase:
    if version == 0:  # written before versioning existed (or by hand)
        return Attr("PK").exists() & Attr("version").not_exists()
    return Attr("version").eq(version)


def _time_range(condition: ConditionBase, since: datetime | None, until: datetime | None) -> ConditionBase:
    # GSI1SK is "<iso time>#<id>", which sorts just after "<iso time>": comparing with the bare time
    # keeps jobs submitted exactly at ``since`` and drops those exactly at ``until`` (half-open).
    if since is not None and until is not None:
        return condition & Key("GSI1SK").between(iso_utc(since), iso_utc(until))
    if since is not None:
        return condition & Key("GSI1SK").gte(iso_utc(since))
    if until is not None:
        return condition & Key("GSI1SK").lt(iso_utc(until))
    return condition
