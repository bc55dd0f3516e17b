"""The webhook receiver wired to Secrets Manager, SQS and the quarantine bucket.

Kept apart from the rest of the wiring on purpose: the receiver's cold start must not import httpx
or the Norce clients (Norce abandons a webhook after 5 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from norcekit.events.claims import S3ClaimStore
from norcekit.events.receiver import SecretsManagerSecrets, SqsEventQueue, WebhookReceiver

if TYPE_CHECKING:
    from norcekit.observability import MetricsSink
    from norcekit.quarantine import QuarantineStore
    from norcekit.settings import Settings
    from norcekit.wiring.aws import AwsClients


def build_webhook_receiver(
    settings: Settings, *, aws: AwsClients, quarantine: QuarantineStore, metrics: MetricsSink | None = None
) -> WebhookReceiver:
    settings.require("webhook_secrets_arn", "event_queue_url", "quarantine_bucket")
    assert settings.webhook_secrets_arn and settings.event_queue_url and settings.quarantine_bucket
    return WebhookReceiver(
        secrets=SecretsManagerSecrets(settings.webhook_secrets_arn, provider=aws.secrets_provider()),
        queue=SqsEventQueue(settings.event_queue_url, client=aws.sqs()),
        quarantine=quarantine,
        secret_header=settings.webhook_secret_header,
        max_body_bytes=settings.webhook_max_body_bytes,
        metrics=metrics,
        # Payloads too large for the queue: stored beside the quarantine, pointer on the queue
        # (rare: the S3 client is created on the first one, not on the first request).
        claims=S3ClaimStore(settings.quarantine_bucket, client=aws.s3_on_first_use()),
        max_message_bytes=settings.event_queue_max_message_bytes,
    )


__all__ = ["build_webhook_receiver"]
