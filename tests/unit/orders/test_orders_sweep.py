"""The job monitor's order sweep: an order stored while the delivery queue refused it is queued on a
later tick, once, without an operator; young, queued and too-old orders are left alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.unit.orders.test_orders_receiver import FakeQueue, Metrics

from norcekit.orders.sweep import OrderSweeper
from norcekit.state.orders import MemoryOrderStore

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _store_at(store: MemoryOrderStore, clock: Clock, ref: str, age: timedelta) -> None:
    real = clock.now
    clock.now = T0 - age
    store.add(ref, json.dumps({"ClientOrderRef": ref}))
    clock.now = real


def test_a_settled_order_the_queue_refused_is_queued_once_by_the_sweep() -> None:
    clock, queue, metrics = Clock(), FakeQueue(), Metrics()
    store = MemoryOrderStore(clock=clock)
    _store_at(store, clock, "R-old-unqueued", timedelta(minutes=10))
    _store_at(store, clock, "R-queued", timedelta(minutes=10))
    store.mark_queued("R-queued", "earlier-message")
    _store_at(store, clock, "R-young", timedelta(seconds=30))  # its receiver may still queue it
    _store_at(store, clock, "R-ancient", timedelta(days=3))  # beyond the lookback: an operator's
    sweeper = OrderSweeper(store, queue, metrics=metrics, clock=clock)

    summary = sweeper.sweep()

    assert summary.queued == ["R-old-unqueued"] and summary.failed == []
    assert queue.sent == [{"client_order_ref": "R-old-unqueued"}]  # the receiver's own message
    assert store.get("R-old-unqueued").queue_message_id == "msg-1"  # type: ignore[union-attr]
    assert store.get("R-queued").queue_message_id == "earlier-message"  # type: ignore[union-attr]
    assert metrics.names == ["OrdersRequeued"]
    assert sweeper.sweep().queued == []  # queued now: the next tick leaves it
    assert len(queue.sent) == 1


def test_while_the_queue_is_still_down_the_order_waits_and_alarms_then_the_next_tick_queues_it() -> None:
    clock, queue, metrics = Clock(), FakeQueue(), Metrics()
    store = MemoryOrderStore(clock=clock)
    _store_at(store, clock, "R-1", timedelta(minutes=5))
    sweeper = OrderSweeper(store, queue, metrics=metrics, clock=clock)

    queue.down = True
    first = sweeper.sweep()
    assert (first.queued, first.failed) == ([], ["R-1"])
    assert metrics.names == ["OrdersNotQueued"]  # the OrdersNotQueued alarm keeps firing
    assert store.get("R-1").queue_message_id is None  # type: ignore[union-attr]

    queue.down = False
    clock.now += timedelta(minutes=1)
    assert sweeper.sweep().queued == ["R-1"]
    assert queue.sent == [{"client_order_ref": "R-1"}]


def test_a_sweep_queues_at_most_its_batch_oldest_first_and_the_next_one_the_rest() -> None:
    clock, queue = Clock(), FakeQueue()
    store = MemoryOrderStore(clock=clock)
    for n in range(5):
        _store_at(store, clock, f"R-{n}", timedelta(minutes=30 - n))
    sweeper = OrderSweeper(store, queue, clock=clock, batch=3)

    assert sweeper.sweep().queued == ["R-0", "R-1", "R-2"]
    assert sweeper.sweep().queued == ["R-3", "R-4"]
    assert sweeper.sweep().as_dict() == {"orders_requeued": [], "orders_requeue_failed": []}
