"""``norcekit schedules sync`` against a moto scheduler group: one schedule per configured expression."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from norcekit.cli import main
from norcekit.state.table import create_table

pytestmark = pytest.mark.integration

REGION = "eu-north-1"
GROUP = "norcekit-imports"
CONFIG = {
    "sources": {
        "files": {"type": "filedrop", "root": "/drop", "entities": {"products": {"key_fields": ["code"]}}}
    },
    "imports": {
        "pim_products": {
            "kind": "products",
            "source": "files",
            "mapping": "sample",
            "account_id": 101,
            "fields_that_are_set": {"ProductCultureFieldsThatAreSet": ["Name"]},
            "full": {"full_file": False},
            "schedules": {"full": "cron(0 3 * * ? *)", "delta": "rate(1 hour)"},
        },
        "erp_products": {
            "kind": "products",
            "source": "files",
            "mapping": "sample",
            "account_id": 102,
            "fields_that_are_set": {"SkuFieldsThatAreSet": ["Status"]},
            "schedules": {"full": "cron(0 2 ? * SUN *)"},
        },
    },
}


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "norcekit.json"
    path.write_text(json.dumps(CONFIG))
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "NORCEKIT_CONFIG": str(path),
        "TABLE_NAME": "norcekit-state",
        "IMPORT_SCHEDULE_GROUP": GROUP,
        "IMPORT_RUNNER_ARN": f"arn:aws:lambda:{REGION}:123456789012:function:import-runner",
        "IMPORT_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
        "SCHEDULER_DLQ_ARN": f"arn:aws:sqs:{REGION}:123456789012:scheduler-dlq",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=GROUP)
        yield path


def cli(*argv: str) -> tuple[int, dict[str, object], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--json", "--no-progress"], stdin=io.StringIO(), stdout=out, stderr=err)
    return code, json.loads(out.getvalue() or "{}"), err.getvalue()


def test_sync_dry_run_then_sync_creates_one_schedule_per_configured_expression(stack: Path) -> None:
    code, planned, err = cli("schedules", "sync", "--dry-run")
    assert code == 0, err
    assert planned["in_sync"] is False
    assert sorted(c["name"] for c in planned["changes"]) == [  # type: ignore[union-attr]
        "import-erp_products-full",
        "import-pim_products-delta",
        "import-pim_products-full",
    ]
    scheduler = boto3.client("scheduler", region_name=REGION)
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []

    code, done, err = cli("schedules", "sync")
    assert code == 0, err
    assert len(done["changes"]) == 3  # type: ignore[arg-type]
    assert len(scheduler.list_schedules(GroupName=GROUP)["Schedules"]) == 3
    assert cli("schedules", "sync", "--dry-run")[1]["in_sync"] is True


def test_status_reports_schedules_that_differ_from_the_configuration(stack: Path) -> None:
    create_table(boto3.client("dynamodb", region_name=REGION), "norcekit-state")
    cli("schedules", "sync")
    boto3.client("scheduler", region_name=REGION).delete_schedule(
        Name="import-erp_products-full", GroupName=GROUP
    )

    code, status, err = cli("status")

    assert code == 0, err
    assert status["schedules"] == {
        "in_sync": False,
        "error": None,
        "changes": [
            {
                "action": "create",
                "name": "import-erp_products-full",
                "expression": "cron(0 2 ? * SUN *)",
                "differences": [],
            }
        ],
    }
    assert "1 schedule(s) differ from the configuration" in err
    assert [e["entity"] for e in status["entities"]] == ["pim_products", "erp_products"]  # type: ignore[union-attr]
