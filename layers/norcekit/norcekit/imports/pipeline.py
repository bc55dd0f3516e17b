"""The record → item stream of one import run: read, dedupe, map, quarantine, batch.

Everything here is a generator over generators, so a full import flows from the source through the
mapping into the streamed request body without ever holding the export in memory (DESIGN rule 1).
Only two things are kept per run, both documented where they are built:

* full imports keep the **set of keys** seen (not the records) to drop duplicate keys;
* delta imports keep the window's **latest record per key** (a delta window is bounded), falling
  back to a keys-and-positions-only two-pass read when the window is larger than a cap.

Side effects are limited to two callbacks: ``reject(record, reason)`` for a record that cannot be
imported (quarantine, or a dry-run report) and the counters in :class:`RunCounts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from norcekit.imports.records import SourceRecord
from norcekit.norce.contracts.wire import ContractItem

logger = Logger(service="norcekit", child=True)

T = TypeVar("T")

#: Reason recorded for a later duplicate of a key inside one full import.
DUPLICATE_IN_FULL = "duplicate key in a full import: the first occurrence was imported, this one was not"


@dataclass
class RunCounts:
    """Figures of one run; the same names go into the run record and the EMF metrics.

    ``read``          records the source produced (after the window filter)
    ``deduplicated``  records dropped because another record of the run had the same key
    ``quarantined``   records that could not be read or mapped (kept with their key and reason)
    ``mapped``        records mapped to a Connect item
    ``out_of_scope``  mapped items outside the import's ``scope`` (another import's), not sent
    ``submitted``     items carried by accepted import requests
    """

    read: int = 0
    mapped: int = 0
    quarantined: int = 0
    deduplicated: int = 0
    submitted: int = 0
    out_of_scope: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def reset(self) -> None:
        self.read = self.mapped = self.quarantined = self.deduplicated = self.submitted = 0
        self.out_of_scope = 0


#: Receives a record that will not be imported, with a human-readable reason.
Reject = Callable[[SourceRecord, str], None]


class Mapper(Protocol):
    """Maps one source record to one Connect contract item, or ``None`` to skip it on purpose.

    Raises on a record it cannot map (``MappingError``, pydantic ``ValidationError``, ...); the
    pipeline turns that into a quarantined record instead of a failed run. A skipped record is
    neither mapped nor quarantined (``read - deduplicated - quarantined - mapped`` = skipped).
    """

    def __call__(self, record: SourceRecord) -> ContractItem | None: ...


#: Exceptions that mean "this record cannot be mapped". ``MappingError`` is a ValueError; a
#: TypeError/KeyError from a mapping usually means an unexpected row shape, so the row (not the
#: run) fails and lands in quarantine with the error text.
RECORD_ERRORS: tuple[type[Exception], ...] = (ValidationError, ValueError, KeyError, TypeError, LookupError)


def map_records(
    records: Iterable[SourceRecord],
    mapper: Mapper,
    counts: RunCounts,
    reject: Reject,
    *,
    record_errors: tuple[type[Exception], ...] = RECORD_ERRORS,
) -> Iterator[ContractItem]:
    """Map each record; unreadable or unmappable ones go to ``reject`` and the stream continues."""
    for record in records:
        if not record.ok:
            counts.quarantined += 1
            reject(record, record.error or "unreadable record")
            continue
        try:
            item = mapper(record)
        except record_errors as exc:
            counts.quarantined += 1
            reject(record, describe_error(exc))
            continue
        if item is None:
            continue
        counts.mapped += 1
        yield item


def within_scope(
    items: Iterable[ContractItem], keep: Callable[[ContractItem], bool] | None, counts: RunCounts
) -> Iterator[ContractItem]:
    """The items ``keep`` accepts (all when it is ``None``); the others are counted, not sent."""
    if keep is None:
        yield from items
        return
    for item in items:
        if keep(item):
            yield item
        else:
            counts.out_of_scope += 1


def describe_error(exc: BaseException) -> str:
    """A one-line reason for the quarantine report (pydantic errors listed field by field)."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or type(exc).__name__}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        return f"{exc.title}: " + "; ".join(parts)
    return f"{type(exc).__name__}: {exc}"


