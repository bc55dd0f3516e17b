"""``norcekit --stack NAME`` against a deployed stack on moto: the tenant settings come from the
import function's environment, ``import run`` invokes that function with the schedule's event, and
``--wait`` follows the run record in the stack's DynamoDB table.

Lambda on moto runs no code without Docker, so the function is stood in for at the boundary the
CLI uses (:class:`~norcekit.wiring.invoke.LambdaInvoker`): it writes the run record as the
deployed runner would, one step per poll of the CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from tests.fixtures.deployed_stack import create_deployed_stack

from norcekit.cli import main
from norcekit.cli.commands import imports_stack
from norcekit.imports.run.context import lock_owner
from norcekit.stack import resolve_cloudformation
from norcekit.state.locks import LeaseLock
from norcekit.state.runs import RunCounts, RunOutcome, RunRecord, RunStore
from norcekit.state.table import StateTable, create_table

REGION = "eu-north-1"
STACK = "norcekit-prod"
TABLE = "prod-state"
FUNCTION = "norcekit-prod-import-runner"
FUNCTION_ENV = {
    "NORCE_SLUG": "acme",
    "NORCE_ENVIRONMENT": "stage",
    "NORCE_APPLICATION_ID": "1234",
    "NORCE_ACCOUNT_ID": "77",
    "NORCEKIT_CONFIG": "s3://prod-data/config/norcekit.yaml",
    "TABLE_NAME": TABLE,
    "POWERTOOLS_SERVICE_NAME": "norcekit",
}
OUTPUTS = {
    "TableName": TABLE,
    "BucketName": "prod-data",
    "ImportRunnerFunctionName": FUNCTION,
    "NorceCredentialsSecretArn": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:norce-abc",
}


@pytest.fixture
def deployed(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateTable]:
    """A stack with its outputs, its import function (with the Globals environment) and its table."""
    for name in [n for n in FUNCTION_ENV if n.startswith("NORCE")] + ["TABLE_NAME", "NORCEKIT_CONFIG"]:
        monkeypatch.delenv(name, raising=False)  # the operator has none of the tenant settings
    create_table(boto3.client("dynamodb", region_name=REGION), TABLE)
    create_deployed_stack(STACK, outputs=OUTPUTS, function=FUNCTION, environment=FUNCTION_ENV, region=REGION)
    yield StateTable(TABLE, dynamodb_resource=boto3.resource("dynamodb", region_name=REGION))


class DeployedFunction:
    """The import function as the CLI sees it: invoked with an event, it records its run and, as
    the runner does, holds the import's lock while the run is ``running``."""

    def __init__(self, table: StateTable, script: list[Callable[[RunStore, RunRecord], None]]) -> None:
        self.table = table
        self.lock: LeaseLock | None = None
        self.runs = RunStore(table)
        self.script = script
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.called: list[tuple[str, dict[str, Any]]] = []
        self.record: RunRecord | None = None

    def start(self, function: str, event: Mapping[str, Any]) -> None:
        self.started.append((function, dict(event)))

    def call(self, function: str, event: Mapping[str, Any]) -> Any:
        self.called.append((function, dict(event)))
        return {
            "run_id": "dry",
            "entity": event["import"],
            "mode": event["mode"],
            "outcome": "succeeded",
            "started_at": "2026-12-03T07:00:00+00:00",
            "counts": {"read": 3, "mapped": 3, "quarantined": 0, "submitted": 0, "deduplicated": 0},
            "job_ids": [],
        }

    def step(self, seconds: float) -> None:
        """One poll interval of the CLI: the function gets one step further."""
        if self.script:
            _, event = self.started[-1]
            if self.record is None:
                self.record = RunRecord(
                    run_id=event["run_id"],
                    entity=event["import"],
                    mode=event["mode"],
                    started_at=datetime.now(UTC),
                )
                self.lock = LeaseLock(self.table, event["import"], lock_owner(event["run_id"]), 960)
                assert self.lock.acquire()
            step = self.script.pop(0)
            if step is crashed:  # the Lambda was killed (timeout, out of memory): its lease runs out
                assert self.lock is not None
                self.lock.release()
                return
            step(self.runs, self.record)
            if self.lock is not None and self.runs.get(self.record.run_id).outcome is not RunOutcome.RUNNING:
                self.lock.release()  # the runner ends its run, then gives the lock up


def create(runs: RunStore, record: RunRecord) -> None:
    runs.create(record)


