"""Processes SIGKILLed mid-work: nothing half-done survives, the next run or redelivery completes it.

* An import run streaming a full import is killed: Norce got a truncated body (no job), the dead
  run's lease stays until it expires, then the next run completes and commits the right watermark.
* The SQS consumer (event processor) is killed after delivering part of a batch: SQS redelivers
  the batch; the HTTP target receives some documents twice, always with the same Idempotency-Key,
  and both targets end with exactly one current document per key.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.fixtures.aws import moto_table
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET
from tests.integration.imports.run.runner_support import integration_config
from tests.reliability.conftest import REPO_ROOT
from tests.reliability.support import settle

from norce_emulator import Emulator
from norcekit.deadline import Deadline
from norcekit.imports.runner import RunnerOptions, run_of_lock_owner
from norcekit.settings import get_settings, reset_settings_cache
from norcekit.state.jobs import JobStore
from norcekit.state.runs import RunOutcome, RunStore
from norcekit.state.table import create_table
from norcekit.state.watermarks import WatermarkStore
from norcekit.wiring import Components, build_norce_clients
from norcekit_local.aws import MotoServer
from norcekit_local.consumer import SqsConsumer
from norcekit_local.handlers import load_handler
from norcekit_local.sample_data.generate import generate
from norcekit_local.sink import HttpSink

pytestmark = pytest.mark.integration

REGION = "eu-north-1"
# Long enough that, on a loaded machine, the next run still meets the dead run's lease.
LEASE_S = 20.0
TABLE = "reliability-crash"
BUCKET = "reliability-crash"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MotoServer]:
    """A moto server both this process and the child reach (the child has its own memory)."""
    server = MotoServer(region=REGION).start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    create_table(server.client("dynamodb"), TABLE)
    server.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("QUARANTINE_BUCKET", BUCKET)
    reset_settings_cache()
    try:
        yield server
    finally:
        server.stop()
        reset_settings_cache()


@pytest.fixture
def norce_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "NORCE_BASE_URL": emulator.base_url,
        "NORCE_APPLICATION_ID": str(APPLICATION_ID),
        "NORCE_CLIENT_ID": CLIENT_ID,
        "NORCE_CLIENT_SECRET": CLIENT_SECRET,
        "NORCE_ENVIRONMENT": "stage",
        "NORCE_ACCOUNT_ID": "123",
        "HTTP_MAX_ATTEMPTS": "3",
        "HTTP_BACKOFF_BASE": "0.01",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()


def _child(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_child", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _kill(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.returncode == -signal.SIGKILL


def test_import_killed_mid_stream_leaves_no_job_and_the_next_run_completes(
    moto_server: MotoServer, norce_env: None, emulator: Emulator, tmp_path: Path, figures: dict[str, Any]
) -> None:
    root = tmp_path / "drop"
    generate(root, products=1, customers=300, companies=1, supplier_products=1)
    marker = tmp_path / "streaming"
    child = _child("import", str(root), str(marker), str(LEASE_S))
    try:
        _wait_for(marker.exists, 30, "the child to stream")
        killed_at = time.monotonic()
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
    table = moto_table(TABLE)
    lock = table.get({"PK": "LOCK#customers", "SK": "LOCK"})
    assert lock is not None, "the killed run's lease is still held"
    dead_run = run_of_lock_owner(lock["owner"])  # the owner is the run id plus a per-holder suffix

    runner = Components(get_settings(), integration_config=integration_config(root)).runner
    runner.options = RunnerOptions(lock_lease_s=LEASE_S, min_remaining_s=1, full_min_remaining_s=1)
    blocked = runner.run("customers", "full", deadline=Deadline.after(60))
    assert blocked.outcome is RunOutcome.SKIPPED_LOCKED and dead_run in (blocked.message or "")

    # The dead run renewed its lease at most LEASE_S/3 before the kill: wait it out.
    time.sleep(max(0.0, killed_at + LEASE_S + 0.2 - time.monotonic()))
    result = runner.run("customers", "full", deadline=Deadline.after(60))
    assert result.outcome is RunOutcome.SUBMITTED, result.message
    clients = build_norce_clients(get_settings())
    try:
        settled = settle(result.job_ids, jobs_client=clients.jobs, job_store=JobStore(table),
                         run_store=RunStore(table), watermark_store=WatermarkStore(table))  # fmt: skip
    finally:
        clients.close()
    assert settled.all_succeeded

    # The truncated stream created no job: the only job is the completing run's.
    assert [int(job["JobId"]) for job in emulator.jobs()] == result.job_ids
    assert len(emulator.catalog_rows("customers")) == 300
    committed = WatermarkStore(table).get_record("customers")
    assert committed is not None and committed.run_id == result.run_id
    assert committed.watermark == result.candidate_watermark
    dead = RunStore(table).get(dead_run)
    assert dead.outcome is RunOutcome.RUNNING and dead.finished_at is None  # killed: never finished
    figures.update({"records": 300, "jobs_created_by_killed_run": 0, "lease_s": LEASE_S})


class SlowSink(HttpSink):
    """Answers each document after a pause, so a kill lands in the middle of a batch."""

    def _status_for(self, body: Any) -> int:
        time.sleep(0.15)
        return super()._status_for(body)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SlowSink]:
    with SlowSink(tmp_path / "sink") as running:
        yield running


def test_processor_killed_mid_batch_redelivers_and_targets_keep_one_current_document_per_key(
    moto_server: MotoServer,
    norce_env: None,
    emulator: Emulator,
    sink: SlowSink,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figures: dict[str, Any],
) -> None:
    sqs = moto_server.client("sqs")
    dlq_url = sqs.create_queue(QueueName="crash-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="crash-events",
        Attributes={
            "VisibilityTimeout": "2",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    config = tmp_path / "norcekit.json"
    config.write_text(json.dumps({"events": {
        "routes": {"*": ["shop", "archive"]},
        "targets": {
            "shop": {"type": "http", "url": f"{sink.url}/docs", "backoff_s": 0.01},
            "archive": {"type": "s3", "bucket": BUCKET, "prefix": "targets/"},
        },
    }}))  # fmt: skip
    monkeypatch.setenv("NORCEKIT_CONFIG", str(config))
    monkeypatch.setenv("EVENT_QUEUE_URL", queue_url)
    reset_settings_cache()
    part_nos = [f"CRASH-{n}" for n in range(10)]
    emulator.seed(
        skus=[{"PartNo": p, "Status": 1, "EanCode": f"73500000{n:05d}"} for n, p in enumerate(part_nos)]
    )
    for part_no in part_nos:
        envelope = {
            "event_type": "SkuChangedNotification",
            "body": {"ClientId": 1234, "PartNo": part_no, "EntityChanged": "tProductSku"},
            "received_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(envelope))

    child = _child("consume", queue_url)
    try:
        _wait_for(lambda: len(sink.accepted()) >= 4, 30, "part of the batch to be delivered")
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
    delivered_before_kill = len(sink.accepted())
    assert delivered_before_kill < len(part_nos), "the kill must land mid-batch"

    consumer = SqsConsumer(queue_url, sqs=sqs, handler=load_handler("event_processor", fresh=True),
                           wait_time_s=1, retry_visibility_s=1)  # fmt: skip
    _wait_for(lambda: consumer.poll_once() >= 0 and _queue_empty(sqs, queue_url), 30, "the redelivered batch")

    # HTTP: every key delivered, duplicates carry the same Idempotency-Key, the last copy is current.
    by_key: dict[str, list[Any]] = {}
    for received in sink.accepted():
        by_key.setdefault(received.body["key"], []).append(received)
    assert set(by_key) == set(part_nos)
    duplicates = 0
    for part_no, copies in by_key.items():
        keys = {r.headers.get("Idempotency-Key") for r in copies}
        assert len(keys) == 1, f"{part_no}: redelivery changed the Idempotency-Key"
        assert copies[-1].body["data"]["EanCode"] == emulator.sku(part_no)["EanCode"]
        duplicates += len(copies) - 1
    assert duplicates >= 1, "the killed batch was redelivered"
    # S3: exactly one object per key, holding the current state.
    s3 = boto3.client("s3", region_name=REGION)
    objects = s3.list_objects_v2(Bucket=BUCKET, Prefix="targets/sku/").get("Contents", [])
    assert sorted(o["Key"] for o in objects) == sorted(f"targets/sku/{p}.json" for p in part_nos)
    for part_no in part_nos:
        doc = json.loads(s3.get_object(Bucket=BUCKET, Key=f"targets/sku/{part_no}.json")["Body"].read())
        assert doc["data"]["EanCode"] == emulator.sku(part_no)["EanCode"]
        assert doc["idempotency_key"] == by_key[part_no][-1].headers["Idempotency-Key"]
    assert int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"]) == 0  # fmt: skip
    figures.update({
        "events": len(part_nos),
        "delivered_before_kill": delivered_before_kill,
        "http_duplicates_same_key": duplicates,
    })  # fmt: skip


def _queue_empty(sqs: Any, queue_url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"])
        + int(attributes["ApproximateNumberOfMessagesNotVisible"])
        == 0
    )
