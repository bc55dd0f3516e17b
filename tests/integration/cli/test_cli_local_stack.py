"""``norcekit`` against the local stack (moto + the Norce emulator), started once for this module.

Commands run in-process through ``main([...])``; one test runs ``python -m norcekit`` as a
subprocess to prove the entry point.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from norcekit.cli import main
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.quarantine import S3QuarantineStore
from norcekit.state.jobs import JobStore
from norcekit.state.locks import LeaseLock
from norcekit.state.table import StateTable
from norcekit_local import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
LOCAL_CONFIG = ROOT / "local" / "norcekit_local" / "config" / "local.yaml"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("cli-local"), emulator_overrides={"job_delay": 0.01}) as running:
        yield running


@pytest.fixture
def cli(stack: LocalStack) -> Any:
    def run(*argv: str, stdin: io.StringIO | None = None) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(
            ["--local-root", str(stack.root), *argv],
            stdin=stdin or io.StringIO(),
            stdout=stdout,
            stderr=stderr,
        )
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run


def aws(stack: LocalStack, service: str) -> Any:
    env = stack.info["env"]
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def state_table(stack: LocalStack) -> StateTable:
    env = stack.info["env"]
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    return StateTable(stack.info["table"], dynamodb_resource=resource)


def quarantine(stack: LocalStack) -> S3QuarantineStore:
    return S3QuarantineStore(stack.info["bucket"], s3_client=aws(stack, "s3"))


def drain(stack: LocalStack, queue_url: str) -> list[str]:
    """Receive and delete everything on a queue (PurgeQueue allows one call a minute)."""
    sqs = aws(stack, "sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for m in messages:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture(scope="module")
def products_import(stack: LocalStack) -> dict[str, Any]:
    """One full products import with --wait, shared by the job commands' tests."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        [
            "--local-root",
            str(stack.root),
            "import",
            "run",
            "--entity",
            "products",
            "--mode",
            "full",
            "--wait",
            "--json",
        ],
        stdin=io.StringIO(),
        stdout=stdout,
        stderr=stderr,
    )
    assert code == 0, stderr.getvalue()
    data: dict[str, Any] = json.loads(stdout.getvalue())
    return data


# --- import run ---------------------------------------------------------------------------------------


def test_full_import_with_wait_succeeds_and_commits_the_watermark(
    stack: LocalStack, products_import: dict[str, Any]
) -> None:
    run = products_import["run"]
    assert run["outcome"] == "succeeded"
    assert run["entity"] == "products" and run["mode"] == "full"
    assert run["counts"]["submitted"] > 0
    assert products_import["waited"] is True
    [job] = products_import["jobs"]
    assert job["status_name"] == "succeeded" and job["status"] == 2
    assert job["job_id"] == run["job_ids"][0]
    assert products_import["watermark"]["run_id"] == run["run_id"]
    # Norce (the emulator) has the products now.
    codes = {row["Code"] for row in stack.emulator.catalog_rows("products")}
    assert len(codes) == run["counts"]["submitted"]


