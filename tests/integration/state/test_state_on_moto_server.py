"""The state table over real HTTP: a moto server on loopback, reached through AWS_ENDPOINT_URL.

Proves the same TABLE_DEFINITION works through boto3's normal client path (no in-process patching),
including both GSIs and the TTL setting, and that StateTable picks the endpoint up by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from norcekit.norce.jobs import JobStatus
from norcekit.norce.tokens import CachedToken
from norcekit.state.jobs import JobRecord, JobStore
from norcekit.state.locks import LeaseLock
from norcekit.state.runs import RunRecord, RunStore
from norcekit.state.table import StateTable, create_table
from norcekit.state.token_store import DynamoTokenStore
from norcekit.state.watermarks import Watermark, WatermarkStore

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def served_table(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> StateTable:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    name = f"norcekit-it-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb"), name)
    return StateTable(name, dynamodb_resource=boto3.resource("dynamodb"))


def test_table_definition_over_http_has_gsis_and_ttl(served_table: StateTable, moto_endpoint: str) -> None:
    client = boto3.client("dynamodb")
    assert client.meta.endpoint_url == moto_endpoint
    table = client.describe_table(TableName=served_table.name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("PK", "HASH"),
        ("SK", "RANGE"),
    }
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert {k["AttributeName"] for k in indexes["GSI1"]["KeySchema"]} == {"GSI1PK", "GSI1SK"}
    assert {k["AttributeName"] for k in indexes["GSI2"]["KeySchema"]} == {"GSI2PK", "GSI2SK"}
    assert all(i["Projection"]["ProjectionType"] == "ALL" for i in indexes.values())
    ttl = client.describe_time_to_live(TableName=served_table.name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expires_at"
    assert served_table.table.meta.client.meta.endpoint_url == moto_endpoint


def test_one_import_cycle_over_http(served_table: StateTable) -> None:
    now = [T0.timestamp()]
    lock = LeaseLock(served_table, "products#delta", "run-1", 300, clock=lambda: now[0])
    rival = LeaseLock(served_table, "products#delta", "run-2", 300, clock=lambda: now[0])
    runs, jobs, marks = RunStore(served_table), JobStore(served_table), WatermarkStore(served_table)

    with lock:
        assert not rival.acquire() and rival.blocked_by is not None and rival.blocked_by.owner == "run-1"
        runs.create(RunRecord(run_id="run-1", entity="products", mode="delta", started_at=T0))
        for job_id in (101, 102):
            jobs.create(
                JobRecord(
                    job_id=job_id,
                    entity="products",
                    mode="delta",
                    run_id="run-1",
                    item_count=500,
                    submitted_at=T0 + timedelta(seconds=job_id - 100),
                )
            )
        runs.update("run-1", add_job_ids=[101, 102])
    assert rival.acquire()

    assert [j.job_id for j in jobs.unfinished_for_entity("products")] == [101, 102]
    for job_id in (101, 102):
        jobs.record_status(job_id, JobStatus.SUCCEEDED, source="event", at=T0 + timedelta(minutes=1))
    assert jobs.list_open() == []
    assert [j.job_id for j in jobs.jobs_for_run("run-1")] == [101, 102]
    assert [r.run_id for r in runs.list_by_entity("products")] == ["run-1"]

    upper = Watermark.timestamp(T0 - timedelta(minutes=5))
    assert marks.commit("products", upper, run_id="run-1")
    assert not marks.commit("products", Watermark.timestamp(T0 - timedelta(hours=1)), run_id="late")
    assert [w.entity for w in marks.list()] == ["products"]


def test_token_store_over_http(served_table: StateTable) -> None:
    store = DynamoTokenStore(served_table, "abc123")
    assert store.try_acquire_refresh("a", 30)
    assert not store.try_acquire_refresh("b", 30)
    store.save(CachedToken(SecretStr("tok"), T0.timestamp() + 3600), "a")
    assert store.try_acquire_refresh("b", 30)
    loaded = store.load()
    assert loaded is not None and loaded.access_token.get_secret_value() == "tok"
