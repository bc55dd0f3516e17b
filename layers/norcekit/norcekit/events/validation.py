"""Everything after authentication that decides whether a webhook is queued or quarantined.

Shared by the receiver and quarantine replay, so a replayed payload is judged exactly as a fresh one.

Parsing is strict, because whatever is queued must be readable by the processor on every receive
(a payload it cannot read would be a poison message no redrive can fix):

* the body must be UTF-8 JSON without a byte-order mark;
* ``NaN``/``Infinity`` and numbers that overflow a double (``1e999``) are refused;
* integers must fit in 64 bits (signed), whatever their number of digits (a 5,000-digit integer
  is refused before Python is asked to convert it);
* arrays and objects may nest at most :data:`MAX_DEPTH` deep (Norce payloads are flat); a body
  nested 10,000 deep is refused without recursion.

A refusal is a :class:`Rejected` verdict (quarantined, answered 2xx by the receiver), never an
exception.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from norcekit.norce.event_base import NorceEvent
from norcekit.norce.event_models import UnknownEventType, event_model

RejectReason = Literal[
    "too_large", "unknown_event_type", "invalid_json", "not_an_object", "invalid_payload", "enqueue_failed"
]

#: API Gateway's payload limit: bodies up to this size are never refused for size.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
#: Deepest nesting of arrays/objects accepted (the body object itself is depth 1).
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Digits (plus sign) of the longest 64-bit integer literal.
_MAX_INT_CHARS = 20


class StrictJsonError(ValueError):
    """The body is not JSON as norcekit accepts it (see the module docstring)."""


@dataclass(frozen=True)
class Accepted:
    """A validated webhook, ready to queue."""

    event: NorceEvent
    payload: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    """An authentic webhook that cannot be queued: it is quarantined."""

    reason: RejectReason
    message: str
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def body(self) -> dict[str, Any]:
        return {"message": self.message, "errors": list(self.errors)}


def _strict_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits.lstrip("0")) > _MAX_INT_CHARS - 1:
        raise StrictJsonError(f"integer of {len(digits)} digits does not fit in 64 bits")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise StrictJsonError(f"integer {text} does not fit in 64 bits")
    return value


def _strict_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(f"number {text[:40]} overflows a double")
    return value


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not JSON")


def _check_depth(value: Any) -> None:
    """Iterative, so a deep body cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise StrictJsonError(f"nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def parse_strict_json(body: bytes) -> Any:
    """The JSON value of ``body`` under the rules above; raises :class:`StrictJsonError`."""
    try:
        # orjson first: rejects invalid UTF-8, BOMs, NaN, overflowing numbers and depth > 1024
        # without recursing in Python.
        shallow = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise StrictJsonError(str(exc).split(":", 1)[0]) from None
    _check_depth(shallow)
    # orjson reads integers beyond 64 bits as doubles; read again with exact integer checks
    # (safe: the depth is bounded now).
    try:
        return json.loads(body, parse_int=_strict_int, parse_float=_strict_float, parse_constant=_no_constant)
    except ValueError as exc:  # StrictJsonError included
        raise StrictJsonError(str(exc)) from None


def validate_webhook(event_type: str, body: bytes, *, max_body_bytes: int) -> Accepted | Rejected:
    """Judge one authenticated webhook body as ``event_type``."""
    if len(body) > max_body_bytes:
        return Rejected("too_large", f"Body exceeds {max_body_bytes} bytes")
    try:
        # Imports only this type's model module: a cold start needs one of the 22 models.
        model = event_model(event_type)
    except UnknownEventType:
        return Rejected("unknown_event_type", f"Unknown event type {event_type[:100]!r}")
    try:
        payload = parse_strict_json(body)
    except StrictJsonError as exc:
        return Rejected("invalid_json", f"Body is not acceptable JSON ({exc})")
    if not isinstance(payload, dict):
        return Rejected(
            "not_an_object", "Body must be a JSON object", [{"field": "", "error": "not an object"}]
        )
    try:
        event = model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "error": err["msg"]} for err in exc.errors()
        ]
        return Rejected("invalid_payload", f"Invalid {model.event_type} payload", errors)
    return Accepted(event, payload)
