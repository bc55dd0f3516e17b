"""Parse a batch of queued events and group them by the entity they name.

Norce events are hints that "this key changed"; ten events for the same SKU in one batch need
one look-up and one delivery. Grouping happens over the *whole* SQS batch (not per record), which
is why the processor parses every record before doing any work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from norcekit.envelope import InvalidEnvelope, QueueEnvelope
from norcekit.events.claims import ClaimNotFoundError, ClaimStore
from norcekit.events.lookups import EntityKey, EntitySpec, InvalidKey, UnknownKey, key_for
from norcekit.norce.events import NorceEvent, UnknownEventType, parse_event


class PoisonMessage(ValueError):  # noqa: N818
    """A queued message that can never be processed (not our envelope, or an invalid payload)."""


@dataclass(frozen=True)
class QueuedEvent:
    """One SQS record, parsed: the envelope the receiver wrote plus the validated payload."""

    message_id: str
    receive_count: int
    event_type: str
    event: NorceEvent
    received_at: str | None

    @property
    def payload(self) -> dict[str, Any]:
        return self.event.model_dump(mode="json", exclude_none=True)


def parse_message(
    message_id: str, body: str, receive_count: int = 1, *, claims: ClaimStore | None = None
) -> QueuedEvent:
    """A queued :class:`~norcekit.envelope.QueueEnvelope` → :class:`QueuedEvent`; a claim-checked
    payload is read from ``claims`` (a store error other than "not found" propagates: retry)."""
    try:
        envelope = QueueEnvelope.from_message(body)
    except InvalidEnvelope as exc:
        raise PoisonMessage(str(exc)) from None
    payload = envelope.body
    if envelope.body_ref is not None:
        if claims is None:
            raise PoisonMessage("claim-checked payload but no claim store is configured")
        try:
            payload = orjson.loads(claims.get(envelope.body_ref))
        except ClaimNotFoundError:
            raise PoisonMessage(f"claim-checked payload {envelope.body_ref} is gone") from None
        except orjson.JSONDecodeError:
            raise PoisonMessage(f"claim-checked payload {envelope.body_ref} is not JSON") from None
        if not isinstance(payload, dict):
            raise PoisonMessage("claim-checked payload is not a JSON object")
    try:
        event = parse_event(envelope.event_type, payload or {})
    except UnknownEventType as exc:
        raise PoisonMessage(str(exc)) from None
    except ValidationError as exc:
        raise PoisonMessage(
            f"{envelope.event_type}: invalid payload ({exc.error_count()} error(s))"
        ) from None
    return QueuedEvent(
        message_id=message_id,
        receive_count=receive_count,
        event_type=event.event_type,
        event=event,
        received_at=envelope.received_at_text,
    )


@dataclass(frozen=True)
class PayloadKey:
    """A document made from the payload itself (no Query look-up): identical payloads coalesce."""

    entity: str
    key: str
    payload: bytes  # canonical JSON


@dataclass
class Groups:
    looked_up: dict[EntityKey, list[QueuedEvent]] = field(default_factory=lambda: defaultdict(list))
    from_payload: dict[PayloadKey, list[QueuedEvent]] = field(default_factory=lambda: defaultdict(list))
    jobs: list[QueuedEvent] = field(default_factory=list)
    #: Events that cannot be grouped (an unusable key), with the reason: poison, failed alone.
    rejected: list[tuple[QueuedEvent, str]] = field(default_factory=list)

    @property
    def coalesced(self) -> int:
        """Events that did not cause a look-up/delivery of their own."""
        merged = sum(len(v) - 1 for v in self.looked_up.values())
        return merged + sum(len(v) - 1 for v in self.from_payload.values())


def group_events(events: Iterable[QueuedEvent], specs: Mapping[str, EntitySpec]) -> Groups:
    """Group by entity key. One event that cannot be grouped lands in ``rejected``, never fails
    the others (grouping runs over the whole batch)."""
    groups = Groups()
    for queued in events:
        try:
            _group_one(groups, queued, specs)
        except InvalidKey as exc:
            groups.rejected.append((queued, str(exc)))
        except Exception as exc:  # a payload we did not foresee: this record only
            groups.rejected.append((queued, f"cannot group: {type(exc).__name__}: {exc}"))
    return groups


def _group_one(groups: Groups, queued: QueuedEvent, specs: Mapping[str, EntitySpec]) -> None:
    entity = queued.event.entity
    if entity == "job":
        groups.jobs.append(queued)
        return
    spec = specs.get(entity)
    if spec is not None and spec.entity_set is not None:
        try:
            groups.looked_up[key_for(spec, queued.payload)].append(queued)
            return
        except UnknownKey:
            # Valid but keyless (e.g. a price notification without PartNo): nothing to look
            # up, so the payload itself is delivered rather than dropped (DESIGN rule 9).
            pass
    canonical = orjson.dumps(queued.payload, option=orjson.OPT_SORT_KEYS)
    groups.from_payload[PayloadKey(entity, queued.event.entity_key(), canonical)].append(queued)
