"""Deliveries never go backwards: an older read of a key is not sent after a newer one, per target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fixtures.sqs_records import sqs_record

from norcekit.events.cache import TtlCache
from norcekit.events.config import parse_events_config
from norcekit.events.lookups import DEFAULT_ENTITIES, Lookups
from norcekit.events.processor import EventProcessor
from norcekit.events.targets.base import DeliveryResult, TargetDocument
from norcekit.state.deliveries import MemoryDeliveryLedger

T0 = datetime(2026, 4, 9, 12, tzinfo=UTC)


class PriceQuery:
    def __init__(self) -> None:
        self.price = 100

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        return {v: {"PartNo": v, "Price": self.price} for v in values}


class Recorder:
    def __init__(self) -> None:
        self.docs: list[TargetDocument] = []

    def deliver(self, docs: Any, *, deadline: Any = None) -> list[DeliveryResult]:
        self.docs.extend(docs)
        return [DeliveryResult.success() for _ in docs]


def processor(
    query: PriceQuery, shop: Recorder, ledger: MemoryDeliveryLedger, at: datetime
) -> EventProcessor:
    return EventProcessor(
        parse_events_config({"routes": {"*": ["shop"]}, "targets": {"shop": {"type": "s3", "bucket": "b"}}}),
        lookups=Lookups(query, TtlCache({}), DEFAULT_ENTITIES),  # type: ignore[arg-type]
        targets={"shop": shop},  # type: ignore[dict-item]
        ledger=ledger,
        clock=lambda: at,
    )


def sku(message_id: str) -> dict[str, Any]:
    return sqs_record(
        message_id, "SkuChangedNotification", {"ClientId": 1, "PartNo": "P1", "EntityChanged": "t"}
    )


def test_an_older_read_still_retrying_never_lands_after_a_newer_one() -> None:
    query, shop, ledger = PriceQuery(), Recorder(), MemoryDeliveryLedger()
    # The newer read (price 90) is delivered first; the older read (price 100), a slow retry, after.
    query.price = 90
    processor(query, shop, ledger, T0 + timedelta(seconds=5)).handle({"Records": [sku("new")]})
    query.price = 100
    outcome = processor(query, shop, ledger, T0).handle({"Records": [sku("old")]})

    assert outcome == {"batchItemFailures": []}  # acknowledged: nothing to retry, a newer state is out
    assert [d.data["Price"] for d in shop.docs if d.data] == [90]


def test_price_100_90_100_is_three_deliveries_with_three_keys() -> None:
    query, shop, ledger = PriceQuery(), Recorder(), MemoryDeliveryLedger()
    for seconds, price in ((0, 100), (1, 90), (2, 100)):
        query.price = price
        processor(query, shop, ledger, T0 + timedelta(seconds=seconds)).handle(
            {"Records": [sku(f"m{seconds}")]}
        )
    assert [d.data["Price"] for d in shop.docs if d.data] == [100, 90, 100]
    assert len({d.idempotency_key for d in shop.docs}) == 3
    assert [d.version for d in shop.docs] == sorted(d.version for d in shop.docs)


def test_a_retry_of_unchanged_state_keeps_its_version_and_key() -> None:
    query, shop, ledger = PriceQuery(), Recorder(), MemoryDeliveryLedger()
    processor(query, shop, ledger, T0).handle({"Records": [sku("m1")]})
    processor(query, shop, ledger, T0 + timedelta(seconds=30)).handle({"Records": [sku("m1")]})  # redelivered
    assert len(shop.docs) == 2
    assert shop.docs[0].idempotency_key == shop.docs[1].idempotency_key
    assert shop.docs[0].version == shop.docs[1].version


def test_the_ledger_is_per_target_and_key() -> None:
    ledger = MemoryDeliveryLedger()
    assert ledger.advance("shop", "sku", "P1", 2, "a") == 2
    assert ledger.advance("shop", "sku", "P1", 2, "b") is None
    assert ledger.advance("shop", "sku", "P1", 1, "c") is None
    assert ledger.advance("shop", "sku", "P1", 3, "a") == 2  # unchanged content: the same version
    assert (
        ledger.advance("bus", "sku", "P1", 1, "a") == 1 and ledger.advance("shop", "sku", "P2", 1, "a") == 1
    )
