"""Norce Event webhooks: subscriptions, payloads, static headers, retries, dead events, JobCompletedEvent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
from tests.fixtures.emulator import import_and_wait, product

from norce_emulator import Emulator

pytestmark = pytest.mark.integration


class Receiver:
    """A local webhook target: answers with queued statuses (then 200) and records every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.calls.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": orjson.loads(body),
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_sku_notifications_with_static_headers_and_retry_after_500(
    emulator: Emulator, receiver: Receiver
) -> None:
    emulator.seed(skus=[{"PartNo": "A"}], price_lists=[{"Code": "B2C"}])
    emulator.subscribe(
        "SkuChangedNotification",
        receiver.url + "/events/SkuChangedNotification",
        {"X-Webhook-Token": "s3cret", "x-norce-event-type": "SkuChangedNotification"},
    )
    receiver.statuses = [500, 503]
    emulator.mutate("skus", {"PartNo": "A"}, set={"Status": 5})
    [delivery] = emulator.wait_for_deliveries(1, state="delivered")
    assert [a["Status"] for a in delivery["Attempts"]] == [500, 503, 200]
    assert len(receiver.calls) == 3
    call = receiver.calls[-1]
    assert call["path"] == "/events/SkuChangedNotification"
    assert call["headers"]["x-webhook-token"] == "s3cret"
    assert call["headers"]["content-type"] == "application/json"
    assert call["body"] == {
        "ClientId": 1234,
        "ApplicationId": 1042,
        "PartNo": "A",
        "EntityChanged": "tClientProductSku",
    }
    # Not subscribed -> not delivered (Norce tracks nothing while an event is OFF).
    emulator.mutate(
        "prices", {"PartNo": "A", "PriceListCode": "B2C", "QuantityBreak": 1}, set={"PriceSale": 9.5}
    )
    assert emulator.deliveries("SkuPriceChangedNotification") == []
    assert emulator.emitted_events("SkuPriceChangedNotification")[0]["Subscribed"] is False


def test_price_and_customer_notifications(emulator: Emulator, receiver: Receiver) -> None:
    emulator.seed(skus=[{"PartNo": "A"}], price_lists=[{"Code": "B2C"}], customers=[{"Code": "C1"}])
    for event_type in ("SkuPriceChangedNotification", "CustomerChangedNotification"):
        emulator.subscribe(event_type, f"{receiver.url}/{event_type}")
    emulator.mutate(
        "prices", {"PartNo": "A", "PriceListCode": "B2C", "QuantityBreak": 1}, set={"PriceSale": 99.0}
    )
    emulator.mutate("customers", {"Code": "C1"}, set={"InvoiceAddress": {"City": "Malmö"}})
    emulator.wait_for_deliveries(2, state="delivered")
    bodies = {c["path"]: c["body"] for c in receiver.calls}
    price = bodies["/SkuPriceChangedNotification"]
    assert price["PartNo"] == "A" and price["PricelistCode"] == "B2C" and price["PriceSaleValue"] == 99.0
    assert price["QuantityBreak"] == 1 and isinstance(price["PricelistId"], int)
    customer = bodies["/CustomerChangedNotification"]
    assert customer["EntityChanged"] == "tClientCustomerAddress"
    assert set(customer) == {"ClientId", "ApplicationId", "CustomerId", "EntityChanged"}


def test_job_completed_event_and_import_notifications(
    emulator: Emulator, receiver: Receiver, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.subscribe("JobCompletedEvent", receiver.url + "/job")
    emulator.subscribe("SkuChangedNotification", receiver.url + "/sku")
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Product/ImportProducts",
        [product("P1", "A", "B")],
        FullFile=False,
    )
    emulator.wait_for_deliveries(3, state="delivered")
    job_events = [c["body"] for c in receiver.calls if c["path"] == "/job"]
    assert job_events == [{"ClientId": 1234, "ApplicationId": 1042, "JobId": job["JobId"], "StatusId": 2}]
    assert sorted(c["body"]["PartNo"] for c in receiver.calls if c["path"] == "/sku") == ["A", "B"]


