"""End to end with faults: every accepted webhook is accounted for, and no secret reaches a log line.

The local stack runs in-process: moto server, the Norce emulator, the webhook front (real receiver
handler), an SQS consumer (real processor handler) and the HTTP sink. Norce (the emulator) sends
webhooks for catalog changes; its Query API fails 20% of the time; the sink refuses some requests
(503 now and then, and one SKU always — that one must end in the DLQ). Some authentic-but-invalid
and some unauthenticated webhooks are mixed in.

Accounting: each webhook answered 200 carries an SQS message id; every such id is either processed
successfully (deleted) or in the DLQ — none lost, none counted twice; every authenticated rejection
is one quarantined object; unauthenticated requests leave nothing.

Secrets: the whole run's output (stdout/stderr of this process — Powertools loggers write JSON to
stdout — and the ``logging`` records) is searched for the Norce client secret, every access token
the emulator issued, the webhook secret and the HTTP target's credential.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.reliability.support import FAULTS_20, fault_counts

from norcekit.observability import clear_secrets
from norcekit.settings import reset_settings_cache
from norcekit_local.consumer import SqsConsumer
from norcekit_local.handlers import load_handler_with
from norcekit_local.resources import LOCAL_NORCE_CLIENT_SECRET, LOCAL_WEBHOOK_SECRET
from norcekit_local.sink import SinkService
from norcekit_local.stack import LocalStack
from norcekit_local.webhook_front import WebhookFrontService

pytestmark = pytest.mark.integration

TARGET_CREDENTIAL = "target-credential-for-reliability-0001"
REFUSED_SKU = "ACC-3"  # the sink always answers 400 for it → DLQ
SKUS = [f"ACC-{n}" for n in range(12)]


class RecordingConsumer:
    """Local-stack service: the SQS consumer, recording which message ids were processed."""

    name = "recording_consumer"

    def __init__(self) -> None:
        self.succeeded: set[str] = set()
        self.failed_receives = 0
        self.consumer: SqsConsumer | None = None

    def start(self, stack: LocalStack) -> dict[str, Any]:
        real = load_handler_with("event_processor", stack.components)

        def handler(event: dict[str, Any], context: Any) -> Any:
            result = real(event, context)
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            ids = {r["messageId"] for r in event["Records"]}
            self.succeeded |= ids - failed
            self.failed_receives += len(failed)
            return result

        self.consumer = SqsConsumer(
            stack.info["queue_url"], sqs=stack.moto.client("sqs"), handler=handler,
            retry_visibility_s=0, wait_time_s=1,
        ).start()  # fmt: skip
        return {}

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[LocalStack, SinkService, RecordingConsumer]]:
    config = tmp_path / "norcekit.yaml"
    config.write_text("events: {}\n")  # written for real once the target secret's ARN is known
    saved = dict(os.environ)
    sink, consumer = SinkService(), RecordingConsumer()
    try:
        with LocalStack(
            root=tmp_path / "local",
            sample_data=False,
            parameters={"NorcekitConfig": str(config), "EventMaxReceiveCount": "5"},
            emulator_overrides={"event_retry_scale": 0.0005, "job_delay": 0.01},
            services=[sink, WebhookFrontService()],
        ) as running:
            arn = running.info["target_credentials_secret_arn"]
            running.moto.client("secretsmanager").put_secret_value(
                SecretId=arn, SecretString=json.dumps({"token": TARGET_CREDENTIAL})
            )
            config.write_text(
                "events:\n"
                "  routes: {'*': [shop, archive]}\n"
                "  targets:\n"
                f"    shop: {{type: http, url: '{sink.sink.url}/docs', backoff_s: 0.01, max_attempts: 2,"  # type: ignore[union-attr]
                f" credentials_secret_arn: '{arn}'}}\n"
                f"    archive: {{type: s3, bucket: '{running.info['bucket']}', prefix: targets/}}\n"
            )
            consumer.start(running)
            try:
                yield running, sink, consumer
            finally:
                consumer.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings_cache()
        clear_secrets()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out: {what}")


def test_every_accepted_webhook_is_delivered_quarantined_or_dead_lettered_and_no_secret_is_logged(
    stack: tuple[LocalStack, SinkService, RecordingConsumer],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    figures: dict[str, Any],
) -> None:
    # INFO everywhere, DEBUG for norcekit: what an operator would switch on. (botocore's own DEBUG
    # logging prints whole responses, GetSecretValue included — never enable it in production.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="norcekit")
    local, sink_service, consumer = stack
    sink = sink_service.sink
    assert sink is not None
    emulator = local.emulator
    front_service = next(s for s in local.services if isinstance(s, WebhookFrontService))
    front = front_service.front
    assert front is not None
    info = local.info

    # Record the SQS message id of every webhook the receiver answered 200.
    accepted_ids: set[str] = set()
    receiver = front.handler

    def recording(event: dict[str, Any], context: Any) -> Any:
        result = receiver(event, context)
        if result.get("statusCode") == 200:
            accepted_ids.add(json.loads(result["body"])["message_id"])
        return result

    front._handler = recording
    emulator.seed(skus=[{"PartNo": p, "Status": 1} for p in SKUS])
    emulator.set_faults({"query": FAULTS_20}, seed=7)
    sink.fail_key(REFUSED_SKU, 400)
    sink.fail_next(4, 503)

    # Catalog changes in Norce → webhooks (some SKUs change twice: coalesced or processed twice).
    for round_ in range(2):
        for n, part_no in enumerate(SKUS):
            if round_ == 0 or n % 3 == 0:
                emulator.mutate("skus", {"PartNo": part_no}, set={"EanCode": f"7350{round_}{n:08d}"})
    # Authentic but invalid (quarantined) and unauthenticated (nothing kept) requests.
    header = info["webhook_secret_header"]
    authentic = {header: LOCAL_WEBHOOK_SECRET}
    with httpx.Client(base_url=front.base_url, timeout=90) as client:
        invalid = [
            client.post("/events/SkuChangedNotification", content=b'{"PartNo": ', headers=authentic),
            client.post("/events/NoSuchEvent", json={"PartNo": "X"}, headers=authentic),
            client.post("/events/SkuChangedNotification", json={"PartNo": 1}, headers=authentic),
        ]
        forged = [
            client.post(
                "/events/SkuChangedNotification",
                json={"ClientId": 1, "PartNo": "ACC-1", "EntityChanged": "x"},
                headers={header: "guess"},
            ),
            client.post(
                "/events/SkuChangedNotification",
                json={"ClientId": 1, "PartNo": "ACC-1", "EntityChanged": "x"},
            ),
        ]
    # Authentic: answered 2xx once stored (Norce would retry a 4xx for ~22 h), and quarantined.
    assert [r.status_code for r in invalid] == [202, 202, 202]
    assert [r.json()["reason"] for r in invalid] == ["invalid_json", "unknown_event_type", "invalid_payload"]
    assert [r.status_code for r in forged] == [401, 401]

    sku_events = len(emulator.emitted_events("SkuChangedNotification"))
    emulator.wait_for_deliveries(sku_events, event_type="SkuChangedNotification", timeout=60)
    sqs = local.moto.client("sqs")

    def drained() -> bool:
        attributes = sqs.get_queue_attributes(
            QueueUrl=info["queue_url"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values()) == 0

    _wait(drained, 90, "the event queue to drain (deliveries or DLQ)")

    # --- accounting ---------------------------------------------------------------------------------
    accepted = front.responses.count(200)
    dead: set[str] = set()
    while True:
        batch = sqs.receive_message(QueueUrl=info["dlq_url"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = batch.get("Messages", [])
        if not messages:
            break
        dead |= {m["MessageId"] for m in messages}
    s3 = local.moto.client("s3")
    quarantined = s3.list_objects_v2(Bucket=info["bucket"], Prefix="quarantine/").get("KeyCount", 0)
    delivered = consumer.succeeded
    assert not (delivered & dead), "a message both succeeded and dead-lettered"
    assert accepted_ids == delivered | dead, "an accepted webhook is neither delivered nor in the DLQ"
    assert accepted == len(accepted_ids) == len(delivered) + len(dead), (accepted, len(delivered), len(dead))
    assert quarantined == len(invalid)
    assert dead, "the SKU the target refuses must end in the DLQ"
    dead_keys = {REFUSED_SKU}
    # Every other SKU's current state reached both targets.
    for part_no in set(SKUS) - dead_keys:
        docs = sink.accepted_docs(part_no)
        assert docs and docs[-1]["data"]["EanCode"] == emulator.sku(part_no)["EanCode"], part_no
        key = f"targets/sku/{part_no}.json"
        stored = json.loads(s3.get_object(Bucket=info["bucket"], Key=key)["Body"].read())
        assert stored["data"]["EanCode"] == emulator.sku(part_no)["EanCode"]
    assert not sink.accepted_docs(REFUSED_SKU)

    # --- secrets --------------------------------------------------------------------------------
    tokens = emulator.issued_tokens()
    assert emulator.tokens_issued >= 1 and tokens
    assert any(TARGET_CREDENTIAL in (r.headers.get("Authorization") or "") for r in sink.received)
    out, err = capfd.readouterr()
    logged = "\n".join([out, err, caplog.text, *(r.getMessage() for r in caplog.records)])
    assert len(logged) > 10_000, "the run must have logged something to search"
    for name, value in {
        "norce client secret": LOCAL_NORCE_CLIENT_SECRET,
        "webhook secret": LOCAL_WEBHOOK_SECRET,
        "target credential": TARGET_CREDENTIAL,
        **{f"access token {n}": token for n, token in enumerate(tokens)},
    }.items():
        assert value not in logged, f"{name} appears in a log line"

    figures.update({
        "webhooks_sent_by_norce": sum(len(d["Attempts"]) for d in emulator.deliveries()),
        "webhooks_accepted": accepted,
        "processed_ok": len(delivered),
        "dead_lettered": len(dead),
        "quarantined": quarantined,
        "unauthenticated_refused": len(forged),
        "processor_failed_receives": consumer.failed_receives,
        "faults_injected": fault_counts(emulator),
        "sink_refusals": sum(1 for r in sink.received if r.status >= 400),
        "log_bytes_searched": len(logged),
        "secrets_checked": 3 + len(tokens),
    })  # fmt: skip
