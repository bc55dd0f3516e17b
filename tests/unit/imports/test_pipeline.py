"""The record → item stream: dedupe rules, quarantine on mapping errors, batching, laziness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from norcekit.imports.mappings import MappingError
from norcekit.imports.pipeline import (
    DUPLICATE_IN_FULL,
    RunCounts,
    chunks,
    count_read,
    first_of_each_key,
    latest_of_each_key,
    map_records,
)
from norcekit.imports.records import SourceRecord

T = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Item(BaseModel):
    Code: str
    Name: str


def rec(key: str, name: str = "x", minutes: float = 0, **extra: Any) -> SourceRecord:
    return SourceRecord(
        key=key,
        data={"code": key, "name": name},
        origin=f"t:{key}",
        changed_at=T + timedelta(minutes=minutes),
        **extra,
    )


def mapper(record: SourceRecord) -> Item | None:
    data = record.data or {}
    if data["name"] == "skip":
        return None
    if data["name"] == "bad":
        raise MappingError("name", "'bad' is not a name")
    return Item(Code=data["code"], Name=data["name"])


class Rejected(list[tuple[str, str]]):
    def __call__(self, record: SourceRecord, reason: str) -> None:
        self.append((record.key, reason))


def test_mapping_failures_and_unreadable_rows_are_rejected_and_the_stream_goes_on() -> None:
    counts, rejected = RunCounts(), Rejected()
    records = [
        rec("A"),
        rec("B", "bad"),
        SourceRecord.failed("file:3", "line 3: invalid JSON"),
        rec("C", "skip"),
        rec("D"),
    ]

    items = list(map_records(records, mapper, counts, rejected))

    assert [i.Code for i in items] == ["A", "D"]
    assert counts.mapped == 2 and counts.quarantined == 2
    assert rejected[0][0] == "B" and "'bad' is not a name" in rejected[0][1]
    assert rejected[1] == ("file:3", "line 3: invalid JSON")


def test_full_dedupe_keeps_the_first_record_and_rejects_later_duplicates() -> None:
    counts, rejected = RunCounts(), Rejected()
    records = [rec("A", "first"), rec("B"), rec("A", "second"), rec("A", "third")]

    kept = list(first_of_each_key(count_read(records, counts), counts, rejected))

    assert [(r.key, r.data["name"]) for r in kept] == [("A", "first"), ("B", "x")]  # type: ignore[index]
    assert counts.read == 4 and counts.deduplicated == 2
    assert rejected == [("A", DUPLICATE_IN_FULL), ("A", DUPLICATE_IN_FULL)]


def test_the_full_path_is_a_stream_nothing_is_read_ahead() -> None:
    pulled: list[str] = []

    def source() -> Iterator[SourceRecord]:
        for n in range(1_000_000):
            pulled.append(str(n))
            yield rec(f"K{n}")

    counts = RunCounts()
    stream = map_records(
        first_of_each_key(count_read(source(), counts), counts, Rejected()), mapper, counts, Rejected()
    )
    first_three = [next(stream) for _ in range(3)]

    assert [i.Code for i in first_three] == ["K0", "K1", "K2"]
    assert len(pulled) == 3 and counts.read == 3


def test_delta_dedupe_keeps_the_latest_version_of_each_key() -> None:
    records = [
        rec("A", "v1", 1),
        rec("B", "b", 2),
        rec("A", "v3", 3),
        rec("A", "v2", 2),
        rec("C", "c", 2),
        rec("C", "c-same-time", 2),
    ]
    counts = RunCounts()

    latest = list(latest_of_each_key(lambda: iter(records), counts, max_buffered=100))

    assert {r.key: r.data["name"] for r in latest} == {"A": "v3", "B": "b", "C": "c-same-time"}  # type: ignore[index]
    assert counts.read == 6 and counts.deduplicated == 3


def test_delta_dedupe_over_the_buffer_cap_reads_twice_keeping_only_keys_and_positions() -> None:
    records = [rec(f"K{n}", "old", n) for n in range(10)] + [rec("K1", "new", 20), rec("K2", "older", 1.5)]
    opened: list[int] = []

    def open_records() -> Iterator[SourceRecord]:
        opened.append(1)
        return iter(records)

    counts = RunCounts()
    latest = list(latest_of_each_key(open_records, counts, max_buffered=3))

    assert len(opened) == 2
    by_key = {r.key: r.data["name"] for r in latest}  # type: ignore[index]
    assert len(latest) == 10 and by_key["K1"] == "new" and by_key["K2"] == "old"
    assert counts.read == 12 and counts.deduplicated == 2


def test_delta_dedupe_orders_cursor_positions_too() -> None:
    records = [
        SourceRecord(key="A", data={"v": 1}, origin="o", cursor=7),
        SourceRecord(key="A", data={"v": 2}, origin="o", cursor=5),
    ]
    [latest] = latest_of_each_key(lambda: iter(records), RunCounts(), max_buffered=10)
    assert latest.data == {"v": 1}


@pytest.mark.parametrize(
    ("n", "size", "expected"), [(7, 3, [3, 3, 1]), (6, 3, [3, 3]), (0, 3, []), (2, 5, [2])]
)
def test_chunks_split_into_batches_of_at_most_size(n: int, size: int, expected: list[int]) -> None:
    assert [len(c) for c in chunks(range(n), size)] == expected


def test_chunks_refuse_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1], 0))


def test_a_record_read_by_a_source_equals_one_built_by_its_constructor() -> None:
    at = datetime(2026, 12, 3, tzinfo=UTC)
    fast = SourceRecord.read("K", {"a": 1}, "f.jsonl:3", at, 7)
    assert fast == SourceRecord(key="K", data={"a": 1}, origin="f.jsonl:3", changed_at=at, cursor=7)
    assert fast.ok and hash(fast.key) == hash("K")
    with pytest.raises(AttributeError):
        fast.key = "other"  # type: ignore[misc]  # still frozen
