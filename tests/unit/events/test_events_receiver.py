"""Webhook receiver through the Powertools resolver with API Gateway REST events (the sample files)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from norcekit.events.receiver import (
    SecretsManagerSecrets,
    SecretsUnavailable,
    StaticSecrets,
    WebhookReceiver,
    build_resolver,
    parse_secret_list,
)
from norcekit.norce.events import EVENT_MODELS
from norcekit.quarantine import LocalQuarantineStore

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "events" / "webhook_receiver"
SECRET = "local-webhook-secret"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


class FakeQueue:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.fail = fail

    def send(self, body: str, attributes: Any) -> str:
        if self.fail:
            raise ConnectionError("queue down")
        self.sent.append((json.loads(body), dict(attributes)))
        return f"msg-{len(self.sent)}"


class RotatingSecrets:
    """Secrets Manager stand-in: a cached value, and what a forced re-read would return."""

    def __init__(self, cached: list[str], current: list[str] | None = None) -> None:
        self.cached = cached
        self.current = current if current is not None else cached
        self.fetches: list[bool] = []

    def secrets(self, *, refresh: bool = False) -> list[str]:
        self.fetches.append(refresh)
        return self.current if refresh else self.cached


class Metrics:
    def __init__(self) -> None:
        self.names: list[str] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.names.append(name)


@pytest.fixture
def parts(tmp_path: Path) -> dict[str, Any]:
    queue = FakeQueue()
    store = LocalQuarantineStore(tmp_path / "q")
    metrics = Metrics()
    secrets = RotatingSecrets([SECRET])
    receiver = WebhookReceiver(
        secrets=secrets, queue=queue, quarantine=store, max_body_bytes=2048, metrics=metrics
    )
    app = build_resolver(lambda: receiver)
    return {
        "queue": queue,
        "store": store,
        "metrics": metrics,
        "secrets": secrets,
        "app": app,
        "receiver": receiver,
    }


def invoke(parts: dict[str, Any], event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    result = parts["app"].resolve(event, None)
    return result["statusCode"], json.loads(result["body"])


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_event_type_is_validated_and_queued_with_attributes(
    parts: dict[str, Any], event_type: str
) -> None:
    status, body = invoke(parts, sample(event_type))

    assert status == 200
    assert body == {"status": "queued", "message_id": "msg-1"}
    [(envelope, attributes)] = parts["queue"].sent
    assert envelope["event_type"] == event_type
    assert envelope["body"] == json.loads(sample(event_type)["body"])
    assert envelope["received_at"].endswith("Z")
    model = EVENT_MODELS[event_type].model_validate(envelope["body"])
    assert attributes == {"event_type": event_type, "entity": model.entity, "entity_key": model.entity_key()}
    assert parts["metrics"].names == ["WebhooksReceived", "EventsEnqueued"]


@pytest.mark.parametrize("name", ["bad-secret", "missing-secret"])
def test_unauthenticated_gets_bare_401_and_nothing_is_kept(parts: dict[str, Any], name: str) -> None:
    status, body = invoke(parts, sample(name))

    assert (status, body) == (401, {"message": "Unauthorized"})
    assert parts["queue"].sent == []
    assert parts["store"].list() == []
    assert parts["metrics"].names == ["WebhooksUnauthorized"]


def test_auth_is_checked_before_size_type_and_body(parts: dict[str, Any]) -> None:
    event = sample("unknown-event-type")
    event["headers"]["X-Norce-Webhook-Secret"] = "nope"
    event["body"] = "x" * 10_000
    assert invoke(parts, event) == (401, {"message": "Unauthorized"})
    assert parts["store"].list() == []


def test_secret_header_name_is_case_insensitive(parts: dict[str, Any]) -> None:
    event = sample("SkuChangedNotification")
    event["headers"] = {"x-norce-webhook-secret": SECRET, "content-type": "application/json"}
    assert invoke(parts, event)[0] == 200


def test_rotation_rereads_secrets_once_then_accepts_the_new_one(parts: dict[str, Any]) -> None:
    secrets: RotatingSecrets = parts["secrets"]
    secrets.cached, secrets.current = ["old-secret"], ["old-secret", SECRET]

    assert invoke(parts, sample("SkuChangedNotification"))[0] == 200
    assert secrets.fetches == [False, True]  # cached miss, one forced re-read


def test_known_secret_is_served_from_cache_without_rereads(parts: dict[str, Any]) -> None:
    for _ in range(3):
        assert invoke(parts, sample("SkuChangedNotification"))[0] == 200
    assert parts["secrets"].fetches == [False, False, False]


def test_wrong_secret_costs_exactly_one_forced_reread(parts: dict[str, Any]) -> None:
    invoke(parts, sample("bad-secret"))
    assert parts["secrets"].fetches == [False, True]


def test_invalid_payload_is_400_with_field_errors_and_quarantined(parts: dict[str, Any]) -> None:
    status, body = invoke(parts, sample("bad-body-invalid-payload"))

    assert status == 400
    assert body == {
        "message": "Invalid SkuChangedNotification payload",
        "errors": [{"field": "PartNo", "error": "Field required"}],
    }
    [item] = parts["store"].list()
    assert item.kind == "webhook"
    assert item.reason == "Invalid SkuChangedNotification payload"
    assert item.metadata["event_type"] == "SkuChangedNotification"
    assert item.metadata["reason_code"] == "invalid_payload"
    assert item.metadata["headers"]["X-Norce-Webhook-Secret"] == "***"
    assert SECRET not in json.dumps(item.model_dump(mode="json"))
    assert json.loads(item.payload_bytes()) == {"ClientId": 1234, "EntityChanged": "tClientProductSku"}
    assert parts["queue"].sent == []
    assert parts["metrics"].names == ["WebhooksReceived", "WebhooksRejected"]


def test_body_that_is_not_json_is_400_and_kept_as_text(parts: dict[str, Any]) -> None:
    status, body = invoke(parts, sample("bad-body-not-json"))
    assert status == 400
    assert body["message"].startswith("Body is not JSON")
    [item] = parts["store"].list()
    assert (item.payload_encoding, item.payload) == ("text", "PartNo=100011")


def test_json_that_is_not_an_object_is_400(parts: dict[str, Any]) -> None:
    event = sample("SkuChangedNotification")
    event["body"] = "[1, 2]"
    status, body = invoke(parts, event)
    assert status == 400
    assert body["message"] == "Body must be a JSON object"


def test_unknown_event_type_is_404_and_quarantined(parts: dict[str, Any]) -> None:
    status, body = invoke(parts, sample("unknown-event-type"))
    assert status == 404
    assert "ProductChangedNotification" in body["message"]
    [item] = parts["store"].list()
    assert item.metadata["reason_code"] == "unknown_event_type"
    assert item.metadata["event_type"] == "ProductChangedNotification"


def test_body_over_the_limit_is_413_and_quarantined_whole(parts: dict[str, Any]) -> None:
    event = sample("SkuChangedNotification")
    big = {**json.loads(event["body"]), "Padding": "x" * 4000}
    event["body"] = json.dumps(big)
    status, _body = invoke(parts, event)
    assert status == 413
    [item] = parts["store"].list()
    assert item.metadata["reason_code"] == "too_large"
    assert item.payload_bytes() == event["body"].encode()


def test_base64_body_is_decoded(parts: dict[str, Any]) -> None:
    status, _ = invoke(parts, sample("base64-body"))
    assert status == 200
    assert parts["queue"].sent[0][0]["body"]["PartNo"] == "100011"


def test_non_utf8_body_is_400_and_kept_as_base64(parts: dict[str, Any]) -> None:
    event = sample("base64-not-utf8")
    assert event["isBase64Encoded"] is True
    status, _body = invoke(parts, event)
    assert status == 400
    [item] = parts["store"].list()
    assert item.payload_encoding == "base64"
    assert item.payload_bytes() == base64.b64decode(event["body"])


def test_queue_down_is_503_so_norce_retries(parts: dict[str, Any]) -> None:
    parts["queue"].fail = True
    status, _body = invoke(parts, sample("SkuChangedNotification"))
    assert status == 503
    assert "EventsEnqueued" not in parts["metrics"].names


def test_quarantine_down_is_503_not_4xx(parts: dict[str, Any]) -> None:
    class Broken:
        def put(self, *args: Any, **kwargs: Any) -> str:
            raise ConnectionError("s3 down")

    parts["receiver"].quarantine = Broken()
    assert invoke(parts, sample("bad-body-invalid-payload"))[0] == 503


def test_secrets_unreadable_is_503_not_401(parts: dict[str, Any]) -> None:
    class Failing:
        def get(self, *args: Any, **kwargs: Any) -> str:
            raise RuntimeError("secrets manager down")

    parts["receiver"].secret_source = SecretsManagerSecrets("arn:x", provider=Failing())  # type: ignore[arg-type]
    assert invoke(parts, sample("SkuChangedNotification"))[0] == 503


def test_empty_secret_list_rejects_everyone(parts: dict[str, Any]) -> None:
    parts["receiver"].secret_source = StaticSecrets([])
    assert invoke(parts, sample("SkuChangedNotification"))[0] == 401


def test_secret_list_parsing() -> None:
    assert parse_secret_list('["a-secret", "b-secret"]') == ["a-secret", "b-secret"]
    assert parse_secret_list("single-secret") == ["single-secret"]
    with pytest.raises(SecretsUnavailable):
        parse_secret_list('{"not": "a list"}')


def test_receiver_import_path_does_not_load_httpx() -> None:
    app_path = str(ROOT / "functions/webhook_receiver/app.py")
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('wr', {app_path!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "heavy = ('httpx', 'norcekit.norce.query', 'norcekit.norce.http')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
