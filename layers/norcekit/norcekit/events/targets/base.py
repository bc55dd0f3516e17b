"""What every target receives and answers: :class:`TargetDocument` in, :class:`DeliveryResult` out.

A target is anything with ``deliver(docs) -> results`` (one result per document, same order). The
processor decides what a result means for the SQS record(s) behind the document: ``ok`` deletes
them, anything else leaves them on the queue (SQS redelivers; after ``maxReceiveCount`` the DLQ).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import orjson
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from norcekit.deadline import Deadline

DocumentStatus = Literal["current", "not_found"]


def canonical_json(value: Any) -> bytes:
    """Same data → same bytes (sorted keys, no whitespace): the basis of idempotency keys."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def idempotency_key(entity: str, key: str, data: dict[str, Any] | None) -> str:
    """sha256 over entity, key and the canonical data: redelivering the same state gives the same key."""
    digest = hashlib.sha256()
    for part in (entity.encode(), key.encode(), canonical_json(data)):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no ambiguity between parts
        digest.update(part)
    return digest.hexdigest()


def read_version(fetched_at: datetime) -> int:
    """The delivery version of a read: microseconds since the epoch (UTC)."""
    delta = fetched_at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def versioned_key(content_hash: str, version: int) -> str:
    """The Idempotency-Key of one delivered version."""
    return hashlib.sha256(f"{content_hash}:{version}".encode()).hexdigest()


class TargetDocument(BaseModel):
    """The current state of one entity, as delivered to targets."""

    model_config = ConfigDict(frozen=True)

    entity: str = Field(description="Entity name, e.g. 'sku', 'customer', 'order'.")
    key: str = Field(description="The entity's key as text (PartNo, Id, ...).")
    event_types: list[str] = Field(description="The Norce event types that named this key in the batch.")
    status: DocumentStatus = Field(description="'current': data is the current state; 'not_found': gone.")
    data: dict[str, Any] | None = Field(description="The Query row (or the event payload), mapped.")
    fetched_at: datetime = Field(description="When the state was read, or the payload received (UTC).")
    version: int = Field(
        description="Monotonic per entity key: microseconds since the epoch of the read. A newer read of "
        "the same key always has a higher version; targets keep the highest they received."
    )
    content_hash: str = Field(
        description="sha256(entity, key, canonical JSON of data): same state, same hash."
    )
    idempotency_key: str = Field(
        description="Unique per delivered version (content hash + version): A -> B -> A gives three keys; "
        "a retry of one delivery keeps its key."
    )

    @classmethod
    def build(
        cls,
        entity: str,
        key: str,
        event_types: Sequence[str],
        data: dict[str, Any] | None,
        *,
        fetched_at: datetime | None = None,
    ) -> TargetDocument:
        fetched = fetched_at or datetime.now(UTC)
        version = read_version(fetched)
        content = idempotency_key(entity, key, data)
        return cls(
            entity=entity,
            key=key,
            event_types=sorted(set(event_types)),
            status="current" if data is not None else "not_found",
            data=data,
            fetched_at=fetched,
            version=version,
            content_hash=content,
            idempotency_key=versioned_key(content, version),
        )

    def with_data(self, data: dict[str, Any] | None) -> TargetDocument:
        """The same document with mapped data (and the idempotency key that goes with it)."""
        return self.model_copy(
            update={
                "data": data,
                "content_hash": (content := idempotency_key(self.entity, self.key, data)),
                "idempotency_key": versioned_key(content, self.version),
            }
        )

    def with_version(self, version: int) -> TargetDocument:
        """The same state delivered under ``version`` (the last delivery's, when the content is unchanged)."""
        if version == self.version:
            return self
        return self.model_copy(
            update={"version": version, "idempotency_key": versioned_key(self.content_hash, version)}
        )

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


class Outcome(enum.StrEnum):
    OK = "ok"
    #: The target refused this document; resending the same document will not help.
    PERMANENT_ERROR = "permanent_error"
    #: The target was unavailable; a later attempt may succeed.
    RETRYABLE_ERROR = "retryable_error"


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    detail: str = ""
    #: The target's JSON answer when it gave one (HTTP): an ERP may return its order number.
    response: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @classmethod
    def success(cls, detail: str = "", response: Mapping[str, Any] | None = None) -> DeliveryResult:
        return cls(Outcome.OK, detail, response)

    @classmethod
    def permanent(cls, detail: str) -> DeliveryResult:
        return cls(Outcome.PERMANENT_ERROR, detail)

    @classmethod
    def retryable(cls, detail: str) -> DeliveryResult:
        return cls(Outcome.RETRYABLE_ERROR, detail)


@runtime_checkable
class Target(Protocol):
    """A destination for documents. ``deliver`` must not raise for a per-document failure."""

    name: str

    def deliver(
        self, docs: Sequence[TargetDocument], *, deadline: Deadline | None = None
    ) -> list[DeliveryResult]: ...


def detail_type(doc: TargetDocument) -> str:
    """``norce.<entity>.changed`` or ``norce.<entity>.not_found`` (EventBridge detail-type, S3 tags)."""
    return f"norce.{doc.entity}.{'changed' if doc.status == 'current' else 'not_found'}"
