"""The Lambda's routing (``dispatch``) answers every request as the Powertools resolver does."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest

from norcekit.events.webhook_api import ReceiverResponse, build_resolver, dispatch


class RecordingReceiver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []

    def receive(self, event_type: str, headers: Mapping[str, str], body: bytes) -> ReceiverResponse:
        self.calls.append((event_type, dict(headers), body))
        return ReceiverResponse(202, {"status": "quarantined", "reason": "x", "message": "é ü"})


def event(method: str, path: str, body: str | None = '{"SkuId": 1}', **extra: Any) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "path": path,
        "resource": "/events/{EventType}",
        "headers": {"X-Norce-Webhook-Secret": "s", "Content-Type": "application/json"},
        "multiValueHeaders": {"X-Norce-Webhook-Secret": ["s"], "Content-Type": ["application/json"]},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"stage": "prod", "resourcePath": "/events/{EventType}"},
        **extra,
    }


CASES = [
    event("POST", "/events/SkuChangedNotification"),
    event("post", "/events/OrderReceivedEvent"),
    event("POST", "/events/SkuChangedNotification/"),
    event("POST", "/events/SkuChangedNotification//"),
    event("POST", "/events/a%20b"),
    event("POST", "/events/Not-A-Type.x~(y)!*:@,;=+&$"),
    event("POST", "/events/Sku", body=None),
    event("POST", "/events/Sku", body=base64.b64encode(b"\xff\x00raw").decode(), isBase64Encoded=True),
    event("POST", "/events/Sku", headers=None),
    event("GET", "/events/SkuChangedNotification"),
    event("PUT", "/events/SkuChangedNotification"),
    event("OPTIONS", "/events/SkuChangedNotification"),
    event("POST", "/events/"),
    event("POST", "/events"),
    event("POST", "/events/a/b"),
    event("POST", "/other/SkuChangedNotification"),
    event("POST", "/"),
]


def plain(response: dict[str, Any]) -> dict[str, Any]:
    return {**response, "multiValueHeaders": dict(response["multiValueHeaders"])}


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['httpMethod']} {case['path']}")
def test_dispatch_answers_and_calls_the_receiver_as_the_resolver_does(case: dict[str, Any]) -> None:
    by_resolver, by_dispatch = RecordingReceiver(), RecordingReceiver()

    expected = build_resolver(lambda: by_resolver).resolve(json.loads(json.dumps(case)), None)
    answer = dispatch(json.loads(json.dumps(case)), lambda: by_dispatch)

    assert plain(answer) == plain(expected)
    assert by_dispatch.calls == by_resolver.calls


def test_dispatch_routes_only_post_on_the_events_route() -> None:
    receiver = RecordingReceiver()

    routed = dispatch(event("POST", "/events/SkuChangedNotification"), lambda: receiver)
    refused = dispatch(event("GET", "/events/SkuChangedNotification"), lambda: receiver)

    assert routed["statusCode"] == 202 and json.loads(routed["body"])["status"] == "quarantined"
    assert receiver.calls == [("SkuChangedNotification", event("POST", "/")["headers"], b'{"SkuId": 1}')]
    assert refused["statusCode"] == 404 and json.loads(refused["body"])["message"] == "Not found"


@pytest.mark.parametrize("base_path", ["/norce", "/integrations/v1", "/events"])
def test_a_custom_domain_base_path_still_reaches_the_receiver(base_path: str) -> None:
    # Behind a custom domain with a base path mapping API Gateway puts the base path in `path`
    # (the route it matched is in `resource`): a 404 here would make Norce retry for 22 h, then drop.
    receiver = RecordingReceiver()

    answer = dispatch(event("POST", f"{base_path}/events/SkuChangedNotification"), lambda: receiver)

    assert answer["statusCode"] == 202
    assert [call[0] for call in receiver.calls] == ["SkuChangedNotification"]


def test_a_base_path_is_only_stripped_on_the_events_resource() -> None:
    receiver = RecordingReceiver()
    other = event("POST", "/norce/events/SkuChangedNotification", resource="/other/{proxy+}")

    assert dispatch(other, lambda: receiver)["statusCode"] == 404
    assert dispatch(event("POST", "/norce/events/a/b"), lambda: receiver)["statusCode"] == 404
    assert receiver.calls == []
