"""Item counts of full imports per scope: what the next full import's shrink guardrail compares to.

One item per entity (``FULLCOUNTS#<entity>``) holds two sets of counts per scope (``all`` for the
whole import; one per warehouse for on-hand):

* ``confirmed`` — the last full import whose jobs all succeeded (the baseline);
* ``pending`` — the latest full import submitted, until its jobs have ended.

The import runner records ``pending`` when it submits a full import, and settles it before the next
full import: confirmed if that run succeeded, dropped if not. So nothing in the job tracker has to
know about counts, and a run that failed never becomes a baseline.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from boto3.dynamodb.conditions import Attr
from pydantic import AwareDatetime, BaseModel

from norcekit.state.table import ConditionFailed, Keys, StateTable

#: The scope of a full import that is not split: the whole import.
WHOLE_IMPORT = "all"


class ScopeCounts(BaseModel):
    """Items per scope of one full import."""

    run_id: str
    counts: dict[str, int]
    recorded_at: AwareDatetime


class FullCounts(BaseModel):
    """The counts the shrink guardrail needs for one entity."""

    entity: str
    confirmed: ScopeCounts | None = None
    pending: ScopeCounts | None = None


@runtime_checkable
class FullImportCounts(Protocol):
    """Last successful item count per scope of each entity's full import."""

    def get(self, entity: str) -> FullCounts: ...

    def record_submitted(self, entity: str, counts: ScopeCounts) -> None:
        """Note a just-submitted full import's counts (``pending`` until it is settled)."""
        ...

    def settle(self, entity: str, run_id: str, *, succeeded: bool) -> FullCounts:
        """``pending`` of ``run_id`` becomes ``confirmed`` (succeeded) or is dropped; else no change."""
        ...


class FullCountsStore:
    """:class:`FullImportCounts` on the state table."""

    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, entity: str) -> FullCounts:
        item = self.table.get(Keys.full_counts(entity))
        return FullCounts(entity=entity, **_counts_of(item))

    def record_submitted(self, entity: str, counts: ScopeCounts) -> None:
        self.table.update(
            Keys.full_counts(entity),
            set_values={"entity": entity, "pending": counts.model_dump(mode="json")},
        )

    def settle(self, entity: str, run_id: str, *, succeeded: bool) -> FullCounts:
        key = Keys.full_counts(entity)
        current = self.get(entity)
        if current.pending is None or current.pending.run_id != run_id:
            return current
        set_values = {"confirmed": current.pending.model_dump(mode="json")} if succeeded else None
        try:
            item = self.table.update(
                key,
                set_values=set_values,
                remove=("pending",),
                condition=Attr("pending.run_id").eq(run_id),
            )
        except ConditionFailed:  # another run settled or replaced it meanwhile
            return self.get(entity)
        return FullCounts(entity=entity, **_counts_of(item))


class MemoryFullCounts:
    """:class:`FullImportCounts` in memory (unit tests, tools)."""

    def __init__(self) -> None:
        self.items: dict[str, FullCounts] = {}
        self._lock = threading.RLock()

    def get(self, entity: str) -> FullCounts:
        with self._lock:
            return self.items.get(entity, FullCounts(entity=entity)).model_copy(deep=True)

    def record_submitted(self, entity: str, counts: ScopeCounts) -> None:
        with self._lock:
            current = self.items.get(entity, FullCounts(entity=entity))
            self.items[entity] = current.model_copy(update={"pending": counts.model_copy(deep=True)})

    def settle(self, entity: str, run_id: str, *, succeeded: bool) -> FullCounts:
        with self._lock:
            current = self.items.get(entity, FullCounts(entity=entity))
            if current.pending is None or current.pending.run_id != run_id:
                return current.model_copy(deep=True)
            confirmed = current.pending if succeeded else current.confirmed
            self.items[entity] = FullCounts(entity=entity, confirmed=confirmed, pending=None)
            return self.items[entity].model_copy(deep=True)


def _counts_of(item: dict[str, Any] | None) -> dict[str, Any]:
    if item is None:
        return {}
    return {name: item[name] for name in ("confirmed", "pending") if item.get(name) is not None}


__all__ = [
    "WHOLE_IMPORT",
    "FullCounts",
    "FullCountsStore",
    "FullImportCounts",
    "MemoryFullCounts",
    "ScopeCounts",
]
