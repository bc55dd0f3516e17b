"""Writing and reading the file-drop layout: rows streamed to JSONL/CSV, then the ``.done`` marker."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

# --- Writing ------------------------------------------------------------------------------------


def stamp(value: datetime) -> str:
    """File-name position: ``20261127T060000Z``."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finish_file(path: Path) -> None:
    """The completion marker: written last, so readers never see a half-written export."""
    path.with_name(path.name + ".done").write_bytes(b"")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb", buffering=1024 * 1024) as out:
        for row in rows:
            out.write(orjson.dumps(row))
            out.write(b"\n")
            count += 1
    finish_file(path)
    return count


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as out:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    finish_file(path)
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                yield orjson.loads(line)


def read_csv(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as stream:
        yield from csv.DictReader(stream)


def newest_full(root: Path, entity: str) -> Path:
    complete = sorted(
        p
        for p in (root / entity / "full").iterdir()
        if p.suffix != ".done" and p.with_name(p.name + ".done").exists()
    )
    if not complete:
        raise FileNotFoundError(f"no complete full export under {root / entity / 'full'}")
    return complete[-1]
