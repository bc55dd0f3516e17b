"""The order sweep as the job_monitor Lambda wires it, on moto: the state table's GSI window, the
real order queue, and the receiver's stored-but-not-queued orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.orders.conftest import OrderQueues, receive_all

from norcekit.settings import get_settings, reset_settings_cache
from norcekit.state.orders import DynamoOrderStore
from norcekit.state.table import StateTable
from norcekit.wiring import Components

pytestmark = pytest.mark.integration


def _stored(table: StateTable, ref: str, age: timedelta) -> None:
    received = datetime.now(UTC) - age
    DynamoOrderStore(table, clock=lambda: received).add(ref, json.dumps({"ClientOrderRef": ref}))


def test_the_monitor_s_sweep_queues_the_settled_unqueued_orders_of_its_window(
    order_aws: OrderQueues, state_table: StateTable
) -> None:
    _stored(state_table, "R-refused", timedelta(minutes=7))  # the queue refused it at the time
    _stored(state_table, "R-queued", timedelta(minutes=6))
    DynamoOrderStore(state_table).mark_queued("R-queued", "m-1")
    _stored(state_table, "R-just-now", timedelta(seconds=5))  # its receiver is still at it
    _stored(state_table, "R-last-week", timedelta(days=7))  # left to `orders redeliver` (alarmed)

    sweeper = Components.from_environment().order_sweeper
    assert sweeper is not None
    summary = sweeper.sweep()

    assert summary.queued == ["R-refused"]
    messages = [json.loads(m["Body"]) for m in receive_all(order_aws.orders)]
    assert messages == [{"client_order_ref": "R-refused"}]
    stored = DynamoOrderStore(state_table).get("R-refused")
    assert stored is not None and stored.status == "queued" and stored.queue_message_id
    assert sweeper.sweep().queued == []


def test_a_stack_without_an_order_queue_has_no_sweep(
    state_table: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDER_QUEUE_URL", raising=False)
    reset_settings_cache()
    assert Components(get_settings()).order_sweeper is None
