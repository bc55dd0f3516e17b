"""Received orders: one per ``ClientOrderRef``, however often Norce posts it, with what happened to
it since (queued for delivery, delivered per target, the ERP order number, the ERP's answers).

DynamoDB layout (docs/architecture.md): ``ORDER#<ref>`` / ``ORDER`` holds the body as Norce sent it
(written once, conditionally: a retry finds it and changes nothing), GSI1PK ``ORDERS`` lists orders
in time order; ``ORDER#<ref>`` / ``DELIVERY#<target>`` is the last delivery attempt per target and
``ORDER#<ref>`` / ``ANSWER#<kind>#<id>`` the recorded result of each ERP answer sent to Norce.
A body larger than :data:`INLINE_BODY_LIMIT` (a DynamoDB item holds 400 KB) is written to the body
store first (S3, content-addressed, so a retry writes the same object) and the item keeps its
reference (``body_ref``) instead of the body.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from boto3.dynamodb.conditions import Attr, Key
from pydantic import BaseModel, Field

from norcekit.state.table import (
    GSI1,
    TTL_ATTRIBUTE,
    ConditionFailed,
    Keys,
    StateTable,
    epoch_s,
    iso_utc,
)

#: Orders are kept a year: long enough for any redelivery or late ERP answer.
RETENTION = timedelta(days=365)
#: Bodies above this many UTF-8 bytes go to the body store: the item limit is 400 KB, and the item
#: also holds keys, timestamps and the queue and ERP references.
INLINE_BODY_LIMIT = 256 * 1024


class BodyStore(Protocol):
    """Where a body too large for its item is kept (``norcekit.events.claims.S3ClaimStore`` is one)."""

    def put(self, body: bytes) -> str:
        """Store ``body``; the reference to keep. Raises when it is not stored."""
        ...

    def get(self, ref: str) -> bytes: ...


class OrderBodyError(RuntimeError):
    """An order body is too large for its item and there is no body store to keep it (or to read it)."""


OrderStatus = Literal["received", "queued", "delivered", "delivery_failed"]
Outcome = Literal["ok", "permanent_error", "retryable_error"]


class DeliveryRecord(BaseModel):
    target: str
    outcome: Outcome
    detail: str = ""
    at: datetime
    attempts: int = 1


class AnswerRecord(BaseModel):
    """One ERP answer (status, delivery note, invoice, credit, cancel) and what Norce's Connect made of it."""

    kind: str
    answer_id: str
    outcome: Outcome
    detail: str = ""
    at: datetime
    attempts: int = 1


class StoredOrder(BaseModel):
    client_order_ref: str
    status: OrderStatus
    received_at: datetime
    body: str = Field(description="The OrderRequest JSON exactly as Norce sent it.")
    erp_order_no: str | None = None
    queue_message_id: str | None = None
    deliveries: dict[str, DeliveryRecord] = Field(default_factory=dict)
    answers: list[AnswerRecord] = Field(default_factory=list)


class OrderStore(Protocol):
    def add(self, client_order_ref: str, body: str) -> tuple[StoredOrder, bool]:
        """Store the order unless one with this ref exists; (the stored order, whether it is new)."""
        ...

    def get(self, client_order_ref: str) -> StoredOrder | None: ...

    def list(self, limit: int = 50) -> builtins.list[StoredOrder]:
        """Newest first."""
        ...

    def unqueued(self, since: datetime, until: datetime, limit: int = 100) -> builtins.list[str]:
        """Refs of orders received in ``[since, until)`` that were never queued, oldest first."""
        ...

    def mark_queued(self, client_order_ref: str, message_id: str) -> None: ...

    def record_delivery(
        self, client_order_ref: str, target: str, outcome: Outcome, detail: str, erp_order_no: str | None
    ) -> None:
        """Keep the attempt's result; a returned ERP order number is kept (never overwritten by None)."""
        ...

    def record_answer(
        self, client_order_ref: str, kind: str, answer_id: str, outcome: Outcome, detail: str
    ) -> None:
        """Keep the result of one ERP answer sent to Norce (also for an order the store never saw)."""
        ...

    def answers(self, client_order_ref: str) -> builtins.list[AnswerRecord]:
        """Recorded answers of an order, oldest first."""
        ...


def _order_status(deliveries: dict[str, DeliveryRecord], queued: bool) -> OrderStatus:
    if deliveries and all(d.outcome == "ok" for d in deliveries.values()):
        return "delivered"
    if any(d.outcome != "ok" for d in deliveries.values()):
        return "delivery_failed"
    return "queued" if queued else "received"


