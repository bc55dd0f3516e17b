"""Quarantine replay, and the local webhook front / sink / handler loader."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from norcekit.events.replay import replay
from norcekit.quarantine import LocalQuarantineStore
from norcekit_local.handlers import FakeLambdaContext, load_handler
from norcekit_local.sink import HttpSink
from norcekit_local.webhook_front import WebhookFront, apigw_rest_event

ROOT = Path(__file__).resolve().parents[3]


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], dict[str, str]]] = []

    def send(self, body: str, attributes: Any) -> str:
        self.sent.append((json.loads(body), dict(attributes)))
        return f"msg-{len(self.sent)}"


def test_replay_queues_what_is_now_valid_and_keeps_what_is_not(tmp_path: Path) -> None:
    store = LocalQuarantineStore(tmp_path)
    fixed = store.put(
        "webhook",
        "Unknown event type",
        b'{"ClientId": 1, "PartNo": "A", "EntityChanged": "tClientProductSku"}',
        metadata={"event_type": "skuchangednotification"},  # Norce's kit lower-cases names
    )
    broken = store.put(
        "webhook", "Invalid", b'{"ClientId": 1}', metadata={"event_type": "SkuChangedNotification"}
    )
    queue = FakeQueue()

    results = {r.key: r for r in replay(store, queue)}

    assert results[fixed].outcome == "queued"
    assert results[broken].outcome == "invalid" and "PartNo" in results[broken].detail
    [(envelope, attributes)] = queue.sent
    assert envelope["event_type"] == "SkuChangedNotification" and envelope["body"]["PartNo"] == "A"
    assert attributes["entity_key"] == "A"
    assert [i.key for i in store.list("webhook")] == [broken]  # still pending
    assert len(store.list("webhook", replayed=True)) == 1


def test_apigw_event_shape_matches_the_committed_samples() -> None:
    sample = json.loads((ROOT / "events/webhook_receiver/SkuChangedNotification.json").read_text())
    built = apigw_rest_event(
        "POST", "/events/SkuChangedNotification", sample["headers"], sample["body"].encode()
    )
    assert set(built) == set(sample)
    assert set(built["requestContext"]) == set(sample["requestContext"])
    assert built["resource"] == "/events/{EventType}"
    assert built["pathParameters"] == {"EventType": "SkuChangedNotification"}


def test_webhook_front_turns_requests_into_proxy_events() -> None:
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 202, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}

    with WebhookFront(handler) as front:
        response = httpx.post(
            f"{front.webhook_url}/SkuChangedNotification?x=1", content=b"\xff\xfe", headers={"X-A": "b"}
        )

    assert (response.status_code, response.json()) == (202, {"ok": True})
    [event] = seen
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\xfe"
    assert event["pathParameters"] == {"EventType": "SkuChangedNotification"}
    assert event["headers"]["X-A"] == "b" and event["multiValueHeaders"]["X-A"] == ["b"]
    assert event["queryStringParameters"] == {"x": "1"}


def test_sink_records_stores_and_fails_on_request(tmp_path: Path) -> None:
    with HttpSink(tmp_path) as sink:
        sink.fail_next(1, 503)
        sink.fail_key("BAD", 400)
        doc = {"entity": "sku", "key": "A/1", "data": {}}
        assert httpx.post(f"{sink.url}/docs", json=doc).status_code == 503
        assert httpx.post(f"{sink.url}/docs", json=doc).status_code == 200
        assert httpx.post(f"{sink.url}/docs", json={"entity": "sku", "key": "BAD"}).status_code == 400
        assert httpx.post(f"{sink.url}/_sink/fail", json={"next": 1, "status": 500}).status_code == 200
        assert httpx.post(f"{sink.url}/docs", json=doc).status_code == 500
        assert [r["status"] for r in httpx.get(f"{sink.url}/_sink/received").json()] == [503, 200, 400, 500]
    assert json.loads((tmp_path / "http" / "sku" / "A%2F1.json").read_text()) == doc


def test_load_handler_loads_each_function_by_path() -> None:
    receiver = load_handler("webhook_receiver", fresh=True)
    processor = load_handler("event_processor", fresh=True)
    assert receiver.__module__ != processor.__module__
    with pytest.raises(FileNotFoundError):
        load_handler("no_such_function")
    assert FakeLambdaContext(timeout_s=10).get_remaining_time_in_millis() <= 10_000
