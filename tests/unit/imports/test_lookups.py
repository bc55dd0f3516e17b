"""Query look-ups during mapping: batched per N records, cached across batches, misses cached too."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pytest

from norcekit.imports.lookups import LookupCache, LookupContext, LookupSpec, prefetched
from norcekit.imports.records import SourceRecord


class FakeQuery:
    """Answers get_many from a dict and records every call."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self.rows = rows
        self.calls: list[list[str]] = []

    def get_many(
        self, entity_set: str, key_field: str, values: Iterable[str | int], **kwargs: Any
    ) -> dict[str | int, dict[str, Any]]:
        asked = [str(v) for v in values]
        self.calls.append(asked)
        return {key: self.rows[key] for key in asked if key in self.rows}


SPEC = LookupSpec("Products/ProductSkus", "PartNo", select=("PartNo", "ProductId"))


def records(part_nos: list[str]) -> list[SourceRecord]:
    return [SourceRecord(key=p, data={"part_no": p}, origin=f"t:{p}") for p in part_nos]


def keys_of(data: dict[str, Any]) -> dict[str, list[str]]:
    return {"skus": [data["part_no"]]}


@pytest.mark.parametrize(("n", "batch"), [(10, 3), (250, 100), (5, 5)])
def test_lookups_are_batched_one_query_call_per_batch(n: int, batch: int) -> None:
    query = FakeQuery({f"P{i}": {"PartNo": f"P{i}", "ProductId": i} for i in range(n)})
    context = LookupContext({"skus": LookupCache(query, SPEC)})

    out = list(prefetched(records([f"P{i}" for i in range(n)]), keys_of, context, batch_size=batch))

    assert len(out) == n
    assert len(query.calls) == math.ceil(n / batch)
    assert all(len(call) <= batch for call in query.calls)
    # Mapping then reads from the cache without another call.
    assert context.get("skus", "P1") == {"PartNo": "P1", "ProductId": 1}
    assert len(query.calls) == math.ceil(n / batch)


def test_cached_keys_and_known_misses_are_not_asked_for_again() -> None:
    query = FakeQuery({"A": {"PartNo": "A"}})
    cache = LookupCache(query, SPEC)

    cache.prefetch(["A", "MISSING", "A"])
    cache.prefetch(["A", "MISSING"])

    assert query.calls == [["A", "MISSING"]]
    assert cache.get("MISSING") is None
    assert cache.get("NEW") is None  # a key not prefetched is resolved on its own
    assert query.calls[-1] == ["NEW"]


def test_the_cache_is_bounded() -> None:
    cache = LookupCache(FakeQuery({}), SPEC, max_entries=2)
    cache.prefetch(["A", "B", "C"])
    assert len(cache) == 2


def test_an_unknown_lookup_name_is_a_clear_error() -> None:
    context = LookupContext({"skus": LookupCache(FakeQuery({}), SPEC)})
    with pytest.raises(KeyError, match="no look-up named 'prices'"):
        context.get("prices", "A")
    with pytest.raises(KeyError, match="mapping asked for look-up 'prices'"):
        list(prefetched(records(["A"]), lambda data: {"prices": ["A"]}, context))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (("Products/ProductSkus", "PartNo", ("PartNo", "ProductCode")), "has no property 'ProductCode'"),
        (("Products/ProductSkuPriceLists", "PriceListCode", None), "use PriceListId"),
        (("Orders/OrderItems", "Id", None), "not served by Norce"),
        (("Skus", "PartNo", None), "expected Namespace/EntitySet"),
    ],
)
def test_a_look_up_the_published_query_schema_refuses_fails_before_any_run(
    spec: tuple[str, str, tuple[str, ...] | None], message: str
) -> None:
    entity_set, key_field, select = spec
    with pytest.raises(ValueError, match=message):
        LookupSpec(entity_set, key_field, select=select)
