"""Relative/absolute times, job status names and the confirmation rule of the operator CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from norcekit.cli.parsing import OPEN, ConfirmationRequired, confirm, parse_job_status, parse_since
from norcekit.norce.jobs import JobStatus

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
        (" 2 H ", timedelta(hours=2)),
        ("3days", timedelta(days=3)),
        ("2h ago", timedelta(hours=2)),
    ],
)
def test_relative_times_count_back_from_now(text: str, delta: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - delta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01T10:00:00Z", datetime(2025, 6, 1, 10, tzinfo=UTC)),
        ("2025-06-01T10:00:00z", datetime(2025, 6, 1, 10, tzinfo=UTC)),
        ("2025-06-01T12:00:00+02:00", datetime(2025, 6, 1, 10, tzinfo=UTC)),
        ("2025-06-01 10:00", datetime(2025, 6, 1, 10, tzinfo=UTC)),  # naive means UTC
    ],
)
def test_absolute_times_are_utc(text: str, expected: datetime) -> None:
    parsed = parse_since(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "2x", "h2", "", "2025-13-01"])
def test_unparseable_times_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"relative time \(30m, 2h, 3d, 1w\)"):
        parse_since(text, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("failed", JobStatus.FAILED),
        ("Failed", JobStatus.FAILED),
        ("3", JobStatus.FAILED),
        ("validation_failed", JobStatus.VALIDATION_FAILED),
        ("ValidationFailed", JobStatus.VALIDATION_FAILED),
        ("validation-failed", JobStatus.VALIDATION_FAILED),
        ("4", JobStatus.VALIDATION_FAILED),
        ("succeeded", JobStatus.SUCCEEDED),
        ("queued", JobStatus.QUEUED),
        ("open", OPEN),
        ("OPEN", OPEN),
    ],
)
def test_job_status_by_name_or_number(text: str, expected: object) -> None:
    assert parse_job_status(text) == expected


@pytest.mark.parametrize("text", ["7", "0", "running", "completed"])
def test_unknown_job_status_lists_the_valid_ones(text: str) -> None:
    with pytest.raises(ValueError, match="valid: 1 initialized, 2 succeeded, 3 failed, 4 validation_failed"):
        parse_job_status(text)


def test_yes_flag_goes_ahead_without_asking() -> None:
    def ask(prompt: str) -> str:
        raise AssertionError("must not ask")

    assert confirm("Set it", assume_yes=True, interactive=False, ask=ask) is True
    assert confirm("Set it", assume_yes=True, interactive=True, ask=ask) is True


def test_without_terminal_and_without_yes_nothing_happens() -> None:
    with pytest.raises(ConfirmationRequired, match="pass --yes"):
        confirm("Set it", assume_yes=False, interactive=False, ask=lambda prompt: "y")


@pytest.mark.parametrize(
    ("answer", "expected"), [("y\n", True), ("YES", True), ("n", False), ("", False), ("sure", False)]
)
def test_terminal_answer_decides(answer: str, expected: bool) -> None:
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return answer

    assert confirm("Set the watermark", assume_yes=False, interactive=True, ask=ask) is expected
    assert prompts == ["Set the watermark [y/N] "]


def test_closed_stdin_on_a_terminal_means_no() -> None:
    def ask(prompt: str) -> str:
        raise EOFError

    assert confirm("Set it", assume_yes=False, interactive=True, ask=ask) is False


def test_offsets_other_than_utc_are_converted() -> None:
    tz = timezone(timedelta(hours=-5))
    assert parse_since("2025-06-01T05:00:00-05:00", now=NOW) == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert datetime(2025, 6, 1, 5, tzinfo=tz) == parse_since("2025-06-01T10:00:00Z", now=NOW)
