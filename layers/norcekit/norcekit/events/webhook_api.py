"""The webhook's HTTP face: response bodies, the documented responses and the Powertools resolver
(API Gateway REST proxy events). The OpenAPI document is generated from this (see
:mod:`norcekit.events.openapi`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel, Field

from norcekit.norce.events import EVENT_MODELS

ROUTE = "/events/<EventType>"
SECURITY_SCHEME = "norceWebhookSecret"


class QueuedResponse(BaseModel):
    status: Literal["queued"] = "queued"
    message_id: str = Field(description="SQS message id of the queued event.")


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending property ('' = the body).")
    error: str


class QuarantinedResponse(BaseModel):
    status: Literal["quarantined"] = "quarantined"
    reason: str = Field(
        description=(
            "too_large | unknown_event_type | invalid_json | not_an_object | invalid_payload | enqueue_failed"
        )
    )
    message: str
    errors: list[FieldError] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    message: str


@dataclass(frozen=True)
class ReceiverResponse:
    status: int
    body: dict[str, Any]


UNAUTHORIZED = ReceiverResponse(401, {"message": "Unauthorized"})
UNAVAILABLE = ReceiverResponse(503, {"message": "Service unavailable, retry later"})

RESPONSES: dict[int, Any] = {
    200: {
        "description": "Authentic and valid: queued. Norce may forget the event.",
        "content": {"application/json": {"model": QueuedResponse}},
    },
    202: {
        "description": (
            "Authentic but not queueable (unknown event type, not strict JSON, not an object, fails the"
            " payload model, larger than WEBHOOK_MAX_BODY_BYTES, or the queue refused it): kept in the"
            " quarantine, once per event type and body, for inspection and `norcekit quarantine replay`."
            " A 2xx, because Norce's retries could not fix it."
        ),
        "content": {"application/json": {"model": QuarantinedResponse}},
    },
    401: {
        "description": "Secret header missing or wrong. Nothing is kept.",
        "content": {"application/json": {"model": ErrorResponse}},
    },
    503: {
        "description": (
            "Neither the queue nor the quarantine accepted the payload (or no webhook secret could be"
            " read yet): Norce retries."
        ),
        "content": {"application/json": {"model": ErrorResponse}},
    },
}


def request_body(event: Any) -> bytes:
    """The raw body of an API Gateway proxy event (base64-decoded when ``isBase64Encoded``)."""
    body = event.get("body") if isinstance(event, Mapping) else None
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()


class Receiver(Protocol):
    """What the route needs of the receiver (:class:`~norcekit.events.receiver.WebhookReceiver`)."""

    def receive(self, event_type: str, headers: Mapping[str, str], body: bytes) -> ReceiverResponse: ...


def build_resolver(receiver: Callable[[], Receiver]) -> APIGatewayRestResolver:
    """The Powertools resolver: one route, ``receiver`` is called per request (created lazily)."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post(
        ROUTE,
        summary="Receive a Norce Commerce event (webhook)",
        description=(
            "Norce posts the event payload; the path names the event type "
            f"({', '.join(sorted(EVENT_MODELS))}). Answered once the payload is stored: queued (200) or"
            " quarantined (202)."
        ),
        operation_id="receiveNorceEvent",
        tags=["webhooks"],
        responses=RESPONSES,
        security=[{SECURITY_SCHEME: []}],
    )
    def receive(EventType: str) -> Response[Any]:  # noqa: N803 - the path parameter's name
        raw = app.current_event.raw_event
        # The raw event keeps header names as sent (quarantine metadata shows them that way).
        result = receiver().receive(EventType, raw.get("headers") or {}, request_body(raw))
        return Response(
            status_code=result.status, content_type="application/json", body=json.dumps(result.body)
        )

    return app
