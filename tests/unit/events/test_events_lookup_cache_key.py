"""Cached rows are only reused for the same $select/$expand they were read with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from norcekit.events.cache import TtlCache
from norcekit.events.config import parse_events_config
from norcekit.events.lookups import EntityKey, Lookups, entity_specs

ROW = {"PartNo": "A", "Name": "Sku A", "Price": 9.5, "PriceLists": [{"Id": 1}]}


class ShapingQuery:
    """Answers like Query: only the selected fields, expansions only when asked for."""

    def __init__(self) -> None:
        self.calls = 0

    def get_many(
        self,
        entity_set: str,
        key_field: str,
        values: Sequence[Any],
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        expand: str | None = None,
        deadline: Any = None,
        unfit: Any = None,
    ) -> dict[Any, dict[str, Any]]:
        self.calls += 1
        row = {
            k: v
            for k, v in ROW.items()
            if k != "PriceLists" and (not select or k in select or k == key_field)
        }
        if expand:
            row["PriceLists"] = ROW["PriceLists"]
        return {v: dict(row) for v in values if v == ROW[key_field]}


def make(select: list[str] | None = None) -> tuple[Lookups, ShapingQuery]:
    query = ShapingQuery()
    specs = entity_specs(parse_events_config({"lookups": {"sku": {"select": select}}} if select else {}))
    return Lookups(query, TtlCache({"Products": 60}), specs), query  # type: ignore[arg-type]


def test_related_with_a_wider_select_is_not_served_the_narrow_cached_row() -> None:
    lookups, query = make(select=["PartNo", "Name"])
    lookups.current([EntityKey("sku", "PartNo", "A")])

    row = lookups.related("Products/ProductSkus", "A", key_field="PartNo", select=["PartNo", "Price"])

    assert row == {"PartNo": "A", "Price": 9.5}
    assert query.calls == 2


def test_related_without_the_expand_is_not_served_the_expanded_row_and_vice_versa() -> None:
    lookups, query = make()
    plain = lookups.related("Products/ProductSkus", "A", key_field="PartNo")
    expanded = lookups.related("Products/ProductSkus", "A", key_field="PartNo", expand="PriceLists")
    again = lookups.related("Products/ProductSkus", "A", key_field="PartNo", expand="PriceLists")

    assert plain is not None and "PriceLists" not in plain
    assert expanded is not None and expanded["PriceLists"] == [{"Id": 1}]
    assert again == expanded
    assert query.calls == 2


def test_related_with_the_same_shape_as_current_is_served_from_the_cache() -> None:
    lookups, query = make(select=["PartNo", "Name"])
    lookups.current([EntityKey("sku", "PartNo", "A")])  # default expand PriceLists

    row = lookups.related(
        "Products/ProductSkus",
        "A",
        key_field="PartNo",
        select=["Name", "PartNo"],
        expand="PriceLists",
    )

    assert row == {"PartNo": "A", "Name": "Sku A", "PriceLists": [{"Id": 1}]}
    assert query.calls == 1
