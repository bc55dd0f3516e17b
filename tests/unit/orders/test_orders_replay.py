"""Replaying a quarantined order: validated again, then stored and queued once, or kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.orders import order_request
from tests.unit.orders.test_orders_receiver import BrokenStore, FakeQueue

from norcekit.orders.replay import replay_order
from norcekit.quarantine import LocalQuarantineStore
from norcekit.state.orders import MemoryOrderStore


def _quarantined(tmp_path: Path, body: object) -> tuple[LocalQuarantineStore, str]:
    quarantine = LocalQuarantineStore(tmp_path / "q")
    return quarantine, quarantine.put("order", "invalid_order", json.dumps(body).encode())


def test_an_order_norces_retry_already_stored_is_not_queued_again(tmp_path: Path) -> None:
    quarantine, key = _quarantined(tmp_path, order_request("100400"))
    store, queue = MemoryOrderStore(), FakeQueue()
    store.add("100400", json.dumps(order_request("100400")))
    store.mark_queued("100400", "msg-earlier")
    result = replay_order(quarantine, store, queue, key)
    assert (result.outcome, result.message_id) == ("queued", "msg-earlier")
    assert "already received" in result.detail and queue.sent == []
    assert quarantine.list("order") == []


def test_the_store_or_queue_down_is_an_error_and_the_order_stays_in_the_quarantine(tmp_path: Path) -> None:
    quarantine, key = _quarantined(tmp_path, order_request("100401"))
    result = replay_order(quarantine, BrokenStore(), FakeQueue(), key)
    assert result.outcome == "error" and "ConnectionError" in result.detail
    queue = FakeQueue()
    queue.down = True
    assert replay_order(quarantine, MemoryOrderStore(), queue, key).outcome == "error"
    assert [item.key for item in quarantine.list("order")] == [key]


def test_an_item_of_another_kind_is_not_replayed_as_an_order(tmp_path: Path) -> None:
    quarantine = LocalQuarantineStore(tmp_path / "q")
    key = quarantine.put("webhook", "invalid", b"{}")
    assert replay_order(quarantine, MemoryOrderStore(), FakeQueue(), key).outcome == "error"
