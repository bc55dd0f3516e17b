"""File-drop source: CSV or JSON Lines exports in an S3 prefix or a local folder.

Layout under the root (``s3://bucket/prefix`` or a directory)::

    <root>/<entity>/full/<export-id>.<csv|jsonl>[.gz]       complete snapshots
    <root>/<entity>/delta/<position>.<csv|jsonl>[.gz]      changes since the previous delta
    <root>/<entity>/.../<data file>.done                     completion marker, written last

A data file is read only when its ``.done`` marker exists beside it, so a half-written export is
never read. File names start with their position: a UTC timestamp ``20261127T080000Z`` (optionally
with fractional seconds), or, with ``delta_naming: sequence``, an integer ``000042``. Anything may
follow the position (``20261127T080000Z-prices.csv``).

**Full** reads the newest complete file in ``full/`` (greatest name, so the timestamp prefix makes
"newest" mean "latest export").

**Delta and the watermark.** For a file drop the watermark is the *position in the file name*, not
the time the file landed: ``iter_changed(entity, since, until)`` reads, in name order, every complete
delta file whose position ``p`` satisfies ``since <= p < until``. The runner fixes ``until`` at run
start (``now() - safety_lag``) and commits it as the next watermark; the next run reads from
``watermark - overlap``. So a delta file whose ``.done`` marker arrives late is still read if it
lands within ``overlap + safety_lag`` of its own name-timestamp; re-read files are harmless because
imports upsert by key. ``now()`` is this machine's UTC clock (the exporter's clock names the files;
the safety lag covers skew between the two). In ``sequence`` mode the watermark is an integer
cursor and ``now(entity)`` is the highest complete sequence number + 1, or the lowest sequence whose
data file is there without its marker yet, if lower (overlap should be 0).

Each row's ``changed_at`` is its ``updated_at`` column (configurable, ISO-8601) when present, else
the file's timestamp; it is informational (reports, lag metrics): file selection alone decides what
a delta run reads.

Rows: CSV has a header row; cells stay strings (the mapping converts) and empty cells become
``None``. JSON Lines has one object per line. A row that cannot be read (invalid JSON, wrong column
count, bad UTF-8, empty key, bad ``updated_at``) becomes an error record
(``SourceRecord.error = "line 17: invalid JSON ..."``) and reading continues. A file that cannot be
read at all (truncated gzip, vanished object) raises :class:`SourceError`: a partial full export
must never be imported as if complete.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from norcekit.imports.records import SourceRecord, WatermarkValue
from norcekit.imports.sources.base import (
    SourceCapabilities,
    SourceError,
    check_entity,
    make_key,
    parse_timestamp,
    utc,
)
from norcekit.imports.sources.filerows import csv_rows, guard, jsonl_rows
from norcekit.imports.sources.filestore import FileStore, LocalFileStore, S3FileStore, file_store_for

DONE_SUFFIX = ".done"
DATA_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".csv.gz", ".jsonl.gz", ".ndjson.gz")
_TIMESTAMP_NAME = re.compile(r"^(\d{8}T\d{6})(?:\.(\d{1,6}))?Z")
_SEQUENCE_NAME = re.compile(r"^(\d+)")


# --- Options ------------------------------------------------------------------------------------


class FileDropEntityOptions(BaseModel):
    """How one entity's files look."""

    model_config = ConfigDict(extra="forbid")

    folder: str | None = Field(default=None, description="Folder under the root (default: the entity name).")
    key_fields: list[str] = Field(min_length=1, description="Columns whose values form the record key.")
    changed_at_field: str | None = Field(default="updated_at", description="Per-row change time column.")
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1)


class FileDropOptions(BaseModel):
    """A file drop: ``root`` is ``s3://bucket/prefix`` or a local directory."""

    model_config = ConfigDict(extra="forbid")

    root: str = Field(min_length=1)
    delta_naming: Literal["timestamp", "sequence"] = "timestamp"
    entities: dict[str, FileDropEntityOptions]


