"""Connect Job service: status, log and restart of import jobs (norce-api.md §2).

The Job/Get path is an open question in Norce's docs (``Job/Get`` vs ``api/Job/Get``), so every
path comes from settings (``NORCE_JOB_GET_PATH`` …) with the documented default.

Retries: the GETs are idempotent and are retried on 429/5xx/transport errors. ``Job/Restart`` is a
POST that starts work, so it is retried only when it provably did not reach Norce (connection
failures, 429/503), like the imports.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Annotated, Any

import httpx
import orjson
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider, authorized_request
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.http import NorceHttp


class JobStatus(IntEnum):
    INITIALIZED = 1
    SUCCEEDED = 2
    FAILED = 3
    VALIDATION_FAILED = 4
    VALIDATING = 5
    QUEUED = 6

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL: frozenset[JobStatus] = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.VALIDATION_FAILED}
)


class JobSeverity(IntEnum):
    INFORMATION = 1
    WARNING = 2  # part of a record was skipped
    ERROR = 3  # the record was not imported


_TIMESPAN = re.compile(
    r"^(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<h>\d+):(?P<m>\d+):(?P<s>\d+)(?:\.(?P<frac>\d+))?$"
)


def parse_timespan(value: Any) -> Any:
    """.NET TimeSpan text (``00:00:06.7800000``, ``1.02:03:04.5``) → ``timedelta``; else unchanged."""
    if not isinstance(value, str):
        return value
    match = _TIMESPAN.match(value.strip())
    if match is None:
        return value  # let pydantic try (ISO 8601 durations, seconds) and report the error
    frac = match["frac"] or "0"
    delta = timedelta(
        days=int(match["days"] or 0),
        hours=int(match["h"]),
        minutes=int(match["m"]),
        seconds=int(match["s"]),
        microseconds=round(int(frac) * 10 ** (6 - len(frac))),
    )
    return -delta if match["sign"] else delta


TimeSpan = Annotated[timedelta, BeforeValidator(parse_timespan)]


class JobDto(BaseModel):
    """``Job/Get`` answer. Norce's docs say ``Insert``, its .NET contract ``Inserts``: both accepted."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    JobId: int
    StatusId: JobStatus
    IsFinished: bool | None = None
    Totals: int | None = None
    Inserts: int | None = Field(default=None, validation_alias=AliasChoices("Inserts", "Insert"))
    Updates: int | None = None
    Fail: int | None = None
    Start: datetime | None = None
    Stop: datetime | None = None
    LastUpdated: datetime | None = None
    RunTime: TimeSpan | None = None
    StorageName: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.StatusId in TERMINAL


class JobLogEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    SeverityId: JobSeverity
    Message: str | None = None
    TimeStamp: datetime | None = None
    ImportedRow: str | None = None  # may be truncated by Norce


class JobClient:
    """Connect Job service calls, authenticated with the shared :class:`TokenProvider`."""

    def __init__(
        self,
        http: NorceHttp,
        tokens: TokenProvider,
        *,
        connect_base_url: str,
        application_id: int,
        get_path: str = "Job/Get",
        log_path: str = "Job/GetLog",
        restart_path: str = "Job/Restart",
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.base_url = connect_base_url.rstrip("/")
        self.application_id = application_id
        self.get_path = get_path.strip("/")
        self.log_path = log_path.strip("/")
        self.restart_path = restart_path.strip("/")

    def get(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobDto:
        response = self._call("GET", self.get_path, job_id, deadline=deadline, idempotent=True)
        return JobDto.model_validate_json(response.content)

    def get_log(self, job_id: int | str, *, deadline: Deadline | None = None) -> list[JobLogEntry]:
        response = self._call("GET", self.log_path, job_id, deadline=deadline, idempotent=True)
        payload = orjson.loads(response.content) if response.content else []
        if isinstance(payload, dict):  # tolerate a wrapped list ({"value": [...]} / {"Items": [...]})
            payload = payload.get("value") or payload.get("Items") or []
        return [JobLogEntry.model_validate(entry) for entry in payload]

    def restart(self, job_id: int | str, *, deadline: Deadline | None = None) -> JobResponse:
        """Restart a finished job (status 2 or 3, payload kept two weeks by Norce)."""
        response = self._call("POST", self.restart_path, job_id, deadline=deadline, idempotent=False)
        return JobResponse.model_validate_json(response.content)

    def _call(
        self, method: str, path: str, job_id: int | str, *, deadline: Deadline | None, idempotent: bool
    ) -> httpx.Response:
        return authorized_request(
            self.http,
            self.tokens,
            method,
            f"{self.base_url}/{path}",
            deadline=deadline or Deadline.none(),
            idempotent=idempotent,
            params={"id": str(job_id)},
            headers={"application-id": str(self.application_id), "Accept": "application/json"},
        )
