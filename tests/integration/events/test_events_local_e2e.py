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
