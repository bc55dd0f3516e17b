"""Event processor with a fake Query client and fake targets: coalescing, failures, routing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.sqs_records import sqs_record

from norcekit.events.cache import TtlCache
from norcekit.events.config import EventsConfig, parse_events_config
from norcekit.events.lookups import DEFAULT_ENTITIES, Lookups
from norcekit.events.processor import EventProcessor
from norcekit.events.targets.base import DeliveryResult, TargetDocument
from norcekit.state.jobs import JobNotFoundError

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "events" / "event_processor"


class FakeQuery:
    def __init__(self, tables: dict[str, dict[Any, dict[str, Any]]]) -> None:
        self.tables = tables
        self.calls: list[tuple[str, str, list[Any], dict[str, Any]]] = []
        self.fail_sets: set[str] = set()

    def get_many(
        self, entity_set: str, key_field: str, values: Any, **kwargs: Any
    ) -> dict[Any, dict[str, Any]]:
        values = list(values)
        self.calls.append((entity_set, key_field, values, kwargs))
        if entity_set in self.fail_sets:
            raise ConnectionError("Norce unavailable")
        rows = self.tables.get(entity_set, {})
        return {
            row[key_field]: row
            for row in rows.values()
            if str(row.get(key_field)) in {str(v) for v in values}
        }


class FakeTarget:
    def __init__(self, name: str, fail_keys: dict[str, DeliveryResult] | None = None) -> None:
        self.name = name
        self.calls: list[list[TargetDocument]] = []
        self.fail_keys = fail_keys or {}

    def deliver(self, docs: Sequence[TargetDocument], *, deadline: Any = None) -> list[DeliveryResult]:
        self.calls.append(list(docs))
        return [self.fail_keys.get(d.key, DeliveryResult.success()) for d in docs]

    @property
    def docs(self) -> list[TargetDocument]:
        return [d for call in self.calls for d in call]


#: Job/Get as Norce answers it: job id -> StatusId.
JOB_GET: dict[int, int] = {4711: 2, 5: 2}


class FakeJobs:
    def __init__(self, known: set[int]) -> None:
        self.known = known
        self.recorded: list[tuple[int, int, str]] = []

    def on_status(self, job_id: int, status: int, source: str) -> Any:
        if job_id not in self.known:
            raise JobNotFoundError(job_id)
        self.recorded.append((job_id, status, source))
        return None


def record(i: int, event_type: str, body: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
    return sqs_record(f"m-{i}", event_type, body, receive_count)


def sku_event(i: int, part_no: str, event_type: str = "SkuChangedNotification") -> dict[str, Any]:
    return record(i, event_type, {"ClientId": 1, "PartNo": part_no, "EntityChanged": "tClientProductSku"})


SKUS = {f"P{i}": {"PartNo": f"P{i}", "Name": f"Sku {i}", "PriceLists": [], "OnHands": []} for i in range(20)}


@pytest.fixture
def query() -> FakeQuery:
    return FakeQuery(
        {
            "Products/ProductSkus": dict(SKUS),
            "Customers/Customers": {501: {"Id": 501, "Code": "C501"}},
            "Orders/Orders": {9001: {"Id": 9001, "QuotationId": 10001, "Items": [{"PartNo": "P1"}]}},
            "Products/SupplierProductSkus": {1: {"SupplierId": 7, "PartNo": "SUP-100"}},
        }
    )


def make(
    query: FakeQuery, config: EventsConfig, targets: dict[str, FakeTarget], jobs: Any = None
) -> EventProcessor:
    lookups = Lookups(query, TtlCache({"Products": 60}), DEFAULT_ENTITIES)  # type: ignore[arg-type]
    return EventProcessor(
        config,
        lookups=lookups,
        targets=targets,  # type: ignore[arg-type]
        jobs=jobs,
        confirm_job=JOB_GET.__getitem__,
    )


def config(routes: dict[str, list[str]] | None = None) -> EventsConfig:
    return parse_events_config(
        {
            "routes": routes or {"*": ["t"]},
            "targets": {"t": {"type": "s3", "bucket": "b"}, "u": {"type": "s3", "bucket": "b"}},
        }
    )


def test_hundred_events_for_ten_skus_cost_one_query_call_and_ten_documents(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    event = {"Records": [sku_event(i, f"P{i % 10}") for i in range(100)]}

    response = processor.handle(event)

    assert response == {"batchItemFailures": []}
    assert len(query.calls) == 1
    entity_set, key_field, values, kwargs = query.calls[0]
    assert (entity_set, key_field, sorted(values)) == (
        "Products/ProductSkus",
        "PartNo",
        [f"P{i}" for i in range(10)],
    )
    assert kwargs["expand"] == "PriceLists"
    assert len(target.calls) == 1
    assert sorted(d.key for d in target.docs) == [f"P{i}" for i in range(10)]


def test_coalesced_document_lists_every_event_type_that_named_the_key(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    sample = json.loads((SAMPLES / "sku-burst-coalesced.json").read_text())

    assert processor.handle(sample) == {"batchItemFailures": []}
    [doc] = target.docs
    assert doc.event_types == [
        "SkuChangedNotification",
        "SkuOnHandBreakPointNotification",
        "SkuPriceChangedNotification",
    ]


def test_poison_record_alone_is_reported_failed(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    sample = json.loads((SAMPLES / "poison-record.json").read_text())

    response = processor.handle(sample)

    assert response == {"batchItemFailures": [{"itemIdentifier": "00000000-0000-0000-0000-00000000dead"}]}
    assert [d.key for d in target.docs] == ["100011"]


def test_invalid_payload_in_queue_is_poison_too(query: FakeQuery) -> None:
    processor = make(query, config(), {"t": FakeTarget("t")})
    bad = record(1, "SkuChangedNotification", {"ClientId": 1})  # PartNo/EntityChanged missing
    response = processor.handle({"Records": [sku_event(0, "P1"), bad]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_failed_delivery_fails_every_record_of_that_key_only(query: FakeQuery) -> None:
    target = FakeTarget("t", fail_keys={"P2": DeliveryResult.retryable("HTTP 503")})
    processor = make(query, config(), {"t": target})
    records = [sku_event(0, "P1"), sku_event(1, "P2"), sku_event(2, "P2", "SkuPriceChangedNotification")]

    response = processor.handle({"Records": records})

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["m-1", "m-2"]


def test_whole_batch_failing_is_reported_per_item_not_raised(query: FakeQuery) -> None:
    query.fail_sets.add("Products/ProductSkus")
    processor = make(query, config(), {"t": FakeTarget("t")})
    response = processor.handle({"Records": [sku_event(0, "P1"), sku_event(1, "P2")]})
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["m-0", "m-1"]


def test_lookup_failure_of_one_entity_set_leaves_others_delivered(query: FakeQuery) -> None:
    query.fail_sets.add("Customers/Customers")
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    customer = record(
        1, "CustomerChangedNotification", {"ClientId": 1, "CustomerId": 501, "EntityChanged": "x"}
    )

    response = processor.handle({"Records": [sku_event(0, "P1"), customer]})

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert [d.key for d in target.docs] == ["P1"]


def test_key_query_no_longer_returns_is_delivered_as_not_found(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})

    assert processor.handle({"Records": [sku_event(0, "GONE")]}) == {"batchItemFailures": []}
    [doc] = target.docs
    assert (doc.entity, doc.key, doc.status, doc.data) == ("sku", "GONE", "not_found", None)


def test_every_entity_kind_is_looked_up_where_it_lives(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    sample = json.loads((SAMPLES / "mixed-entities.json").read_text())

    assert processor.handle(sample) == {"batchItemFailures": []}
    docs = {d.entity: d for d in target.docs}
    assert docs["sku"].data == SKUS["P0"] or docs["sku"].status == "not_found"
    assert docs["customer"].data == {"Id": 501, "Code": "C501"}
    # No published 2.0 company set: the payload is the document unless one is configured.
    assert docs["company"].data["CompanyId"] == 77 and "Customers/Companies" not in query.tables
    assert docs["order"].data["Items"] == [{"PartNo": "P1"}]
    assert docs["supplier_sku"].key == "7:SUP-100"
    assert docs["supplier_sku"].data == {"SupplierId": 7, "PartNo": "SUP-100"}
    # Invoices have no Query set: the payload itself is the document.
    assert docs["invoice"].data == {
        "ClientId": 1234,
        "ApplicationId": 1042,
        "CapturedInvoiceId": 3001,
        "State": "Captured",
    }
    called = {c[0]: c for c in query.calls}
    assert called["Orders/Orders"][3]["expand"] == "Items"
    assert called["Products/SupplierProductSkus"][3]["filter"] == "SupplierId eq 7"


def test_order_received_without_order_id_is_looked_up_by_its_basket_id(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    payload = {"ClientId": 1, "ApplicationId": 2, "ClientOrderRef": "10001", "Source": "WEB"}
    event = record(0, "OrderReceivedEvent", payload)

    processor.handle({"Records": [event]})

    # Orders/Orders has no ClientOrderRef: the basket id is the order's QuotationId (int32).
    assert query.calls[0][:3] == ("Orders/Orders", "QuotationId", [10001])
    assert target.docs[0].data["Id"] == 9001


def test_routes_pick_targets_per_event_type(query: FakeQuery) -> None:
    t, u = FakeTarget("t"), FakeTarget("u")
    processor = make(
        query,
        config({"SkuChangedNotification": ["t", "u"], "CustomerChangedNotification": ["u"]}),
        {"t": t, "u": u},
    )
    customer = record(
        1, "CustomerChangedNotification", {"ClientId": 1, "CustomerId": 501, "EntityChanged": "x"}
    )

    processor.handle({"Records": [sku_event(0, "P1"), customer]})

    assert [d.entity for d in t.docs] == ["sku"]
    assert sorted(d.entity for d in u.docs) == ["customer", "sku"]


def test_job_completed_is_recorded_without_any_query_call(query: FakeQuery) -> None:
    jobs = FakeJobs({4711})
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target}, jobs)
    sample = json.loads((SAMPLES / "job-completed.json").read_text())

    assert processor.handle(sample) == {"batchItemFailures": []}
    assert jobs.recorded == [(4711, 2, "event")]
    assert query.calls == [] and target.docs == []


def test_forged_job_completion_is_recorded_as_job_get_reports_it(query: FakeQuery) -> None:
    jobs = FakeJobs({6})
    processor = make(query, config(), {"t": FakeTarget("t")}, jobs)
    JOB_GET[6] = 1  # still running in Norce, whatever the event claims
    body = {"ClientId": 1, "JobId": 6, "StatusId": 2}
    assert processor.handle({"Records": [record(0, "JobCompletedEvent", body)]}) == {"batchItemFailures": []}
    assert jobs.recorded == [(6, 1, "event")]  # not terminal: no watermark commit, no superseding


def test_job_get_unavailable_retries_the_event(query: FakeQuery) -> None:
    jobs = FakeJobs({7})
    processor = make(query, config(), {"t": FakeTarget("t")}, jobs)
    body = {"ClientId": 1, "JobId": 7, "StatusId": 3}  # JOB_GET has no 7: the lookup raises
    assert processor.handle({"Records": [record(0, "JobCompletedEvent", body)]}) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}]
    }
    assert jobs.recorded == []


def test_without_job_get_a_terminal_status_is_not_acted_on(query: FakeQuery) -> None:
    jobs = FakeJobs({4711})
    lookups = Lookups(query, TtlCache({}), DEFAULT_ENTITIES)  # type: ignore[arg-type]
    processor = EventProcessor(config(), lookups=lookups, targets={}, jobs=jobs)  # type: ignore[arg-type]
    body = {"ClientId": 1, "JobId": 4711, "StatusId": 2}
    assert processor.handle({"Records": [record(0, "JobCompletedEvent", body)]}) == {"batchItemFailures": []}
    assert jobs.recorded == []


def test_job_unknown_is_retried_a_few_receives_then_acknowledged(query: FakeQuery) -> None:
    processor = make(query, config(), {"t": FakeTarget("t")}, FakeJobs(set()))
    body = {"ClientId": 1, "JobId": 5, "StatusId": 2}
    assert processor.handle({"Records": [record(0, "JobCompletedEvent", body, receive_count=1)]}) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}]
    }
    assert processor.handle({"Records": [record(0, "JobCompletedEvent", body, receive_count=3)]}) == {
        "batchItemFailures": []
    }


def test_keyless_price_notification_is_delivered_as_its_payload(query: FakeQuery) -> None:
    target = FakeTarget("t")
    processor = make(query, config(), {"t": target})
    event = record(0, "SkuStockChangedNotification", {"ClientId": 1, "PricelistId": 3})

    assert processor.handle({"Records": [event]}) == {"batchItemFailures": []}
    [doc] = target.docs
    assert doc.data == {"ClientId": 1, "PricelistId": 3}
    assert doc.key.startswith("sha256:")
    assert query.calls == []


def sku_for_shop(data: dict[str, Any], context: Any) -> dict[str, Any] | None:
    if data["PartNo"] == "P3":
        return None  # this target does not want P3
    return {"sku": data["PartNo"], "target": context.target}


def test_mapping_from_config_replaces_identity_per_target(query: FakeQuery) -> None:
    t, u = FakeTarget("t"), FakeTarget("u")
    cfg = parse_events_config(
        {
            "routes": {"*": ["t", "u"]},
            "targets": {
                "t": {"type": "s3", "bucket": "b", "mappings": {"sku": f"{__name__}:sku_for_shop"}},
                "u": {"type": "s3", "bucket": "b"},
            },
        }
    )
    processor = make(query, cfg, {"t": t, "u": u})

    processor.handle({"Records": [sku_event(0, "P1"), sku_event(1, "P3")]})

    assert [d.data for d in t.docs] == [{"sku": "P1", "target": "t"}]
    assert sorted(d.key for d in u.docs) == ["P1", "P3"]
    assert t.docs[0].idempotency_key != next(d for d in u.docs if d.key == "P1").idempotency_key


def test_a_target_that_raises_fails_its_records_not_the_batch(query: FakeQuery) -> None:
    class Exploding(FakeTarget):
        def deliver(self, docs: Sequence[TargetDocument], *, deadline: Any = None) -> list[DeliveryResult]:
            raise RuntimeError("bug")

    processor = make(query, config(), {"t": Exploding("t")})
    response = processor.handle({"Records": [sku_event(0, "P1")]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
