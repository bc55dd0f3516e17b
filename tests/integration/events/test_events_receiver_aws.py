"""The real webhook_receiver handler against moto: Secrets Manager, SQS and the S3 quarantine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from tests.fixtures.aws import moto_quarantine
from tests.integration.events.conftest import REGION, WEBHOOK_SECRET

from norcekit.events.receiver import SecretsManagerSecrets, SqsEventQueue, WebhookReceiver, build_resolver
from norcekit.settings import reset_settings_cache
from norcekit_local.handlers import FakeLambdaContext, load_handler

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[3] / "events" / "webhook_receiver"


def sample(name: str, secret: str | None = WEBHOOK_SECRET) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    if secret is not None and "X-Norce-Webhook-Secret" in event["headers"]:
        event["headers"]["X-Norce-Webhook-Secret"] = secret
        event["multiValueHeaders"]["X-Norce-Webhook-Secret"] = [secret]
    return event


@pytest.fixture
def handler(webhook_secret_arn: str, sqs_queues: Any, quarantine_bucket: str) -> Any:
    return load_handler("webhook_receiver", fresh=True)


def queued(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])


def bucket_keys(bucket: str) -> list[str]:
    return [
        o["Key"]
        for o in boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket).get("Contents", [])
    ]


def test_valid_event_is_queued_with_attributes(handler: Any, sqs_queues: Any) -> None:
    result = handler(sample("SkuChangedNotification"), FakeLambdaContext())

    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    [message] = queued(sqs_queues.queue_url)
    assert body == {"status": "queued", "message_id": message["MessageId"]}
    envelope = json.loads(message["Body"])
    assert envelope["event_type"] == "SkuChangedNotification"
    assert envelope["body"]["PartNo"] == "100011"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"event_type": "SkuChangedNotification", "entity": "sku", "entity_key": "100011"}


@pytest.mark.parametrize("name", ["bad-secret", "missing-secret"])
def test_unauthorized_keeps_nothing(handler: Any, sqs_queues: Any, quarantine_bucket: str, name: str) -> None:
    result = handler(sample(name, secret=None), FakeLambdaContext())

    assert (result["statusCode"], json.loads(result["body"])) == (401, {"message": "Unauthorized"})
    assert queued(sqs_queues.queue_url) == []
    assert bucket_keys(quarantine_bucket) == []


@pytest.mark.parametrize(
    ("name", "status", "reason_code"),
    [
        ("bad-body-invalid-payload", 202, "invalid_payload"),
        ("bad-body-not-json", 202, "invalid_json"),
        ("unknown-event-type", 202, "unknown_event_type"),
    ],
)
def test_rejected_payloads_are_quarantined_in_s3(
    handler: Any, sqs_queues: Any, quarantine_bucket: str, name: str, status: int, reason_code: str
) -> None:
    # Norce retries: three sends of one payload, three 2xx, one quarantined copy.
    results = [handler(sample(name), FakeLambdaContext()) for _ in range(3)]

    assert [r["statusCode"] for r in results] == [status] * 3
    assert queued(sqs_queues.queue_url) == []
    [item] = moto_quarantine(quarantine_bucket).list("webhook")
    assert item.metadata["reason_code"] == reason_code
    assert item.metadata["headers"]["X-Norce-Webhook-Secret"] == "***"
    assert WEBHOOK_SECRET not in json.dumps(item.model_dump(mode="json"))
    assert item.payload_bytes() == sample(name)["body"].encode()


def test_oversized_body_is_quarantined(
    handler: Any, sqs_queues: Any, quarantine_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "1024")
    reset_settings_cache()
    fresh = load_handler("webhook_receiver", fresh=True)
    event = sample("SkuChangedNotification")
    event["body"] = json.dumps({**json.loads(event["body"]), "Padding": "x" * 2000})

    assert fresh(event, FakeLambdaContext())["statusCode"] == 202
    [item] = moto_quarantine(quarantine_bucket).list("webhook")
    assert item.metadata["reason_code"] == "too_large"


def test_base64_encoded_body(handler: Any, sqs_queues: Any) -> None:
    assert handler(sample("base64-body"), FakeLambdaContext())["statusCode"] == 200
    [message] = queued(sqs_queues.queue_url)
    assert json.loads(message["Body"])["body"]["PartNo"] == "100011"


def test_queue_refusing_the_event_quarantines_it(
    handler: Any, sqs_queues: Any, quarantine_bucket: str
) -> None:
    boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=sqs_queues.queue_url)

    result = handler(sample("SkuChangedNotification"), FakeLambdaContext())

    assert result["statusCode"] == 202
    [item] = moto_quarantine(quarantine_bucket).list("webhook")
    assert item.metadata["reason_code"] == "enqueue_failed"


def test_payload_beyond_the_queue_limit_is_claim_checked_in_s3(
    handler: Any, sqs_queues: Any, quarantine_bucket: str
) -> None:
    event = sample("SkuChangedNotification")
    payload = {**json.loads(event["body"]), "Description": "ö" * 200_000}  # 400 KB of UTF-8
    event["body"] = json.dumps(payload, ensure_ascii=False)

    assert handler(event, FakeLambdaContext())["statusCode"] == 200
    [message] = queued(sqs_queues.queue_url)
    envelope = json.loads(message["Body"])
    assert "body" not in envelope and envelope["body_ref"].startswith(f"s3://{quarantine_bucket}/claims/")
    assert len(message["Body"]) < 1024
    stored = (
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket=quarantine_bucket, Key=envelope["body_ref"].split("/", 3)[3])["Body"]
        .read()
    )
    assert json.loads(stored) == payload


def test_rotation_is_picked_up_with_one_forced_fetch(
    webhook_secret_arn: str, sqs_queues: Any, quarantine_bucket: str
) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    fetches: list[str] = []
    client.meta.events.register(
        "before-parameter-build.secrets-manager.GetSecretValue", lambda params, **kw: fetches.append("get")
    )
    now = [0.0]
    receiver = WebhookReceiver(
        secrets=SecretsManagerSecrets(webhook_secret_arn, provider=SecretsProvider(boto3_client=client)),
        queue=SqsEventQueue(sqs_queues.queue_url, client=boto3.client("sqs", region_name=REGION)),
        quarantine=moto_quarantine(quarantine_bucket),
        monotonic=lambda: now[0],
    )
    app = build_resolver(lambda: receiver)

    for _ in range(3):
        assert app.resolve(sample("SkuChangedNotification"), None)["statusCode"] == 200
    assert len(fetches) == 1  # cached for max_age

    client.put_secret_value(
        SecretId=webhook_secret_arn, SecretString=json.dumps(["rotated-secret", WEBHOOK_SECRET])
    )
    assert app.resolve(sample("SkuChangedNotification", secret="rotated-secret"), None)["statusCode"] == 200
    assert len(fetches) == 2  # the miss forced exactly one re-read
    assert app.resolve(sample("SkuChangedNotification", secret="rotated-secret"), None)["statusCode"] == 200
    assert len(fetches) == 2

    assert app.resolve(sample("SkuChangedNotification", secret="never-valid"), None)["statusCode"] == 401
    assert len(fetches) == 2  # forced re-reads are rate-limited: a guess right after costs nothing
    now[0] += receiver.secret_refresh_interval_s
    assert app.resolve(sample("SkuChangedNotification", secret="never-valid"), None)["statusCode"] == 401
    assert len(fetches) == 3


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("SkuStockChangedNotification", {"ClientId": 1234, "PartNo": "100011"}),
        (
            "SkuPriceChangedNotification",
            {
                "ClientId": 1234,
                "PartNo": "100011",
                "PricelistId": 1,
                "PriceSaleValue": 99.5,
                "QuantityBreak": 2.5,
            },
        ),
    ],
)
def test_documented_payloads_norce_sends_are_queued(
    handler: Any, sqs_queues: Any, event_type: str, payload: dict[str, Any]
) -> None:
    event = sample("SkuChangedNotification")
    event["path"], event["pathParameters"] = f"/events/{event_type}", {"EventType": event_type}
    event["body"] = json.dumps(payload)

    assert handler(event, FakeLambdaContext())["statusCode"] == 200
    [message] = queued(sqs_queues.queue_url)
    assert json.loads(message["Body"])["body"] == payload


def test_nan_body_is_quarantined_and_never_queued(
    handler: Any, sqs_queues: Any, quarantine_bucket: str
) -> None:
    event = sample("SkuChangedNotification")
    event["body"] = '{"ClientId": 1234, "PartNo": "100011", "EntityChanged": "tClientProductSku", "X": NaN}'

    assert handler(event, FakeLambdaContext())["statusCode"] == 202
    assert queued(sqs_queues.queue_url) == []  # nothing the processor could choke on (no DLQ)
    [item] = moto_quarantine(quarantine_bucket).list("webhook")
    assert item.metadata["reason_code"] == "invalid_json"
