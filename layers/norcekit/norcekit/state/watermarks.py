"""Committed watermarks per entity: the point up to which a source has been imported.

A watermark only ever moves forward (DESIGN rule 5, reference-patterns §3.4): :meth:`WatermarkStore.commit`
is a conditional write on a sortable ``sort_key`` attribute, so a late or duplicate commit of an
older run can never undo a newer one. Operators move it by hand with :meth:`WatermarkStore.force_set`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from pydantic import BaseModel, ConfigDict, model_validator

from norcekit.state.table import GSI1, ConditionFailed, Keys, StateTable, iso_utc

WatermarkKind = Literal["timestamp", "cursor"]

#: Cursors are non-negative integers (sequence numbers, SQL Server rowversion); 20 digits hold 2**64.
CURSOR_DIGITS = 20


class Watermark(BaseModel):
    """A timestamp (canonical ISO-8601 UTC, microseconds, ``Z``) or an integer cursor.

    Watermarks of the same kind compare by their meaning, not their text.
    """

    model_config = ConfigDict(frozen=True)

    value: str
    kind: WatermarkKind

    @model_validator(mode="after")
    def _canonical(self) -> Watermark:
        canonical = (
            iso_utc(_parse_timestamp(self.value))
            if self.kind == "timestamp"
            else str(_parse_cursor(self.value))
        )
        object.__setattr__(self, "value", canonical)  # frozen model: set once, while validating
        return self

    @classmethod
    def timestamp(cls, moment: datetime) -> Watermark:
        return cls(value=iso_utc(moment), kind="timestamp")

    @classmethod
    def cursor(cls, position: int) -> Watermark:
        return cls(value=str(position), kind="cursor")

    @classmethod
    def parse(cls, text: str, kind: WatermarkKind | None = None) -> Watermark:
        """Operator input: an integer is a cursor, anything else must be an aware ISO timestamp."""
        if kind is None:
            kind = "cursor" if text.strip().isdigit() else "timestamp"
        return cls(value=text.strip(), kind=kind)

    def as_datetime(self) -> datetime:
        if self.kind != "timestamp":
            raise TypeError(f"a {self.kind} watermark is not a timestamp")
        return _parse_timestamp(self.value)

    def as_int(self) -> int:
        if self.kind != "cursor":
            raise TypeError(f"a {self.kind} watermark is not a cursor")
        return int(self.value)

    @property
    def sort_key(self) -> str:
        """Text whose lexicographic order is the watermark's order (for the conditional write)."""
        if self.kind == "cursor":
            return f"{int(self.value):0{CURSOR_DIGITS}d}"
        return self.value  # canonical, fixed-width UTC

    def _comparable(self, other: object) -> str:
        if not isinstance(other, Watermark):
            raise TypeError(f"cannot compare a watermark with {type(other).__name__}")
        if other.kind != self.kind:
            raise TypeError(f"cannot compare a {self.kind} watermark with a {other.kind} watermark")
        return other.sort_key

    def __lt__(self, other: object) -> bool:
        return self.sort_key < self._comparable(other)

    def __le__(self, other: object) -> bool:
        return self.sort_key <= self._comparable(other)

    def __gt__(self, other: object) -> bool:
        return self.sort_key > self._comparable(other)

    def __ge__(self, other: object) -> bool:
        return self.sort_key >= self._comparable(other)

    def __str__(self) -> str:
        return self.value


def _parse_timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"timestamp watermark needs a UTC offset (e.g. 'Z'): {text!r}")
    return moment.astimezone(UTC)


def _parse_cursor(text: str) -> int:
    try:
        position = int(text)
    except ValueError as exc:
        raise ValueError(f"not an integer cursor: {text!r}") from exc
    if position < 0 or len(str(position)) > CURSOR_DIGITS:
        raise ValueError(f"cursor out of range 0..10**{CURSOR_DIGITS}-1: {text!r}")
    return position


@dataclass(frozen=True)
class CommittedWatermark:
    """A stored watermark and who put it there."""

    entity: str
    watermark: Watermark
    committed_at: datetime
    run_id: str | None


class WatermarkKindMismatchError(ValueError):
    """The stored watermark has another kind than the one committed (the source changed)."""


class WatermarkStore:
    def __init__(self, table: StateTable, *, clock: Callable[[], datetime] | None = None) -> None:
        self.table = table
        self._now = clock or (lambda: datetime.now(UTC))

    def get(self, entity: str) -> Watermark | None:
        record = self.get_record(entity)
        return record.watermark if record else None

    def get_record(self, entity: str) -> CommittedWatermark | None:
        item = self.table.get(Keys.watermark(entity))
        return _record(item) if item else None

    def commit(self, entity: str, new: Watermark, *, run_id: str) -> bool:
        """Advance to ``new``; ``False`` when the stored watermark is already at or past it.

        Raises :class:`WatermarkKindMismatchError` when the stored watermark is of the other kind
        (an operator must decide with ``watermarks set``).
        """
        condition = Attr("PK").not_exists() | (Attr("kind").eq(new.kind) & Attr("sort_key").lt(new.sort_key))
        try:
            self.table.put(self._item(entity, new, run_id), condition=condition)
        except ConditionFailed as exc:
            stored = exc.item if exc.item is not None else self.table.get(Keys.watermark(entity))
            if stored is not None and stored.get("kind") != new.kind:
                raise WatermarkKindMismatchError(
                    f"watermark of {entity!r} is a {stored.get('kind')}, not a {new.kind}; "
                    "set it explicitly (norcekit watermarks set)"
                ) from None
            return False
        return True

    def force_set(self, entity: str, value: Watermark, *, actor: str = "operator") -> Watermark | None:
        """Set unconditionally (operator command, may move backwards); returns the previous value."""
        old = self.table.put(self._item(entity, value, f"manual:{actor}"), return_old=True)
        return _record(old).watermark if old else None

    def clear(self, entity: str) -> Watermark | None:
        """Forget the watermark (next delta reads from the beginning); returns the previous value."""
        old = self.table.delete(Keys.watermark(entity))
        return _record(old).watermark if old else None

    def list(self) -> builtins.list[CommittedWatermark]:
        """All committed watermarks, by entity name."""
        items = self.table.query(Key("GSI1PK").eq(Keys.WATERMARKS), index=GSI1)
        return [_record(item) for item in items]

    def _item(self, entity: str, watermark: Watermark, run_id: str) -> dict[str, Any]:
        return {
            **Keys.watermark(entity),
            "GSI1PK": Keys.WATERMARKS,
            "GSI1SK": entity,
            "entity": entity,
            "value": watermark.value,
            "kind": watermark.kind,
            "sort_key": watermark.sort_key,
            "committed_at": iso_utc(self._now()),
            "run_id": run_id,
        }


def _record(item: dict[str, Any]) -> CommittedWatermark:
    return CommittedWatermark(
        entity=item["entity"],
        watermark=Watermark(value=item["value"], kind=item["kind"]),
        committed_at=datetime.fromisoformat(item["committed_at"]),
        run_id=item.get("run_id"),
    )
