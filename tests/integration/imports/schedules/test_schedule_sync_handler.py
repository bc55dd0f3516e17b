"""The schedule_sync Lambda on moto: an upload of the stack's configuration deploys its schedules."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from norcekit.settings import reset_settings_cache

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]
REGION = "eu-north-1"
BUCKET = "norcekit-data"
KEY = "config/norcekit.json"
GROUP = "norcekit-imports"


def document(delta: str | None) -> dict[str, Any]:
    schedules = {"full": "cron(0 3 * * ? *)", **({"delta": delta} if delta else {})}
    return {
        "sources": {
            "f": {"type": "filedrop", "root": "/d", "entities": {"customers": {"key_fields": ["code"]}}}
        },
        "entities": {"customers": {"source": "f", "mapping": "sample", "schedules": schedules}},
    }


class Context:
    function_name = "norcekit-schedule-sync"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:norcekit-schedule-sync"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000002"


def upload_event(key: str = KEY) -> dict[str, Any]:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}},
    }


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "NORCEKIT_CONFIG": f"s3://{BUCKET}/{KEY}",
        "IMPORT_SCHEDULE_GROUP": GROUP,
        "IMPORT_RUNNER_ARN": f"arn:aws:lambda:{REGION}:123456789012:function:import-runner",
        "IMPORT_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
        "SCHEDULE_TIMEZONE": "Europe/Stockholm",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    spec = importlib.util.spec_from_file_location(
        "schedule_sync_app", REPO / "functions/schedule_sync/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=GROUP)
        spec.loader.exec_module(module)
        try:
            yield module
        finally:
            module.components.reset()


def put_config(delta: str | None) -> None:
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=KEY, Body=json.dumps(document(delta))
    )


def schedules() -> dict[str, str]:
    scheduler = boto3.client("scheduler", region_name=REGION)
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
    return {n: scheduler.get_schedule(Name=n, GroupName=GROUP)["ScheduleExpression"] for n in names}


def test_each_upload_of_the_configuration_makes_the_schedules_match_it(app: ModuleType) -> None:
    put_config(delta="rate(10 minutes)")
    first = app.handler(upload_event(), Context())
    assert first["synced"] is True and len(first["changes"]) == 2
    assert schedules() == {
        "import-customers-full": "cron(0 3 * * ? *)",
        "import-customers-delta": "rate(10 minutes)",
    }

    put_config(delta=None)  # the operator drops the delta schedule and uploads again
    second = app.handler(upload_event(), Context())
    assert second["changes"] == ["delete import-customers-delta"]
    assert schedules() == {"import-customers-full": "cron(0 3 * * ? *)"}


def test_another_object_under_config_is_ignored_and_an_invalid_configuration_changes_nothing(
    app: ModuleType,
) -> None:
    put_config(delta="rate(10 minutes)")
    app.handler(upload_event(), Context())

    ignored = app.handler(upload_event("config/notes.txt"), Context())
    assert ignored["synced"] is False and ignored["changes"] == []

    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=KEY, Body=b'{"entities": {"x": 1}}')
    with pytest.raises(ValueError, match="entities"):
        app.handler(upload_event(), Context())
    assert set(schedules()) == {"import-customers-full", "import-customers-delta"}