# --- The source ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DropFile:
    """One complete data file and its position (timestamp or sequence number, from its name)."""

    key: str
    name: str
    position: datetime | int | None

    @property
    def gzipped(self) -> bool:
        return self.name.endswith(".gz")

    @property
    def is_csv(self) -> bool:
        return self.name.removesuffix(".gz").endswith(".csv")


class FileDropSource:
    """Reads entity exports from a :class:`FileStore` (see the module docstring for the layout)."""

    def __init__(
        self,
        name: str,
        options: FileDropOptions,
        store: FileStore | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.options = options
        self.store = store or file_store_for(options.root)
        self._clock = clock
        sequence = options.delta_naming == "sequence"
        self.capabilities = SourceCapabilities(
            delta_supported=True,
            watermark_kind="cursor" if sequence else "timestamp",
            timestamp_granularity_s=1.0,
            timezone="UTC",
            emits_deletes=False,
            notes=(
                "Delta = complete delta files whose name position is in [since, until); deletes "
                "show only in full exports. A file is read only once its .done marker exists."
            ),
        )

    def entities(self) -> frozenset[str]:
        return frozenset(self.options.entities)

    # --- listing ---

    def complete_files(self, entity: str, kind: Literal["full", "delta"]) -> list[DropFile]:
        """Data files in ``<entity>/<kind>/`` that have a ``.done`` marker, in name order."""
        folder = self._folder(entity) + kind + "/"
        keys = set(self.store.list(folder))
        files: list[DropFile] = []
        for key in sorted(keys):
            name = key.rsplit("/", 1)[-1]
            if not name.endswith(DATA_SUFFIXES) or key + DONE_SUFFIX not in keys:
                continue
            files.append(DropFile(key, name, self._position(name)))
        return files

    def newest_full(self, entity: str) -> DropFile | None:
        files = self.complete_files(entity, "full")
        return files[-1] if files else None

    # --- Source protocol ---

    def iter_all(self, entity: str) -> Iterator[SourceRecord]:
        check_entity(self.name, entity, self.options.entities)
        newest = self.newest_full(entity)
        if newest is None:
            raise SourceError(
                f"source {self.name!r}: no complete full export for {entity!r} under "
                f"{self.store.describe(self._folder(entity) + 'full/')} (a data file needs a .done marker)"
            )
        yield from self._read(newest, self.options.entities[entity])

    def iter_changed(
        self, entity: str, since: WatermarkValue | None, until: WatermarkValue
    ) -> Iterator[SourceRecord]:
        check_entity(self.name, entity, self.options.entities)
        low, high = self._bound(since), self._bound(until)
        for drop in self.complete_files(entity, "delta"):
            if drop.position is None:
                continue  # a name without a position cannot be placed in a window
            if (low is None or drop.position >= low) and drop.position < high:  # type: ignore[operator]
                yield from self._read(drop, self.options.entities[entity])

    def snapshot_position(self, entity: str) -> WatermarkValue | None:
        """Where the newest complete full export stands in the delta order (its name timestamp).

        A full import must not commit "now" as the watermark: deltas written between the export
        and the run would be skipped. The runner commits this position instead.
        """
        newest = self.newest_full(entity)
        return newest.position if newest is not None else None

    def now(self, entity: str | None = None) -> WatermarkValue:
        if self.options.delta_naming == "timestamp":
            return utc(self._clock())
        names = [entity] if entity else sorted(self.options.entities)
        highest = -1
        unfinished: list[int] = []
        for name in names:
            for drop in self.complete_files(name, "delta"):
                if isinstance(drop.position, int):
                    highest = max(highest, drop.position)
            unfinished.extend(self._unfinished_positions(name))
        # A file still being written below a complete one (out-of-order exporters) caps the mark:
        # committing past it would skip its rows once its marker lands.
        return min([highest + 1, *unfinished])

    def _unfinished_positions(self, entity: str) -> list[int]:
        """Sequence positions of delta data files in ``entity``'s folder that have no marker yet."""
        folder = self._folder(entity) + "delta/"
        keys = set(self.store.list(folder))
        return [
            position
            for key in keys
            if key.endswith(DATA_SUFFIXES) and key + DONE_SUFFIX not in keys
            and isinstance(position := self._position(key.rsplit("/", 1)[-1]), int)
        ]  # fmt: skip

    def close(self) -> None:
        self.store.close()

    # --- helpers ---

    def _folder(self, entity: str) -> str:
        folder = self.options.entities[entity].folder or entity
        return folder.strip("/") + "/"

    def _position(self, name: str) -> datetime | int | None:
        if self.options.delta_naming == "sequence":
            seq = _SEQUENCE_NAME.match(name)
            return int(seq.group(1)) if seq else None
        stamp = _TIMESTAMP_NAME.match(name)
        if not stamp:
            return None
        base = datetime.strptime(stamp.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        micros = int((stamp.group(2) or "0").ljust(6, "0"))
        return base.replace(microsecond=micros)

    def _bound(self, value: WatermarkValue | None) -> datetime | int | None:
        if value is None:
            return None
        if self.options.delta_naming == "sequence":
            if isinstance(value, datetime):
                raise SourceError(f"source {self.name!r} uses sequence positions; got a datetime bound")
            return value
        if not isinstance(value, datetime):
            raise SourceError(f"source {self.name!r} uses timestamp positions; got {value!r}")
        return utc(value)

    def _read(self, drop: DropFile, entity: FileDropEntityOptions) -> Iterator[SourceRecord]:
        location = self.store.describe(drop.key)
        file_time = drop.position if isinstance(drop.position, datetime) else None
        cursor = drop.position if isinstance(drop.position, int) else None
        stream = self.store.open(drop.key)
        try:
            lines: IO[bytes] = (
                gzip.GzipFile(fileobj=stream, mode="rb") if drop.gzipped else stream  # type: ignore[assignment]
            )
            rows = csv_rows(lines, entity.csv_delimiter) if drop.is_csv else jsonl_rows(lines)
            for line_no, data, error, raw in guard(rows, location):
                origin = f"{location}:{line_no}"
                if error is not None or data is None:
                    yield SourceRecord.failed(origin, f"line {line_no}: {error}", raw)
                    continue
                yield _record(
                    data, origin=origin, line_no=line_no, entity=entity, file_time=file_time, cursor=cursor
                )
        finally:
            stream.close()


def _record(
    data: dict[str, Any],
    *,
    origin: str,
    line_no: int,
    entity: FileDropEntityOptions,
    file_time: datetime | None,
    cursor: int | None,
) -> SourceRecord:
    key = make_key(data, entity.key_fields)
    if key is None:
        fields = ", ".join(entity.key_fields)
        return SourceRecord.failed(
            origin, f"line {line_no}: key field(s) {fields} missing or empty", _raw(data)
        )
    changed_at = file_time
    stamp = data.get(entity.changed_at_field) if entity.changed_at_field else None
    if stamp not in (None, ""):
        try:
            changed_at = parse_timestamp(str(stamp))
        except ValueError:
            return SourceRecord.failed(
                origin, f"line {line_no}: {entity.changed_at_field} {stamp!r} is not an ISO-8601 timestamp",
                _raw(data),
            )  # fmt: skip
    return SourceRecord.read(key, data, origin, changed_at, cursor)


def _raw(data: dict[str, Any]) -> str:
    return orjson.dumps(data, default=str).decode()


__all__ = [
    "DropFile",
    "FileDropEntityOptions",
    "FileDropOptions",
    "FileDropSource",
    "FileStore",
    "LocalFileStore",
    "S3FileStore",
    "file_store_for",
]
