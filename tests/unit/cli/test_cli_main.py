"""Argument parsing, usage errors and configuration errors of ``norcekit`` (no AWS, no Norce)."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from norcekit.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[3]
LOCAL_CONFIG = ROOT / "local" / "norcekit_local" / "config" / "local.yaml"

NORCE_ENV = {
    "NORCE_BASE_URL": "http://127.0.0.1:1",
    "NORCE_APPLICATION_ID": "1042",
    "NORCE_CLIENT_ID": "cli-test",
    "NORCE_CLIENT_SECRET": "cli-test-not-a-secret",
    "NORCE_ACCOUNT_ID": "101",
}


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(*argv: str, stdin: io.StringIO | None = None) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=stdin or io.StringIO(), stdout=stdout, stderr=stderr)
    return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def no_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TABLE_NAME",
        "NORCEKIT_TABLE",
        "EVENT_QUEUE_URL",
        "EVENT_DLQ_URL",
        "QUARANTINE_BUCKET",
        "NORCEKIT_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in NORCE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def norce_env(monkeypatch: pytest.MonkeyPatch, no_stack: None) -> None:
    for name, value in NORCE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status", "--json"], True),
        (["--json", "status"], True),
        (["status"], False),
        (["jobs", "list", "--json", "--limit", "3"], True),
    ],
)
def test_global_options_work_before_and_after_the_command(argv: list[str], expected: bool) -> None:
    assert build_parser().parse_args(argv).json is expected


def test_local_root_given_after_the_command_is_kept() -> None:
    args = build_parser().parse_args(["--stack", "a", "jobs", "show", "7", "--local-root", "/x"])
    assert (args.stack, args.local_root, args.job_id) == ("a", "/x", 7)


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "exit codes:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["jobs", "list", "--status", "bogus"], "valid: 1 initialized"),
        (["jobs", "list", "--since", "yesterday"], "relative time"),
        (["jobs", "list", "--limit", "0"], "at least 1"),
        (["jobs", "show", "abc"], "invalid int value"),
        (["import", "run", "--entity", "widgets", "--mode", "full"], "invalid choice: 'widgets'"),
        (["import", "run", "--entity", "products"], "--mode"),
        (["watermarks", "set", "products"], "VALUE"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_usage(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--local", "--stack", "prod", "status"], "--local and --stack: choose one"),
        (["--local-root", "x", "--stack", "prod", "status"], "--local and --stack: choose one"),
        (["--local", "--region", "eu-west-1", "status"], "--region: not with --local"),
        (["quarantine", "replay"], "give KEY(s) or --all"),
        (["quarantine", "replay", "quarantine/webhook/a.json", "--all"], "give KEY(s) or --all"),
    ],
)
def test_conflicting_options_exit_2(argv: list[str], message: str, no_stack: None) -> None:
    result = run(*argv)
    assert result.code == 2
    assert message in result.err


def test_missing_local_stack_is_unreachable(tmp_path: Path) -> None:
    result = run("--local-root", str(tmp_path), "status")
    assert result.code == 5
    assert "no local stack running" in result.err and "stack.json" in result.err


def test_state_commands_name_the_missing_setting(no_stack: None) -> None:
    result = run("jobs", "list")
    assert result.code == 2
    assert result.err.startswith("error: TABLE_NAME: required")
    assert result.out == ""


def test_no_traceback_unless_debug(no_stack: None) -> None:
    assert "Traceback" not in run("jobs", "list").err
    assert "Traceback" in run("--debug", "jobs", "list").err


def test_watermark_value_is_checked_before_anything_else(no_stack: None) -> None:
    result = run("watermarks", "set", "products", "last tuesday", "--yes")
    assert result.code == 2
    assert "VALUE: not an ISO-8601 timestamp" in result.err


def test_watermark_set_without_terminal_needs_yes(no_stack: None) -> None:
    result = run("watermarks", "set", "products", "2025-06-01T00:00:00Z")
    assert result.code == 2
    assert "pass --yes" in result.err


def test_config_validate_without_a_config_names_the_setting(norce_env: None) -> None:
    result = run("config", "validate")
    assert result.code == 2
    assert "NORCEKIT_CONFIG" in result.err


def test_config_validate_names_a_bad_setting(norce_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORCE_ACCOUNT_IDS", "{erp: 1")
    result = run("config", "validate", "--config", str(LOCAL_CONFIG))
    assert result.code == 2
    assert "NORCE_ACCOUNT_IDS" in result.err
    assert "Traceback" not in result.err


def test_config_validate_names_missing_norce_settings(no_stack: None) -> None:
    result = run("config", "validate", "--config", str(LOCAL_CONFIG))
    assert result.code == 2
    assert "NORCE_APPLICATION_ID" in result.err
    assert "NORCE_ACCOUNT_IDS['erp'] or NORCE_ACCOUNT_ID" in result.err


def test_config_validate_good_config_summarises_entities(norce_env: None) -> None:
    result = run("config", "validate", "--config", str(LOCAL_CONFIG), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["valid"] is True
    assert data["config_path"] == str(LOCAL_CONFIG)
    products = next(e for e in data["entities"] if e["entity"] == "products")
    assert products == {
        "entity": "products",
        "import": "products",
        "kind": "products",
        "enabled": True,
        "source": "sample_erp",
        "mapping": "sample",
        "full": {"enabled": True, "schedule": "cron(0 3 ? * SUN *)"},
        "delta": {"enabled": True, "schedule": "rate(1 hour)", "batch_size": 500},
        "account_id": 101,
    }
    assert data["norce"] == {"host": "http://127.0.0.1:1", "application_id": 1042, "environment": "stage"}
    assert data["sources"] == [
        {"name": "sample_erp", "type": "filedrop"},
        {"name": "sample_pim", "type": "filedrop"},
    ]


def test_config_validate_bad_config_names_the_path(norce_env: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        LOCAL_CONFIG.read_text().replace("SkuFieldsThatAreSet: [Status,", "SkuFieldsThatAreSet: [Statuss,")
    )
    result = run("config", "validate", "--config", str(bad))
    assert result.code == 2
    assert (
        "imports.products.fields_that_are_set.SkuFieldsThatAreSet[0]: 'Statuss' is not a valid SkuField"
        in result.err
    )
    assert result.out == ""


def test_env_file_settings_apply_only_during_the_command(no_stack: None, tmp_path: Path) -> None:
    env_file = tmp_path / "norce.env"
    lines = [f"{k}={v}" for k, v in NORCE_ENV.items()]
    env_file.write_text("# tenant\n" + "\n".join(lines) + f"\nexport NORCEKIT_CONFIG='{LOCAL_CONFIG}'\n")
    result = run("config", "validate", "--env-file", str(env_file), "--json")
    assert result.code == 0, result.err
    assert result.json()["norce"]["application_id"] == 1042
    assert "NORCE_APPLICATION_ID" not in os.environ
    assert "NORCEKIT_CONFIG" not in os.environ


def test_unreadable_env_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("status", "--env-file", str(tmp_path / "missing.env"))
    assert result.code == 2
    assert "--env-file" in result.err


def test_config_validate_checks_event_lookups_against_the_published_query_schema(
    norce_env: None, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        LOCAL_CONFIG.read_text().replace(
            "      prefix: targets/\n",
            "      prefix: targets/\n      lookups: {sku: {select: [PartNo, ProductCode]}}\n",
        )
    )
    result = run("config", "validate", "--config", str(bad))
    assert result.code == 2
    assert "targets.archive.lookups.sku: Products/ProductSkus has no property 'ProductCode'" in result.err
    good = run("config", "validate", "--config", str(LOCAL_CONFIG), "--json")
    assert good.code == 0, good.err
    assert good.json()["event_targets"] == ["archive", "bus", "sink"]
