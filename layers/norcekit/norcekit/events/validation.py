"""Everything after authentication that decides whether a webhook is queued or quarantined.

Shared by the receiver and quarantine replay, so a replayed payload is judged exactly as a fresh one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from norcekit.norce.events import NorceEvent, UnknownEventType, event_model

RejectReason = Literal["too_large", "unknown_event_type", "invalid_json", "not_an_object", "invalid_payload"]


@dataclass(frozen=True)
class Accepted:
    """A validated webhook, ready to queue."""

    event: NorceEvent
    payload: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    status: int
    reason: RejectReason
    body: dict[str, Any]


def validate_webhook(event_type: str, body: bytes, *, max_body_bytes: int) -> Accepted | Rejected:
    """Judge one authenticated webhook body as ``event_type``."""
    if len(body) > max_body_bytes:
        return Rejected(413, "too_large", {"message": f"Body exceeds {max_body_bytes} bytes"})
    try:
        model = event_model(event_type)
    except UnknownEventType:
        return Rejected(404, "unknown_event_type", {"message": f"Unknown event type {event_type[:100]!r}"})
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        return Rejected(400, "invalid_json", {"message": f"Body is not JSON ({detail})", "errors": []})
    if not isinstance(payload, dict):
        return Rejected(
            400,
            "not_an_object",
            {"message": "Body must be a JSON object", "errors": [{"field": "", "error": "not an object"}]},
        )
    try:
        event = model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "error": err["msg"]} for err in exc.errors()
        ]
        return Rejected(
            400, "invalid_payload", {"message": f"Invalid {model.event_type} payload", "errors": errors}
        )
    return Accepted(event, payload)
