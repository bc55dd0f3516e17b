"""The last delivered version per target and entity key, so deliveries never go backwards.

An event is a hint: every delivery carries the state as read at one moment, numbered by a
monotonic *version* (microseconds of the read). Before a document goes to a target the processor
advances this ledger with a conditional write that succeeds only for a version newer than the one
recorded; an older read still retrying after a newer one was delivered is dropped instead of
landing on top of it, on any target (HTTP, EventBridge, S3). A read whose content equals the last
delivered one keeps that delivery's version, so a retry carries the same Idempotency-Key while
price 100 -> 90 -> 100 is three versions.

``DELIVERY#<target>#<entity>#<key>`` / ``LAST`` items (TTL: a key not delivered for 90 days is
forgotten, and the next delivery of it is accepted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from boto3.dynamodb.conditions import Attr

from norcekit.state.table import TTL_ATTRIBUTE, ConditionFailed, Keys, StateTable, epoch_s, iso_utc

RETENTION = timedelta(days=90)


class DeliveryLedger(Protocol):
    def advance(self, target: str, entity: str, key: str, version: int, content_hash: str) -> int | None:
        """The version to deliver a read of ``key`` under, or ``None`` when a newer one was
        delivered already (the read is stale: drop it).

        Same content as the last delivery → that delivery's version (a retry keeps its
        Idempotency-Key); new content from a newer read → ``version``, recorded with a
        conditional write."""
        ...


def _decide(last: tuple[int, str] | None, version: int, content_hash: str) -> int | bool | None:
    """``int``: deliver under it without writing; ``None``: stale; ``True``: record ``version``."""
    if last is None:
        return True
    last_version, last_hash = last
    if last_hash == content_hash and version >= last_version:
        return last_version  # the same state again (a retry of the same read or payload): same key
    if version <= last_version:
        return None
    return True


class DynamoDeliveryLedger:
    def __init__(self, table: StateTable, *, clock: Callable[[], datetime] | None = None) -> None:
        self.table = table
        self._now = clock or (lambda: datetime.now(UTC))

    def advance(self, target: str, entity: str, key: str, version: int, content_hash: str) -> int | None:
        item_key = Keys.delivery(target, entity, key)
        for _ in range(3):  # a concurrent writer moved it: decide again against what it wrote
            stored = self.table.get(item_key)
            last = None if stored is None else (int(stored["version"]), str(stored.get("content_hash", "")))
            decision = _decide(last, version, content_hash)
            if decision is not True:
                return decision  # type: ignore[return-value]
            now = self._now()
            item = {
                **item_key,
                "version": version,
                "content_hash": content_hash,
                "updated_at": iso_utc(now),
                TTL_ATTRIBUTE: epoch_s(now + RETENTION),
            }
            condition = Attr("version").not_exists() if last is None else Attr("version").eq(last[0])
            try:
                self.table.put(item, condition=condition)
            except ConditionFailed:
                continue
            return version
        return None  # others kept winning with newer reads: this one is stale


class MemoryDeliveryLedger:
    """The same rule in memory (tests, the local stack without DynamoDB)."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, str, str], tuple[int, str]] = {}
        self._lock = threading.Lock()

    def advance(self, target: str, entity: str, key: str, version: int, content_hash: str) -> int | None:
        with self._lock:
            decision = _decide(self.last.get((target, entity, key)), version, content_hash)
            if decision is not True:
                return decision  # type: ignore[return-value]
            self.last[(target, entity, key)] = (version, content_hash)
            return version
