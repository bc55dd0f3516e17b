"""Webhook receiver under generated input: nothing unauthenticated is kept, nothing authentic is lost.

Two layers:

* **In-process, many inputs** — Hypothesis generates event types, header sets (secret right, wrong,
  missing, in any letter case), content types, encodings (UTF-8/16, Latin-1, raw bytes, base64
  API Gateway bodies), shapes (valid payloads, random JSON, garbage) and sizes around the body limit,
  and sends each through the real Powertools resolver (API Gateway REST proxy events) into the real
  :class:`WebhookReceiver` with an in-memory queue and quarantine that behave like SQS and S3 (the
  queue can be made to fail: the only 5xx allowed).
* **Over HTTP, from the OpenAPI document** — schemathesis generates positive and negative requests
  from ``docs/openapi/webhook.json`` and sends them to the local webhook front serving the real
  ``functions/webhook_receiver`` handler on moto (Secrets Manager, SQS, S3 quarantine).

Invariants (the receiver contract): no 5xx except 503 when neither the queue nor the quarantine
accepted the payload; a request without the right secret is 401 and leaves no trace (queue,
quarantine); an authenticated 200 is exactly one queued message carrying the payload; an
authenticated 202 is the raw body in the quarantine under its content key, stored once however
often it is sent (secret scrubbed); a body that is not strict JSON (NaN, Infinity, integers beyond
64 bits, nesting 10,000 deep) is never queued and never a 5xx.
"""

from __future__ import annotations

import base64
import json
import logging
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.fixtures.aws import REGION, SqsQueues
from tests.reliability.conftest import REPO_ROOT

from norcekit.events.receiver import (
    DEFAULT_SECRET_HEADER,
    StaticSecrets,
    WebhookReceiver,
    build_resolver,
    webhook_content_key,
)
from norcekit.norce.events import EVENT_MODELS
from norcekit.settings import reset_settings_cache
from norcekit_local.handlers import FakeLambdaContext, load_handler
from norcekit_local.webhook_front import WebhookFront, apigw_rest_event

pytestmark = pytest.mark.integration

SECRET = "fuzz-webhook-secret-0001"
OLD_SECRET = "fuzz-webhook-secret-0000"
MAX_BODY = 2048
IN_PROCESS_EXAMPLES = {"mixed": 6500, "authentic": 3500}
SCHEMATHESIS_EXAMPLES = {GenerationMode.POSITIVE: 250, GenerationMode.NEGATIVE: 100}
SECRET_HEADER_LOWER = DEFAULT_SECRET_HEADER.lower()
OPENAPI = REPO_ROOT / "docs" / "openapi" / "webhook.json"


# --- SQS and S3 stand-ins with their observable behaviour ------------------------------------------


@dataclass
class MemoryQueue:
    down: bool = False
    messages: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        if self.down:
            raise ConnectionError("SQS unavailable (induced)")
        self.messages.append((body, dict(attributes)))
        return f"msg-{len(self.messages)}"


@dataclass
class MemoryQuarantine:
    """S3 with a conditional put: an item stored under a content key is stored once."""

    down: bool = False
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(
        self,
        kind: str,
        reason: str,
        payload: Any,
        *,
        metadata: Mapping[str, Any] | None = None,
        content_key: str | None = None,
    ) -> str:
        if self.down:
            raise ConnectionError("S3 unavailable (induced)")
        key = f"quarantine/{kind}/{content_key or len(self.items)}.json"
        self.items.setdefault(
            key, {"kind": kind, "reason": reason, "payload": payload, "metadata": dict(metadata or {})}
        )
        return key

    def __getattr__(self, name: str) -> Any:  # list/get/delete are not used by the receiver
        raise AttributeError(name)


# --- input strategies ---------------------------------------------------------------------------------

_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "integer": st.integers(-(2**31), 2**31),
    "string": st.text(max_size=30),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "null": st.none(),
}


def _property_strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    types = [schema["type"]] if "type" in schema else [s.get("type") for s in schema.get("anyOf", [])]
    return st.one_of([_SCALARS[t] for t in types if t in _SCALARS] or [st.none()])


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_extra_properties = st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), _json, max_size=2)