def read(n: int) -> Callable[[RunStore, RunRecord], None]:
    return lambda runs, record: runs.update(record.run_id, counts=RunCounts(read=n, mapped=n))


def submitted(runs: RunStore, record: RunRecord) -> None:
    counts = RunCounts(read=3, mapped=3, submitted=3)
    runs.update(record.run_id, counts=counts, add_job_ids=[4711], outcome=RunOutcome.SUBMITTED)


def crashed(runs: RunStore, record: RunRecord) -> None:
    """The function dies mid-run: the record stays ``running`` (see :meth:`DeployedFunction.step`)."""


def ended(outcome: RunOutcome, message: str | None = None) -> Callable[[RunStore, RunRecord], None]:
    return lambda runs, record: runs.update(record.run_id, outcome=outcome, message=message)


def cli(function: DeployedFunction, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--stack", STACK, "--region", REGION, *args], stdout=out, stderr=err, invoker=function)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports_stack, "FOLLOW_INTERVAL_S", 0.0)


def test_the_tenant_settings_come_from_the_deployed_function(deployed: StateTable) -> None:
    resources = resolve_cloudformation(
        STACK,
        REGION,
        cloudformation=boto3.client("cloudformation", region_name=REGION),
        lambda_client=boto3.client("lambda", region_name=REGION),
        environ={"NORCE_SLUG": "someone-elses-tenant"},
    )
    assert resources.import_function == FUNCTION
    assert resources.env["NORCE_SLUG"] == "acme" and resources.env["NORCE_APPLICATION_ID"] == "1234"
    assert resources.env["NORCEKIT_CONFIG"] == "s3://prod-data/config/norcekit.yaml"
    assert "POWERTOOLS_SERVICE_NAME" not in resources.env  # the runtime's, not the stack's


def test_import_run_wait_invokes_the_function_and_follows_the_run_to_its_end(
    deployed: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = DeployedFunction(deployed, [create, read(2), submitted, ended(RunOutcome.SUCCEEDED)])
    monkeypatch.setattr(imports_stack, "pause", function.step)

    code, out, err = cli(
        function, "--json", "import", "run", "--entity", "products", "--mode", "delta", "--wait"
    )

    assert code == 0, err
    [(name, event)] = function.started
    assert name == FUNCTION
    assert set(event) == {"import", "mode", "run_id"}  # the schedule's event, plus the run to follow
    assert (event["import"], event["mode"]) == ("products", "delta")
    document = json.loads(out)
    assert document["waited"] is True
    assert document["run"]["run_id"] == event["run_id"] and document["run"]["outcome"] == "succeeded"
    assert document["run"]["job_ids"] == [4711]


def test_progress_lines_follow_each_change_of_the_run_record(
    deployed: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = DeployedFunction(deployed, [create, read(2), submitted, ended(RunOutcome.SUCCEEDED)])
    monkeypatch.setattr(imports_stack, "pause", function.step)

    code, _, err = cli(function, "import", "run", "--entity", "products", "--mode", "delta", "--wait")

    assert code == 0
    lines = [line.split(" ", 1)[1] for line in err.splitlines() if line[:2].isdigit()]
    assert lines == [
        "running: read 0, mapped 0, quarantined 0, submitted 0",
        "running: read 2, mapped 2, quarantined 0, submitted 0",
        "submitted: read 3, mapped 3, quarantined 0, submitted 3; job(s) 4711",
        "succeeded: read 3, mapped 3, quarantined 0, submitted 3; job(s) 4711",
    ]
    assert f"invoked {FUNCTION}: delta import of products" in err


@pytest.mark.parametrize(
    ("outcome", "exit_code"),
    [
        (RunOutcome.FAILED, 1),
        (RunOutcome.SKIPPED_LOCKED, 4),
        (RunOutcome.REFUSED, 6),
        (RunOutcome.SUCCEEDED_WITH_FAILURES, 7),
    ],
)
def test_the_exit_code_is_the_runs_outcome(
    deployed: StateTable, monkeypatch: pytest.MonkeyPatch, outcome: RunOutcome, exit_code: int
) -> None:
    function = DeployedFunction(deployed, [create, ended(outcome, "as recorded")])
    monkeypatch.setattr(imports_stack, "pause", function.step)

    code, out, err = cli(
        function, "--json", "import", "run", "--entity", "onhand", "--mode", "full", "--wait"
    )

    assert code == exit_code, err
    assert json.loads(out)["run"]["message"] == "as recorded"


def test_a_run_the_function_never_starts_fails_after_the_start_timeout(
    deployed: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = DeployedFunction(deployed, [])
    monkeypatch.setattr(imports_stack, "START_TIMEOUT_S", 0.2)
    monkeypatch.setattr(imports_stack, "FOLLOW_INTERVAL_S", 0.05)

    code, _, err = cli(function, "import", "run", "--entity", "products", "--mode", "delta", "--wait")

    assert code == 1
    assert "not started 0s after the invocation" in err and "log group" in err


def test_a_run_still_going_at_the_wait_timeout_is_a_conflict(
    deployed: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = DeployedFunction(deployed, [create, submitted])
    monkeypatch.setattr(imports_stack, "pause", function.step)
    monkeypatch.setattr(imports_stack, "FOLLOW_INTERVAL_S", 0.05)
    args = ("import", "run", "--entity", "products", "--mode", "delta", "--wait", "--wait-timeout", "0.3")

    code, _, err = cli(function, *args)

    assert code == 4
    assert "still submitted after 0s" in err


def test_a_run_whose_function_died_fails_instead_of_waiting_out_the_wait_timeout(
    deployed: StateTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Killed mid-run (Lambda timeout, out of memory), the function leaves its record "running" for
    # good: Lambda's retry of the same run id finds the record and does not run it again.
    function = DeployedFunction(deployed, [create, read(2), crashed])
    monkeypatch.setattr(imports_stack, "pause", function.step)
    args = ("import", "run", "--entity", "products", "--mode", "delta", "--wait", "--wait-timeout", "20")

    code, _, err = cli(function, *args)

    assert code == 1, err  # not 4 "still running ... follow it with status" after the whole wait
    assert "stopped without ending the run" in err and "log group" in err
    assert "Traceback" not in err


DEPLOYED_CONFIG = """
sources:
  erp: {type: filedrop, root: "s3://prod-data/incoming/erp", entities: {products: {key_fields: [code]}}}
imports:
  erp_products: {kind: products, source: erp, mapping: sample, delta: {enabled: false}}
"""


@pytest.mark.parametrize(
    ("which", "mode", "problem"),
    [
        (("--import", "erp_prodcts"), "full", "unknown import 'erp_prodcts' (imports: erp_products)"),
        (("--entity", "onhand"), "full", "entity 'onhand' is not configured"),
        (("--import", "erp_products"), "delta", "delta imports of 'erp_products' are disabled"),
    ],
)
def test_an_import_the_deployed_configuration_cannot_run_is_refused_before_the_invocation(
    deployed: StateTable, which: tuple[str, str], mode: str, problem: str
) -> None:
    # Invoked asynchronously, the function would raise where nobody sees it: the CLI said "invoked"
    # (exit 0), or --wait waited out the start timeout, for a misspelt import name.
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="prod-data", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="prod-data", Key="config/norcekit.yaml", Body=DEPLOYED_CONFIG.encode())
    function = DeployedFunction(deployed, [])

    code, _, err = cli(function, "import", "run", *which, "--mode", mode)

    assert code == 2, err
    assert problem in err and function.started == []


def test_without_wait_the_cli_returns_once_the_function_is_invoked(deployed: StateTable) -> None:
    function = DeployedFunction(deployed, [])

    code, out, _ = cli(function, "--json", "import", "run", "--entity", "products", "--mode", "full")

    assert code == 0
    document = json.loads(out)
    assert document["run"]["outcome"] == "invoked"
    assert document["run"]["run_id"] == function.started[0][1]["run_id"]


def test_a_dry_run_waits_for_the_functions_answer(deployed: StateTable) -> None:
    function = DeployedFunction(deployed, [])

    code, out, _ = cli(
        function, "--json", "import", "run", "--entity", "products", "--mode", "full", "--dry-run"
    )

    assert code == 0 and function.started == []
    [(_, event)] = function.called
    assert event["dry_run"] is True
    assert json.loads(out)["run"]["counts"]["read"] == 3


def test_allow_is_refused_for_the_deployed_function(deployed: StateTable) -> None:
    function = DeployedFunction(deployed, [])
    args = ("import", "run", "--entity", "products", "--mode", "full", "--allow", "shrink")

    code, _, err = cli(function, *args)

    assert code == 2 and "--in-process" in err and function.started == []
