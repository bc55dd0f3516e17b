"""Schedules from the configuration, synced into an EventBridge Scheduler group (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.imports.schedules import ScheduleTarget, sync_schedules

pytestmark = pytest.mark.integration

REGION = "eu-north-1"
TARGET = ScheduleTarget(
    group="norcekit-imports",
    function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:norcekit-import-runner",
    role_arn="arn:aws:iam::123456789012:role/norcekit-scheduler",
    dlq_arn=f"arn:aws:sqs:{REGION}:123456789012:norcekit-scheduler-dlq",
    timezone="Europe/Stockholm",
)
SOURCE = {"entities": {"products": {"key_fields": ["code"]}, "onhand": {"key_fields": ["part_no"]}}}


def configuration(**pim: Any) -> IntegrationConfig:
    return load_config(
        {
            "sources": {"files": {"type": "filedrop", "root": "/drop", **SOURCE}},
            "entities": {
                "onhand": {"source": "files", "mapping": "sample", "schedules": {"delta": "rate(5 minutes)"}},
            },
            "imports": {
                "pim_products": {
                    "kind": "products",
                    "source": "files",
                    "mapping": "sample",
                    "account_id": 101,
                    "schedules": {"full": "cron(0 3 * * ? *)", "delta": "rate(1 hour)"},
                    **pim,
                }
            },
        },
        environ={},
    )


@pytest.fixture
def scheduler() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("scheduler", region_name=REGION)
        client.create_schedule_group(Name=TARGET.group)
        client.create_schedule(  # the template's job monitor tick lives in the same group
            Name="norcekit-JobMonitorSchedule-ABC",
            GroupName=TARGET.group,
            ScheduleExpression="rate(1 minute)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": TARGET.function_arn, "RoleArn": TARGET.role_arn},
        )
        yield client


def names(scheduler: Any) -> set[str]:
    return {s["Name"] for s in scheduler.list_schedules(GroupName=TARGET.group)["Schedules"]}


def test_a_first_sync_creates_one_schedule_per_import_and_expression(scheduler: Any) -> None:
    changes = sync_schedules(scheduler, configuration(), TARGET)

    assert sorted((c.action, c.name) for c in changes) == [
        ("create", "import-onhand-delta"),
        ("create", "import-pim_products-delta"),
        ("create", "import-pim_products-full"),
    ]
    full = scheduler.get_schedule(Name="import-pim_products-full", GroupName=TARGET.group)
    assert full["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert full["ScheduleExpressionTimezone"] == "Europe/Stockholm"
    assert json.loads(full["Target"]["Input"]) == {"import": "pim_products", "mode": "full"}
    assert full["Target"]["Arn"] == TARGET.function_arn
    assert full["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert full["Target"]["DeadLetterConfig"] == {"Arn": TARGET.dlq_arn}
    # A second sync finds nothing to do.
    assert sync_schedules(scheduler, configuration(), TARGET) == []


def test_a_changed_expression_is_updated_and_a_removed_one_deleted_leaving_other_schedules(
    scheduler: Any,
) -> None:
    sync_schedules(scheduler, configuration(), TARGET)
    changed = configuration(schedules={"full": "cron(0 4 * * ? *)"})  # delta schedule removed

    planned = sync_schedules(scheduler, changed, TARGET, dry_run=True)
    assert [c.describe() for c in planned] == [
        "update import-pim_products-full: ScheduleExpression → cron(0 4 * * ? *)",
        "delete import-pim_products-delta",
    ]
    assert "import-pim_products-delta" in names(scheduler)  # a dry run changes nothing

    sync_schedules(scheduler, changed, TARGET)
    assert names(scheduler) == {
        "norcekit-JobMonitorSchedule-ABC",
        "import-onhand-delta",
        "import-pim_products-full",
    }
    full = scheduler.get_schedule(Name="import-pim_products-full", GroupName=TARGET.group)
    assert full["ScheduleExpression"] == "cron(0 4 * * ? *)"


def test_a_disabled_import_or_mode_has_no_schedule(scheduler: Any) -> None:
    sync_schedules(scheduler, configuration(), TARGET)

    sync_schedules(scheduler, configuration(delta={"enabled": False}), TARGET)
    assert "import-pim_products-delta" not in names(scheduler)
    sync_schedules(scheduler, configuration(enabled=False), TARGET)
    assert names(scheduler) == {"norcekit-JobMonitorSchedule-ABC", "import-onhand-delta"}


def test_a_schedule_edited_by_hand_is_put_back(scheduler: Any) -> None:
    sync_schedules(scheduler, configuration(), TARGET)
    edited = scheduler.get_schedule(Name="import-onhand-delta", GroupName=TARGET.group)
    scheduler.update_schedule(
        Name="import-onhand-delta",
        GroupName=TARGET.group,
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={**edited["Target"], "Input": json.dumps({"entity": "onhand", "mode": "full"})},
    )

    [change] = sync_schedules(scheduler, configuration(), TARGET)

    assert change.action == "update"
    assert set(change.differences) >= {"ScheduleExpression", "Target.Input", "ScheduleExpressionTimezone"}
    restored = scheduler.get_schedule(Name="import-onhand-delta", GroupName=TARGET.group)
    assert json.loads(restored["Target"]["Input"]) == {"import": "onhand", "mode": "delta"}
