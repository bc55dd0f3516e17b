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

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from norcekit.envelope import QueueEnvelope, message_attributes
from norcekit.events.queue import EventQueue, SqsEventQueue
from norcekit.events.validation import Accepted, Rejected, RejectReason, validate_webhook
from norcekit.events.webhook_api import (
    SECURITY_SCHEME,
    UNAUTHORIZED,
    UNAVAILABLE,
    QueuedResponse,
    ReceiverResponse,
    build_resolver,
    request_body,
)
from norcekit.events.webhook_auth import (
    DEFAULT_SECRET_HEADER,
    SECRET_REFRESH_INTERVAL_S,
    SecretsManagerSecrets,
    SecretSource,
    SecretsUnavailable,
    StaticSecrets,
    WebhookAuthenticator,
    header_value,
    parse_secret_list,
)
from norcekit.observability import MetricName, MetricsSink, NoMetrics
from norcekit.quarantine import QuarantineStore, quarantine_store_from_settings, scrub_headers

if TYPE_CHECKING:
    from norcekit.settings import Settings

__all__ = [
    "DEFAULT_SECRET_HEADER",
    "SECURITY_SCHEME",
    "Accepted",
    "EventQueue",
    "RejectReason",
    "Rejected",
    "SecretSource",
    "SecretsManagerSecrets",
    "SecretsUnavailable",
    "SqsEventQueue",
    "StaticSecrets",
    "WebhookReceiver",
    "build_resolver",
    "header_value",
    "parse_secret_list",
    "request_body",
    "validate_webhook",
]

logger = Logger(service="norcekit", child=True)

WEBHOOKS_RECEIVED = MetricName.WEBHOOKS_RECEIVED.value
WEBHOOKS_UNAUTHORIZED = MetricName.WEBHOOKS_UNAUTHORIZED.value
WEBHOOKS_REJECTED = MetricName.WEBHOOKS_REJECTED.value
EVENTS_ENQUEUED = MetricName.EVENTS_ENQUEUED.value


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
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.auth = WebhookAuthenticator(
            secrets,
            header=secret_header,
            refresh_interval_s=secret_refresh_interval_s,
            **({"monotonic": monotonic} if monotonic is not None else {}),
        )
        self.queue = queue
        self.quarantine = quarantine
        self.secret_header = secret_header
        self.max_body_bytes = max_body_bytes
        self.metrics: MetricsSink = metrics or NoMetrics()
        self._now = clock

    @property
    def secret_source(self) -> SecretSource:
        return self.auth.source

    @secret_source.setter
    def secret_source(self, source: SecretSource) -> None:
        self.auth.source = source

    @property
    def secret_refresh_interval_s(self) -> float:
        return self.auth.refresh_interval_s

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
        return self.auth.authenticate(headers)

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
        envelope = QueueEnvelope.inline(event.event_type, verdict.payload, received_at=self._now())
        attributes = message_attributes(event.event_type, event.entity, event.entity_key())
        try:
            message_id = self.queue.send(envelope.to_message(), attributes)
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
