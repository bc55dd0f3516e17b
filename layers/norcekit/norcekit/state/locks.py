"""Lease locks in the state table: one run per entity at a time (DESIGN rule 5, reference-patterns §4.2).

A lease is taken with a conditional put (free, expired, or already ours), extended with a
conditional update on the owner and released with a conditional delete on the owner. A holder that
crashed simply lets its lease run out. TTL (``expires_at``) only garbage-collects old lock items;
expiry is always decided by ``lease_until`` against the caller's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from boto3.dynamodb.conditions import Attr

from norcekit.state.table import TTL_ATTRIBUTE, ConditionFailed, Keys, StateTable, number

#: Lock items linger this long after their lease ends, for "who held it last" diagnostics.
GRACE_S = 24 * 3600


def writer_lock_name(kind: str) -> str:
    """``LOCK#CONNECT#<kind>``: held by whichever import run or restart is submitting ``kind`` jobs."""
    return f"CONNECT#{kind}"


@dataclass(frozen=True)
class LeaseInfo:
    owner: str
    until: float  # epoch seconds

    @property
    def until_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.until, UTC)


class LockHeld(Exception):  # noqa: N818 - the public name the kit uses
    """Another owner holds an unexpired lease."""

    def __init__(self, name: str, holder: str | None, until: float | None) -> None:
        self.name = name
        self.holder = holder
        self.until = until
        when = datetime.fromtimestamp(until, UTC).isoformat() if until is not None else "unknown"
        super().__init__(f"lock {name!r} is held by {holder or 'unknown'} until {when}")


class LockLostError(Exception):
    """We no longer hold the lease (it expired and someone else took it, or it was released)."""


class LeaseLock:
    """A named lease owned by ``owner`` (use the run id) for ``lease_s`` seconds at a time."""

    def __init__(
        self,
        table: StateTable,
        name: str,
        owner: str,
        lease_s: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self.table = table
        self.name = name
        self.owner = owner
        self.lease_s = lease_s
        self._clock = clock
        self._key = Keys.lock(name)
        #: The lease that blocked the last failed :meth:`acquire` (for messages and metrics).
        self.blocked_by: LeaseInfo | None = None

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours."""
        now = self._clock()
        condition = (
            Attr("PK").not_exists() | Attr("lease_until").lt(number(_num(now))) | Attr("owner").eq(self.owner)
        )
        try:
            self.table.put(
                {**self._key, **self._lease_attributes(now), "acquired_at": _num(now)}, condition=condition
            )
        except ConditionFailed as exc:
            stored = exc.item if exc.item is not None else self.table.get(self._key)
            self.blocked_by = _lease(stored)
            return False
        self.blocked_by = None
        return True

    def renew(self) -> None:
        """Extend our lease by ``lease_s`` from now; raises :class:`LockLostError` if it is not ours."""
        now = self._clock()
        try:
            self.table.update(
                self._key,
                set_values=self._lease_attributes(now),
                condition=Attr("PK").exists() & Attr("owner").eq(self.owner),
            )
        except ConditionFailed:
            raise LockLostError(f"lock {self.name!r} is no longer held by {self.owner}") from None

    def release(self) -> bool:
        """Give the lease up; ``False`` (and nothing changes) when it is not ours."""
        try:
            self.table.delete(self._key, condition=Attr("owner").eq(self.owner))
        except ConditionFailed:
            return False
        return True

    def holder(self) -> LeaseInfo | None:
        """The current unexpired lease, whoever holds it."""
        lease = _lease(self.table.get(self._key))
        return lease if lease is not None and lease.until > self._clock() else None

    def assert_held(self) -> None:
        """Fencing check before a state write: raises :class:`LockLostError` unless we hold the lease."""
        lease = self.holder()
        if lease is None or lease.owner != self.owner:
            raise LockLostError(f"lock {self.name!r} is no longer held by {self.owner}")

    def __enter__(self) -> LeaseLock:
        if not self.acquire():
            blocked = self.blocked_by
            raise LockHeld(self.name, blocked.owner if blocked else None, blocked.until if blocked else None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def _lease_attributes(self, now: float) -> dict[str, Any]:
        until = now + self.lease_s
        return {
            "owner": self.owner,
            "lease_until": _num(until),
            TTL_ATTRIBUTE: int(until) + GRACE_S,
        }


class LeaseLocks:
    """:class:`norcekit.state.interfaces.Locks` on the state table: hands out :class:`LeaseLock` s."""

    def __init__(self, table: StateTable, *, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self._clock = clock

    def lease(self, name: str, owner: str, lease_s: float) -> LeaseLock:
        return LeaseLock(self.table, name, owner, lease_s, clock=self._clock)


def _num(seconds: float) -> float:
    return round(seconds, 3)


def _lease(item: dict[str, Any] | None) -> LeaseInfo | None:
    if not item or "owner" not in item:
        return None
    return LeaseInfo(owner=str(item["owner"]), until=float(item.get("lease_until", 0)))
