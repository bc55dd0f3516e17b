"""Exit codes scripts rely on: each kind of failure maps to one documented code and one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from norcekit.cli.errors import CliError, ExitCode, classify
from norcekit.configfile import ConfigError
from norcekit.imports.runner import UnknownEntityError
from norcekit.jobs import EntityBusyError, RestartDecision, RestartError, RestartRefusedError
from norcekit.jobs.restart import Refusal
from norcekit.norce.http import NorceAuthError, NorceHTTPError, NorceUnavailable
from norcekit.quarantine import QuarantineItemNotFoundError
from norcekit.settings import SettingsError
from norcekit.stack import StackError
from norcekit.state.jobs import JobNotFoundError
from norcekit.state.locks import LockHeld


def client_error(code: str, status: int = 400, operation: str = "GetItem") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (CliError("x", ExitCode.CONFLICT), ExitCode.CONFLICT),
        (SettingsError("NORCE_APPLICATION_ID: required but not set"), ExitCode.USAGE),
        (ConfigError("entities.products.source: 'x' is not a configured source"), ExitCode.USAGE),
        (UnknownEntityError("entity 'products' is not configured (entities.products)"), ExitCode.USAGE),
        (StackError("--stack: CloudFormation stack 'x' does not exist"), ExitCode.USAGE),
        (StackError("no local stack running", unreachable=True), ExitCode.UNREACHABLE),
        (JobNotFoundError(42), ExitCode.NOT_FOUND),
        (QuarantineItemNotFoundError("quarantine/webhook/x.json"), ExitCode.NOT_FOUND),
        (NorceHTTPError(404, "GET", "https://n/Job/Get?id=1", "not found"), ExitCode.NOT_FOUND),
        (NorceHTTPError(400, "POST", "https://n/Job/Restart?id=1", "bad"), ExitCode.FAILED),
        (NorceAuthError(401, "POST", "https://n/identity/1.0/connect/token"), ExitCode.USAGE),
        (NorceUnavailable("connect timeout", attempts=6), ExitCode.UNREACHABLE),
        (
            RestartRefusedError(
                RestartDecision(False, Refusal.VALIDATION_FAILED, "job 1: validation failed")
            ),
            ExitCode.CONFLICT,
        ),
        (EntityBusyError("entity products is locked by run-1"), ExitCode.CONFLICT),
        (LockHeld("products", "run-1", datetime(2025, 1, 1, tzinfo=UTC).timestamp()), ExitCode.CONFLICT),
        (RestartError("no JobId"), ExitCode.FAILED),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), ExitCode.UNREACHABLE),
        (NoCredentialsError(), ExitCode.USAGE),
        (client_error("AccessDeniedException"), ExitCode.USAGE),
        (client_error("ExpiredToken"), ExitCode.USAGE),
        (client_error("ResourceNotFoundException"), ExitCode.UNREACHABLE),
        (client_error("AWS.SimpleQueueService.NonExistentQueue"), ExitCode.UNREACHABLE),
        (client_error("InternalError", 500), ExitCode.UNREACHABLE),
        (client_error("ThrottlingException"), ExitCode.UNREACHABLE),
        (client_error("ValidationException"), ExitCode.FAILED),
        (RuntimeError("boom"), ExitCode.FAILED),
    ],
)
def test_exception_maps_to_documented_exit_code(exc: BaseException, code: ExitCode) -> None:
    assert classify(exc)[0] is code


def test_messages_are_one_line_and_keep_every_problem() -> None:
    _, message = classify(ConfigError("entities.a.source: bad\nentities.b.mapping: unknown"))
    assert "\n" not in message
    assert "entities.a.source: bad" in message
    assert "entities.b.mapping: unknown" in message


def test_settings_message_names_the_variable() -> None:
    _, message = classify(SettingsError("NORCE_ACCOUNT_IDS: must be a JSON object"))
    assert message.startswith("NORCE_ACCOUNT_IDS:")


def test_auth_failure_points_at_the_credential_settings() -> None:
    _, message = classify(NorceAuthError(401, "POST", "https://n/token"))
    assert "NORCE_CLIENT_ID" in message and "NORCE_CREDENTIALS_SECRET_ARN" in message


def test_refused_restart_says_why() -> None:
    decision = RestartDecision(
        False, Refusal.SUPERSEDED, "job 7: superseded by the successful full import job 9"
    )
    _, message = classify(RestartRefusedError(decision))
    assert "superseded" in message and "job 9" in message


def test_unexpected_errors_name_their_type() -> None:
    assert classify(KeyError("x"))[1].startswith("KeyError")


def test_exit_code_values_are_stable() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert ExitCode.REFUSED == 6 and ExitCode.SUCCEEDED_WITH_FAILURES == 7
