"""Rows of one data file: CSV (header row, strings, empty cells ``None``) or JSON Lines.

A row that cannot be read becomes ``(line, None, error, raw text)`` and reading goes on; a stream
that breaks (truncated gzip, dropped connection) is a :class:`SourceError` (:func:`guard`).
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterator
from typing import IO, Any

import orjson

from norcekit.imports.sources.base import SourceError

#: Large fields are legitimate in product exports (long descriptions); raise the csv default.
csv.field_size_limit(16 * 1024 * 1024)

#: (line number, row, error, raw text) — exactly one of row / error is set.
Row = tuple[int, dict[str, Any] | None, str | None, str | None]


def guard(rows: Iterator[Row], location: str) -> Iterator[Row]:
    """Turns a stream-level failure (truncated gzip, dropped connection) into a SourceError."""
    try:
        yield from rows
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(
            f"{location}: file cannot be read to the end ({exc}); export is incomplete"
        ) from exc


def jsonl_rows(stream: IO[bytes]) -> Iterator[Row]:
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield line_no, None, f"invalid JSON ({exc})", line.decode("utf-8", "replace")
            continue
        if not isinstance(value, dict):
            yield line_no, None, f"expected a JSON object, found {type(value).__name__}", line.decode()
            continue
        yield line_no, value, None, None


def csv_rows(stream: IO[bytes], delimiter: str) -> Iterator[Row]:
    # Decode with surrogateescape so one bad byte spoils one row, not the rest of the file.
    text = (line.decode("utf-8", "surrogateescape") for line in stream)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"invalid CSV ({exc})", None
            continue
        if not row:
            continue
        if header is None:
            header = [name.lstrip("\ufeff").strip() for name in row]
            continue
        if not _is_utf8(row):
            yield start, None, "not valid UTF-8", ",".join(row).encode("utf-8", "replace").decode()
            continue
        if len(row) != len(header):
            yield start, None, f"expected {len(header)} columns, found {len(row)}", delimiter.join(row)
            continue
        yield (
            start,
            {name: (value if value != "" else None) for name, value in zip(header, row, strict=True)},
            None,
            None,
        )


def _is_utf8(row: list[str]) -> bool:
    try:
        "".join(row).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = ["Row", "csv_rows", "guard", "jsonl_rows"]
