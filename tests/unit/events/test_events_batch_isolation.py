"""A record whose key can't be used fails alone; the rest of its SQS batch is processed."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fixtures.sqs_records import sqs_record

from norcekit.events.cache import TtlCache
from norcekit.events.config import parse_events_config
from norcekit.events.lookups import DEFAULT_ENTITIES, InvalidKey, Lookups, key_for
from norcekit.events.processor import EventProcessor
from norcekit.events.targets.base import DeliveryResult, TargetDocument


class FakeQuery:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[Any]]] = []

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        values = list(values)
        self.calls.append((entity_set, key_field, values))
        return {v: {key_field: v, "Name": f"row {v}"} for v in values}


class FakeTarget:
    name = "t"

    def __init__(self) -> None:
        self.docs: list[TargetDocument] = []

    def deliver(self, docs: Any, *, deadline: Any = None) -> list[DeliveryResult]:
        self.docs.extend(docs)
        return [DeliveryResult.success() for _ in docs]


class FakeJobs:
    def __init__(self) -> None:
        self.recorded: list[tuple[int, int]] = []

    def on_status(self, job_id: int, status: int, source: str) -> None:
        self.recorded.append((job_id, status))


record = sqs_record


@pytest.mark.parametrize("order_id", [[1], {"Id": 1}, True, 1.5])
def test_order_with_an_unusable_order_id_fails_alone(order_id: Any) -> None:
    query, target, jobs = FakeQuery(), FakeTarget(), FakeJobs()
    processor = EventProcessor(
        parse_events_config({"routes": {"*": ["t"]}, "targets": {"t": {"type": "s3", "bucket": "b"}}}),
        lookups=Lookups(query, TtlCache({}), DEFAULT_ENTITIES),  # type: ignore[arg-type]
        targets={"t": target},
        jobs=jobs,
        confirm_job=lambda job_id: 2,  # Job/Get agrees: succeeded
    )
    batch = {
        "Records": [
            record("job", "JobCompletedEvent", {"ClientId": 1, "JobId": 42, "StatusId": 2}),
            record("bad", "OrderReceivedEvent", {"ClientOrderRef": "R1", "OrderId": order_id}),
            record("sku", "SkuChangedNotification", {"ClientId": 1, "PartNo": "P1", "EntityChanged": "x"}),
        ]
    }

    response = processor.handle(batch)

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert jobs.recorded == [(42, 2)]
    assert [(d.entity, d.key) for d in target.docs] == [("sku", "P1")]
    assert all(entity_set != "Orders/Orders" for entity_set, _, _ in query.calls)


@pytest.mark.parametrize("value", [[1], {"a": 1}, False, 2.0])
def test_key_values_must_be_text_or_integers(value: Any) -> None:
    with pytest.raises(ValueError, match="OrderId"):
        key_for(DEFAULT_ENTITIES["order"], {"OrderId": value})


def test_key_of_a_wrong_type_is_invalid_not_missing() -> None:
    with pytest.raises(InvalidKey):
        key_for(DEFAULT_ENTITIES["order"], {"OrderId": [1], "ClientOrderRef": "R1"})
    assert key_for(DEFAULT_ENTITIES["order"], {"OrderId": 9001}).value == 9001
    assert key_for(DEFAULT_ENTITIES["sku"], {"PartNo": "P/1"}).value == "P/1"
