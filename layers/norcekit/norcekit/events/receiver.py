"""The webhook receiver: authenticate, validate, enqueue — fast, and without losing anything.

``POST /events/{EventType}`` (the route names the type: Norce payloads don't, DESIGN rule 8):

1. **Auth first.** The static secret header configured in Norce Admin is compared in constant time
   with every accepted secret (a JSON list in Secrets Manager, so old and new overlap during a
   rotation). On a miss the list is re-read, bypassing the cache (a rotation inside the cache
   window), at most once per ``secret_refresh_interval_s`` per container: wrong guesses must not
   cost a GetSecretValue each, and a new secret is accepted at most that long after it is added.
   Missing/wrong → ``401 {"message": "Unauthorized"}``, also when Secrets Manager fails after a
   list was read once (the last list read decides, so a wrong header looks like a missing one);
   503 only when no list has been read since the container started. Nothing of the request is kept,
   queued or echoed, and nothing else (size, type, body) is looked at, so an unauthenticated
   caller learns nothing.
2. Authenticated but unusable (body too large → 413, unknown type → 404, not JSON / not an object /
   fails the payload model → 400 naming the problem): the payload is quarantined (kind
   ``webhook``, headers scrubbed of secrets, non-UTF-8 bodies base64) for inspection and
   ``norcekit quarantine replay`` (DESIGN rule 9). A 4xx stops Norce's retries, which could never
   succeed.
3. Valid → one SQS message ``{"event_type", "body", "received_at"}`` with message attributes
   ``event_type``, ``entity``, ``entity_key``; ``200 {"status": "queued", "message_id"}`` only once
   SQS has accepted it. SQS (or the quarantine, or Secrets Manager) failing → 503: Norce retries
   any non-2xx for ~22 h.

No Query call and no httpx here: this module is on the Lambda's cold-start path.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel, Field, ValidationError

from norcekit.norce.events import EVENT_MODELS, NorceEvent, UnknownEventType, event_model
from norcekit.observability import MetricName, MetricsSink, NoMetrics, register_secret
from norcekit.quarantine import QuarantineStore, quarantine_store_from_settings, scrub_headers

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_sqs import SQSClient

    from norcekit.settings import Settings

logger = Logger(service="norcekit", child=True)

ROUTE = "/events/<EventType>"
DEFAULT_SECRET_HEADER = "X-Norce-Webhook-Secret"  # noqa: S105 - a header name
#: How long accepted secrets are cached before Secrets Manager is asked again.
SECRETS_MAX_AGE_S = 300
#: Minimum seconds between forced re-reads on a wrong secret (per container).
SECRET_REFRESH_INTERVAL_S = 30.0

WEBHOOKS_RECEIVED = MetricName.WEBHOOKS_RECEIVED.value
WEBHOOKS_UNAUTHORIZED = MetricName.WEBHOOKS_UNAUTHORIZED.value
WEBHOOKS_REJECTED = MetricName.WEBHOOKS_REJECTED.value
EVENTS_ENQUEUED = MetricName.EVENTS_ENQUEUED.value

RejectReason = Literal["too_large", "unknown_event_type", "invalid_json", "not_an_object", "invalid_payload"]


# --- response bodies (also the OpenAPI document) ---------------------------------------------------


class QueuedResponse(BaseModel):
    status: Literal["queued"] = "queued"
    message_id: str = Field(description="SQS message id of the queued event.")


class ErrorResponse(BaseModel):
    message: str


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending property ('' = the body).")
    error: str


class ValidationErrorResponse(BaseModel):
    message: str
    errors: list[FieldError] = Field(default_factory=list)


@dataclass(frozen=True)
class ReceiverResponse:
    status: int
    body: dict[str, Any]


UNAUTHORIZED = ReceiverResponse(401, {"message": "Unauthorized"})
UNAVAILABLE = ReceiverResponse(503, {"message": "Service unavailable, retry later"})


# --- collaborators -------------------------------------------------------------------------------


class SecretSource(Protocol):
    def secrets(self, *, refresh: bool = False) -> list[str]:
        """Accepted secrets; ``refresh=True`` bypasses any cache."""
        ...


class SecretsUnavailable(Exception):  # noqa: N818
    """The accepted secrets could not be read. Before any list was read → 503, never 401: the
    caller may be legitimate; afterwards the last list read decides."""


def parse_secret_list(value: Any) -> list[str]:
    """A JSON list of strings (``["new", "old"]``); a single string is accepted as a list of one."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise SecretsUnavailable("webhook secret is not valid JSON") from None
        else:
            return [text] if text else []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise SecretsUnavailable("webhook secret must be a JSON list of strings")
    return [s for s in value if s]