def _payloads(event_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies the event's model accepts (required fields, some optional ones, unknown extras)."""
    schema = EVENT_MODELS[event_type].model_json_schema()
    required = set(schema.get("required", []))
    props = {name: _property_strategy(prop) for name, prop in schema["properties"].items()}
    fields = st.fixed_dictionaries(
        {n: s for n, s in props.items() if n in required},
        optional={n: s for n, s in props.items() if n not in required},
    )
    return st.builds(lambda extra, known: {**extra, **known}, _extra_properties, fields)


#: Built once: building strategies per draw costs more than running the receiver.
PAYLOADS = {event_type: _payloads(event_type) for event_type in EVENT_MODELS}
event_types = st.one_of(
    st.sampled_from(sorted(EVENT_MODELS)),
    st.text(string.ascii_letters + string.digits + "-_.~", min_size=1, max_size=40),
)
secret_header_names = st.sampled_from(
    [DEFAULT_SECRET_HEADER, DEFAULT_SECRET_HEADER.lower(), DEFAULT_SECRET_HEADER.upper()]
)
other_headers = st.lists(
    st.tuples(
        st.text(string.ascii_letters + "-", min_size=1, max_size=12).map(lambda n: f"X-Fuzz-{n}"),
        st.text(string.printable.strip(), max_size=30),
    ),
    max_size=3,
)
wrong_secrets = st.one_of(
    st.text(string.printable.strip(), max_size=40),
    st.sampled_from([SECRET[:-1], SECRET + " ", " " + SECRET, SECRET.upper(), OLD_SECRET + SECRET]),
).filter(lambda v: v not in (SECRET, OLD_SECRET))
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "",
        "*/*",
    ]
)


@st.composite
def bodies(draw: st.DrawFn, event_type: str) -> bytes:
    kind = draw(
        st.sampled_from(["valid", "valid", "json", "bytes", "encoded", "large", "empty", "array", "hostile"])
    )
    if kind == "hostile":  # authentic but not strict JSON: must be quarantined, never queued or 5xx
        return draw(st.sampled_from(HOSTILE_BODIES))
    if kind in ("valid", "encoded", "large") and event_type in EVENT_MODELS:
        document: Any = draw(PAYLOADS[event_type])
    else:
        document = draw(_json)
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    if kind == "empty":
        return b""
    if kind == "array":
        return json.dumps([document]).encode()
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    if kind == "encoded":
        return text.encode(draw(st.sampled_from(["utf-16", "utf-8-sig", "latin-1"])), errors="replace")
    if kind == "large":
        padding = draw(st.integers(MAX_BODY - len(text) - 40, MAX_BODY - len(text) + 40))
        if isinstance(document, dict):
            return json.dumps({**document, "Padding": "x" * max(0, padding)}).encode()
        return text.encode() + b" " * max(0, padding)
    return text.encode()


HOSTILE_BODIES = [
    b'{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "V": NaN}',
    b'{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "V": -Infinity}',
    b'{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "V": 1e999}',
    b'{"ClientId": 1, "PartNo": "A", "EntityChanged": "t", "V": 18446744073709551616}',
    b'{"ClientId": 1, "PartNo": "A", "V": ' + b"9" * 5000 + b"}",
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
]


@dataclass(frozen=True)
class WebhookInput:
    event_type: str
    headers: list[tuple[str, str]]
    body: bytes
    base64: bool
    queue_down: bool
    quarantine_down: bool = False

    @property
    def authentic(self) -> bool:
        values = [v for k, v in self.headers if k.lower() == DEFAULT_SECRET_HEADER.lower()]
        # API Gateway keeps the last value of a repeated header.
        return bool(values) and values[-1] in (SECRET, OLD_SECRET)


@st.composite
def webhook_inputs(draw: st.DrawFn, *, authentic: bool | None = None) -> WebhookInput:
    event_type = draw(event_types)
    headers = [("Content-Type", draw(content_types))] if draw(st.booleans()) else []
    headers += draw(other_headers)
    secret_mode = (
        "right" if authentic else draw(st.sampled_from(["right", "old", "wrong", "missing", "empty"]))
    )
    if authentic is False and secret_mode in ("right", "old"):
        secret_mode = "wrong"
    if secret_mode != "missing":
        value = {"right": SECRET, "old": OLD_SECRET, "empty": ""}.get(secret_mode)
        if value is None:
            value = draw(wrong_secrets)
        headers.append((draw(secret_header_names), value))
    body = draw(bodies(event_type))
    return WebhookInput(
        event_type=event_type,
        headers=draw(st.permutations(headers)),
        body=body,
        base64=draw(st.booleans()),
        queue_down=draw(st.sampled_from([False] * 9 + [True])),
        quarantine_down=draw(st.sampled_from([False] * 9 + [True])),
    )


def api_gateway_event(case: WebhookInput) -> dict[str, Any]:
    event = apigw_rest_event("POST", f"/events/{case.event_type}", case.headers, case.body)
    if case.base64 and case.body and not event["isBase64Encoded"]:
        event["body"], event["isBase64Encoded"] = base64.b64encode(case.body).decode(), True
    return event


