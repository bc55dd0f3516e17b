"""In-memory leases: entity locks, finish claims and the shared Norce token."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType

from pydantic import SecretStr

from norcekit.norce.tokens import CachedToken
from norcekit.state.claims import CLAIM_LEASE_S, Claim, ClaimLostError, ClaimState
from norcekit.state.jobs import JobRecord
from norcekit.state.locks import LeaseInfo, LockHeld, LockLostError
from norcekit.state.memory.records import ClaimItem, LeaseItem, MemoryState, TokenItem, utc_now

# --- locks ----------------------------------------------------------------------------------------


class MemoryLease:
    """:class:`norcekit.state.interfaces.Lease` in memory."""

    def __init__(
        self, memory: MemoryState, name: str, owner: str, lease_s: float, *, clock: Callable[[], float]
    ) -> None:
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self.memory = memory
        self.name = name
        self.owner = owner
        self.lease_s = lease_s
        self._clock = clock
        self.blocked_by: LeaseInfo | None = None

    def acquire(self) -> bool:
        now = self._clock()
        with self.memory.lock:
            stored = self.memory.leases.get(self.name)
            if stored is not None and stored.until >= round(now, 3) and stored.owner != self.owner:
                self.blocked_by = LeaseInfo(stored.owner, stored.until)
                return False
            self.memory.leases[self.name] = LeaseItem(self.owner, round(now + self.lease_s, 3))
        self.blocked_by = None
        return True

    def renew(self) -> None:
        with self.memory.lock:
            stored = self.memory.leases.get(self.name)
            if stored is None or stored.owner != self.owner:
                raise LockLostError(f"lock {self.name!r} is no longer held by {self.owner}")
            stored.until = round(self._clock() + self.lease_s, 3)

    def release(self) -> bool:
        with self.memory.lock:
            stored = self.memory.leases.get(self.name)
            if stored is None or stored.owner != self.owner:
                return False
            del self.memory.leases[self.name]
            return True

    def holder(self) -> LeaseInfo | None:
        with self.memory.lock:
            stored = self.memory.leases.get(self.name)
        if stored is None or stored.until <= self._clock():
            return None
        return LeaseInfo(stored.owner, stored.until)

    def assert_held(self) -> None:
        lease = self.holder()
        if lease is None or lease.owner != self.owner:
            raise LockLostError(f"lock {self.name!r} is no longer held by {self.owner}")

    def __enter__(self) -> MemoryLease:
        if not self.acquire():
            blocked = self.blocked_by
            raise LockHeld(self.name, blocked.owner if blocked else None, blocked.until if blocked else None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class MemoryLocks:
    """:class:`norcekit.state.interfaces.Locks` in memory."""

    def __init__(self, memory: MemoryState | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.memory = memory or MemoryState()
        self._clock = clock

    def lease(self, name: str, owner: str, lease_s: float) -> MemoryLease:
        return MemoryLease(self.memory, name, owner, lease_s, clock=self._clock)


# --- finish claims --------------------------------------------------------------------------------


class MemoryFinishClaims:
    """:class:`norcekit.state.interfaces.FinishClaims` in memory."""

    def __init__(self, memory: MemoryState | None = None, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.memory = memory or MemoryState()
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def claim(self, job: JobRecord, owner: str) -> Claim | None:
        now = self._now()
        with self.memory.lock:
            stored = self.memory.claims.get(job.job_id)
            if stored is None:
                self.memory.claims[job.job_id] = ClaimItem(owner, now + CLAIM_LEASE_S, entity=job.entity)
                return Claim(job.job_id, owner)
            if stored.done or stored.lease_until > now:
                return None
            stored.owner, stored.lease_until = owner, now + CLAIM_LEASE_S
            stored.attempts += 1
            return Claim(job.job_id, owner, set(stored.steps))

    def step_done(self, claim: Claim, step: str) -> None:
        self._held(claim).steps.append(step)
        claim.steps.add(step)

    def defer(self, claim: Claim, seconds: int) -> None:
        self._held(claim).lease_until = self._now() + seconds

    def done(self, claim: Claim) -> None:
        self._held(claim).done = True

    def state(self, job_id: int) -> ClaimState | None:
        with self.memory.lock:
            stored = self.memory.claims.get(job_id)
            return None if stored is None else ClaimState(job_id, stored.done, stored.lease_until)

    def unfinished(self) -> Iterator[ClaimState]:
        with self.memory.lock:
            pending = sorted(
                (item.entity, job_id, item.lease_until)
                for job_id, item in self.memory.claims.items()
                if not item.done
            )
        for _, job_id, lease_until in pending:
            yield ClaimState(job_id, False, lease_until)

    def _held(self, claim: Claim) -> ClaimItem:
        with self.memory.lock:
            stored = self.memory.claims.get(claim.job_id)
            if stored is None or stored.owner != claim.owner:
                raise ClaimLostError(
                    f"job {claim.job_id}: terminal actions were taken over by another runner"
                )
            return stored


# --- the shared Norce token -----------------------------------------------------------------------


class MemoryTokenStore:
    """:class:`norcekit.norce.tokens.TokenStore` in memory, keyed like the DynamoDB one."""

    def __init__(
        self, memory: MemoryState | None, key: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.memory = memory or MemoryState()
        self._key = key
        self._clock = clock

    def _item(self) -> TokenItem:
        return self.memory.tokens.setdefault(self._key, TokenItem())

    def load(self) -> CachedToken | None:
        with self.memory.lock:
            token = self._item().token
        return (
            None
            if token is None
            else CachedToken(SecretStr(token.access_token.get_secret_value()), token.expires_at)
        )

    def try_acquire_refresh(self, owner: str, lease_s: float) -> bool:
        now = self._clock()
        with self.memory.lock:
            item = self._item()
            if item.lease_owner not in (None, owner) and item.lease_until >= round(now, 3):
                return False
            item.lease_owner, item.lease_until = owner, round(now + lease_s, 3)
            return True

    def save(self, token: CachedToken, owner: str) -> None:
        expires = round(token.expires_at, 3)
        with self.memory.lock:
            item = self._item()
            if item.token is None or item.token.expires_at < expires:  # never over a longer-lived token
                item.token = CachedToken(token.access_token, expires)
        self.release(owner)

    def release(self, owner: str) -> None:
        with self.memory.lock:
            item = self._item()
            if item.lease_owner == owner:
                item.lease_owner, item.lease_until = None, 0.0
