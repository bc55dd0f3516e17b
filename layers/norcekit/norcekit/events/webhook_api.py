"""The webhook's HTTP face: response bodies, the documented responses, the Lambda's routing
(:func:`dispatch`, API Gateway REST proxy events) and the Powertools resolver the OpenAPI document is
generated from (see :mod:`norcekit.events.openapi`)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from norcekit.norce.event_models import EVENT_TYPES

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

ROUTE = "/events/<EventType>"
SECURITY_SCHEME = "norceWebhookSecret"
#: ``ROUTE`` as Powertools' REST resolver matches it: its path-parameter characters (RFC 3986 safe
#: and unsafe URI characters, word characters), trailing slashes allowed.
_ROUTE_TAIL = r"/events/(?P<EventType>[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+)/*$"
_ROUTE_MATCH = re.compile("^" + _ROUTE_TAIL)
#: API Gateway's resource of the route. Behind a custom domain with a base path mapping, ``path``
#: starts with the base path (``/norce/events/...``) while ``resource`` names the route matched.
RESOURCE = "/events/{EventType}"
_BASE_PATH_ROUTE_MATCH = re.compile(r"^(?:/[^/]+)+?" + _ROUTE_TAIL)
#: The resolver's answer to any other method or path, byte for byte.
_NOT_FOUND_BODY = '{"statusCode":404,"message":"Not found"}'


class QueuedResponse(BaseModel):
    status: Literal["queued"] = "queued"
    message_id: str = Field(description="SQS message id of the queued event.")


#: The models of the answers a valid webhook never gets are built on first use, not at import: a
#: cold start whose first webhook is queued does not build them (the OpenAPI document does).
_BUILT_ON_FIRST_USE = ConfigDict(defer_build=True)


class FieldError(BaseModel):
    model_config = _BUILT_ON_FIRST_USE

    field: str = Field(description="Dotted path of the offending property ('' = the body).")
    error: str


class QuarantinedResponse(BaseModel):
    model_config = _BUILT_ON_FIRST_USE

    status: Literal["quarantined"] = "quarantined"
    reason: str = Field(
        description=(
            "too_large | unknown_event_type | invalid_json | not_an_object | invalid_payload | enqueue_failed"
        )
    )
    message: str
    errors: list[FieldError] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    model_config = _BUILT_ON_FIRST_USE

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


def _proxy_response(status: int, body: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "body": body,
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }


def dispatch(event: Mapping[str, Any], receiver: Callable[[], Receiver]) -> dict[str, Any]:
    """The Lambda's routing: ``POST /events/{EventType}`` → ``receiver``, anything else 404; the
    same responses as :func:`build_resolver`'s, without importing Powertools' event_handler (it
    loads every resolver kind on a cold start, for one route)."""
    method = str(event.get("httpMethod") or "").upper()
    path = str(event.get("path") or "")
    match = _ROUTE_MATCH.match(path)
    if match is None and event.get("resource") == RESOURCE:
        match = _BASE_PATH_ROUTE_MATCH.match(path)
    if method != "POST" or match is None:
        return _proxy_response(404, _NOT_FOUND_BODY)
    # The raw event keeps header names as sent (quarantine metadata shows them that way).
    result = receiver().receive(match["EventType"], event.get("headers") or {}, request_body(event))
    return _proxy_response(result.status, json.dumps(result.body))


def build_resolver(receiver: Callable[[], Receiver]) -> APIGatewayRestResolver:
    """The Powertools resolver: one route, ``receiver`` is called per request (created lazily).
    The OpenAPI document is generated from it; the Lambda routes with :func:`dispatch`."""
    # Not on the Lambda's cold-start path: event_handler loads every resolver and asyncio.
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response  # noqa: PLC0415

    app = APIGatewayRestResolver(enable_validation=True)

    def receive(EventType: str) -> Response[Any]:  # noqa: N803 - the path parameter's name
        raw = app.current_event.raw_event
        # The raw event keeps header names as sent (quarantine metadata shows them that way).
        result = receiver().receive(EventType, raw.get("headers") or {}, request_body(raw))
        return Response(
            status_code=result.status, content_type="application/json", body=json.dumps(result.body)
        )

    # Annotations are postponed here and Response is not a module global: the resolver reads the
    # return type at registration, so it gets the class itself.
    receive.__annotations__["return"] = Response[Any]
    app.post(
        ROUTE,
        summary="Receive a Norce Commerce event (webhook)",
        description=(
            "Norce posts the event payload; the path names the event type "
            f"({', '.join(sorted(EVENT_TYPES))}). Answered once the payload is stored: queued (200) or"
            " quarantined (202)."
        ),
        operation_id="receiveNorceEvent",
        tags=["webhooks"],
        responses=RESPONSES,
        security=[{SECURITY_SCHEME: []}],
    )(receive)
    return app
