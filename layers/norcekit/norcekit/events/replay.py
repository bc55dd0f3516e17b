"""Replay quarantined webhooks (``norcekit quarantine replay KEY|--all``).

Each quarantined webhook is validated again exactly as the receiver would (the payload model may
have been relaxed, or the event type added, since it was rejected). Still invalid → reported with
its reason and kept; valid → queued like a fresh webhook and moved under the replayed prefix.
Replay never re-checks the secret: the payload was authenticated when it arrived.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from norcekit.envelope import DEFAULT_MAX_MESSAGE_BYTES, QueueEnvelope, message_attributes
from norcekit.events.claims import ClaimStore
from norcekit.events.queue import EventQueue, send_envelope
from norcekit.events.validation import DEFAULT_MAX_BODY_BYTES, Accepted, validate_webhook
from norcekit.quarantine import QuarantineStore


@dataclass(frozen=True)
class ReplayResult:
    key: str
    outcome: Literal["queued", "invalid", "error"]
    detail: str
    message_id: str | None = None
    replayed_key: str | None = None


def replay_one(
    store: QuarantineStore,
    queue: EventQueue,
    key: str,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    claims: ClaimStore | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> ReplayResult:
    item = store.get(key)
    if item.kind != "webhook":
        return ReplayResult(key, "error", f"not a webhook item (kind {item.kind})")
    event_type = str(item.metadata.get("event_type", ""))
    verdict = validate_webhook(event_type, item.payload_bytes(), max_body_bytes=max_body_bytes)
    if not isinstance(verdict, Accepted):
        errors = verdict.body.get("errors") or []
        detail = verdict.body["message"] + (f": {json.dumps(errors)}" if errors else "")
        return ReplayResult(key, "invalid", detail)
    event = verdict.event
    envelope = QueueEnvelope.inline(
        event.event_type, verdict.payload, received_at=item.received_at, replayed_at=datetime.now(UTC)
    )
    attributes = message_attributes(event.event_type, event.entity, event.entity_key())
    try:
        message_id, _ = send_envelope(
            queue, envelope, attributes, claims=claims, max_message_bytes=max_message_bytes
        )
    except Exception as exc:
        return ReplayResult(key, "error", f"enqueue failed: {type(exc).__name__}")
    replayed_key = store.mark_replayed(key)
    return ReplayResult(key, "queued", event.event_type, message_id=message_id, replayed_key=replayed_key)


def replay(
    store: QuarantineStore,
    queue: EventQueue,
    keys: Iterable[str] | None = None,
    *,
    limit: int = 1000,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    claims: ClaimStore | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> list[ReplayResult]:
    """Replay ``keys``, or every pending webhook item (oldest first) when ``keys`` is None."""
    if keys is None:
        keys = [item.key for item in reversed(store.list("webhook", limit=limit))]
    return [
        replay_one(
            store,
            queue,
            key,
            max_body_bytes=max_body_bytes,
            claims=claims,
            max_message_bytes=max_message_bytes,
        )
        for key in keys
    ]
