"""Watermarks only move forward; operators can set them explicitly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from norcekit.state.table import StateTable
from norcekit.state.watermarks import Watermark, WatermarkKindMismatchError, WatermarkStore

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(state_table: StateTable) -> WatermarkStore:
    return WatermarkStore(state_table)


def test_first_commit_is_stored(store: WatermarkStore) -> None:
    assert store.get("products") is None
    assert store.commit("products", Watermark.timestamp(T0), run_id="r1")
    assert store.get("products") == Watermark.timestamp(T0)
    record = store.get_record("products")
    assert record is not None and record.run_id == "r1"


def test_timestamp_watermark_never_moves_backwards(store: WatermarkStore) -> None:
    assert store.commit("products", Watermark.timestamp(T0), run_id="r2")
    assert not store.commit("products", Watermark.timestamp(T0 - timedelta(microseconds=1)), run_id="r1")
    assert not store.commit("products", Watermark.timestamp(T0), run_id="r1-again")  # equal: no move
    assert store.get("products") == Watermark.timestamp(T0)
    assert store.get_record("products").run_id == "r2"  # type: ignore[union-attr]
    assert store.commit("products", Watermark.timestamp(T0 + timedelta(seconds=1)), run_id="r3")
    assert store.get("products") == Watermark.timestamp(T0 + timedelta(seconds=1))


def test_timestamps_compare_by_instant_not_by_text(store: WatermarkStore) -> None:
    stockholm = timezone(timedelta(hours=2))
    assert store.commit("onhand", Watermark(value="2025-06-02T12:00:00+02:00", kind="timestamp"), run_id="a")
    # 10:00Z is the same instant as 12:00+02:00, although "2025-06-02T10..." < "2025-06-02T12..."
    assert not store.commit(
        "onhand", Watermark.timestamp(datetime(2025, 6, 2, 11, 0, tzinfo=stockholm)), run_id="b"
    )
    assert store.get("onhand").value == "2025-06-02T10:00:00.000000Z"  # type: ignore[union-attr]


def test_cursor_watermark_never_moves_backwards_even_across_digit_counts(store: WatermarkStore) -> None:
    assert store.commit("customers", Watermark.cursor(99), run_id="a")
    assert store.commit("customers", Watermark.cursor(100), run_id="b")  # "100" < "99" as text
    assert not store.commit("customers", Watermark.cursor(99), run_id="c")
    assert not store.commit("customers", Watermark.cursor(100), run_id="d")
    assert store.get("customers") == Watermark.cursor(100)


def test_commit_of_the_other_kind_is_an_error_not_a_silent_skip(store: WatermarkStore) -> None:
    store.commit("prices", Watermark.cursor(5), run_id="a")
    with pytest.raises(WatermarkKindMismatchError, match="watermarks set"):
        store.commit("prices", Watermark.timestamp(T0), run_id="b")


def test_force_set_may_move_backwards_and_returns_the_previous_value(store: WatermarkStore) -> None:
    store.commit("products", Watermark.timestamp(T0), run_id="r1")
    earlier = Watermark.timestamp(T0 - timedelta(days=1))
    assert store.force_set("products", earlier, actor="alice") == Watermark.timestamp(T0)
    assert store.get("products") == earlier
    assert store.get_record("products").run_id == "manual:alice"  # type: ignore[union-attr]
    assert store.commit("products", Watermark.timestamp(T0), run_id="r2")  # normal commits resume


def test_force_set_may_change_the_kind(store: WatermarkStore) -> None:
    store.commit("prices", Watermark.cursor(5), run_id="a")
    store.force_set("prices", Watermark.timestamp(T0))
    assert store.commit("prices", Watermark.timestamp(T0 + timedelta(hours=1)), run_id="b")


def test_list_and_clear(store: WatermarkStore) -> None:
    store.commit("products", Watermark.timestamp(T0), run_id="a")
    store.commit("customers", Watermark.cursor(7), run_id="b")
    assert [(r.entity, r.watermark) for r in store.list()] == [
        ("customers", Watermark.cursor(7)),
        ("products", Watermark.timestamp(T0)),
    ]
    assert store.clear("customers") == Watermark.cursor(7)
    assert store.get("customers") is None
    assert store.clear("customers") is None


def test_watermark_values_are_validated_and_canonical() -> None:
    assert Watermark.parse("2025-06-02T10:00:00Z") == Watermark.timestamp(T0)
    assert Watermark.parse("42") == Watermark.cursor(42)
    assert Watermark.cursor(42).sort_key == "00000000000000000042"
    assert Watermark.timestamp(T0).as_datetime() == T0
    with pytest.raises(ValueError, match="UTC offset"):
        Watermark(value="2025-06-02T10:00:00", kind="timestamp")
    with pytest.raises(ValueError, match="cursor"):
        Watermark(value="-1", kind="cursor")
    with pytest.raises(ValueError):
        Watermark(value="abc", kind="cursor")
    with pytest.raises(TypeError):
        _ = Watermark.cursor(1) < Watermark.timestamp(T0)
    assert Watermark.cursor(9) < Watermark.cursor(10)
    assert Watermark.timestamp(T0) < Watermark.timestamp(T0 + timedelta(microseconds=1))
