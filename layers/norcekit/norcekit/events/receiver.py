"""The webhook receiver: authenticate, validate, store — fast, and without losing anything.

``POST /events/{EventType}`` (the route names the type: Norce payloads don't, DESIGN rule 8).
Norce retries any non-2xx for about 22 hours, so the answer says only whether the payload is
*stored*, never whether it is good (DESIGN rule 9):

1. **Auth first** (:mod:`norcekit.events.webhook_auth`). Missing/wrong secret → ``401
   {"message": "Unauthorized"}``; nothing of the request is kept, queued or echoed, and nothing
   else (size, type, body) is looked at. 503 only when no secret list could ever be read.
2. **Valid** (:mod:`norcekit.events.validation`: known type, strict JSON, payload model) → one
   queue envelope (:mod:`norcekit.envelope`), compact UTF-8, bounded attributes; a payload too large
   for the queue goes to the claim store and the envelope points at it. ``200 {"status":
   "queued", "message_id"}`` once SQS accepted it.
3. **Authentic but unusable** (unknown type, malformed, invalid, too large) — or valid but the queue
   refused it — → quarantined under a hash of event type and body (Norce's retries store it
   once), ``202 {"status": "quarantined", ...}``. ``norcekit quarantine replay`` queues it later.
4. **5xx only when neither store accepted the payload**: Norce retries, nothing is lost.

No Query call and no httpx here: this module is on the Lambda's cold-start path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from norcekit.envelope import DEFAULT_MAX_MESSAGE_BYTES, QueueEnvelope, message_attributes
from norcekit.events.claims import ClaimStore
from norcekit.events.queue import EventQueue, SqsEventQueue, send_envelope
from norcekit.events.validation import (
    DEFAULT_MAX_BODY_BYTES,
    Accepted,
    Rejected,
    RejectReason,
    validate_webhook,
)
from norcekit.events.webhook_api import (
    SECURITY_SCHEME,
    UNAUTHORIZED,
    UNAVAILABLE,
    QuarantinedResponse,
    QueuedResponse,
    ReceiverResponse,
    build_resolver,
    dispatch,
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
from norcekit.quarantine import QuarantineStore, scrub_headers

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
    "dispatch",
    "header_value",
    "parse_secret_list",
    "request_body",
    "validate_webhook",
    "webhook_content_key",
]

logger = Logger(service="norcekit", child=True)

WEBHOOKS_RECEIVED = MetricName.WEBHOOKS_RECEIVED.value
WEBHOOKS_UNAUTHORIZED = MetricName.WEBHOOKS_UNAUTHORIZED.value
WEBHOOKS_REJECTED = MetricName.WEBHOOKS_REJECTED.value
EVENTS_ENQUEUED = MetricName.EVENTS_ENQUEUED.value
WEBHOOKS_UNKNOWN_TYPE = MetricName.WEBHOOKS_UNKNOWN_TYPE.value
EVENTS_CLAIM_CHECKED = MetricName.EVENTS_CLAIM_CHECKED.value


class WebhookReceiver:
    def __init__(
        self,
        *,
        secrets: SecretSource,
        queue: EventQueue,
        quarantine: QuarantineStore,
        secret_header: str = DEFAULT_SECRET_HEADER,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        metrics: MetricsSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        secret_refresh_interval_s: float = SECRET_REFRESH_INTERVAL_S,
        monotonic: Callable[[], float] | None = None,
        claims: ClaimStore | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
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
        self.claims = claims
        #: The queue's MaximumMessageSize: larger envelopes go through the claim store.
        self.max_message_bytes = max_message_bytes

    @property
    def secret_source(self) -> SecretSource:
        return self.auth.source

    @secret_source.setter
    def secret_source(self, source: SecretSource) -> None:
        self.auth.source = source

    @property
    def secret_refresh_interval_s(self) -> float:
        return self.auth.refresh_interval_s

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
            if verdict.reason == "unknown_event_type":
                self.metrics.add_metric(name=WEBHOOKS_UNKNOWN_TYPE, unit="Count", value=1)
            return self._quarantine(event_type, headers, body, verdict)
        try:
            message_id = self._enqueue(verdict)
        except Exception as exc:
            # The queue refused it (down, or a permanent refusal): keep it where replay finds it.
            logger.error(
                "enqueue failed", extra={"event_type": verdict.event.event_type, "error": type(exc).__name__}
            )
            refusal = Rejected("enqueue_failed", f"Queue refused the event ({type(exc).__name__})")
            return self._quarantine(event_type, headers, body, refusal)
        self.metrics.add_metric(name=EVENTS_ENQUEUED, unit="Count", value=1)
        return ReceiverResponse(200, QueuedResponse(message_id=message_id).model_dump())

    def _enqueue(self, accepted: Accepted) -> str:
        event = accepted.event
        envelope = QueueEnvelope.inline(event.event_type, accepted.payload, received_at=self._now())
        attributes = message_attributes(event.event_type, event.entity, event.entity_key())
        message_id, claim_checked = send_envelope(
            self.queue, envelope, attributes, claims=self.claims, max_message_bytes=self.max_message_bytes
        )
        if claim_checked:
            self.metrics.add_metric(name=EVENTS_CLAIM_CHECKED, unit="Count", value=1)
        logger.info(
            "event queued",
            extra={"event_type": event.event_type, "entity": event.entity, "sqs_message_id": message_id},
        )
        return message_id

    def _quarantine(
        self, event_type: str, headers: Mapping[str, str] | None, body: bytes, rejected: Rejected
    ) -> ReceiverResponse:
        metadata = {
            "event_type": event_type[:200],
            "reason_code": rejected.reason,
            "errors": rejected.errors[:50],
            "headers": scrub_headers(headers, [self.secret_header]),
        }
        try:
            key = self.quarantine.put(
                "webhook",
                rejected.message,
                body,
                metadata=metadata,
                content_key=webhook_content_key(event_type, body),
            )
        except Exception as exc:
            # Stored nowhere → 5xx: Norce retries and the payload is not lost.
            logger.error("quarantine failed", extra={"reason": rejected.reason, "error": type(exc).__name__})
            return UNAVAILABLE
        self.metrics.add_metric(name=WEBHOOKS_REJECTED, unit="Count", value=1)
        logger.warning(
            "webhook quarantined",
            extra={"event_type": event_type[:200], "reason": rejected.reason, "quarantine_key": key},
        )
        answer = QuarantinedResponse(reason=rejected.reason, message=rejected.message, errors=rejected.errors)
        return ReceiverResponse(202, answer.model_dump())


def webhook_content_key(event_type: str, body: bytes) -> str:
    """Quarantine key of a webhook: the same event type and body (a Norce retry) give the same key."""
    digest = hashlib.sha256(event_type.encode("utf-8", "surrogatepass"))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()
