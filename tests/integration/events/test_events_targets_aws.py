"""Targets against AWS APIs on in-process moto: HTTP auth from Secrets Manager, EventBridge PutEvents,
S3 (latest per key, idempotent); the document helper is shared with the unit tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
import respx
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws
from tests.unit.events.test_events_targets import URL, doc

from norcekit.events.config import EventBridgeTargetConfig, HttpTargetConfig, S3TargetConfig
from norcekit.events.targets.base import Outcome, TargetDocument
from norcekit.events.targets.eventbridge import EventBridgeTarget
from norcekit.events.targets.http import HttpTarget, secret_auth
from norcekit.events.targets.s3 import S3Target

pytestmark = pytest.mark.integration

REGION = "eu-north-1"


def test_http_auth_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws(), respx.mock:
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="target-creds", SecretString=json.dumps({"token": "test-target-token"})
        )["ARN"]
        route = respx.post(URL).mock(return_value=httpx.Response(200))
        config = HttpTargetConfig.model_validate({"type": "http", "url": URL, "credentials_secret_arn": arn})
        provider = SecretsProvider(boto3_client=boto3.client("secretsmanager", region_name=REGION))
        auth = secret_auth(config, provider=provider)
        HttpTarget("shop", config, client=httpx.Client(), auth=auth).deliver([doc()])
        assert route.calls[0].request.headers["Authorization"] == "Bearer test-target-token"


@pytest.fixture
def events_client() -> Any:
    with mock_aws():
        client = boto3.client("events", region_name=REGION)
        client.create_event_bus(Name="norce")
        yield client


def count_put_events(client: Any) -> list[int]:
    sizes: list[int] = []
    client.meta.events.register(
        "before-parameter-build.events.PutEvents", lambda params, **kw: sizes.append(len(params["Entries"]))
    )
    return sizes


def test_eventbridge_25_documents_take_3_put_events_calls(events_client: Any) -> None:
    calls = count_put_events(events_client)
    target = EventBridgeTarget(
        "bus", EventBridgeTargetConfig(type="eventbridge", bus_name="norce"), client=events_client
    )
    results = target.deliver([doc(f"P{i}") for i in range(25)])
    assert calls == [10, 10, 5]
    assert all(r.ok for r in results)


def test_eventbridge_entry_shape(events_client: Any) -> None:
    sent: list[dict[str, Any]] = []
    events_client.meta.events.register(
        "before-parameter-build.events.PutEvents", lambda params, **kw: sent.extend(params["Entries"])
    )
    target = EventBridgeTarget(
        "bus", EventBridgeTargetConfig(type="eventbridge", bus_name="norce"), client=events_client
    )
    target.deliver([doc("A"), TargetDocument.build("sku", "B", ["SkuChangedNotification"], None)])
    assert [(e["Source"], e["DetailType"], e["EventBusName"]) for e in sent] == [
        ("norcekit", "norce.sku.changed", "norce"),
        ("norcekit", "norce.sku.not_found", "norce"),
    ]
    assert json.loads(sent[0]["Detail"])["key"] == "A"


def test_eventbridge_oversized_document_is_permanent(events_client: Any) -> None:
    target = EventBridgeTarget(
        "bus", EventBridgeTargetConfig(type="eventbridge", bus_name="norce"), client=events_client
    )
    [big, small] = target.deliver([doc("BIG", {"blob": "x" * 300_000}), doc("S")])
    assert big.outcome is Outcome.PERMANENT_ERROR and small.ok


# --- S3 -----------------------------------------------------------------------------------------------


@pytest.fixture
def s3() -> Any:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="targets-test", CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def test_s3_latest_per_key_is_idempotent(s3: Any) -> None:
    puts: list[str] = []
    s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **kw: puts.append(params["Key"])
    )
    target = S3Target("archive", S3TargetConfig(type="s3", bucket="targets-test"), client=s3)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    assert target.deliver([doc(at=t0)])[0].detail == "written"
    assert target.deliver([doc(at=t0 + timedelta(seconds=5))])[0].detail == "unchanged"  # redelivery
    assert target.deliver([doc(data={"PartNo": "100011", "Name": "new"}, at=t0 + timedelta(seconds=9))])[0].ok
    # An older read arriving late (SQS retry overtaken by a newer event) does not win.
    stale = target.deliver([doc(data={"PartNo": "100011", "Name": "old"}, at=t0 + timedelta(seconds=1))])
    assert stale[0].detail == "newer state already stored"

    assert puts == ["targets/sku/100011.json", "targets/sku/100011.json"]
    stored = json.loads(s3.get_object(Bucket="targets-test", Key="targets/sku/100011.json")["Body"].read())
    assert stored["data"]["Name"] == "new"


def test_s3_key_with_slash_stays_one_object(s3: Any) -> None:
    target = S3Target("archive", S3TargetConfig(type="s3", bucket="targets-test"), client=s3)
    target.deliver([doc("A/B")])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="targets-test")["Contents"]]
    assert keys == ["targets/sku/A%2FB.json"]


def test_s3_missing_bucket_is_permanent(s3: Any) -> None:
    target = S3Target("archive", S3TargetConfig(type="s3", bucket="no-such-bucket-x"), client=s3)
    [result] = target.deliver([doc()])
    assert result.outcome is Outcome.PERMANENT_ERROR
