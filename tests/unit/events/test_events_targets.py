"""Targets without AWS: HTTP (respx), EventBridge batching and partial failures (a fake client), and
the document's idempotency key. The AWS-backed cases: tests/integration/events/test_events_targets_aws.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from norcekit.deadline import Deadline
from norcekit.events.config import EventBridgeTargetConfig, HttpTargetConfig
from norcekit.events.targets.base import Outcome, TargetDocument, idempotency_key
from norcekit.events.targets.eventbridge import EventBridgeTarget, chunk_entries
from norcekit.events.targets.http import HttpTarget

URL = "https://target.example.test/norce"
REGION = "eu-north-1"


def doc(
    key: str = "100011", data: dict[str, Any] | None = None, *, at: datetime | None = None
) -> TargetDocument:
    return TargetDocument.build(
        "sku",
        key,
        ["SkuChangedNotification"],
        {"PartNo": key, "Name": "x"} if data is None else data,
        fetched_at=at,
    )


# --- idempotency key ---------------------------------------------------------------------------------


def test_content_hash_depends_on_state_not_on_key_order_or_time() -> None:
    a = TargetDocument.build(
        "sku", "1", ["A"], {"x": 1, "y": [1, 2]}, fetched_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    b = TargetDocument.build("sku", "1", ["B"], {"y": [1, 2], "x": 1})
    assert a.content_hash == b.content_hash
    assert idempotency_key("sku", "1", {"x": 2}) != a.content_hash
    assert idempotency_key("sku", "2", {"x": 1, "y": [1, 2]}) != a.content_hash
    assert idempotency_key("sku", "1", None) != idempotency_key("customer", "1", None)


def test_a_to_b_to_a_gives_three_idempotency_keys_and_rising_versions() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    reads = [
        TargetDocument.build(
            "sku", "1", ["SkuPriceChangedNotification"], {"Price": price}, fetched_at=t0 + delta
        )
        for price, delta in ((100, timedelta(0)), (90, timedelta(seconds=1)), (100, timedelta(seconds=2)))
    ]
    assert len({d.idempotency_key for d in reads}) == 3
    assert reads[0].content_hash == reads[2].content_hash  # same state, different delivered version
    assert reads[0].version < reads[1].version < reads[2].version
    assert reads[0].with_data({"Price": 100}).idempotency_key == reads[0].idempotency_key


def test_not_found_document_shape() -> None:
    gone = TargetDocument.build("sku", "X", ["SkuChangedNotification"], None)
    body = json.loads(gone.to_json())
    assert body["status"] == "not_found" and body["data"] is None
    assert set(body) == {
        "entity", "key", "event_types", "status", "data", "fetched_at", "version", "content_hash",
        "idempotency_key",
    }  # fmt: skip


# --- HTTP --------------------------------------------------------------------------------------------


def http_target(**overrides: Any) -> HttpTarget:
    config = HttpTargetConfig.model_validate({"type": "http", "url": URL, "backoff_s": 0.0, **overrides})
    return HttpTarget("shop", config, client=httpx.Client(), sleep=lambda s: None)


@respx.mock
def test_http_target_down_is_retried_then_delivered() -> None:
    route = respx.post(URL).mock(
        side_effect=[httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(204)]
    )
    [result] = http_target().deliver([doc()])
    assert result.outcome is Outcome.OK
    assert route.call_count == 3


@respx.mock
def test_http_target_still_down_after_attempts_is_retryable() -> None:
    respx.post(URL).mock(return_value=httpx.Response(502))
    [result] = http_target(max_attempts=2).deliver([doc()])
    assert result.outcome is Outcome.RETRYABLE_ERROR


@respx.mock
def test_http_target_stops_retrying_at_the_deadline() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "30"}))
    [result] = http_target(max_attempts=5).deliver([doc()], deadline=Deadline.after(1.0))
    assert result.outcome is Outcome.RETRYABLE_ERROR
    assert route.call_count == 1  # waiting 30 s would pass the deadline


@respx.mock
def test_http_4xx_is_permanent_and_not_retried() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(422))
    [result] = http_target().deliver([doc()])
    assert result.outcome is Outcome.PERMANENT_ERROR
    assert route.call_count == 1


@respx.mock
def test_http_idempotency_key_is_per_delivered_version_with_a_version_header() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    target = http_target()
    first = doc(at=datetime(2026, 1, 1, tzinfo=UTC))
    target.deliver([first])
    target.deliver([first])  # the same delivery retried: same key
    target.deliver([doc(at=datetime(2026, 1, 2, tzinfo=UTC))])  # a later read: a new version
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    versions = [int(call.request.headers["Norcekit-Version"]) for call in route.calls]
    assert keys[0] == keys[1] != keys[2]
    assert versions[0] == versions[1] < versions[2]
    body = json.loads(route.calls[0].request.content)
    assert body["key"] == "100011" and body["idempotency_key"] == keys[0] and body["version"] == versions[0]


@respx.mock
def test_http_auth_header_is_reread_once_on_401() -> None:
    seen: list[str] = []
    tokens = iter(["Bearer old-token", "Bearer new-token"])
    current = {"value": next(tokens)}

    def auth(refresh: bool) -> str:
        if refresh:
            current["value"] = next(tokens)
        return current["value"]

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200 if request.headers["Authorization"] == "Bearer new-token" else 401)

    respx.post(URL).mock(side_effect=answer)
    config = HttpTargetConfig.model_validate({"type": "http", "url": URL})
    target = HttpTarget("shop", config, client=httpx.Client(), auth=auth, sleep=lambda s: None)
    [result] = target.deliver([doc()])
    assert result.ok
    assert seen == ["Bearer old-token", "Bearer new-token"]


def test_a_target_with_a_credentials_secret_needs_its_auth_source() -> None:
    arn = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:target-creds"
    config = HttpTargetConfig.model_validate({"type": "http", "url": URL, "credentials_secret_arn": arn})
    with pytest.raises(ValueError, match="shop: credentials_secret_arn needs its auth source"):
        HttpTarget("shop", config, client=httpx.Client())


# --- EventBridge --------------------------------------------------------------------------------------


def test_eventbridge_chunks_respect_256_kb() -> None:
    assert chunk_entries([100_000, 100_000, 100_000, 10]) == [[0, 1], [2, 3]]
    assert chunk_entries([300_000, 5]) == [[1]]


class PartialFailures:
    """PutEvents answering some entries with an error code (EventBridge's partial failure shape)."""

    def __init__(self, codes: list[list[str | None]]) -> None:
        self.codes = codes
        self.calls: list[int] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(len(Entries))
        codes = self.codes.pop(0)
        answers = [{"ErrorCode": c, "ErrorMessage": "x"} if c else {"EventId": "e"} for c in codes]
        return {"FailedEntryCount": sum(1 for c in codes if c), "Entries": answers}


def test_eventbridge_partial_failures_resend_only_failed_entries() -> None:
    client = PartialFailures([[None, "ThrottlingException", "MalformedDetail"], [None]])
    target = EventBridgeTarget(
        "bus", EventBridgeTargetConfig(type="eventbridge"), client=client, sleep=lambda s: None
    )  # type: ignore[arg-type]
    results = target.deliver([doc("A"), doc("B"), doc("C")])
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK, Outcome.PERMANENT_ERROR]
    assert client.calls == [3, 1]


def test_eventbridge_persistent_throttling_is_retryable() -> None:
    client = PartialFailures([["ThrottlingException"]] * 3)
    target = EventBridgeTarget(
        "bus", EventBridgeTargetConfig(type="eventbridge"), client=client, sleep=lambda s: None
    )  # type: ignore[arg-type]
    [result] = target.deliver([doc("A")])
    assert result.outcome is Outcome.RETRYABLE_ERROR
