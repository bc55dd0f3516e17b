"""JobClient and the job models: Norce's Job/Get, Job/GetLog and Job/Restart answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
import respx
from pydantic import ValidationError
from tests.unit.norce.clients_support import APP_ID, CONNECT

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider
from norcekit.norce.http import NorceHttp, NorceHTTPError
from norcekit.norce.jobs import (
    TERMINAL,
    JobClient,
    JobDto,
    JobLogEntry,
    JobSeverity,
    JobStatus,
    parse_timespan,
)

DOC_EXAMPLE = {
    "JobId": 4711, "StatusId": 2, "IsFinished": True, "Totals": 1, "Insert": 0, "Updates": 3, "Fail": 0,
    "Start": "2025-06-02T10:15:01.12", "Stop": "2025-06-02T10:15:07.90",
    "LastUpdated": "2025-06-02T10:15:07.90",
    "RunTime": "00:00:06.7800000", "StorageName": "imports/2025/06/02/4711.json",
}  # fmt: skip


def test_job_dto_parses_the_documented_example() -> None:
    job = JobDto.model_validate(DOC_EXAMPLE)
    assert job.StatusId is JobStatus.SUCCEEDED and job.is_terminal
    assert job.Inserts == 0 and job.Updates == 3
    assert job.Start == datetime(2025, 6, 2, 10, 15, 1, 120000)
    assert job.RunTime == timedelta(seconds=6, microseconds=780000)


def test_job_dto_accepts_the_dotnet_contract_spelling_and_extra_fields() -> None:
    job = JobDto.model_validate({"JobId": 1, "StatusId": 6, "Inserts": 12, "NewField": "kept"})
    assert job.Inserts == 12
    assert job.StatusId is JobStatus.QUEUED and not job.is_terminal
    assert job.model_extra == {"NewField": "kept"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:00:06.7800000", timedelta(seconds=6.78)),
        ("1.02:03:04.5", timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
        ("12:00:00", timedelta(hours=12)),
        ("-00:00:01", -timedelta(seconds=1)),
    ],
)
def test_timespan_forms(text: str, expected: timedelta) -> None:
    assert parse_timespan(text) == expected


def test_unparseable_runtime_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        JobDto.model_validate({"JobId": 1, "StatusId": 2, "RunTime": "six seconds"})


def test_status_values_and_terminal_set() -> None:
    assert [s.value for s in JobStatus] == [1, 2, 3, 4, 5, 6]
    assert {s.value for s in TERMINAL} == {2, 3, 4}


@pytest.fixture
def jobs(http: NorceHttp, tokens: TokenProvider) -> JobClient:
    return JobClient(http, tokens, connect_base_url=CONNECT, application_id=APP_ID)


def test_get_calls_job_get_with_the_id_and_retries_transient_failures(
    jobs: JobClient, router: respx.MockRouter
) -> None:
    route = router.get(f"{CONNECT}/Job/Get", params={"id": "4711"}).mock(
        side_effect=[httpx.Response(502), httpx.ConnectError("reset"), httpx.Response(200, json=DOC_EXAMPLE)]
    )
    job = jobs.get(4711, deadline=Deadline.none())
    assert job.JobId == 4711
    assert route.call_count == 3
    assert route.calls.last.request.headers["application-id"] == str(APP_ID)


def test_job_paths_come_from_configuration(
    http: NorceHttp, tokens: TokenProvider, router: respx.MockRouter
) -> None:
    jobs = JobClient(http, tokens, connect_base_url=CONNECT, application_id=APP_ID, get_path="api/Job/Get")
    route = router.get(f"{CONNECT}/api/Job/Get").mock(return_value=httpx.Response(200, json=DOC_EXAMPLE))
    jobs.get("4711")
    assert route.called


def test_get_log_parses_entries(jobs: JobClient, router: respx.MockRouter) -> None:
    router.get(f"{CONNECT}/Job/GetLog", params={"id": "7"}).mock(
        return_value=httpx.Response(
            200,
            json=[
                {"SeverityId": 1, "Message": "Starting import.", "TimeStamp": "2025-06-02T10:15:01.1"},
                {"SeverityId": 3, "Message": "Unknown PartNo", "ImportedRow": '{"PartNo":"X"}'},
            ],
        )
    )
    log = jobs.get_log(7)
    assert [e.SeverityId for e in log] == [JobSeverity.INFORMATION, JobSeverity.ERROR]
    assert isinstance(log[1], JobLogEntry) and log[1].ImportedRow == '{"PartNo":"X"}'


def test_restart_posts_and_is_not_retried_after_a_server_error(
    jobs: JobClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{CONNECT}/Job/Restart", params={"id": "7"}).mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json={"JobId": "8"})]
    )
    with pytest.raises(NorceHTTPError):
        jobs.restart(7)
    assert route.call_count == 1


def test_restart_is_retried_when_refused(jobs: JobClient, router: respx.MockRouter) -> None:
    route = router.post(f"{CONNECT}/Job/Restart", params={"id": "7"}).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"StatusCode": "OK", "JobId": "8"})]
    )
    assert jobs.restart(7).job_id == 8
    assert route.call_count == 2
