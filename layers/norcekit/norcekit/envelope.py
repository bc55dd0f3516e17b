"""The queue envelope: what the webhook receiver (and quarantine replay) put on the event queue and
what the event processor and the DLQ tools read back.

One message per authentic, valid webhook::

    {"event_type": "SkuChangedNotification", "body": {...payload...},
     "received_at": "2026-04-09T12:00:00Z"}

``body`` is the payload as Norce sent it (already strictly parsed by the receiver). A payload too
large for the queue is stored elsewhere (a claim check) and the message carries ``body_ref``
instead of ``body``. ``replayed_at`` is set on messages re-queued from the quarantine.

The JSON is compact UTF-8 (no ``ensure_ascii`` escaping: non-ASCII text costs its UTF-8 bytes, not
six per character), and the message attributes are bounded so they never push a message over the
queue's size limit. This module is in the neutral base (pydantic + stdlib only): the receiver
loads it on a cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)

#: Message attribute names (SQS ``MessageAttributes``, String type).
ATTRIBUTE_NAMES = ("event_type", "entity", "entity_key")
#: Longest attribute value kept; longer ones are cut (attributes are for filtering and display,
#: the envelope body is authoritative). SQS counts attribute names and values in the message size.
MAX_ATTRIBUTE_CHARS = 256
#: The event queue's ``MaximumMessageSize`` (set explicitly in the template): 256 KiB.
DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024


class InvalidEnvelope(ValueError):  # noqa: N818 - public name, reads as "an invalid envelope"
    """A queued message that is not a norcekit envelope (a poison message)."""


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class QueueEnvelope(BaseModel):
    """One queued webhook."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: str = Field(min_length=1, description="Norce event type (the receiver's route).")
    body: dict[str, Any] | None = Field(default=None, description="The payload, when carried inline.")
    body_ref: str | None = Field(
        default=None, description="Where the payload is stored when it is too large for the queue."
    )
    received_at: AwareDatetime = Field(description="When the receiver accepted the webhook (UTC).")
    replayed_at: AwareDatetime | None = Field(default=None, description="Set when re-queued from quarantine.")

    @model_validator(mode="after")
    def _exactly_one_body(self) -> QueueEnvelope:
        if (self.body is None) == (self.body_ref is None):
            raise ValueError("exactly one of body and body_ref must be set")
        return self

    @field_serializer("received_at", "replayed_at")
    def _serialize_time(self, value: datetime | None) -> str | None:
        return None if value is None else _utc_text(value)

    # --- building -----------------------------------------------------------------------------

    @classmethod
    def inline(
        cls,
        event_type: str,
        body: Mapping[str, Any],
        *,
        received_at: datetime,
        replayed_at: datetime | None = None,
    ) -> QueueEnvelope:
        return cls(event_type=event_type, body=dict(body), received_at=received_at, replayed_at=replayed_at)

    def with_body_ref(self, ref: str) -> QueueEnvelope:
        """The same envelope pointing at a stored payload instead of carrying it."""
        return self.model_copy(update={"body": None, "body_ref": ref})

    def to_message(self) -> str:
        """Compact UTF-8 JSON, unset fields left out."""
        return self.model_dump_json(exclude_none=True)

    def message_bytes(self) -> int:
        return len(self.to_message().encode())

    @property
    def received_at_text(self) -> str:
        """``received_at`` as the message has it (``...Z``), without serializing the whole envelope."""
        return _utc_text(self.received_at)

    # --- reading ------------------------------------------------------------------------------

    @classmethod
    def from_message(cls, body: str | bytes) -> QueueEnvelope:
        """Parse a queued message. Raises :class:`InvalidEnvelope` for anything else."""
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "message"
            raise InvalidEnvelope(f"not a norcekit event envelope ({where}: {first['msg']})") from None


def message_attributes(event_type: str, entity: str, entity_key: str) -> dict[str, str]:
    """The attributes sent with an envelope, each cut to :data:`MAX_ATTRIBUTE_CHARS`; empty ones dropped."""
    values = dict(zip(ATTRIBUTE_NAMES, (event_type, entity, entity_key), strict=True))
    return {name: value[:MAX_ATTRIBUTE_CHARS] for name, value in values.items() if value}


def attributes_size(attributes: Mapping[str, str]) -> int:
    """Bytes SQS counts for String attributes: name + data type ("String") + value, UTF-8."""
    return sum(
        len(name.encode()) + len(b"String") + len(value.encode()) for name, value in attributes.items()
    )


__all__ = [
    "ATTRIBUTE_NAMES",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_ATTRIBUTE_CHARS",
    "InvalidEnvelope",
    "QueueEnvelope",
    "attributes_size",
    "message_attributes",
]
