"""How the CLI talks: rich tables for people, stable JSON for scripts, progress on stderr.

Everything a command prints goes through :class:`Output`. Commands build a JSON-able value first
(:func:`to_jsonable`) and hand a renderer for the human form, so both forms always carry the same
data. JSON: lists are arrays of objects, single results are objects, datetimes ISO-8601 UTC with
``Z``, durations in seconds, enums as their value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

#: Line width for tables written to a pipe or file (no terminal to measure).
PIPE_WIDTH = 160


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with ``Z`` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(value: Any) -> Any:
    """Plain JSON types only: models, dataclasses, enums, datetimes, paths ... converted."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="python"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)


def ago(moment: datetime | str | None, now: datetime | None = None) -> str:
    """``2025-06-02 10:15:01Z (3h ago)`` for tables; ``-`` for nothing."""
    if moment is None:
        return "-"
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
        except ValueError:
            return moment
        moment = parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{stamp} ({duration(abs((now - moment).total_seconds()))} {'ago' if now >= moment else 'ahead'})"


def duration(seconds: float | None) -> str:
    """``42s``, ``3m20s``, ``5h02m``, ``2d03h``."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping | list):
        return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(", ", ": "))
    return str(value)


class ProgressHandle:
    """What a command may do with a progress display; the no-op version when it is off."""

    def update(
        self, description: str | None = None, *, advance: float = 0, total: float | None = None
    ) -> None:
        return None


class _RichProgressHandle(ProgressHandle):
    def __init__(self, progress: Progress, task: Any) -> None:
        self.progress = progress
        self.task = task

    def update(
        self, description: str | None = None, *, advance: float = 0, total: float | None = None
    ) -> None:
        kwargs: dict[str, Any] = {"advance": advance}
        if description is not None:
            kwargs["description"] = description
        if total is not None:
            kwargs["total"] = total
        self.progress.update(self.task, **kwargs)


class Output:
    """stdout for results, stderr for messages and progress."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        progress: bool = True,
        debug: bool = False,
    ) -> None:
        self.json_mode = json_mode
        self.debug = debug
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=False)
        if not self.console.is_terminal:
            # Into a file or pipe: rich would assume 80 columns and fold tables; rows stay whole.
            self.console.width = PIPE_WIDTH
        self.err_console = Console(file=self.stderr, highlight=False, stderr=True, soft_wrap=True)
        # Progress only for a person watching: never with --json, never into a pipe or a file.
        self.progress_enabled = progress and not json_mode and self.err_console.is_terminal

    # --- results ---

    def emit(self, data: Any, render: Callable[[Console], None] | None = None) -> None:
        """Print a result: JSON with ``--json``, else ``render(console)`` (or indented JSON)."""
        if self.json_mode or render is None:
            text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False)
            self.stdout.write(text + "\n")
            self.stdout.flush()
            return
        render(self.console)

    # --- messages (stderr) ---

    def error(self, message: str) -> None:
        self.err_console.print(Text(f"error: {message}", style="bold red"))

    def warn(self, message: str) -> None:
        self.err_console.print(Text(f"warning: {message}", style="yellow"))

    def info(self, message: str) -> None:
        if not self.json_mode:
            self.err_console.print(Text(message, style="dim"))

    # --- progress (stderr) ---

    @contextlib.contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator[ProgressHandle]:
        if not self.progress_enabled:
            yield ProgressHandle()
            return
        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}")]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self.err_console, transient=True) as progress:
            yield _RichProgressHandle(progress, progress.add_task(description, total=total))


def table(
    title: str | None, columns: list[str], rows: list[list[Any]], *, caption: str | None = None
) -> Table:
    """A plain table; ``None`` cells print as ``-``."""
    result = Table(title=title, caption=caption, title_justify="left", show_lines=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*(cell(v) for v in row))
    return result


def key_values(title: str | None, pairs: list[tuple[str, Any]]) -> Table:
    """A two-column ``field  value`` table for one object."""
    result = Table(title=title, show_header=False, title_justify="left", box=None, padding=(0, 2))
    result.add_column(style="bold")
    result.add_column(overflow="fold")
    for name, value in pairs:
        result.add_row(name, cell(value))
    return result
