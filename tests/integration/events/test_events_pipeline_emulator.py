"""Processor against the Norce emulator (Query) and moto (SQS, S3), with the local HTTP sink as target.

Runs the real ``functions/event_processor/app.handler`` through the local SQS consumer, so records
are deleted / left / dead-lettered exactly as the Lambda event source mapping would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.fixtures.aws import MAX_RECEIVE_COUNT
from tests.fixtures.emulator import import_and_wait, product
from tests.integration.events.conftest import REGION, query_requests, write_config

from norcekit.events.dlq import peek, redrive
from norcekit.norce.jobs import JobStatus
from norcekit.state.jobs import JobRecord, JobStore
from norcekit_local.consumer import SqsConsumer, sqs_event
from norcekit_local.handlers import FakeLambdaContext, load_handler
from norcekit_local.sink import HttpSink

pytestmark = pytest.mark.integration


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[HttpSink]:
    with HttpSink(tmp_path / "out") as running:
        yield running


@pytest.fixture
def pipeline(
    norce_env: None,
    sqs_queues: Any,
    target_bucket: str,
    sink: HttpSink,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> SqsConsumer:
    write_config(
        tmp_path / "norcekit.json",
        {
            "routes": {"*": ["archive", "shop"]},
            "targets": {
                "archive": {"type": "s3", "bucket": target_bucket},
                "shop": {"type": "http", "url": f"{sink.url}/docs", "backoff_s": 0.01, "max_attempts": 3},
            },
        },
        monkeypatch,
    )
    return SqsConsumer(
        sqs_queues.queue_url,
        sqs=boto3.client("sqs", region_name=REGION),
        handler=load_handler("event_processor", fresh=True),
        wait_time_s=0,
        retry_visibility_s=0,
    )


def send_events(queue_url: str, events: list[tuple[str, dict[str, Any]]]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for start in range(0, len(events), 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(
                        {"event_type": t, "body": b, "received_at": "2026-01-01T00:00:00Z"}
                    ),
                }
                for i, (t, b) in enumerate(events[start : start + 10])
            ],
        )


def sku_event(part_no: str) -> tuple[str, dict[str, Any]]:
    return "SkuChangedNotification", {
        "ClientId": 1234,
        "PartNo": part_no,
        "EntityChanged": "tClientProductSku",
    }


def s3_doc(bucket: str, entity: str, key: str) -> dict[str, Any]:
    body = boto3.client("s3", region_name=REGION).get_object(
        Bucket=bucket, Key=f"targets/{entity}/{key}.json"
    )["Body"]
    return json.loads(body.read())


def test_hundred_events_for_ten_skus_make_one_query_call(
    pipeline: SqsConsumer, emulator: Any, sqs_queues: Any, target_bucket: str, sink: HttpSink
) -> None:
    emulator.seed(skus=[{"PartNo": f"P{i}", "Status": 1, "EanCode": f"EAN{i}"} for i in range(10)])
    send_events(sqs_queues.queue_url, [sku_event(f"P{i % 10}") for i in range(100)])
    pipeline.batch_size = 10
    # Lambda's batch window gathers the burst into one invocation: emulate with one big receive.
    sqs = boto3.client("sqs", region_name=REGION)
    messages = []
    while len(messages) < 100:
        got = sqs.receive_message(
            QueueUrl=sqs_queues.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        messages += got.get("Messages", [])
    before = len(query_requests(emulator))
    response = pipeline.handler(sqs_event(messages, sqs_queues.queue_arn), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    # Norce's `in` support is unknown: one `in` probe (the emulator refuses it by default), then one
    # or-chain for all ten keys; the client remembers, so the next batch costs one call.
    calls = query_requests(emulator)[before:]
    filters = [dict(c["Params"])["$filter"] for c in calls]
    assert len(filters) == 2 and " in (" in filters[0] and " or " in filters[1]
    assert sorted(d["key"] for d in sink.accepted_docs()) == [f"P{i}" for i in range(10)]
    doc = s3_doc(target_bucket, "sku", "P3")
    assert doc["status"] == "current" and doc["data"]["EanCode"] == "EAN3"
    assert doc["data"]["PriceLists"] == []  # expanded (the documented navigation)
    assert len(doc["event_types"]) == 1


def test_deleted_sku_is_delivered_as_not_found(
    pipeline: SqsConsumer, emulator: Any, sqs_queues: Any, target_bucket: str, sink: HttpSink
) -> None:
    emulator.seed(skus=[{"PartNo": "GONE", "Status": 1}])
    emulator.mutate("skus", {"PartNo": "GONE"}, delete=True)
    [emitted] = emulator.emitted_events("SkuChangedNotification")
    send_events(sqs_queues.queue_url, [("SkuChangedNotification", emitted["Payload"])])

    pipeline.drain()

    [doc] = sink.accepted_docs("GONE")
    assert (doc["status"], doc["data"]) == ("not_found", None)
    assert s3_doc(target_bucket, "sku", "GONE")["status"] == "not_found"


def test_target_down_briefly_is_retried_and_delivered(
    pipeline: SqsConsumer, emulator: Any, sqs_queues: Any, sink: HttpSink
) -> None:
    emulator.seed(skus=[{"PartNo": "A", "Status": 1}])
    sink.fail_next(2, status=503)  # two failures, the third attempt in the same invocation succeeds
    send_events(sqs_queues.queue_url, [sku_event("A")])

    pipeline.drain()

    assert [r.status for r in sink.received] == [503, 503, 200]
    assert pipeline.stats.failed == 0


def test_target_down_longer_fails_the_record_and_the_redelivery_succeeds(
    state_table: Any, pipeline: SqsConsumer, emulator: Any, sqs_queues: Any, sink: HttpSink
) -> None:
    # With the state table, the delivery ledger remembers what was sent: the redelivery re-reads an
    # unchanged SKU and sends it under the same version and Idempotency-Key.
    emulator.seed(skus=[{"PartNo": "A", "Status": 1}])
    sink.fail_next(3, status=503)
    send_events(sqs_queues.queue_url, [sku_event("A")])

    pipeline.drain()

    assert pipeline.stats.failed == 1 and pipeline.stats.succeeded == 1
    keys = {(r.headers["Idempotency-Key"], r.headers["Norcekit-Version"]) for r in sink.received}
    assert len(keys) == 1  # the redelivery carried the same Idempotency-Key and version
    assert [d["key"] for d in sink.accepted_docs()] == ["A"]


def test_poison_goes_to_dlq_and_redrive_delivers_it(
    pipeline: SqsConsumer, emulator: Any, sqs_queues: Any, sink: HttpSink
) -> None:
    emulator.seed(skus=[{"PartNo": "BAD", "Status": 1}, {"PartNo": "OK", "Status": 1}])
    sink.fail_key("BAD", status=400)  # the target refuses this document: permanent
    send_events(sqs_queues.queue_url, [sku_event("BAD"), sku_event("OK")])

    pipeline.drain()

    sqs = boto3.client("sqs", region_name=REGION)
    [stuck] = peek(sqs_queues.dlq_url, 10, sqs=sqs)
    assert stuck.body["body"]["PartNo"] == "BAD"
    assert stuck.receive_count >= MAX_RECEIVE_COUNT
    assert [d["key"] for d in sink.accepted_docs()] == ["OK"]

    sink.reset()  # the target is fixed
    result = redrive(sqs_queues.dlq_url, sqs_queues.queue_url, sqs=sqs)
    assert (result.method, result.moved, result.failed) == ("fallback", 1, 0)
    pipeline.drain()

    assert sorted(d["key"] for d in sink.accepted_docs()) == ["BAD", "OK"]
    assert peek(sqs_queues.dlq_url, 10, sqs=sqs) == []


def test_job_completed_event_updates_the_job_record(
    norce_env: None,
    state_table: Any,
    sqs_queues: Any,
    emulator: Any,
    emulator_http: Any,
    emulator_headers: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_config(tmp_path / "norcekit.json", {}, monkeypatch)
    # A job Norce really ran: the event is acted on only as Job/Get reports it.
    job_id = int(import_and_wait(emulator, emulator_http, emulator_headers, "Product/ImportProducts",
                                 [product("P1", "S1")], FullFile=False)["JobId"])  # fmt: skip
    store = JobStore(state_table)
    store.create(JobRecord(job_id=job_id, entity="products", mode="delta", submitted_at=datetime.now(UTC)))
    consumer = SqsConsumer(
        sqs_queues.queue_url,
        sqs=boto3.client("sqs", region_name=REGION),
        handler=load_handler("event_processor", fresh=True),
        wait_time_s=0,
    )
    before = len(query_requests(emulator))
    send_events(
        sqs_queues.queue_url, [("JobCompletedEvent", {"ClientId": 1234, "JobId": job_id, "StatusId": 3})] * 2
    )

    consumer.drain()

    record = store.get(job_id)
    # The events said Failed (forged or wrong); Job/Get says Succeeded, and that is what is recorded.
    assert record.status is JobStatus.SUCCEEDED
    assert [h.source for h in record.status_history][-1] == "event"
    assert len(query_requests(emulator)) == before
