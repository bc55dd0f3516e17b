"""Connect jobs: the record kept per import and its JobDto/JobLogDto/JobResponse shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from .contracts import ParsedHeader

QUEUED, INITIALIZED, SUCCEEDED, FAILED, VALIDATION_FAILED, VALIDATING = 6, 1, 2, 3, 4, 5
FINISHED = {SUCCEEDED, FAILED, VALIDATION_FAILED}
RESTARTABLE = {SUCCEEDED, FAILED}
IMPORTED_ROW_MAX = 1000  # Norce truncates ImportedRow too


def net_datetime(dt: datetime | None) -> str | None:
    """JobDto DateTimes look like .NET's: no offset (UTC in the emulator)."""
    return None if dt is None else dt.replace(tzinfo=None).isoformat(timespec="microseconds")


def net_timespan(delta: timedelta) -> str:
    total = max(delta.total_seconds(), 0.0)
    hours, rem = divmod(total, 3600)
    minutes, seconds = divmod(rem, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{seconds:010.7f}"


@dataclass
class Job:
    id: int
    kind: str
    path: str
    header: ParsedHeader
    items: list[Any]
    created: datetime
    status: int = QUEUED
    start: datetime | None = None
    stop: datetime | None = None
    last_updated: datetime | None = None
    totals: int = 0
    inserts: int = 0
    updates: int = 0
    fails: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    forced: bool = False  # a test forced the status: the worker leaves the job alone
    restart_of: int | None = None
    storage_name: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def add_log(self, severity: int, message: str, now: datetime, item: Any = None) -> None:
        row = None
        if item is not None:
            row = orjson.dumps(item).decode()[:IMPORTED_ROW_MAX]
        self.log.append(
            {"SeverityId": severity, "Message": message, "TimeStamp": net_datetime(now), "ImportedRow": row}
        )

    def dto(self, now: datetime, *, insert_singular: bool) -> dict[str, Any]:
        start = self.start or self.created
        end = self.stop or (now if self.start else start)
        return {
            "JobId": self.id,
            "StatusId": self.status,
            "IsFinished": self.finished,
            "Totals": self.totals,
            ("Insert" if insert_singular else "Inserts"): self.inserts,
            "Updates": self.updates,
            "Fail": self.fails,
            "Start": net_datetime(start),
            "Stop": net_datetime(self.stop),
            "LastUpdated": net_datetime(self.last_updated or self.created),
            "RunTime": net_timespan(end - start),
            "StorageName": self.storage_name,
        }

    def admin_view(self, now: datetime) -> dict[str, Any]:
        return {
            **self.dto(now, insert_singular=False),
            "Kind": self.kind,
            "Path": self.path,
            "Header": self.header.raw,
            "FullFile": self.header.full_file,
            "AccountId": self.header.account_id,
            "ItemCount": len(self.items),
            "Forced": self.forced,
            "RestartOf": self.restart_of,
            "Created": net_datetime(self.created),
            "Log": list(self.log),
        }


def job_response(
    job_id: int, n_items: int, failures: int = 0, messages: list[str] | None = None
) -> dict[str, Any]:
    return {
        "StatusCode": "OK",
        "Description": "Job accepted",
        "JobId": str(job_id),
        "ValidationSummary": {
            "NrOfItemsInTotal": n_items,
            "NrOfValidationFailures": failures,
            "Messages": messages or [],
        },
    }
