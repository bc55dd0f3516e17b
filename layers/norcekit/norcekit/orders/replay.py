"""``norcekit quarantine replay`` for orders: a quarantined ``OrderRequest`` (refused by the receiver)
validated again and, once valid (the kit or its configuration was fixed), stored and queued for
delivery exactly as the receiver would have: one order per ``ClientOrderRef``, so an order Norce's
own retry got through meanwhile is not stored or queued twice.
"""

from __future__ import annotations

from norcekit.events.queue import EventQueue
from norcekit.events.replay import ReplayResult
from norcekit.orders.models import InvalidOrder, validate_order
from norcekit.orders.receiver import DEFAULT_MAX_ORDER_BYTES, queue_for_delivery
from norcekit.quarantine import QuarantineStore
from norcekit.state.orders import OrderStore


def replay_order(
    quarantine: QuarantineStore,
    store: OrderStore,
    queue: EventQueue,
    key: str,
    *,
    max_body_bytes: int = DEFAULT_MAX_ORDER_BYTES,
) -> ReplayResult:
    item = quarantine.get(key)
    if item.kind != "order":
        return ReplayResult(key, "error", f"not an order item (kind {item.kind})")
    verdict = validate_order(item.payload_bytes(), max_body_bytes=max_body_bytes)
    if isinstance(verdict, InvalidOrder):
        return ReplayResult(key, "invalid", verdict.description())  # kept in the quarantine
    ref = verdict.order.ClientOrderRef
    try:
        stored, new = store.add(ref, verdict.body.decode("utf-8"))
        message_id = stored.queue_message_id or queue_for_delivery(queue, store, ref)
    except Exception as exc:
        return ReplayResult(key, "error", f"order {ref} not stored/queued: {type(exc).__name__}")
    detail = f"order {ref}" + ("" if new else " (already received)")
    return ReplayResult(
        key, "queued", detail, message_id=message_id, replayed_key=quarantine.mark_replayed(key)
    )


__all__ = ["replay_order"]
