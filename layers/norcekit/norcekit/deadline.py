"""A point on a monotonic clock after which no more work should start.

Every layer bounds its work by one :class:`Deadline` handed down from the caller (a Lambda's
remaining time, the CLI's ``--timeout``), so it lives in the neutral base.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deadline:
    """A point on a monotonic clock after which no more work (or waiting) should start."""

    at: float | None
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def from_remaining_ms(
        cls, remaining_ms: int | float, *, margin_s: float = 3.0, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        """From ``context.get_remaining_time_in_millis()``, keeping ``margin_s`` to finish up."""
        return cls.after(max(0.0, remaining_ms / 1000.0 - margin_s), clock=clock)

    @classmethod
    def none(cls) -> Deadline:
        """No deadline (CLI, tests): retries are then bounded only by the retry policy."""
        return cls(None)

    def remaining(self) -> float:
        """Seconds left (``inf`` without a deadline, never negative)."""
        if self.at is None:
            return float("inf")
        return max(0.0, self.at - self.clock())

    @property
    def expired(self) -> bool:
        return self.at is not None and self.clock() >= self.at

    def cap(self, seconds: float) -> float:
        """``seconds`` shortened to what is left before the deadline."""
        return min(seconds, self.remaining())