def count_read(records: Iterable[SourceRecord], counts: RunCounts) -> Iterator[SourceRecord]:
    for record in records:
        counts.read += 1
        yield record


def first_of_each_key(
    records: Iterable[SourceRecord], counts: RunCounts, reject: Reject
) -> Iterator[SourceRecord]:
    """Full-import dedupe: the first record of each key goes on, later ones are rejected.

    "Last wins" would need the whole export buffered (an item already streamed into the request
    body cannot be taken back), so a full import keeps only the set of keys seen and rejects later
    duplicates with :data:`DUPLICATE_IN_FULL`; a duplicate key in a full export is a source data
    problem that an operator should see in the quarantine, not something to resolve silently.
    Memory: one string per distinct key (about 100 bytes each, ~100 MB for a million keys).
    """
    seen: set[str] = set()
    for record in records:
        if record.ok:
            if record.key in seen:
                counts.deduplicated += 1
                logger.warning(
                    "duplicate key in full import", extra={"key": record.key, "origin": record.origin}
                )
                reject(record, DUPLICATE_IN_FULL)
                continue
            seen.add(record.key)
        yield record


Position = tuple[int, Any]


def position(record: SourceRecord) -> Position:
    """Where a record sits in the change feed; records without one compare equal (last read wins)."""
    if record.cursor is not None:
        return (1, record.cursor)
    if record.changed_at is not None:
        return (2, record.changed_at)
    return (0, 0)


def _newer_or_same(candidate: Position, current: Position) -> bool:
    if candidate[0] != current[0]:
        return candidate[0] >= current[0]
    value: bool = candidate[1] >= current[1]
    return value


def latest_of_each_key(
    open_records: Callable[[], Iterator[SourceRecord]],
    counts: RunCounts,
    *,
    max_buffered: int,
) -> Iterator[SourceRecord]:
    """Delta dedupe: the latest version (by ``changed_at``/``cursor``) of each key in the window.

    Normally the window's records are buffered by key (a delta window is bounded; equal positions:
    the last read wins) and then yielded in first-seen order. When more than ``max_buffered``
    distinct keys arrive, the buffer is dropped and the rest of the window is scanned for **keys
    and positions only**; a second read of the same fixed window (``open_records`` is called again)
    then yields, for each key, the first record at its latest position. Memory then stays at one
    key + position per distinct key, at the price of reading the window twice. A record that
    changes between the two reads moves past the window's upper bound and is read by the next run;
    a key seen only in the second read (a late commit) is yielded once.

    ``counts.read`` and ``counts.deduplicated`` are counted on the first read only.
    """
    buffer: dict[str, SourceRecord] = {}
    latest: dict[str, Position] | None = None
    records = open_records()
    try:
        for record in records:
            counts.read += 1
            if latest is not None:  # overflow: keys and positions only
                here = position(record)
                seen = latest.get(record.key)
                if seen is not None:
                    counts.deduplicated += 1
                    if not _newer_or_same(here, seen):
                        continue
                latest[record.key] = here
                continue
            previous = buffer.get(record.key)
            if previous is not None:
                counts.deduplicated += 1
                if _newer_or_same(position(record), position(previous)):
                    buffer[record.key] = record
                continue
            buffer[record.key] = record
            if len(buffer) > max_buffered:
                logger.warning(
                    "delta window larger than the buffer cap; reading it twice with keys only",
                    extra={"max_buffered": max_buffered},
                )
                latest = {key: position(rec) for key, rec in buffer.items()}
                buffer = {}
    finally:
        _close(records)
    if latest is None:
        yield from buffer.values()
        return
    yielded: set[str] = set()
    second = open_records()
    try:
        for record in second:
            if record.key in yielded:
                continue
            wanted = latest.get(record.key)
            if wanted is not None and not _newer_or_same(position(record), wanted):
                continue
            yielded.add(record.key)
            yield record
    finally:
        _close(second)


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to ``size`` consecutive items (``itertools.batched`` needs Python 3.12)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def counted(items: Iterable[T], on_item: Callable[[T], None]) -> Iterator[T]:
    for item in items:
        on_item(item)
        yield item