class DynamoOrderStore:
    def __init__(
        self,
        table: StateTable,
        *,
        clock: Callable[[], datetime] | None = None,
        bodies: BodyStore | None = None,
        inline_limit: int = INLINE_BODY_LIMIT,
    ) -> None:
        self.table = table
        self._now = clock or (lambda: datetime.now(UTC))
        self.bodies = bodies
        self.inline_limit = inline_limit

    def add(self, client_order_ref: str, body: str) -> tuple[StoredOrder, bool]:
        now = self._now()
        item: dict[str, Any] = {
            **Keys.order(client_order_ref),
            "client_order_ref": client_order_ref,
            "received_at": iso_utc(now),
            "GSI1PK": Keys.ORDERS,
            "GSI1SK": f"{iso_utc(now)}#{client_order_ref}",
            TTL_ATTRIBUTE: epoch_s(now + RETENTION),
        }
        encoded = body.encode("utf-8")
        if len(encoded) <= self.inline_limit:
            item["body"] = body
        elif self.bodies is None:
            raise OrderBodyError(
                f"order {client_order_ref}: a {len(encoded):,}-byte body needs the body store "
                f"(items hold {self.inline_limit:,} bytes of body)"
            )
        else:  # written before the item, so a stored order never points at a missing body
            item["body_ref"] = self.bodies.put(encoded)
        try:
            self.table.put(item, condition=Attr("PK").not_exists())
        except ConditionFailed:
            existing = self.get(client_order_ref)
            if existing is None:  # deleted between the two calls (TTL): store it again
                return self.add(client_order_ref, body)
            return existing, False
        return _from_items({**item, "body": body}, []), True

    def get(self, client_order_ref: str) -> StoredOrder | None:
        items = list(self.table.query(Key("PK").eq(f"ORDER#{client_order_ref}"), consistent=True))
        head = next((i for i in items if i["SK"] == "ORDER"), None)
        if head is None:
            return None
        return _from_items(self._with_body(head), [i for i in items if i["SK"] != "ORDER"])

    def _with_body(self, head: dict[str, Any]) -> dict[str, Any]:
        if "body" in head or "body_ref" not in head:
            return head
        if self.bodies is None:
            raise OrderBodyError(
                f"order {head['client_order_ref']}: its body is in the body store; none given"
            )
        return {**head, "body": self.bodies.get(str(head["body_ref"])).decode("utf-8")}

    def list(self, limit: int = 50) -> builtins.list[StoredOrder]:
        heads = self.table.query(Key("GSI1PK").eq(Keys.ORDERS), index=GSI1, forward=False, limit=limit)
        orders = [self.get(str(head["client_order_ref"])) for head in heads]
        return [o for o in orders if o is not None]

    def unqueued(self, since: datetime, until: datetime, limit: int = 100) -> builtins.list[str]:
        # GSI1SK is "<received_at>#<ref>": the time range is a key condition, so only the window's
        # orders are read (the index projects every attribute, queue_message_id included).
        heads = self.table.query(
            Key("GSI1PK").eq(Keys.ORDERS) & Key("GSI1SK").between(iso_utc(since), iso_utc(until)),
            index=GSI1,
            filter_condition=Attr("queue_message_id").not_exists(),
            limit=limit,
        )
        return [str(head["client_order_ref"]) for head in heads]  # "<until>#ref" > "<until>": excluded

    def mark_queued(self, client_order_ref: str, message_id: str) -> None:
        self.table.update(
            Keys.order(client_order_ref),
            set_values={"queue_message_id": message_id, "queued_at": iso_utc(self._now())},
            condition=Attr("PK").exists(),
        )

    def record_delivery(
        self, client_order_ref: str, target: str, outcome: Outcome, detail: str, erp_order_no: str | None
    ) -> None:
        now = self._now()
        self.table.update(
            Keys.order_part(client_order_ref, f"DELIVERY#{target}"),
            set_values={
                "target": target,
                "outcome": outcome,
                "detail": detail[:1000],
                "at": iso_utc(now),
                TTL_ATTRIBUTE: epoch_s(now + RETENTION),
            },
            append={"history": [outcome]},
        )
        if erp_order_no:
            self.table.update(Keys.order(client_order_ref), set_values={"erp_order_no": erp_order_no})

    def record_answer(
        self, client_order_ref: str, kind: str, answer_id: str, outcome: Outcome, detail: str
    ) -> None:
        now = self._now()
        self.table.update(
            Keys.order_part(client_order_ref, f"ANSWER#{kind}#{answer_id}"),
            set_values={
                "kind": kind,
                "answer_id": answer_id,
                "outcome": outcome,
                "detail": detail[:1000],
                "at": iso_utc(now),
                TTL_ATTRIBUTE: epoch_s(now + RETENTION),
            },
            append={"history": [outcome]},
        )

    def answers(self, client_order_ref: str) -> builtins.list[AnswerRecord]:
        return _answers_of(self, client_order_ref)


