"""What every command gets: the output, the stack's services, and how to ask the operator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from norcekit.cli.output import Output
from norcekit.cli.services import Services
from norcekit.stack import StackResources


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CliContext:
    out: Output
    services: Services
    resources: StackResources
    stdin: TextIO
    now: Callable[[], datetime] = field(default=_utc_now)

    @property
    def interactive(self) -> bool:
        """A person can answer a question (stdin is a terminal)."""
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    def ask(self, prompt: str) -> str:
        """Prompt on stderr, answer from stdin (stdout stays clean for results)."""
        self.out.stderr.write(prompt)
        self.out.stderr.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line
