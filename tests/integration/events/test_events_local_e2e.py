"""End to end on the local stack: a catalog change in the emulator → Norce's webhook POST → webhook
front (API Gateway stand-in) → receiver Lambda → SQS (moto server) → consumer → processor Lambda →
Query (emulator) → HTTP sink and S3."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from norcekit.settings import reset_settings_cache
from norcekit_local.consumer import EventConsumerService
from norcekit_local.sink import SinkService
from norcekit_local.stack import LocalStack
from norcekit_local.webhook_front import WebhookFrontService

pytestmark = pytest.mark.integration


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[LocalStack, SinkService]]:
    config = tmp_path / "norcekit.yaml"
    config.write_text(
        "events:\n"
        "  routes: {'*': [shop, archive]}\n"
        "  targets:\n"
        "    shop: {type: http, url: '${NORCEKIT_SINK_URL}/docs', backoff_s: 0.01}\n"
        "    archive: {type: s3, bucket: '${QUARANTINE_BUCKET}', prefix: targets/}\n"
    )
    # The services export the stack's environment into this process (the Lambdas run in-process):
    # restore it afterwards so later tests do not talk to a stopped moto server.
    saved = dict(os.environ)
    sink = SinkService()
    try:
        with LocalStack(
            root=tmp_path / "local",
            sample_data=False,
            parameters={"NorcekitConfig": str(config)},
            services=[sink, WebhookFrontService(), EventConsumerService(retry_visibility_s=0)],
        ) as running:
            yield running, sink
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings_cache()


def test_catalog_change_reaches_the_http_sink_and_s3(stack: tuple[LocalStack, SinkService]) -> None:
    local, sink_service = stack
    sink = sink_service.sink
    assert sink is not None
    info = json.loads(local.stack_file.read_text())
    assert info["webhook_url"].endswith("/events") and info["sink_url"] == sink.url
    assert info["webhook_secret_header"] == "X-Norce-Webhook-Secret" and info["webhook_secret"]

    local.emulator.seed(skus=[{"PartNo": "E2E-1", "Status": 1}])
    local.emulator.mutate("skus", {"PartNo": "E2E-1"}, set={"EanCode": "7350000000001"})

    [doc] = wait_for(lambda: sink.accepted_docs("E2E-1"))
    assert doc["entity"] == "sku" and doc["status"] == "current"
    assert doc["data"]["EanCode"] == "7350000000001"
    assert doc["event_types"] == ["SkuChangedNotification"]
    [delivery] = local.emulator.deliveries("SkuChangedNotification")
    assert delivery["State"] == "delivered" and delivery["Attempts"][-1]["Status"] == 200

    s3 = local.moto.client("s3")
    stored = wait_for(
        lambda: s3.list_objects_v2(Bucket=info["bucket"], Prefix="targets/sku/").get("Contents")
    )
    assert [o["Key"] for o in stored] == ["targets/sku/E2E-1.json"]
    body = json.loads(s3.get_object(Bucket=info["bucket"], Key="targets/sku/E2E-1.json")["Body"].read())
    assert body["idempotency_key"] == doc["idempotency_key"]
    assert (Path(info["root"]) / "out" / "http" / "sku" / "E2E-1.json").is_file()


def test_issue_13_done_when_against_the_local_stack(stack: tuple[LocalStack, SinkService]) -> None:
    """The receiver contract as Norce meets it through the webhook front (API Gateway stand-in):
    authentic but bad bodies are answered 2xx and quarantined once, never 5xx, never in the DLQ;
    documented payloads are queued; a valid SKU event still reaches the S3 target."""
    import httpx  # noqa: PLC0415 - only this test posts to the front directly

    local, _ = stack
    info = json.loads(local.stack_file.read_text())
    headers = {info["webhook_secret_header"]: info["webhook_secret"], "Content-Type": "application/json"}
    s3, sqs = local.moto.client("s3"), local.moto.client("sqs")

    def post(event_type: str, body: str) -> int:
        return httpx.post(f"{info['webhook_url']}/{event_type}", content=body, headers=headers).status_code

    def quarantined() -> list[str]:
        listing = s3.list_objects_v2(Bucket=info["bucket"], Prefix="quarantine/webhook/")
        return [o["Key"] for o in listing.get("Contents", [])]

    # Missing its key (PartNo), posted three times as Norce retries: 2xx each time, stored once.
    keyless = json.dumps({"ClientId": 1234, "EntityChanged": "tClientProductSku"})
    assert [post("SkuChangedNotification", keyless) for _ in range(3)] == [202, 202, 202]
    assert len(quarantined()) == 1
    # NaN in an authentic body: 2xx, quarantined (a second entry), never queued.
    nan_body = '{"ClientId": 1234, "PartNo": "NAN-1", "EntityChanged": "tClientProductSku", "X": NaN}'
    assert post("SkuChangedNotification", nan_body) == 202
    assert len(quarantined()) == 2
    # Nested 10,000 deep: no 5xx (quarantined as invalid).
    assert post("SkuChangedNotification", "[" * 10_000 + "]" * 10_000) < 500
    assert len(quarantined()) == 3
    # The compatibility kit's SkuStockChangedNotification and a documented QuantityBreak of 2.5: queued.
    stock = {"ClientId": 1234, "PartNo": "STOCK-1"}
    price = {
        "ClientId": 1234,
        "PartNo": "PRICE-1",
        "PricelistId": 1,
        "PriceSaleValue": 9.5,
        "QuantityBreak": 2.5,
    }
    assert post("SkuStockChangedNotification", json.dumps(stock)) == 200
    assert post("SkuPriceChangedNotification", json.dumps(price)) == 200
    assert len(quarantined()) == 3
    # A valid SKU event still reaches the S3 target.
    local.emulator.seed(skus=[{"PartNo": "DONE-1", "Status": 1}])
    valid = {"ClientId": 1234, "PartNo": "DONE-1", "EntityChanged": "tClientProductSku"}
    assert post("SkuChangedNotification", json.dumps(valid)) == 200
    wait_for(
        lambda: "Contents" in s3.list_objects_v2(Bucket=info["bucket"], Prefix="targets/sku/DONE-1.json")
    )
    body = json.loads(s3.get_object(Bucket=info["bucket"], Key="targets/sku/DONE-1.json")["Body"].read())
    assert body["data"]["PartNo"] == "DONE-1"
    # Every queued event was processed; nothing reached the DLQ.
    for name in ("STOCK-1", "PRICE-1"):
        wait_for(
            lambda name=name: (
                "Contents" in s3.list_objects_v2(Bucket=info["bucket"], Prefix=f"targets/sku/{name}")
            )
        )
    attributes = sqs.get_queue_attributes(
        QueueUrl=info["dlq_url"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