@pytest.mark.parametrize("emulator_config", [{"event_retry_scale": 0.00001}])
def test_event_goes_dead_after_norce_schedule(emulator: Emulator, receiver: Receiver) -> None:
    receiver.statuses = [500] * 100
    emulator.subscribe("CompanyChangedNotification", receiver.url)
    emulator.seed(companies=[{"Code": "CO1"}])
    emulator.mutate("companies", {"Code": "CO1"}, set={"Name": "New name"})
    [delivery] = emulator.wait_for_deliveries(1, state="dead", timeout=15)
    assert len(delivery["Attempts"]) == 17  # first try + 16 retries
    assert len(receiver.calls) == 17


def test_unreachable_target_is_retried(emulator: Emulator, receiver: Receiver) -> None:
    emulator.subscribe("SkuChangedNotification", "http://127.0.0.1:9/nothing-listens-here")
    emulator.seed(skus=[{"PartNo": "A"}])
    emulator.mutate("skus", {"PartNo": "A"}, delete=True)
    deadline_attempts = emulator.events.wait(
        lambda: any(len(d["Attempts"]) >= 2 for d in emulator.events.deliveries.values()), timeout=5
    )
    assert deadline_attempts
    attempt = emulator.deliveries()[0]["Attempts"][0]
    assert attempt["Status"] is None and "Connect" in attempt["Error"]


def test_subscriptions_admin_http(
    emulator: Emulator, receiver: Receiver, emulator_http: httpx.Client
) -> None:
    base = "/_admin/"
    resp = emulator_http.post(
        base + "subscriptions",
        json={
            "EventType": "SkuChangedNotification",
            "Url": receiver.url,
            "Headers": {"Authorization": "Bearer hook"},
        },
    )
    assert resp.status_code == 200
    assert emulator_http.get(base + "subscriptions").json()[0]["Headers"] == {"Authorization": "Bearer hook"}
    assert (
        emulator_http.post(
            base + "subscriptions", json={"EventType": "NoSuchEvent", "Url": receiver.url}
        ).status_code
        == 400
    )
    emulator_http.post(base + "seed", json={"skus": [{"PartNo": "A"}]})
    emulator_http.post(
        base + "mutate", json={"kind": "skus", "key": {"PartNo": "A"}, "set": {"EanCode": "1"}}
    )
    emulator.wait_for_deliveries(1)
    deliveries = emulator_http.get(base + "deliveries").json()
    assert deliveries[0]["State"] == "delivered"
    assert receiver.calls[0]["headers"]["authorization"] == "Bearer hook"
    assert emulator_http.delete(base + "subscriptions").json() == {"removed": 1}


