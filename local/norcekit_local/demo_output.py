"""What the demo prints: rich tables and progress on a terminal, plain lines otherwise (CI).

The demo's own output goes to the console captured here; everything else the process writes to
stdout/stderr (Lambda JSON logs, werkzeug, warnings) is redirected into a log file by
:func:`redirect_process_output`, so a user watches the story, not the logs.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


@contextlib.contextmanager
def redirect_process_output(log_path: Path) -> Iterator[tuple[IO[str], IO[str]]]:
    """Point file descriptors 1 and 2 at ``log_path``; yield text streams on the original ones."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    out = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8", errors="replace")
    err = os.fdopen(os.dup(saved_err), "w", buffering=1, encoding="utf-8", errors="replace")
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield out, err
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        out.close()
        err.close()


class Reporter:
    """Stage headings, tables, check marks and progress; ``quiet`` keeps only failures and the end."""

    def __init__(self, out: IO[str], err: IO[str], *, quiet: bool = False) -> None:
        self.console = Console(file=out, highlight=False)
        if not self.console.is_terminal:
            # Plain lines for logs and CI: no colour, no wrapping (tables are still 110 wide).
            self.console = Console(file=out, highlight=False, width=110, no_color=True, soft_wrap=True)
        self.err = Console(file=err, highlight=False)
        if not self.err.is_terminal:
            self.err = Console(file=err, highlight=False, width=110, no_color=True, soft_wrap=True)
        self.quiet = quiet

    @property
    def interactive(self) -> bool:
        return self.console.is_terminal and not self.quiet

    def stage(self, number: int, title: str) -> None:
        if self.quiet:
            return
        self.console.print()
        if self.console.is_terminal:
            self.console.rule(f"[bold]Stage {number}: {escape(title)}", align="left")
        else:
            self.console.print(f"== Stage {number}: {title}")

    def say(self, text: str) -> None:
        if not self.quiet:
            self.console.print(escape(text))

    def ok(self, text: str) -> None:
        if not self.quiet:
            mark = "[green]✔[/green]" if self.console.is_terminal else "OK "
            self.console.print(f"{mark} {escape(text)}")

    def fail(self, text: str) -> None:
        mark = "[bold red]✘ FAILED[/bold red]" if self.err.is_terminal else "FAILED:"
        self.err.print(f"{mark} {escape(text)}")

    def table(
        self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, header: bool = True
    ) -> None:
        if self.quiet:
            return
        table = Table(
            title=escape(title),
            title_justify="left",
            box=box.SIMPLE_HEAD if self.console.is_terminal else box.ASCII2,
            show_edge=not self.console.is_terminal,
            show_header=header,
        )
        for index, column in enumerate(columns):
            numeric = all(_is_number(row[index]) for row in rows if index < len(row))
            table.add_column(column, justify="right" if numeric and rows else "left", overflow="fold")
        for row in rows:
            table.add_row(*(escape(_cell(value)) for value in row))
        self.console.print(table)

    def progress(self) -> Progress | None:
        """A live progress display on a terminal; None when output is a file or a pipe."""
        if not self.interactive:
            return None
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<24}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            # Library loggers created meanwhile must keep writing to the log file, not the console.
            redirect_stdout=False,
            redirect_stderr=False,
        )


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _cell(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "NO"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