def test_dry_run_submits_nothing(stack: LocalStack, cli: Any, products_import: dict[str, Any]) -> None:
    jobs_before = len(stack.emulator.jobs())
    result = cli("import", "run", "--entity", "price_lists", "--mode", "full", "--dry-run", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["run"]["dry_run"] is True and data["run"]["stored"] is False
    assert data["run"]["counts"]["mapped"] > 0
    assert data["jobs"] == [] and data["run"]["job_ids"] == []
    assert len(stack.emulator.jobs()) == jobs_before


def test_import_of_a_locked_entity_is_skipped_with_exit_4(stack: LocalStack, cli: Any) -> None:
    lock = LeaseLock(state_table(stack), "supplier_products", "someone-else", 300)
    assert lock.acquire()
    try:
        result = cli("import", "run", "--entity", "supplier_products", "--mode", "full", "--json")
    finally:
        lock.release()
    assert result.code == 4
    assert result.json()["run"]["outcome"] == "skipped_locked"


def test_human_output_of_an_import(cli: Any) -> None:
    result = cli("import", "run", "--entity", "price_lists", "--mode", "full", "--dry-run")
    assert result.code == 0, result.err
    assert "Import run price_lists-full-" in result.out
    assert "dry run" in result.out


# --- jobs ---------------------------------------------------------------------------------------------


def test_jobs_list_filters(cli: Any, products_import: dict[str, Any]) -> None:
    job_id = products_import["jobs"][0]["job_id"]
    listed = cli("jobs", "list", "--entity", "products", "--json")
    assert listed.code == 0, listed.err
    assert job_id in [j["job_id"] for j in listed.json()]
    assert job_id in [
        j["job_id"] for j in cli("jobs", "list", "--status", "succeeded", "--since", "1h", "--json").json()
    ]
    assert job_id not in [j["job_id"] for j in cli("jobs", "list", "--status", "3", "--json").json()]
    assert (
        cli("jobs", "list", "--entity", "products", "--since", "2999-01-01T00:00:00Z", "--json").json() == []
    )
    assert job_id not in [j["job_id"] for j in cli("jobs", "list", "--status", "open", "--json").json()]
    human = cli("jobs", "list", "--entity", "products")
    assert str(job_id) in human.out and "succeeded" in human.out


def test_jobs_show_combines_record_and_live_status(cli: Any, products_import: dict[str, Any]) -> None:
    job_id = products_import["jobs"][0]["job_id"]
    result = cli("jobs", "show", str(job_id), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert set(data) == {"job", "live", "live_error"}
    assert data["job"]["job_id"] == job_id and data["job"]["status"] == 2
    assert data["job"]["run_id"] == products_import["run"]["run_id"]
    assert data["live"]["JobId"] == job_id and data["live"]["StatusId"] == 2
    assert data["live"]["StatusName"] == "succeeded"
    assert data["live_error"] is None
    assert data["job"]["submitted_at"].endswith("Z")


def test_jobs_log_lists_norce_log_entries(cli: Any, products_import: dict[str, Any]) -> None:
    job_id = products_import["jobs"][0]["job_id"]
    result = cli("jobs", "log", str(job_id), "--json")
    assert result.code == 0, result.err
    entries = result.json()
    assert {"severity", "severity_name", "message", "timestamp", "imported_row"} == set(entries[0])
    messages = [e["message"] for e in entries]
    assert "Starting import." in messages and "Import finished." in messages


def test_unknown_job_is_not_found(cli: Any) -> None:
    assert cli("jobs", "show", "987654").code == 3
    result = cli("jobs", "log", "987654")
    assert result.code == 3
    assert "987654" in result.err


def test_restart_of_a_failed_job(stack: LocalStack, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOB_RESTART_MAX", "0")  # no automatic restart: the operator decides
    stack.emulator.configure(job_failure_rate=1.0)
    try:
        failed = cli("import", "run", "--entity", "customers", "--mode", "full", "--wait", "--json")
    finally:
        stack.emulator.configure(job_failure_rate=0.0)
    assert failed.code == 1, failed.err
    data = failed.json()
    assert data["run"]["outcome"] == "failed"
    [job] = data["jobs"]
    assert job["status_name"] == "failed"
    job_id = str(job["job_id"])

    refused = cli("jobs", "restart", job_id)
    assert refused.code == 4
    assert "limit_reached" in refused.err

    restarted = cli("jobs", "restart", job_id, "--force", "--json")
    assert restarted.code == 0, restarted.err
    outcome = restarted.json()
    assert outcome["job_id"] == int(job_id) and outcome["trigger"] == "manual" and outcome["attempt"] == 1
    new_job = outcome["new_job_id"]
    assert stack.emulator.job(new_job)  # Norce has the restarted job
    assert cli("jobs", "show", job_id, "--json").json()["job"]["restarts"][0]["new_job_id"] == new_job

    again = cli("jobs", "restart", job_id, "--force")
    assert again.code == 4
    assert f"already restarted as job {new_job}" in again.err


def test_restart_of_a_validation_failed_job_is_refused(stack: LocalStack, cli: Any) -> None:
    submitted = cli("import", "run", "--entity", "companies", "--mode", "full", "--json")
    assert submitted.code == 0, submitted.err
    job_id = submitted.json()["run"]["job_ids"][0]
    stack.emulator.force_job_status(job_id, 4)
    JobStore(state_table(stack)).record_status(job_id, 4, source="poll", at=datetime.now(UTC))

    result = cli("jobs", "restart", str(job_id))
    assert result.code == 4
    assert "validation failed; the same payload would fail again" in result.err
    assert cli("jobs", "list", "--status", "validation_failed", "--json").json()[0]["job_id"] == job_id


# --- watermarks ---------------------------------------------------------------------------------------


def test_watermark_set_and_show(cli: Any) -> None:
    no = cli("watermarks", "set", "onhand", "42")
    assert no.code == 2 and "pass --yes" in no.err
    assert "onhand" not in [w["entity"] for w in cli("watermarks", "show", "--json").json()]

    done = cli("watermarks", "set", "onhand", "42", "--yes", "--json")
    assert done.code == 0, done.err
    assert done.json() == {"entity": "onhand", "value": "42", "kind": "cursor", "previous": None}
    [row] = [w for w in cli("watermarks", "show", "--json").json() if w["entity"] == "onhand"]
    assert row["value"] == "42" and row["kind"] == "cursor" and row["run_id"].startswith("manual:cli:")
    assert row["lag_s"] is None


def test_watermark_set_asks_on_a_terminal(cli: Any) -> None:
    declined = cli("watermarks", "set", "sku_prices", "2025-06-01T00:00:00Z", stdin=FakeTTY("n\n"))
    assert declined.code == 4
    assert "not changed" in declined.err
    assert "[y/N]" in declined.err  # the question goes to stderr, stdout stays clean
    assert "sku_prices" not in [w["entity"] for w in cli("watermarks", "show", "--json").json()]

    accepted = cli(
        "watermarks", "set", "sku_prices", "2025-06-01T02:00:00+02:00", "--json", stdin=FakeTTY("y\n")
    )
    assert accepted.code == 0, accepted.err
    assert accepted.json()["value"] == "2025-06-01T00:00:00.000000Z"


def test_a_named_imports_watermark_can_be_set(cli: Any) -> None:
    # local.yaml's pim_products (kind products) keeps its own watermark, as every named import does.
    done = cli("watermarks", "set", "pim_products", "2025-06-01T00:00:00Z", "--yes", "--json")
    assert done.code == 0, done.err
    [row] = [w for w in cli("watermarks", "show", "--json").json() if w["entity"] == "pim_products"]
    assert row["value"] == "2025-06-01T00:00:00.000000Z"

    typo = cli("watermarks", "set", "pim_prodcts", "42", "--yes")
    assert typo.code == 2 and "pim_prodcts" in typo.err and "pim_products" in typo.err
    assert "pim_prodcts" not in [w["entity"] for w in cli("watermarks", "show", "--json").json()]


# --- DLQ ------------------------------------------------------------------------------------------------


def test_dlq_show_and_redrive(stack: LocalStack, cli: Any) -> None:
    sqs = aws(stack, "sqs")
    body = {"event_type": "ProductChangedEvent", "body": {"ProductId": 4711}, "marker": "cli-dlq-test"}
    sqs.send_message(
        QueueUrl=stack.info["dlq_url"],
        MessageBody=json.dumps(body),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": "ProductChangedEvent"},
            "entity_key": {"DataType": "String", "StringValue": "4711"},
        },
    )
    shown = cli("dlq", "show", "--json")
    assert shown.code == 0, shown.err
    [message] = [
        m for m in shown.json() if isinstance(m["body"], dict) and m["body"].get("marker") == "cli-dlq-test"
    ]
    assert message["event_type"] == "ProductChangedEvent" and message["entity_key"] == "4711"
    assert set(message) == {"message_id", "receive_count", "event_type", "entity_key", "body"}

    moved = cli("dlq", "redrive", "--json")
    assert moved.code == 0, moved.err
    assert moved.json() == {"method": "fallback", "moved": 1, "failed": 0, "task_handle": None}
    assert cli("dlq", "show", "--json").json() == []
    assert body in [json.loads(b) for b in drain(stack, stack.info["queue_url"])]


def test_dlq_redrive_max_moves_only_that_many(stack: LocalStack, cli: Any) -> None:
    sqs = aws(stack, "sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=stack.info["dlq_url"], MessageBody=json.dumps({"n": n}))
    moved = cli("dlq", "redrive", "--max", "2", "--json")
    assert moved.code == 0, moved.err
    assert moved.json()["moved"] == 2
    assert len(cli("dlq", "show", "--json").json()) == 1
    assert cli("dlq", "redrive", "--json").json()["moved"] == 1
    drain(stack, stack.info["queue_url"])


# --- quarantine -------------------------------------------------------------------------------------------


def test_quarantine_list_show_replay(stack: LocalStack, cli: Any) -> None:
    store = quarantine(stack)
    valid = store.put(
        "webhook",
        "target was down",
        b'{"ClientId": 1, "ApplicationId": 1042, "JobId": 77, "StatusId": 2}',
        metadata={"event_type": "JobCompletedEvent"},
    )
    invalid = store.put(
        "webhook", "invalid payload", b'{"ClientId": 1}', metadata={"event_type": "JobCompletedEvent"}
    )

    listed = cli("quarantine", "list", "--kind", "webhook", "--json")
    assert listed.code == 0, listed.err
    keys = [item["key"] for item in listed.json()]
    assert keys[:2] == [invalid, valid]  # newest first
    assert set(listed.json()[0]) == {"key", "kind", "reason", "received_at", "replayed_at", "metadata"}
    assert cli("quarantine", "list", "--kind", "import_record", "--json").json() == []

    shown = cli("quarantine", "show", valid, "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["reason"] == "target was down"
    assert json.loads(shown.json()["payload"])["JobId"] == 77

    replayed = cli("quarantine", "replay", valid, "--json")
    assert replayed.code == 0, replayed.err
    [outcome] = replayed.json()
    assert outcome["outcome"] == "queued" and outcome["message_id"]
    assert outcome["replayed_key"].startswith("replayed/webhook/")
    assert valid not in [i["key"] for i in cli("quarantine", "list", "--json").json()]
    assert outcome["replayed_key"] in [
        i["key"] for i in cli("quarantine", "list", "--replayed", "--json").json()
    ]

    still_invalid = cli("quarantine", "replay", "--all", "--json")
    assert still_invalid.code == 1
    assert [(r["key"], r["outcome"]) for r in still_invalid.json()] == [(invalid, "invalid")]
    assert invalid in [i["key"] for i in cli("quarantine", "list", "--json").json()]  # kept

    assert cli("quarantine", "show", "quarantine/webhook/2020/01/01/missing.json").code == 3
    assert cli("quarantine", "replay", "quarantine/webhook/2020/01/01/missing.json").code == 3
    not_a_key = cli("quarantine", "show", "../etc/passwd")
    assert not_a_key.code == 2 and "KEY" in not_a_key.err
    drain(stack, stack.info["queue_url"])


def test_quarantine_replay_of_a_payload_too_large_for_the_queue_goes_through_the_claim_store(
    stack: LocalStack, cli: Any
) -> None:
    # Quarantined because the queue was down; larger than an SQS message, as the receiver allows.
    payload = {"ClientId": 1, "ExportId": 7, "Content": "x" * 300_000}
    key = quarantine(stack).put(
        "webhook",
        "Queue refused the event (ClientError)",
        json.dumps(payload).encode(),
        metadata={"event_type": "ExportDeliveredEvent"},
    )

    replayed = cli("quarantine", "replay", key, "--json")

    assert replayed.code == 0, replayed.err
    [outcome] = replayed.json()
    assert (outcome["outcome"], outcome["detail"]) == ("queued", "ExportDeliveredEvent")
    [message] = [json.loads(b) for b in drain(stack, stack.info["queue_url"])]
    assert "body" not in message and message["body_ref"].startswith("s3://")


# --- status, config ---------------------------------------------------------------------------------


def test_status_json_shape(stack: LocalStack, cli: Any, products_import: dict[str, Any]) -> None:
    result = cli("status", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert set(data) == {
        "generated_at",
        "stack",
        "config_error",
        "entities",
        "open_jobs",
        "queues",
        "quarantine",
        "schedules",
    }
    assert data["stack"]["origin"] == "local" and data["stack"]["table"] == stack.info["table"]
    assert data["config_error"] is None
    products = next(e for e in data["entities"] if e["entity"] == "products")
    assert set(products) == {"entity", "enabled", "last_run", "watermark", "watermark_lag_s", "open_jobs"}
    assert products["enabled"] is True
    assert products["watermark"]["kind"] == "timestamp"
    assert isinstance(products["watermark_lag_s"], float)
    assert products["last_run"]["outcome"] in ("succeeded", "skipped_locked", "failed", "submitted")
    assert set(data["queues"]) == {"events", "dlq"}
    assert set(data["queues"]["dlq"]) == {"visible", "in_flight", "delayed"}
    assert set(data["quarantine"]) == {"webhook", "import_record", "norce_item", "order", "total"}
    assert isinstance(data["open_jobs"], list)


def test_status_human_screen(cli: Any) -> None:
    result = cli("status")
    assert result.code == 0, result.err
    for text in ("norcekit status", "Entities", "products", "event DLQ", "quarantine"):
        assert text in result.out


def test_config_validate_good_and_bad(cli: Any, tmp_path: Path) -> None:
    good = cli("config", "validate", "--json")
    assert good.code == 0, good.err
    assert good.json()["config_path"] == str(LOCAL_CONFIG)
    assert {e["entity"] for e in good.json()["entities"]} >= {"products", "onhand"}

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        LOCAL_CONFIG.read_text().replace(
            "source: sample_erp\n    mapping: sample\n    fields_that_are_set:\n      SkuPriceList",
            "source: nowhere\n    mapping: sample\n    fields_that_are_set:\n      SkuPriceList",
        )
    )
    result = cli("config", "validate", "--config", str(bad))
    assert result.code == 2
    assert "entities.sku_prices.source: 'nowhere' is not a configured source" in result.err

    # status still answers (every import kind) when the configuration is broken
    status = cli("status", "--config", str(bad), "--json")
    assert status.code == 0, status.err
    assert "'nowhere' is not a configured source" in status.json()["config_error"]
    assert len(status.json()["entities"]) == len(IMPORT_KINDS)
    assert "warning: configuration not loaded" in status.err


# --- reachability and the entry point -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_stack_exits_5(stack: LocalStack, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    text = (stack.root / "stack.json").read_text()
    (tmp_path / "stack.json").write_text(text.replace(stack.info["aws_endpoint_url"], dead))
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["--local-root", str(tmp_path), "status", "--json"], stdout=stdout, stderr=stderr)
    assert code == 5
    assert "unreachable" in stderr.getvalue()
    assert stdout.getvalue() == ""


def test_unreachable_norce_exits_5_but_show_keeps_the_record(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, products_import: dict[str, Any]
) -> None:
    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "1")
    text = (stack.root / "stack.json").read_text()
    (tmp_path / "stack.json").write_text(
        text.replace(stack.info["norce_url"], f"http://127.0.0.1:{free_port()}")
    )
    job_id = str(products_import["jobs"][0]["job_id"])

    def run(*argv: str) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(["--local-root", str(tmp_path), *argv], stdout=stdout, stderr=stderr)
        return Result(code, stdout.getvalue(), stderr.getvalue())

    log = run("jobs", "log", job_id)
    assert log.code == 5
    assert "Norce unreachable" in log.err

    shown = run("jobs", "show", job_id, "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["job"]["job_id"] == int(job_id)
    assert shown.json()["live"] is None and "Norce unreachable" in shown.json()["live_error"]
    assert "warning: live status not available" in shown.err


def test_python_dash_m_entry_point(stack: LocalStack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    completed = subprocess.run(
        [sys.executable, "-m", "norcekit", "--local-root", str(stack.root), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["stack"]["origin"] == "local"
    assert {"products", "pim_products"} <= {e["entity"] for e in data["entities"]}


def test_console_script_is_installed() -> None:
    script = shutil.which("norcekit", path=str(Path(sys.executable).parent))
    assert script is not None
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, check=False, timeout=60)
    assert completed.returncode == 0 and "norcekit" in completed.stdout
