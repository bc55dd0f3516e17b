"""The Order Receiver Service as Norce sees it: basic auth, OrderResponse, one order per ref."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.orders import basic, order_request

from norcekit.orders.api import build_order_resolver
from norcekit.orders.auth import SecretsUnavailable, StaticCredentials
from norcekit.orders.receiver import OrderReceiver
from norcekit.quarantine import LocalQuarantineStore
from norcekit.state.orders import MemoryOrderStore

USER, PASSWORD = "norce", "local-order-password"


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.down = False

    def send(self, body: str, attributes: Any) -> str:
        if self.down:
            raise ConnectionError("queue down")
        self.sent.append(json.loads(body))
        return f"msg-{len(self.sent)}"


class BrokenStore(MemoryOrderStore):
    def add(self, client_order_ref: str, body: str) -> Any:
        raise ConnectionError("dynamodb down")


class Metrics:
    def __init__(self) -> None:
        self.names: list[str] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.names.append(name)


@pytest.fixture
def parts(tmp_path: Path) -> dict[str, Any]:
    queue, store, metrics = FakeQueue(), MemoryOrderStore(), Metrics()
    quarantine = LocalQuarantineStore(tmp_path / "q")
    receiver = OrderReceiver(
        credentials=StaticCredentials([f"{USER}:{PASSWORD}", "norce:previous-password"]),
        store=store,
        queue=queue,
        quarantine=quarantine,
        metrics=metrics,
    )
    return {
        "receiver": receiver,
        "queue": queue,
        "store": store,
        "quarantine": quarantine,
        "metrics": metrics,
    }


def post(
    receiver: OrderReceiver, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Through the Lambda's resolver, as API Gateway delivers it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    event = {
        "resource": "/orders",
        "path": "/orders",
        "httpMethod": "POST",
        "headers": {
            "Content-Type": "application/json",
            **(headers if headers is not None else basic(USER, PASSWORD)),
        },
        "requestContext": {"resourcePath": "/orders", "httpMethod": "POST", "requestId": "r-1"},
        "body": raw.decode("utf-8", "replace"),
        "isBase64Encoded": False,
    }
    result = build_order_resolver(lambda: receiver).resolve(event, None)
    headers = {k: v[0] for k, v in (result.get("multiValueHeaders") or {}).items()}
    return result["statusCode"], json.loads(result["body"]), {**headers, **(result.get("headers") or {})}


def test_a_post_without_credentials_is_401_with_a_basic_challenge_and_nothing_is_kept(
    parts: dict[str, Any],
) -> None:
    status, body, headers = post(parts["receiver"], order_request(), headers={})
    assert status == 401
    assert body == {"message": "Unauthorized"}
    assert headers["WWW-Authenticate"].startswith("Basic ")
    assert parts["store"].list() == [] and parts["queue"].sent == []


@pytest.mark.parametrize(
    "headers",
    [
        basic(USER, "wrong"),
        basic("someone", PASSWORD),
        {"Authorization": "Bearer local-order-password"},
        {"Authorization": "Basic not-base64!"},
    ],
)
def test_wrong_credentials_are_401(parts: dict[str, Any], headers: dict[str, str]) -> None:
    status, _, _ = post(parts["receiver"], order_request(), headers=headers)
    assert status == 401
    assert parts["store"].list() == []
    assert "OrdersUnauthorized" in parts["metrics"].names


def test_the_previous_password_is_still_accepted_during_a_rotation(parts: dict[str, Any]) -> None:
    status, body, _ = post(parts["receiver"], order_request(), headers=basic("norce", "previous-password"))
    assert status == 200 and body["StatusCode"] == "OK"


def test_a_valid_order_is_stored_queued_and_answered_ok(parts: dict[str, Any]) -> None:
    status, body, _ = post(parts["receiver"], order_request("100234"))
    assert status == 200
    assert body == {
        "StatusCode": "OK",
        "Description": "Order received",
        "HasErpOrderNo": False,
        "ErpOrderNo": None,
    }
    stored = parts["store"].get("100234")
    assert stored is not None and stored.status == "queued"
    assert json.loads(stored.body)["Items"][0]["PartNo"] == "TS-100-M"
    assert parts["queue"].sent == [{"client_order_ref": "100234"}]


def test_norce_posting_the_same_client_order_ref_three_times_stores_and_queues_one_order(
    parts: dict[str, Any],
) -> None:
    answers = [post(parts["receiver"], order_request("100234"))[1] for _ in range(3)]
    assert [a["StatusCode"] for a in answers] == ["OK", "OK", "OK"]
    assert answers[1]["Description"] == "Order already received"
    assert [o.client_order_ref for o in parts["store"].list()] == ["100234"]
    assert parts["queue"].sent == [{"client_order_ref": "100234"}]
    assert parts["metrics"].names.count("OrdersDuplicate") == 2


def test_a_retry_after_delivery_answers_with_the_erp_order_number(parts: dict[str, Any]) -> None:
    post(parts["receiver"], order_request("100234"))
    parts["store"].record_delivery("100234", "erp", "ok", "HTTP 200", "ERP-5001")
    _, body, _ = post(parts["receiver"], order_request("100234"))
    assert body["HasErpOrderNo"] is True and body["ErpOrderNo"] == "ERP-5001"


def test_an_invalid_order_is_failed_with_the_fields_to_fix_and_quarantined_once(
    parts: dict[str, Any],
) -> None:
    bad = order_request("100235")
    bad["Items"][0]["Quantity"] = "two"
    del bad["Items"][1]["LineNo"]
    answers = [post(parts["receiver"], bad) for _ in range(2)]
    for status, body, _ in answers:
        assert status == 200
        assert body["StatusCode"] == "Failed"
        assert "Items.0.Quantity" in body["Description"] and "Items.1.LineNo" in body["Description"]
    items = parts["quarantine"].list("order")
    assert len(items) == 1
    assert items[0].metadata["client_order_ref"] == "100235"
    assert items[0].key in answers[0][1]["Description"]
    assert parts["store"].list() == [] and parts["queue"].sent == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        ({**order_request(), "Unexpected": 1}, "Unexpected"),
        ({**order_request(), "Items": []}, "Items"),
        ({**order_request(), "ClientOrderRef": ""}, "ClientOrderRef"),
    ],
)
def test_unusable_bodies_are_failed_and_quarantined(parts: dict[str, Any], body: Any, expected: str) -> None:
    status, answer, _ = post(parts["receiver"], body)
    assert status == 200 and answer["StatusCode"] == "Failed"
    assert expected in answer["Description"]
    assert len(parts["quarantine"].list("order")) == 1


def test_duplicate_line_numbers_are_refused(parts: dict[str, Any]) -> None:
    bad = order_request()
    bad["Items"][1]["LineNo"] = 1
    _, answer, _ = post(parts["receiver"], bad)
    assert answer["StatusCode"] == "Failed" and "LineNo 1 appears more than once" in answer["Description"]


def test_store_down_is_503_so_norce_retries(parts: dict[str, Any]) -> None:
    parts["receiver"].store = BrokenStore()
    status, body, _ = post(parts["receiver"], order_request())
    assert status == 503 and body["StatusCode"] == "Failed"
    assert parts["queue"].sent == []
    assert "OrdersNotStored" in parts["metrics"].names


def test_quarantine_down_for_an_invalid_order_is_503(parts: dict[str, Any], tmp_path: Path) -> None:
    class DownQuarantine(LocalQuarantineStore):
        def put(self, *args: Any, **kwargs: Any) -> str:
            raise ConnectionError("s3 down")

    parts["receiver"].quarantine = DownQuarantine(tmp_path / "down")
    status, _, _ = post(parts["receiver"], b"{broken")
    assert status == 503


def test_queue_down_still_answers_ok_and_norces_retry_queues_the_stored_order(parts: dict[str, Any]) -> None:
    parts["queue"].down = True
    status, body, _ = post(parts["receiver"], order_request("100236"))
    assert status == 200 and body["StatusCode"] == "OK"
    stored = parts["store"].get("100236")
    assert stored is not None and stored.status == "received"
    assert "OrdersNotQueued" in parts["metrics"].names

    parts["queue"].down = False
    post(parts["receiver"], order_request("100236"))
    assert parts["queue"].sent == [{"client_order_ref": "100236"}]
    assert parts["store"].get("100236").status == "queued"  # type: ignore[union-attr]


def test_credentials_unreadable_before_any_read_is_503_not_401(tmp_path: Path) -> None:
    class NoSecrets:
        def secrets(self, *, refresh: bool = False) -> list[str]:
            raise SecretsUnavailable("AccessDenied")

    receiver = OrderReceiver(
        credentials=NoSecrets(),
        store=MemoryOrderStore(),
        queue=FakeQueue(),
        quarantine=LocalQuarantineStore(tmp_path),
    )
    status, _, _ = post(receiver, order_request())
    assert status == 503
