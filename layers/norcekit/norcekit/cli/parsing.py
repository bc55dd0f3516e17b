"""Argument values that need more than a type: times, job statuses, confirmations."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from norcekit.norce.jobs import JobStatus

_RELATIVE = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|hr|d|day|days|w|wk|weeks?)\s*(ago)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

#: ``--status open``: every non-terminal job (answered from the open-jobs index).
OPEN = "open"


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``2h``, ``3d``, ``90m``, ``1w`` (before now) or an ISO-8601 date/time; naive means UTC."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)[0].lower()
        return now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a relative time (30m, 2h, 3d, 1w) nor an ISO-8601 time "
            "(2025-06-02 or 2025-06-02T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_job_status(text: str) -> JobStatus | str:
    """A Norce job status by name (``failed``, ``ValidationFailed``, ``validation-failed``) or
    number (``3``), or ``open`` for every unfinished job."""
    value = text.strip()
    if value.lower() == OPEN:
        return OPEN
    if value.isdigit():
        try:
            return JobStatus(int(value))
        except ValueError:
            pass
    else:
        wanted = re.sub(r"[^a-z]", "", value.lower())
        for status in JobStatus:
            if status.name.replace("_", "").lower() == wanted:
                return status
    names = ", ".join(f"{s.value} {s.name.lower()}" for s in JobStatus)
    raise ValueError(f"unknown job status {text!r} (valid: {names}, or open)")


class ConfirmationRequired(Exception):  # noqa: N818 - reads as the condition it reports
    """No ``--yes`` and nobody at a terminal to ask."""


def confirm(
    question: str,
    *,
    assume_yes: bool,
    interactive: bool,
    ask: Callable[[str], str] = input,
) -> bool:
    """``True`` to go ahead. Asks on a terminal; without one, only ``--yes`` may go ahead.

    Raises :class:`ConfirmationRequired` when not interactive and not ``assume_yes``: a script
    must say ``--yes`` explicitly rather than have a prompt silently answered for it.
    """
    if assume_yes:
        return True
    if not interactive:
        raise ConfirmationRequired("confirmation needed but stdin is not a terminal: pass --yes")
    try:
        answer = ask(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
