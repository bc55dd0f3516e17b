"""Webhook receiver through the Powertools resolver with API Gateway REST events (the sample files)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from norcekit.events.claims import MemoryClaimStore
from norcekit.events.coalesce import parse_message
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


def test_invalid_payload_is_202_with_field_errors_and_quarantined(parts: dict[str, Any]) -> None:
    status, body = invoke(parts, sample("bad-body-invalid-payload"))

    assert status == 202
    assert body == {
        "status": "quarantined",
        "reason": "invalid_payload",
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


def test_norce_retries_of_one_invalid_payload_are_quarantined_once(parts: dict[str, Any]) -> None:
    answers = [invoke(parts, sample("bad-body-invalid-payload"))[0] for _ in range(3)]
    assert answers == [202, 202, 202]
    assert len(parts["store"].list()) == 1
    other = sample("bad-body-invalid-payload")
    other["body"] = json.dumps({"ClientId": 1, "EntityChanged": "tClientProductSku"})
    assert invoke(parts, other)[0] == 202
    assert len(parts["store"].list()) == 2  # a different body is a different item


def test_body_that_is_not_json_is_202_and_kept_as_text(parts: dict[str, Any]) -> None:
    status, body = invoke(parts, sample("bad-body-not-json"))
    assert status == 202
    assert body["reason"] == "invalid_json"
    [item] = parts["store"].list()
    assert (item.payload_encoding, item.payload) == ("text", "PartNo=100011")


@pytest.mark.parametrize(
    "raw",
    [
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": NaN}',
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": Infinity}',
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": 1e999}',
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": 9223372036854775808}',
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": 18446744073709551616}',
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": ' + "7" * 5000 + "}",
        '{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "X": ' + "[" * 40 + "]" * 40 + "}",
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
    ],
)
def test_strictly_invalid_json_is_quarantined_never_queued_or_5xx(parts: dict[str, Any], raw: str) -> None:
    event = sample("SkuChangedNotification")
    event["body"] = raw
    parts["receiver"].max_body_bytes = 1_000_000
    status, body = invoke(parts, event)
    assert status == 202 and body["reason"] == "invalid_json", body
    assert parts["queue"].sent == []
    [item] = parts["store"].list()
    assert item.payload_bytes() == raw.encode()


def test_the_largest_64_bit_integers_are_still_accepted(parts: dict[str, Any]) -> None:
    event = sample("SkuChangedNotification")
    payload = {**json.loads(event["body"]), "Big": 2**63 - 1, "Small": -(2**63)}
    event["body"] = json.dumps(payload)
    assert invoke(parts, event)[0] == 200
    assert parts["queue"].sent[0][0]["body"] == payload


def test_json_that_is_not_an_object_is_quarantined(parts: dict[str, Any]) -> None:
    event = sample("SkuChangedNotification")
    event["body"] = "[1, 2]"
    status, body = invoke(parts, event)
    assert status == 202
    assert body["message"] == "Body must be a JSON object"


def test_unknown_event_type_is_quarantined_and_counted(parts: dict[str, Any]) -> None:
    status, body = invoke(parts, sample("unknown-event-type"))
    assert status == 202
    assert "ProductChangedNotification" in body["message"]
    [item] = parts["store"].list()
    assert item.metadata["reason_code"] == "unknown_event_type"
    assert item.metadata["event_type"] == "ProductChangedNotification"
    assert "WebhooksUnknownType" in parts["metrics"].names


def test_body_over_the_limit_is_quarantined_whole(parts: dict[str, Any]) -> None:
    event = sample("SkuChangedNotification")
    big = {**json.loads(event["body"]), "Padding": "x" * 4000}
    event["body"] = json.dumps(big)
    status, _body = invoke(parts, event)
    assert status == 202
    [item] = parts["store"].list()
    assert item.metadata["reason_code"] == "too_large"
    assert item.payload_bytes() == event["body"].encode()


def test_base64_body_is_decoded(parts: dict[str, Any]) -> None:
    status, _ = invoke(parts, sample("base64-body"))
    assert status == 200
    assert parts["queue"].sent[0][0]["body"]["PartNo"] == "100011"


def test_non_utf8_body_is_quarantined_as_base64(parts: dict[str, Any]) -> None:
    event = sample("base64-not-utf8")
    assert event["isBase64Encoded"] is True
    status, _body = invoke(parts, event)
    assert status == 202
    [item] = parts["store"].list()
    assert item.payload_encoding == "base64"
    assert item.payload_bytes() == base64.b64decode(event["body"])


def test_queue_refusing_a_valid_event_quarantines_it_for_replay(parts: dict[str, Any]) -> None:
    parts["queue"].fail = True
    status, body = invoke(parts, sample("SkuChangedNotification"))
    assert (status, body["reason"]) == (202, "enqueue_failed")
    assert "EventsEnqueued" not in parts["metrics"].names
    [item] = parts["store"].list()
    assert json.loads(item.payload_bytes())["PartNo"] == "100011"


def test_queue_and_quarantine_both_down_is_503_so_norce_retries(parts: dict[str, Any]) -> None:
    class Broken:
        def put(self, *args: Any, **kwargs: Any) -> str:
            raise ConnectionError("s3 down")

    parts["queue"].fail = True
    parts["receiver"].quarantine = Broken()
    assert invoke(parts, sample("SkuChangedNotification"))[0] == 503


def test_quarantine_down_is_503_for_an_invalid_payload(parts: dict[str, Any]) -> None:
    class Broken:
        def put(self, *args: Any, **kwargs: Any) -> str:
            raise ConnectionError("s3 down")

    parts["receiver"].quarantine = Broken()
    assert invoke(parts, sample("bad-body-invalid-payload"))[0] == 503


def test_payload_beyond_the_queue_limit_goes_through_the_claim_store(parts: dict[str, Any]) -> None:
    claims = MemoryClaimStore()
    receiver = parts["receiver"]
    receiver.claims, receiver.max_message_bytes, receiver.max_body_bytes = claims, 1024, 1_000_000
    event = sample("SkuChangedNotification")
    payload = {**json.loads(event["body"]), "Description": "å" * 3000}
    event["body"] = json.dumps(payload, ensure_ascii=False)
    assert invoke(parts, event)[0] == 200
    [(envelope, _attributes)] = parts["queue"].sent
    assert "body" not in envelope and envelope["body_ref"] in claims.objects
    queued = parse_message("m-1", json.dumps(envelope), claims=claims)
    assert queued.event.model_dump(mode="json")["Description"] == "å" * 3000
    assert "EventsClaimChecked" in parts["metrics"].names


def test_oversized_envelope_without_a_claim_store_is_quarantined(parts: dict[str, Any]) -> None:
    receiver = parts["receiver"]
    receiver.max_message_bytes, receiver.max_body_bytes = 1024, 1_000_000
    event = sample("SkuChangedNotification")
    event["body"] = json.dumps({**json.loads(event["body"]), "Description": "x" * 3000})
    status, body = invoke(parts, event)
    assert (status, body["reason"]) == (202, "enqueue_failed")


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


def test_receiver_import_path_loads_neither_httpx_nor_the_powertools_resolver() -> None:
    app_path = str(ROOT / "functions/webhook_receiver/app.py")
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('wr', {app_path!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "heavy = ('httpx', 'norcekit.norce.query', 'norcekit.norce.http',"
        " 'aws_lambda_powertools.event_handler')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("plugins", "scans"), [("__all__", False), ("", True)])
def test_a_cold_start_with_the_functions_environment_does_not_scan_installed_packages(
    plugins: str, scans: bool
) -> None:
    """template.yaml sets PYDANTIC_DISABLE_PLUGINS=__all__: otherwise the first model built reads
    every installed distribution's metadata looking for pydantic plugins (norcekit has none)."""
    app_path = str(ROOT / "functions/webhook_receiver/app.py")
    code = (
        "import importlib.metadata, importlib.util\n"
        "scans = []\n"
        "real = importlib.metadata.entry_points\n"
        "importlib.metadata.entry_points = lambda *a, **k: scans.append(1) or real(*a, **k)\n"
        f"spec = importlib.util.spec_from_file_location('wr', {app_path!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "from norcekit.norce.event_models import event_model\n"
        "body = {'ClientId': 1, 'ApplicationId': 2, 'PartNo': 'P1', 'EntityChanged': 'tClientProductSku'}\n"
        "event_model('SkuChangedNotification').model_validate(body)\n"
        "print(bool(scans))\n"
    )
    env = {**os.environ, "PYDANTIC_DISABLE_PLUGINS": plugins}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == str(scans)
