"""Resolving a stack's resources (CloudFormation outputs, local stack.json, environment)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from norcekit.stack import (
    StackError,
    read_env_file,
    resolve_cloudformation,
    resolve_environment,
    resolve_local,
    stack_environ,
)

OUTPUTS = {
    "TableName": "prod-state",
    "EventQueueUrl": "https://sqs.eu-north-1.amazonaws.com/1/prod-events",
    "EventDLQUrl": "https://sqs.eu-north-1.amazonaws.com/1/prod-events-dlq",
    "BucketName": "prod-data",
    "NorceCredentialsSecretArn": "arn:aws:secretsmanager:eu-north-1:1:secret:norce",
    "WebhookSecretsSecretArn": "arn:aws:secretsmanager:eu-north-1:1:secret:webhooks",
    "WebhookBaseUrl": "https://x.execute-api.eu-north-1.amazonaws.com/v1/events",
}


class StubCloudFormation:
    def __init__(self, outputs: dict[str, str] | None = None, error: str | None = None) -> None:
        self.outputs = outputs
        self.error = error
        self.asked: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.asked.append(StackName)
        if self.error:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": self.error}}, "DescribeStacks")
        return {
            "Stacks": [
                {"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (self.outputs or {}).items()]}
            ]
        }


def test_cloudformation_outputs_become_the_settings_environment() -> None:
    stub = StubCloudFormation(OUTPUTS)
    resources = resolve_cloudformation("norcekit-prod", "eu-north-1", cloudformation=stub)
    assert stub.asked == ["norcekit-prod"]
    assert (resources.table, resources.queue_url, resources.dlq_url, resources.bucket) == (
        "prod-state",
        OUTPUTS["EventQueueUrl"],
        OUTPUTS["EventDLQUrl"],
        "prod-data",
    )
    assert resources.env == {
        "TABLE_NAME": "prod-state",
        "EVENT_QUEUE_URL": OUTPUTS["EventQueueUrl"],
        "EVENT_DLQ_URL": OUTPUTS["EventDLQUrl"],
        "QUARANTINE_BUCKET": "prod-data",
        "NORCE_CREDENTIALS_SECRET_ARN": OUTPUTS["NorceCredentialsSecretArn"],
        "WEBHOOK_SECRETS_ARN": OUTPUTS["WebhookSecretsSecretArn"],
        "AWS_REGION": "eu-north-1",
        "AWS_DEFAULT_REGION": "eu-north-1",
    }
    assert resources.origin == "cloudformation" and resources.name == "norcekit-prod"


def test_missing_stack_names_the_option() -> None:
    stub = StubCloudFormation(error="Stack with id norcekit-typo does not exist")
    with pytest.raises(
        StackError, match="--stack: CloudFormation stack 'norcekit-typo' does not exist in eu-west-1"
    ) as info:
        resolve_cloudformation("norcekit-typo", "eu-west-1", cloudformation=stub)
    assert not info.value.unreachable


def test_a_stack_without_table_output_is_not_norcekit() -> None:
    with pytest.raises(StackError, match="no TableName output"):
        resolve_cloudformation("other", cloudformation=StubCloudFormation({"Foo": "bar"}))


def test_other_cloudformation_errors_propagate() -> None:
    with pytest.raises(ClientError):
        resolve_cloudformation("x", cloudformation=StubCloudFormation(error="Rate exceeded"))


def write_stack_json(root: Path, **extra: Any) -> Path:
    info = {
        "stack_name": "local",
        "region": "eu-north-1",
        "norce_url": "http://127.0.0.1:4000",
        "norce_client_id": "local-client",
        "norce_client_secret": "local-not-a-secret",
        "table": "local-table",
        "queue_url": "http://127.0.0.1:5000/1/q",
        "dlq_url": "http://127.0.0.1:5000/1/dlq",
        "bucket": "local-bucket",
        "env": {"TABLE_NAME": "local-table", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"},
        **extra,
    }
    root.mkdir(parents=True, exist_ok=True)
    path = root / "stack.json"
    path.write_text(json.dumps(info))
    return path


def test_local_stack_json_gives_resources_and_env(tmp_path: Path) -> None:
    write_stack_json(tmp_path)
    resources = resolve_local(tmp_path)
    assert (resources.origin, resources.table, resources.dlq_url, resources.bucket) == (
        "local",
        "local-table",
        "http://127.0.0.1:5000/1/dlq",
        "local-bucket",
    )
    assert resources.env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert resources.env["NORCE_CLIENT_ID"] == "local-client"
    assert resources.env["NORCE_BASE_URL"] == "http://127.0.0.1:4000"
    assert resources.env["EVENT_DLQ_URL"] == "http://127.0.0.1:5000/1/dlq"


def test_no_local_stack_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no local stack running") as info:
        resolve_local(tmp_path)
    assert info.value.unreachable


@pytest.mark.parametrize("content", ["{not json", json.dumps({"table": "t"}), "[]"])
def test_a_broken_stack_file_is_a_usage_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "stack.json").write_text(content)
    with pytest.raises(StackError) as info:
        resolve_local(tmp_path)
    assert not info.value.unreachable


def test_environment_mode_reads_the_variables() -> None:
    resources = resolve_environment(
        {
            "TABLE_NAME": "t",
            "EVENT_QUEUE_URL": "q",
            "EVENT_DLQ_URL": "d",
            "QUARANTINE_BUCKET": "b",
            "AWS_REGION": "r",
        }
    )
    assert (resources.table, resources.queue_url, resources.dlq_url, resources.bucket, resources.region) == (
        "t",
        "q",
        "d",
        "b",
        "r",
    )


def test_env_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    path.write_text("# comment\n\nA=1\nexport B='two words'\nC=\"x=y\"\nD=plain # trailing comment\nE=\n")
    assert read_env_file(path) == {"A": "1", "B": "two words", "C": "x=y", "D": "plain", "E": ""}


@pytest.mark.parametrize("line", ["NOVALUE", "1BAD=x", "A='unterminated"])
def test_env_file_errors_name_the_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.env"
    path.write_text(f"OK=1\n{line}\n")
    with pytest.raises(StackError, match=r"bad.env:2"):
        read_env_file(path)


def test_stack_variables_win_over_the_operators_and_config_is_absolute(tmp_path: Path) -> None:
    write_stack_json(tmp_path)
    resources = resolve_local(tmp_path)
    environ = stack_environ(
        {"TABLE_NAME": "operator-table", "NORCE_SLUG": "tenant"}, resources, config="conf/x.yaml"
    )
    assert environ["TABLE_NAME"] == "local-table"  # the stack's own resource
    assert environ["NORCE_SLUG"] == "tenant"  # the operator's settings stay
    assert environ["NORCEKIT_CONFIG"] == str(Path("conf/x.yaml").resolve())


def test_the_operators_own_norce_credentials_win_over_the_stack_secret() -> None:
    resources = resolve_cloudformation(
        "norcekit-prod",
        "eu-north-1",
        cloudformation=StubCloudFormation(OUTPUTS),
        environ={"NORCE_CLIENT_ID": "me", "NORCE_CLIENT_SECRET": "mine"},
    )
    assert "NORCE_CREDENTIALS_SECRET_ARN" not in resources.env


def test_resolving_changes_neither_the_environment_nor_boto3(tmp_path: Path) -> None:
    write_stack_json(tmp_path)
    before, session = dict(os.environ), boto3.DEFAULT_SESSION
    stack_environ(dict(os.environ), resolve_local(tmp_path))
    assert dict(os.environ) == before
    assert boto3.DEFAULT_SESSION is session


class StubLambda:
    def __init__(self, variables: dict[str, str] | None = None, error: str | None = None) -> None:
        self.variables = variables or {}
        self.error = error
        self.asked: list[str] = []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.asked.append(FunctionName)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "GetFunctionConfiguration")
        return {"Environment": {"Variables": self.variables}}


def test_the_import_functions_settings_come_under_the_outputs() -> None:
    outputs = {**OUTPUTS, "ImportRunnerFunctionName": "prod-import"}
    stub = StubLambda({"NORCE_SLUG": "acme", "TABLE_NAME": "stale", "POWERTOOLS_LOG_LEVEL": "DEBUG"})
    resources = resolve_cloudformation(
        "norcekit-prod", "eu-north-1", cloudformation=StubCloudFormation(outputs), lambda_client=stub
    )
    assert stub.asked == ["prod-import"] and resources.import_function == "prod-import"
    assert resources.env["NORCE_SLUG"] == "acme"
    assert resources.env["TABLE_NAME"] == "prod-state"  # the outputs name the resources
    assert "POWERTOOLS_LOG_LEVEL" not in resources.env and resources.warnings == ()


def test_without_rights_to_read_the_function_the_operator_is_told_once() -> None:
    outputs = {**OUTPUTS, "ImportRunnerFunctionName": "prod-import"}
    resources = resolve_cloudformation(
        "norcekit-prod",
        "eu-north-1",
        cloudformation=StubCloudFormation(outputs),
        lambda_client=StubLambda(error="AccessDeniedException"),
    )
    assert "NORCE_SLUG" not in resources.env and resources.env["TABLE_NAME"] == "prod-state"
    [warning] = resources.warnings
    assert "cannot read the settings of function prod-import (AccessDeniedException)" in warning