class SecretsManagerSecrets:
    """Accepted secrets from Secrets Manager via Powertools Parameters (cached ``max_age`` seconds)."""

    def __init__(
        self, secret_arn: str, *, max_age: int = SECRETS_MAX_AGE_S, provider: SecretsProvider | None = None
    ) -> None:
        self.secret_arn = secret_arn
        self.max_age = max_age
        self._provider = provider

    @property
    def provider(self) -> SecretsProvider:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415 - boto3 on first use (cold start)

            self._provider = SecretsProvider()
        return self._provider

    def secrets(self, *, refresh: bool = False) -> list[str]:
        try:
            raw = self.provider.get(self.secret_arn, max_age=self.max_age, force_fetch=refresh)
        except Exception as exc:
            raise SecretsUnavailable(type(exc).__name__) from None
        secrets = parse_secret_list(raw)
        for secret in secrets:
            register_secret(secret)  # masked in every log line from now on
        return secrets


class StaticSecrets:
    """Fixed secrets (local stack, tests)."""

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = list(secrets)
        self.fetches = 0

    def secrets(self, *, refresh: bool = False) -> list[str]:
        self.fetches += 1
        return list(self._secrets)


class EventQueue(Protocol):
    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        """Queue one message durably; returns its message id. Raises when it was not accepted."""
        ...


class SqsEventQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3  # noqa: PLC0415 - boto3 on first use (cold start)

            self._client = boto3.client("sqs")
        return self._client

    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        response = self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
                if value
            },
        )
        return response["MessageId"]


# --- the receiver --------------------------------------------------------------------------------


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
    """Everything after authentication that decides 200 vs 4xx (shared with quarantine replay)."""
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


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    lower = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == lower:
            return value
    return None


class WebhookReceiver:
    def __init__(
        self,
        *,
        secrets: SecretSource,
        queue: EventQueue,
        quarantine: QuarantineStore,
        secret_header: str = DEFAULT_SECRET_HEADER,
        max_body_bytes: int = 256 * 1024,
        metrics: MetricsSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        secret_refresh_interval_s: float = SECRET_REFRESH_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_source = secrets
        self.queue = queue
        self.quarantine = quarantine
        self.secret_header = secret_header
        self.max_body_bytes = max_body_bytes
        self.metrics: MetricsSink = metrics or NoMetrics()
        self._now = clock
        self.secret_refresh_interval_s = secret_refresh_interval_s
        self._monotonic = monotonic
        self._last_refresh: float | None = None
        self._last_secrets: list[str] | None = None
        self._refresh_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, metrics: MetricsSink | None = None) -> WebhookReceiver:
        settings.require("webhook_secrets_arn", "event_queue_url", "quarantine_bucket")
        assert settings.webhook_secrets_arn and settings.event_queue_url
        return cls(
            secrets=SecretsManagerSecrets(settings.webhook_secrets_arn),
            queue=SqsEventQueue(settings.event_queue_url),
            quarantine=quarantine_store_from_settings(settings),
            secret_header=settings.webhook_secret_header,
            max_body_bytes=settings.webhook_max_body_bytes,
            metrics=metrics,
        )

    def authenticate(self, headers: Mapping[str, str] | None) -> bool:
        """Constant-time compare against every accepted secret; on a miss re-read the list, at most
        once per refresh interval. Raises :class:`SecretsUnavailable` only when no list can be read."""
        provided = header_value(headers, self.secret_header)
        if not provided:
            return False
        try:
            secrets = self._last_secrets = self.secret_source.secrets()
        except SecretsUnavailable as exc:
            if self._last_secrets is None:
                raise
            logger.warning("webhook secrets unavailable, using the last list read", extra={"error": str(exc)})
            return self._matches(provided, self._last_secrets)
        if self._matches(provided, secrets):
            return True
        refreshed = self._refreshed_secrets()
        return refreshed is not None and self._matches(provided, refreshed)

    def _refreshed_secrets(self) -> list[str] | None:
        """The re-read list, or ``None`` when rate-limited, another caller is re-reading, or it failed."""
        if not self._refresh_lock.acquire(blocking=False):
            return None
        try:
            now = self._monotonic()
            if self._last_refresh is not None and now - self._last_refresh < self.secret_refresh_interval_s:
                return None
            self._last_refresh = now  # a failed re-read counts too: no retry storm against Secrets Manager
            try:
                self._last_secrets = self.secret_source.secrets(refresh=True)
                return self._last_secrets
            except SecretsUnavailable as exc:
                # The cached list just answered: the caller is unauthenticated (401), not us broken.
                logger.warning("webhook secret refresh failed", extra={"error": str(exc)})
                return None
        finally:
            self._refresh_lock.release()

    @staticmethod
    def _matches(provided: str, secrets: list[str]) -> bool:
        candidate = provided.encode()
        matched = False
        for secret in secrets:  # no early exit: timing does not reveal which secret matched
            matched |= hmac.compare_digest(candidate, secret.encode())
        return matched

    def receive(self, event_type: str, headers: Mapping[str, str] | None, body: bytes) -> ReceiverResponse:
        try:
            authentic = self.authenticate(headers)
        except SecretsUnavailable as exc:
            logger.error("webhook secrets unavailable", extra={"error": str(exc)})
            return UNAVAILABLE
        if not authentic:
            self.metrics.add_metric(name=WEBHOOKS_UNAUTHORIZED, unit="Count", value=1)
            return UNAUTHORIZED
        self.metrics.add_metric(name=WEBHOOKS_RECEIVED, unit="Count", value=1)

        verdict = validate_webhook(event_type, body, max_body_bytes=self.max_body_bytes)
        if isinstance(verdict, Rejected):
            return self._reject(event_type, headers, body, verdict)

        event = verdict.event
        envelope = {
            "event_type": event.event_type,
            "body": verdict.payload,
            "received_at": self._now().isoformat().replace("+00:00", "Z"),
        }
        attributes = {
            "event_type": event.event_type,
            "entity": event.entity,
            "entity_key": event.entity_key(),
        }
        try:
            message_id = self.queue.send(json.dumps(envelope, separators=(",", ":")), attributes)
        except Exception as exc:
            logger.error(
                "enqueue failed", extra={"event_type": event.event_type, "error": type(exc).__name__}
            )
            return UNAVAILABLE
        self.metrics.add_metric(name=EVENTS_ENQUEUED, unit="Count", value=1)
        logger.info(
            "event queued",
            extra={"event_type": event.event_type, "entity": event.entity, "sqs_message_id": message_id},
        )
        return ReceiverResponse(200, QueuedResponse(message_id=message_id).model_dump())

    def _reject(
        self, event_type: str, headers: Mapping[str, str] | None, body: bytes, rejected: Rejected
    ) -> ReceiverResponse:
        metadata = {
            "event_type": event_type[:200],
            "status": rejected.status,
            "reason_code": rejected.reason,
            "errors": rejected.body.get("errors", []),
            "headers": scrub_headers(headers, [self.secret_header]),
        }
        try:
            key = self.quarantine.put("webhook", rejected.body["message"], body, metadata=metadata)
        except Exception as exc:
            # Not kept → not answered 4xx: Norce retries and the payload is not lost.
            logger.error("quarantine failed", extra={"reason": rejected.reason, "error": type(exc).__name__})
            return UNAVAILABLE
        self.metrics.add_metric(name=WEBHOOKS_REJECTED, unit="Count", value=1)
        logger.warning(
            "webhook rejected",
            extra={"event_type": event_type[:200], "reason": rejected.reason, "quarantine_key": key},
        )
        return ReceiverResponse(rejected.status, rejected.body)


