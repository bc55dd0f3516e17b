"""Document keys name one entity: an order is keyed by its Query Id however its events named it."""

from __future__ import annotations

from typing import Any

from tests.fixtures.sqs_records import sqs_record

from norcekit.events.cache import TtlCache
from norcekit.events.config import parse_events_config
from norcekit.events.lookups import DEFAULT_ENTITIES, Lookups, entity_specs
from norcekit.events.processor import EventProcessor
from norcekit.events.targets.base import DeliveryResult, TargetDocument
from norcekit.events.targets.s3 import object_key

ORDER = {"Id": 9001, "QuotationId": 10001, "Items": []}
BASE = {"ClientId": 1, "ApplicationId": 2, "Source": "WEB"}
STATUS = {**BASE, "OrderNo": "E-1"}


class FakeQuery:
    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        wanted = {str(v) for v in values}
        return {
            row[key_field]: row
            for row in self.tables.get(entity_set, [])
            if str(row.get(key_field)) in wanted
        }


class FakeTarget:
    name = "t"

    def __init__(self) -> None:
        self.docs: list[TargetDocument] = []

    def deliver(self, docs: Any, *, deadline: Any = None) -> list[DeliveryResult]:
        self.docs.extend(docs)
        return [DeliveryResult.success() for _ in docs]


record = sqs_record


def run(tables: dict[str, list[dict[str, Any]]], *records: dict[str, Any]) -> list[TargetDocument]:
    target = FakeTarget()
    processor = EventProcessor(
        parse_events_config({"routes": {"*": ["t"]}, "targets": {"t": {"type": "s3", "bucket": "b"}}}),
        lookups=Lookups(FakeQuery(tables), TtlCache({}), DEFAULT_ENTITIES),  # type: ignore[arg-type]
        targets={"t": target},
    )
    assert processor.handle({"Records": list(records)}) == {"batchItemFailures": []}
    return target.docs


def test_order_found_by_client_order_ref_is_keyed_by_its_id() -> None:
    [doc] = run(
        {"Orders/Orders": [ORDER]}, record("m1", "OrderReceivedEvent", {**BASE, "ClientOrderRef": "10001"})
    )
    assert (doc.key, doc.status) == ("9001", "current")


def test_events_naming_one_order_by_ref_and_by_id_make_one_document() -> None:
    docs = run(
        {"Orders/Orders": [ORDER]},
        record("m1", "OrderReceivedEvent", {**BASE, "ClientOrderRef": "10001"}),
        record("m2", "OrderConfirmedEvent", {**STATUS, "OrderId": 9001, "ClientOrderRef": "10001"}),
    )
    [doc] = docs
    assert doc.key == "9001"
    assert doc.event_types == ["OrderConfirmedEvent", "OrderReceivedEvent"]


def test_order_id_and_a_ref_with_the_same_text_get_different_keys_and_objects() -> None:
    docs = run(
        {"Orders/Orders": []},  # neither found: delivered as not_found
        record("m1", "OrderConfirmedEvent", {**STATUS, "OrderId": 123, "ClientOrderRef": "X9"}),
        record("m2", "OrderReceivedEvent", {**BASE, "ClientOrderRef": "123"}),
    )
    assert sorted(d.key for d in docs) == ["123", "QuotationId:123"]
    assert {d.status for d in docs} == {"not_found"}
    assert sorted(object_key("norce/", d) for d in docs) == [
        "norce/order/123.json",
        "norce/order/QuotationId:123.json",
    ]


def test_entities_keyed_by_their_primary_key_keep_the_event_key() -> None:
    docs = run(
        {
            "Products/ProductSkus": [{"PartNo": "P/1"}],
            "Customers/Customers": [{"Id": 501}],
            "Products/SupplierProductSkus": [{"SupplierId": 7, "PartNo": "SUP-100"}],
        },
        record("m1", "SkuChangedNotification", {"ClientId": 1, "PartNo": "P/1", "EntityChanged": "x"}),
        record("m2", "CustomerChangedNotification", {"ClientId": 1, "CustomerId": 501, "EntityChanged": "x"}),
        record("m3", "CompanyChangedNotification", {"ClientId": 1, "CompanyId": 77, "EntityChanged": "x"}),
        record(
            "m4",
            "SupplierSkuChangedNotification",
            {"ClientId": 1, "SupplierId": 7, "PartNo": "SUP-100", "EntityChanged": "tSupplierProductSku"},
        ),
    )
    # No published 2.0 company set: by default the company event's payload is its document.
    assert sorted((d.entity, d.key, d.status) for d in docs) == [
        ("company", "77", "current"),
        ("customer", "501", "current"),
        ("sku", "P/1", "current"),
        ("supplier_sku", "7:SUP-100", "current"),
    ]


class SelectingQuery(FakeQuery):
    """Answers only the selected fields (and the filtered key), as Query does with ``$select``."""

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        rows = super().get_many(entity_set, key_field, values)
        fields = {*(kwargs.get("select") or ()), key_field}
        return {k: {f: v for f, v in row.items() if f in fields} for k, row in rows.items()}


def test_an_order_read_with_a_narrow_select_is_still_keyed_by_its_id() -> None:
    config = {
        "routes": {"*": ["t"]},
        "targets": {"t": {"type": "s3", "bucket": "b"}},
        "lookups": {"order": {"select": ["OrderNo"]}},
    }
    parsed = parse_events_config(config)
    specs = entity_specs(parsed)
    target = FakeTarget()
    query = SelectingQuery({"Orders/Orders": [{**ORDER, "OrderNo": "E-1"}]})
    processor = EventProcessor(
        parsed,
        lookups=Lookups(query, TtlCache({}), specs),  # type: ignore[arg-type]
        targets={"t": target},
        specs=specs,
    )
    for message in (
        record("m1", "OrderReceivedEvent", {**BASE, "ClientOrderRef": "10001"}),
        record("m2", "OrderConfirmedEvent", {**STATUS, "OrderId": 9001, "ClientOrderRef": "10001"}),
    ):
        assert processor.handle({"Records": [message]}) == {"batchItemFailures": []}

    # One order, one document key (and one S3 object), whichever field its event named it by.
    assert [(d.key, d.status) for d in target.docs] == [("9001", "current"), ("9001", "current")]