#: Norce's event reference (norce-query-and-events.md §3.2): every field each type may carry, and
#: the required ones. SupplierSkuPriceChangedNotification: only its key fields are published.
_PARTY = {"ClientId", "ApplicationId", "EntityChanged"}
DOCUMENTED_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "SkuChangedNotification": (_PARTY | {"PartNo"}, {"ClientId", "PartNo", "EntityChanged"}),
    "SkuPriceChangedNotification": (
        {
            "ClientId",
            "ApplicationId",
            "PartNo",
            "PricelistId",
            "PricelistCode",
            "PriceSaleValue",
            "QuantityBreak",
        },
        {"ClientId", "PartNo", "PricelistId", "PriceSaleValue"},
    ),
    "CustomerChangedNotification": (_PARTY | {"CustomerId"}, {"ClientId", "CustomerId", "EntityChanged"}),
    "CompanyChangedNotification": (_PARTY | {"CompanyId"}, {"ClientId", "CompanyId", "EntityChanged"}),
    "SupplierSkuChangedNotification": (
        _PARTY | {"SupplierId", "PartNo"},
        {"ClientId", "SupplierId", "PartNo", "EntityChanged"},
    ),
    "SupplierSkuOnHandChangedNotification": (
        _PARTY | {"SupplierId", "PartNo"},
        {"ClientId", "SupplierId", "PartNo", "EntityChanged"},
    ),
    "SupplierSkuPriceChangedNotification": (
        {"ClientId", "ApplicationId", "SupplierId", "PartNo"},
        {"ClientId", "SupplierId", "PartNo"},
    ),
    "JobCompletedEvent": (
        {"ClientId", "ApplicationId", "JobId", "StatusId"},
        {"ClientId", "JobId", "StatusId"},
    ),
}
SKU_TABLES = {
    "tApplicationPriceList", "tCategory", "tCategoryCulture", "tCategorySalesArea", "tClientManufacturer",
    "tClientProductSku", "tClientProductSkuCulture", "tClientProductSkuOnHand", "tClientProductSkuPriceList",
    "tClientProductSkuSalesArea",
}  # fmt: skip
SUPPLIER_TABLES = {
    "SupplierSkuChangedNotification": {"tSupplierProductSku", "tSupplierProductSkuClient"},
    "SupplierSkuOnHandChangedNotification": {"tSupplierProductSkuOnHand"},
}


def test_emitted_payloads_carry_only_documented_fields_and_types(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    from norcekit.norce.events import parse_event  # noqa: PLC0415 - the kit's models check the types

    emulator.seed(price_lists=[{"Code": "B2C"}], skus=[{"PartNo": "A", "Status": 1}], emit_events=True)
    price_key = {"PartNo": "A", "PriceListCode": "B2C", "QuantityBreak": 1}
    emulator.mutate("prices", price_key, set={"CostPurchase": 3.0})  # no sale price: no price event
    emulator.mutate("prices", price_key, set={"PriceSale": 99})
    emulator.seed(customers=[{"Code": "C1"}], companies=[{"Code": "CO1"}], emit_events=True)
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Product/ImportProducts",
        [product("P1", "B")],
        FullFile=False,
    )
    stock = [{"WarehouseCode": w, "LocationCode": "L", "Value": 1} for w in ("W1", "W2")]
    prices = [{"PriceListCode": code, "CostPurchase": 1.0} for code in ("S1", "S2")]
    for items, full in [
        ([{"SupplierPartNo": "SP1", "ProductName": "Thing", "OnHand": stock, "PriceList": prices}], False),
        (
            [
                {"SupplierPartNo": "SP1", "OnHand": stock[:1], "PriceList": prices[:1]},
                {"SupplierPartNo": "SP2", "OnHand": stock[1:], "PriceList": prices[1:]},
            ],
            True,  # SP1's W2 stock and S2 price are in scope and missing: deactivated
        ),
    ]:
        import_and_wait(
            emulator,
            emulator_http,
            emulator_headers,
            "Supplier/ImportProducts",
            items,
            FullFile=full,
            SupplierId=7,
        )

    emitted = emulator.emitted_events()
    assert set(DOCUMENTED_FIELDS) <= {e["EventType"] for e in emitted}
    for event in emitted:
        event_type, payload = event["EventType"], event["Payload"]
        allowed, required = DOCUMENTED_FIELDS[event_type]
        assert set(payload) <= allowed and required <= set(payload), (event_type, payload)
        assert None not in payload.values(), (event_type, payload)
        parse_event(event_type, payload)  # documented types: int32/int64 ranges, doubles
        if event_type == "SkuChangedNotification":
            assert payload["EntityChanged"] in SKU_TABLES, payload
        if event_type in SUPPLIER_TABLES:
            assert payload["EntityChanged"] in SUPPLIER_TABLES[event_type], payload
    [price] = [e["Payload"] for e in emitted if e["EventType"] == "SkuPriceChangedNotification"]
    assert isinstance(price["PriceSaleValue"], float) and isinstance(price["QuantityBreak"], float)
    assert price["PriceSaleValue"] == 99.0