# --- the in-process receiver ------------------------------------------------------------------------


@dataclass
class Harness:
    queue: MemoryQueue = field(default_factory=MemoryQueue)
    quarantine: MemoryQuarantine = field(default_factory=MemoryQuarantine)
    statuses: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.receiver = WebhookReceiver(
            secrets=StaticSecrets([SECRET, OLD_SECRET]),
            queue=self.queue,
            quarantine=self.quarantine,  # type: ignore[arg-type]
            max_body_bytes=MAX_BODY,
        )
        self.app = build_resolver(lambda: self.receiver)
        self.sent: dict[str, int] = {}  # content key -> times an authentic 202 named it

    def check(self, case: WebhookInput) -> None:
        self.queue.down, self.quarantine.down = case.queue_down, case.quarantine_down
        queued, quarantined = len(self.queue.messages), dict(self.quarantine.items)
        result = self.app.resolve(api_gateway_event(case), FakeLambdaContext("webhook_receiver"))
        status = int(result["statusCode"])
        self.statuses[status] = self.statuses.get(status, 0) + 1
        answer = json.loads(result["body"])
        new_messages = self.queue.messages[queued:]
        new_quarantine = {k: v for k, v in self.quarantine.items.items() if k not in quarantined}
        assert SECRET not in result["body"] and OLD_SECRET not in result["body"]
        if not case.authentic:
            assert (status, answer) == (401, {"message": "Unauthorized"})
            assert not new_messages and not new_quarantine, "an unauthenticated request left a trace"
            return
        if status == 200:
            [(message, attributes)] = new_messages
            envelope = json.loads(message)
            assert envelope["event_type"] == case.event_type == attributes["event_type"]
            assert envelope["body"] == json.loads(case.body)
            assert answer == {"status": "queued", "message_id": f"msg-{len(self.queue.messages)}"}
            assert not new_quarantine
            assert case.body not in HOSTILE_BODIES
        elif status == 202:
            key = f"quarantine/webhook/{webhook_content_key(case.event_type, case.body)}.json"
            item = self.quarantine.items[key]  # stored now, or by an earlier send of the same body
            assert set(new_quarantine) <= {key}
            assert item["kind"] == "webhook" and item["payload"] == case.body
            assert answer["status"] == "quarantined" and answer["reason"] == item["metadata"]["reason_code"]
            assert SECRET not in json.dumps(item["metadata"]) and OLD_SECRET not in json.dumps(
                item["metadata"]
            )
            assert not new_messages
            if answer["reason"] == "enqueue_failed":
                assert case.queue_down
            self.sent[key] = self.sent.get(key, 0) + 1
        elif status == 503:
            assert case.quarantine_down, "5xx although the quarantine could store the payload"
            assert not new_messages and not new_quarantine  # Norce retries: nothing half-kept
        else:
            raise AssertionError(f"unexpected status {status}: {answer}")