# --- API Gateway ------------------------------------------------------------------------------------

_RESPONSES: dict[int, Any] = {
    200: {
        "description": "Queued: Norce may forget the event.",
        "content": {"application/json": {"model": QueuedResponse}},
    },
    400: {
        "description": "Body is not JSON, not an object, or fails the event's payload model (quarantined).",
        "content": {"application/json": {"model": ValidationErrorResponse}},
    },
    401: {
        "description": "Secret header missing or wrong. Nothing is kept.",
        "content": {"application/json": {"model": ErrorResponse}},
    },
    404: {
        "description": "Unknown event type (quarantined).",
        "content": {"application/json": {"model": ErrorResponse}},
    },
    413: {
        "description": "Body larger than WEBHOOK_MAX_BODY_BYTES (quarantined).",
        "content": {"application/json": {"model": ErrorResponse}},
    },
    503: {
        "description": "Queue (or quarantine/secrets) unavailable: retry later.",
        "content": {"application/json": {"model": ErrorResponse}},
    },
}

SECURITY_SCHEME = "norceWebhookSecret"


def request_body(event: Any) -> bytes:
    """The raw body of an API Gateway proxy event (base64-decoded when ``isBase64Encoded``)."""
    body = event.get("body") if isinstance(event, Mapping) else None
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()


def build_resolver(receiver: Callable[[], WebhookReceiver]) -> APIGatewayRestResolver:
    """The Powertools resolver: one route, ``receiver`` is called per request (created lazily)."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post(
        ROUTE,
        summary="Receive a Norce Commerce event (webhook)",
        description=(
            "Norce posts the event payload; the path names the event type "
            f"({', '.join(sorted(EVENT_MODELS))}). Answered after the event is durably queued."
        ),
        operation_id="receiveNorceEvent",
        tags=["webhooks"],
        responses=_RESPONSES,
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