def _answers_of(store: DynamoOrderStore, client_order_ref: str) -> builtins.list[AnswerRecord]:
    items = store.table.query(
        Key("PK").eq(f"ORDER#{client_order_ref}") & Key("SK").begins_with("ANSWER#"), consistent=True
    )
    return _from_items(
        {"client_order_ref": client_order_ref, "received_at": "1970-01-01T00:00:00Z", "body": ""}, list(items)
    ).answers


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _from_items(head: dict[str, Any], parts: list[dict[str, Any]]) -> StoredOrder:
    deliveries: dict[str, DeliveryRecord] = {}
    answers: list[AnswerRecord] = []
    for part in parts:
        common = {
            "outcome": part["outcome"],
            "detail": part.get("detail", ""),
            "at": _parse_time(part["at"]),
            "attempts": len(part.get("history") or [1]),
        }
        if str(part["SK"]).startswith("DELIVERY#"):
            deliveries[part["target"]] = DeliveryRecord(target=part["target"], **common)
        elif str(part["SK"]).startswith("ANSWER#"):
            answers.append(AnswerRecord(kind=part["kind"], answer_id=part["answer_id"], **common))
    queued = bool(head.get("queue_message_id"))
    return StoredOrder(
        client_order_ref=str(head["client_order_ref"]),
        status=_order_status(deliveries, queued),
        received_at=_parse_time(head["received_at"]),
        body=str(head["body"]),
        erp_order_no=head.get("erp_order_no"),
        queue_message_id=head.get("queue_message_id"),
        deliveries=deliveries,
        answers=sorted(answers, key=lambda a: a.at),
    )


class MemoryOrderStore:
    """The same rules in memory (unit tests, the local stack without DynamoDB)."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        self._orders: dict[str, StoredOrder] = {}
        self._answers: dict[str, dict[tuple[str, str], AnswerRecord]] = {}
        self._lock = threading.Lock()

    def add(self, client_order_ref: str, body: str) -> tuple[StoredOrder, bool]:
        with self._lock:
            if client_order_ref in self._orders:
                return self._orders[client_order_ref].model_copy(deep=True), False
            order = StoredOrder(
                client_order_ref=client_order_ref, status="received", received_at=self._now(), body=body
            )
            self._orders[client_order_ref] = order
            return order.model_copy(deep=True), True

    def get(self, client_order_ref: str) -> StoredOrder | None:
        with self._lock:
            order = self._orders.get(client_order_ref)
        if order is None:
            return None
        return order.model_copy(deep=True, update={"answers": self.answers(client_order_ref)})

    def list(self, limit: int = 50) -> builtins.list[StoredOrder]:
        with self._lock:
            newest = sorted(self._orders.values(), key=lambda o: o.received_at, reverse=True)[:limit]
        return [o for o in (self.get(order.client_order_ref) for order in newest) if o is not None]

    def unqueued(self, since: datetime, until: datetime, limit: int = 100) -> builtins.list[str]:
        with self._lock:
            waiting = [o for o in self._orders.values() if since <= o.received_at < until]
        waiting = sorted((o for o in waiting if not o.queue_message_id), key=lambda o: o.received_at)
        return [o.client_order_ref for o in waiting[:limit]]

    def mark_queued(self, client_order_ref: str, message_id: str) -> None:
        with self._lock:
            order = self._orders[client_order_ref]
            order.queue_message_id = message_id
            order.status = _order_status(order.deliveries, True)

    def record_delivery(
        self, client_order_ref: str, target: str, outcome: Outcome, detail: str, erp_order_no: str | None
    ) -> None:
        with self._lock:
            order = self._orders[client_order_ref]
            previous = order.deliveries.get(target)
            attempts = previous.attempts + 1 if previous else 1
            order.deliveries[target] = DeliveryRecord(
                target=target, outcome=outcome, detail=detail, at=self._now(), attempts=attempts
            )
            if erp_order_no:
                order.erp_order_no = erp_order_no
            order.status = _order_status(order.deliveries, bool(order.queue_message_id))

    def record_answer(
        self, client_order_ref: str, kind: str, answer_id: str, outcome: Outcome, detail: str
    ) -> None:
        with self._lock:
            # Kept apart from the order: an answer may concern an order received before the kit ran.
            answers = self._answers.setdefault(client_order_ref, {})
            previous = answers.get((kind, answer_id))
            answers[(kind, answer_id)] = AnswerRecord(
                kind=kind,
                answer_id=answer_id,
                outcome=outcome,
                detail=detail,
                at=self._now(),
                attempts=previous.attempts + 1 if previous else 1,
            )

    def answers(self, client_order_ref: str) -> builtins.list[AnswerRecord]:
        with self._lock:
            return sorted(self._answers.get(client_order_ref, {}).values(), key=lambda a: a.at)


__all__ = [
    "AnswerRecord",
    "DeliveryRecord",
    "DynamoOrderStore",
    "MemoryOrderStore",
    "OrderStore",
    "StoredOrder",
]