@pytest.mark.parametrize("population", list(IN_PROCESS_EXAMPLES))
def test_generated_webhooks_are_queued_quarantined_or_refused_without_a_trace(
    population: str, figures: dict[str, Any], quiet_logs: None
) -> None:
    harness = Harness()
    strategy = webhook_inputs(authentic=True if population == "authentic" else None)

    @settings(max_examples=IN_PROCESS_EXAMPLES[population], deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(case=strategy)
    def run(case: WebhookInput) -> None:
        harness.check(case)

    run()
    total = sum(harness.statuses.values())
    assert total >= IN_PROCESS_EXAMPLES[population]
    if population == "authentic":  # the generator reaches every branch, not just 401s
        assert {200, 202, 503} <= set(harness.statuses), harness.statuses
    # Norce's retries: a body sent again is answered 202 again and still stored once.
    assert len(harness.quarantine.items) <= sum(harness.sent.values())
    figures.update(
        {
            "inputs": total,
            "statuses": dict(sorted(harness.statuses.items())),
            "quarantined_items": len(harness.quarantine.items),
            "quarantine_answers": sum(harness.sent.values()),
        }
    )


def test_retries_of_hostile_bodies_are_quarantined_once_and_never_5xx(quiet_logs: None) -> None:
    harness = Harness()
    for body in HOSTILE_BODIES:
        case = WebhookInput("SkuChangedNotification", [(DEFAULT_SECRET_HEADER, SECRET)], body, False, False)
        for _ in range(3):  # Norce retries a non-2xx; a 2xx must not create a second copy either
            harness.check(case)
    assert harness.statuses == {202: 3 * len(HOSTILE_BODIES)}
    assert len(harness.quarantine.items) == len(HOSTILE_BODIES)
    assert harness.queue.messages == []


def test_issue_13_cases_keyless_retries_stored_once_and_documented_payloads_queued(quiet_logs: None) -> None:
    """The done-when cases through the harness: a payload missing its key sent three times is 202
    each time and stored once; the compat kit's SkuStockChangedNotification and a QuantityBreak of
    2.5 are queued (200); nothing is a 5xx."""
    harness = Harness()
    secret = [(DEFAULT_SECRET_HEADER, SECRET)]
    keyless = WebhookInput(
        "SkuChangedNotification",
        secret,
        b'{"ClientId": 1, "EntityChanged": "tClientProductSku"}',
        False,
        False,
    )
    for _ in range(3):
        harness.check(keyless)
    price = b'{"ClientId": 1, "PartNo": "A", "PricelistId": 1, "PriceSaleValue": 9.5, "QuantityBreak": 2.5}'
    harness.check(WebhookInput("SkuPriceChangedNotification", secret, price, False, False))
    harness.check(
        WebhookInput("SkuStockChangedNotification", secret, b'{"ClientId": 1, "PartNo": "A"}', False, False)
    )
    assert harness.statuses == {202: 3, 200: 2}
    assert len(harness.quarantine.items) == 1 and len(harness.queue.messages) == 2


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """Thousands of receiver log lines cost more than the receiver; the secrets test reads logs."""
    library = logging.getLogger("norcekit")
    level = library.level
    library.setLevel(logging.CRITICAL)
    yield
    library.setLevel(level)


# --- schemathesis against the OpenAPI document, over HTTP, real handler on moto ----------------------


@pytest.fixture
def webhook_front(
    sqs_queues: SqsQueues, quarantine_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebhookFront]:
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="norcekit/webhook-secrets-fuzz", SecretString=json.dumps([SECRET, OLD_SECRET])
    )["ARN"]
    monkeypatch.setenv("WEBHOOK_SECRETS_ARN", arn)
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", str(MAX_BODY))
    reset_settings_cache()
    with WebhookFront(load_handler("webhook_receiver", fresh=True)) as front:
        yield front
    reset_settings_cache()


def _queued(queue_url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _quarantined(bucket: str) -> int:
    return int(boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket).get("KeyCount", 0))


def test_openapi_generated_requests_against_the_webhook_front(
    webhook_front: WebhookFront, sqs_queues: SqsQueues, quarantine_bucket: str, figures: dict[str, Any]
) -> None:
    schema = schemathesis.openapi.from_path(OPENAPI)
    [operation] = [result.ok() for result in schema.get_all_operations()]
    statuses: dict[str, dict[int, int]] = {}
    expected: dict[str, Any] = {"queued": 0, "quarantined": set()}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]

    for mode, examples in SCHEMATHESIS_EXAMPLES.items():
        seen = statuses.setdefault(mode.value, {})

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy(mode), authenticate=st.booleans())
        def call(case: Any, authenticate: bool) -> None:
            # Our choice wins over any value schemathesis generated for the security scheme.
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != SECRET_HEADER_LOWER}
            if authenticate:
                case.headers[DEFAULT_SECRET_HEADER] = SECRET
            # A generous timeout: a loaded 2-core CI machine can hold one request for seconds.
            response = case.call(base_url=webhook_front.base_url, timeout=90)
            case.validate_response(response, checks=checks)
            status = response.status_code
            seen[status] = seen.get(status, 0) + 1  # noqa: B023 - called within this iteration
            assert status < 500, response.text
            if not authenticate:
                assert status == 401, response.text
            expected["queued"] += authenticate and status == 200
            if authenticate and status == 202:
                request = response.request
                event_type = unquote(urlsplit(request.url).path).rsplit("/events/", 1)[1]
                body = request.body or b""
                body = body.encode() if isinstance(body, str) else body
                expected["quarantined"].add(webhook_content_key(event_type, body))

        call()
    total = sum(sum(seen.values()) for seen in statuses.values())
    assert statuses["positive"].get(200), statuses  # valid payloads do get through
    # Every authenticated 200 is one message, every distinct quarantined body one copy, and the
    # unauthenticated requests (half of them) left nothing at all.
    assert _queued(sqs_queues.queue_url) == expected["queued"]
    assert _quarantined(quarantine_bucket) == len(expected["quarantined"])
    figures.update({"inputs": total, "statuses": statuses})
