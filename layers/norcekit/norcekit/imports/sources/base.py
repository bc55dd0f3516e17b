"""The interface every import source implements, plus helpers shared by the adapters.

A source knows how to read one system (a file drop, a REST API, Business Central) and nothing about
Norce. The runner drives it like this::

    source = build_source(config, "erp")
    try:
        upper = source.now() - safety_lag                 # fixed once per run
        records = source.iter_changed("products", since=watermark - overlap, until=upper)
        # ... or source.iter_all("products") for a full import
    finally:
        source.close()

Windows are half-open, ``[since, until)``: a change exactly at ``until`` belongs to the next run.
The runner, not the source, decides what is committed as the next watermark (normally ``until``).
For ``timestamp`` sources ``since``/``until``/``now()`` are aware UTC datetimes; for ``cursor``
sources they are integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from norcekit.imports.records import SourceRecord, WatermarkKind, WatermarkValue


class SourceError(Exception):
    """A source is misconfigured, unreachable or answered something unusable.

    The message names the source and what to fix; it never contains a secret.
    """


@dataclass(frozen=True)
class SourceCapabilities:
    """What a source can do, so the runner can plan full/delta runs and watermarks.

    ``delta_supported``           whether :meth:`Source.iter_changed` is meaningful.
    ``watermark_kind``            ``timestamp`` (datetimes) or ``cursor`` (integers).
    ``timestamp_granularity_s``   smallest step of the source's change stamps (1e-3 for BC).
    ``timezone``                  the zone the source's own timestamps are written in (we always
                                  pass and receive aware UTC datetimes; the adapter converts).
    ``emits_deletes``             whether a delta shows removed rows (almost never: run full
                                  imports to deactivate what disappeared).
    ``notes``                     operator-facing caveats (shown by the CLI / docs).
    """

    delta_supported: bool
    watermark_kind: WatermarkKind = "timestamp"
    timestamp_granularity_s: float = 1.0
    timezone: str = "UTC"
    emits_deletes: bool = False
    notes: str = ""


@runtime_checkable
class Source(Protocol):
    """An import source. Entities are norcekit import kinds (``products``, ``onhand``, ...)."""

    name: str
    capabilities: SourceCapabilities

    def entities(self) -> frozenset[str]:
        """Entities this source is configured to read."""
        ...

    def iter_all(self, entity: str) -> Iterator[SourceRecord]:
        """Every current row of ``entity`` (a full export), streamed."""
        ...

    def iter_changed(
        self, entity: str, since: WatermarkValue | None, until: WatermarkValue
    ) -> Iterator[SourceRecord]:
        """Rows of ``entity`` changed in ``[since, until)`` (``since=None``: from the beginning)."""
        ...

    def now(self, entity: str | None = None) -> WatermarkValue:
        """The source's current time (aware UTC), or for cursor sources the exclusive high-water
        mark of ``entity``'s feed (the next position that will be written)."""
        ...

    def close(self) -> None:
        """Release connections; the source must not be used afterwards."""
        ...


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; naive datetimes are rejected (they hide zone bugs)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise SourceError(f"timestamp {value.isoformat()} has no timezone; pass an aware datetime")
    return value.astimezone(UTC)


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 (``Z`` or offset; naive means UTC) → aware UTC datetime; ``ValueError`` if not one."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_entity(source_name: str, entity: str, known: Iterable[str]) -> None:
    """Raise a :class:`SourceError` naming the configured entities when ``entity`` is not one."""
    names = sorted(known)
    if entity not in names:
        raise SourceError(
            f"source {source_name!r} is not configured for entity {entity!r} "
            f"(configured: {', '.join(names) or 'none'})"
        )


def make_key(data: dict[str, object], fields: Sequence[str]) -> str | None:
    """Business key from ``fields`` joined with ``|``; ``None`` when any part is missing/empty."""
    parts: list[str] = []
    for field_name in fields:
        value = data.get(field_name)
        if value is None or value == "":
            return None
        parts.append(str(value))
    return "|".join(parts)
