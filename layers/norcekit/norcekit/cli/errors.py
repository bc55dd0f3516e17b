"""Exit codes scripts can rely on, and the mapping from the kit's exceptions to them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """``norcekit`` exit codes (also listed in ``norcekit --help``)."""

    OK = 0
    #: The operation ran and failed: a job failed, an import run's outcome is failed, a replay was invalid.
    FAILED = 1
    #: Bad arguments, or settings / integration configuration invalid (the message names the setting).
    USAGE = 2
    #: The job, quarantine item, run ... asked for does not exist.
    NOT_FOUND = 3
    #: Refused or skipped: entity locked, a job still running, restart refused, confirmation missing.
    CONFLICT = 4
    #: AWS or Norce could not be reached (or kept failing).
    UNREACHABLE = 5
    #: A full import's guardrail refused the run: nothing was submitted (``--allow RULE`` to override once).
    REFUSED = 6
    #: The run's jobs succeeded but Norce rejected some items (``norcekit quarantine list``, ``replay``).
    SUCCEEDED_WITH_FAILURES = 7


EXIT_CODES_HELP = """\
exit codes:
  0  ok
  1  operation failed (a job failed, the import run failed, a replay was invalid)
  2  usage or configuration error (the message names the argument or setting)
  3  not found (job, quarantine item, ...)
  4  conflict or skipped (entity locked, job still running, restart refused)
  5  AWS or Norce unreachable
  6  import refused by a full-import guardrail (nothing submitted)
  7  import succeeded with items Norce rejected (see `norcekit quarantine list`)"""


class CliError(Exception):
    """An error with a decided exit code; its message is printed as one line on stderr."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.code = code


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and one-line message for ``exc`` (anything unexpected is ``FAILED``)."""
    code, message = _classify(exc)
    return code, _one_line(message)


def _classify(exc: BaseException) -> tuple[ExitCode, str]:
    from botocore.exceptions import (  # noqa: PLC0415 - keep `norcekit --help` fast
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    # The domain's error types load only when an error is classified (`norcekit --help` stays fast).
    from norcekit.configfile import ConfigError  # noqa: PLC0415
    from norcekit.imports.runner import UnknownEntityError  # noqa: PLC0415
    from norcekit.jobs import EntityBusyError, RestartError, RestartRefusedError  # noqa: PLC0415
    from norcekit.norce.http import NorceAuthError, NorceHTTPError, NorceUnavailable  # noqa: PLC0415
    from norcekit.quarantine import QuarantineItemNotFoundError  # noqa: PLC0415
    from norcekit.settings import SettingsError  # noqa: PLC0415
    from norcekit.stack import StackError  # noqa: PLC0415
    from norcekit.state.jobs import JobNotFoundError  # noqa: PLC0415
    from norcekit.state.locks import LockHeld  # noqa: PLC0415
    from norcekit.state.runs import RunNotFoundError  # noqa: PLC0415

    if isinstance(exc, CliError):
        return exc.code, str(exc)
    if isinstance(exc, StackError):
        return (ExitCode.UNREACHABLE if exc.unreachable else ExitCode.USAGE), str(exc)
    if isinstance(exc, SettingsError | ConfigError | UnknownEntityError):
        return ExitCode.USAGE, _one_line(str(exc))
    if isinstance(exc, JobNotFoundError):
        return ExitCode.NOT_FOUND, f"job {exc.args[0]} not found"
    if isinstance(exc, RunNotFoundError):
        return ExitCode.NOT_FOUND, f"import run {exc.args[0]} not found"
    if isinstance(exc, QuarantineItemNotFoundError):
        return ExitCode.NOT_FOUND, f"quarantine item {exc.args[0]} not found"
    if isinstance(exc, RestartRefusedError):
        return ExitCode.CONFLICT, f"restart refused ({exc.decision.refusal}): {exc}"
    if isinstance(exc, EntityBusyError | LockHeld):
        return ExitCode.CONFLICT, str(exc)
    if isinstance(exc, RestartError):
        return ExitCode.FAILED, str(exc)
    if isinstance(exc, NorceAuthError):
        return ExitCode.USAGE, (
            f"Norce refused the credentials (HTTP {exc.status}): check NORCE_CLIENT_ID / "
            "NORCE_CLIENT_SECRET (or NORCE_CREDENTIALS_SECRET_ARN) and NORCE_APPLICATION_ID"
        )
    if isinstance(exc, NorceHTTPError):
        code = ExitCode.NOT_FOUND if exc.status == 404 else ExitCode.FAILED
        return code, f"Norce: {exc}"
    if isinstance(exc, NorceUnavailable):
        return ExitCode.UNREACHABLE, f"Norce unreachable: {exc}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ExitCode.USAGE, f"AWS credentials: {exc} (set AWS_PROFILE or AWS_ACCESS_KEY_ID/...)"
    if isinstance(exc, NoRegionError):
        return ExitCode.USAGE, "AWS region not set: pass --region or set AWS_REGION"
    if isinstance(
        exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError
    ):
        return ExitCode.UNREACHABLE, f"AWS unreachable: {exc}"
    if isinstance(exc, ClientError):
        return _client_error(exc)
    return ExitCode.FAILED, f"{type(exc).__name__}: {_one_line(str(exc))}"


_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)
_MISSING_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NoSuchBucket",
    }
)


def _client_error(exc: object) -> tuple[ExitCode, str]:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or str(exc)
    operation = getattr(exc, "operation_name", "")
    if code in _AUTH_CODES:
        return ExitCode.USAGE, f"AWS refused {operation}: {code}: {message} (check AWS credentials)"
    if code in _MISSING_CODES:
        # The stack's resources are gone or the region is wrong: not the thing the operator asked for.
        return ExitCode.UNREACHABLE, f"AWS resource missing ({operation}: {message}); check --stack/--region"
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if status >= 500 or code in ("Throttling", "ThrottlingException", "RequestLimitExceeded"):
        return ExitCode.UNREACHABLE, f"AWS unavailable ({operation}: {code}: {message})"
    return ExitCode.FAILED, f"AWS {operation}: {code}: {message}"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    return f"{lines[0]} (+{len(lines) - 1} more: {'; '.join(lines[1:])})"
