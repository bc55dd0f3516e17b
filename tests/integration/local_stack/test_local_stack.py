"""The local stack (`make local`): moto + Norce emulator + the template's resources, on loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from norcekit.settings import load_settings
from norcekit_local import LocalStack
from norcekit_local.resources import load_template

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
REQUIRED_KEYS = {
    "norce_url",
    "norce_client_id",
    "norce_client_secret",
    "norce_application_id",
    "aws_endpoint_url",
    "region",
    "table",
    "queue_url",
    "dlq_url",
    "bucket",
    "event_bus",
    "bus_sink_queue_url",
    "webhook_secrets_arn",
    "norce_credentials_secret_arn",
    "sample_data_dir",
    "quarantine",
    "pid",
    "env",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("local")) as running:
        yield running


@pytest.fixture(scope="module")
def info(stack: LocalStack) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stack.stack_file.read_text())
    return data


def client(info: dict[str, Any], service: str) -> Any:
    """A boto3 client configured only from the stack's env block, as another process would be."""
    env = info["env"]
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def test_stack_json_lists_everything_a_client_needs(info: dict[str, Any], stack: LocalStack) -> None:
    assert set(info) >= REQUIRED_KEYS
    assert info["pid"] == os.getpid()
    env = info["env"]
    assert env["NORCE_BASE_URL"] == info["norce_url"]
    assert env["AWS_ENDPOINT_URL"] == info["aws_endpoint_url"]
    assert env["TABLE_NAME"] == info["table"]
    assert env["EVENT_QUEUE_URL"] == info["queue_url"]
    assert env["EVENT_DLQ_URL"] == info["dlq_url"]
    assert env["QUARANTINE_BUCKET"] == info["bucket"] == info["quarantine"]["bucket"]
    assert env["WEBHOOK_SECRETS_ARN"] == info["webhook_secrets_arn"]
    assert env["NORCE_CREDENTIALS_SECRET_ARN"] == info["norce_credentials_secret_arn"]
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert stack.env() == env
    # stack.env is the same block in shell syntax.
    env_file = (stack.root / "stack.env").read_text()
    assert f"TABLE_NAME={info['table']}" in env_file.splitlines()


def test_env_runs_norcekit_settings_against_the_stack(
    info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in info["env"].items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    settings.require_norce()
    assert settings.token_url == f"{info['norce_url']}/identity/1.0/connect/token"
    assert settings.norce_application_id == info["norce_application_id"]
    assert settings.table_name == info["table"]


def test_boto3_with_the_env_reaches_table_queue_bucket_and_secrets(info: dict[str, Any]) -> None:
    table = client(info, "dynamodb").describe_table(TableName=info["table"])["Table"]
    assert {k["AttributeName"] for k in table["KeySchema"]} == {"PK", "SK"}
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
    ttl = client(info, "dynamodb").describe_time_to_live(TableName=info["table"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"

    sqs = client(info, "sqs")
    sqs.send_message(QueueUrl=info["queue_url"], MessageBody='{"hello": "stack"}')
    received = sqs.receive_message(QueueUrl=info["queue_url"], WaitTimeSeconds=1)["Messages"]
    assert json.loads(received[0]["Body"]) == {"hello": "stack"}
    sqs.delete_message(QueueUrl=info["queue_url"], ReceiptHandle=received[0]["ReceiptHandle"])

    s3 = client(info, "s3")
    s3.put_object(Bucket=info["bucket"], Key="quarantine/webhook/x.json", Body=b"{}")
    assert s3.get_object(Bucket=info["bucket"], Key="quarantine/webhook/x.json")["Body"].read() == b"{}"
    assert s3.get_bucket_versioning(Bucket=info["bucket"])["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=info["bucket"])["PublicAccessBlockConfiguration"]
    assert all(block.values())

    secrets = client(info, "secretsmanager")
    credentials = json.loads(
        secrets.get_secret_value(SecretId=info["norce_credentials_secret_arn"])["SecretString"]
    )
    assert credentials == {"client_id": info["norce_client_id"], "client_secret": info["norce_client_secret"]}
    accepted = json.loads(secrets.get_secret_value(SecretId=info["webhook_secrets_arn"])["SecretString"])
    assert accepted == [info["webhook_secret"]]


def test_queue_has_the_templates_redrive_policy_and_visibility(info: dict[str, Any]) -> None:
    template = load_template()
    queue_props = template["Resources"]["EventQueue"]["Properties"]
    max_receive = template["Parameters"]["EventMaxReceiveCount"]["Default"]
    attributes = client(info, "sqs").get_queue_attributes(QueueUrl=info["queue_url"], AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    dlq_arn = client(info, "sqs").get_queue_attributes(QueueUrl=info["dlq_url"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == max_receive
    assert int(attributes["VisibilityTimeout"]) == queue_props["VisibilityTimeout"]


def test_events_put_on_the_bus_arrive_in_the_sink_queue(info: dict[str, Any]) -> None:
    client(info, "events").put_events(
        Entries=[
            {
                "EventBusName": info["event_bus"],
                "Source": "norcekit.test",
                "DetailType": "SkuChanged",
                "Detail": json.dumps({"PartNo": "P-1"}),
            }
        ]
    )
    sqs = client(info, "sqs")
    messages = sqs.receive_message(QueueUrl=info["bus_sink_queue_url"], WaitTimeSeconds=2)["Messages"]
    event = json.loads(messages[0]["Body"])
    assert event["detail"] == {"PartNo": "P-1"}
    assert event["source"] == "norcekit.test"


def test_emulator_issues_a_token_for_the_written_credentials(info: dict[str, Any]) -> None:
    token_url = f"{info['norce_url']}/identity/1.0/connect/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": info["norce_client_id"],
        "client_secret": info["norce_client_secret"],
        "scope": info["env"]["NORCE_ENVIRONMENT"],
    }
    answer = httpx.post(token_url, data=form, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]
    wrong = httpx.post(token_url, data={**form, "client_secret": "not-the-secret"}, timeout=60)
    assert wrong.status_code == 400


def test_sample_data_is_generated_into_the_root(info: dict[str, Any], stack: LocalStack) -> None:
    sample = Path(info["sample_data_dir"])
    assert sample == stack.root / "sample"
    assert info["env"]["NORCEKIT_SAMPLE_DIR"] == str(sample)
    assert list(sample.glob("products/full/*.jsonl"))


def test_a_second_stack_in_the_same_process_is_refused(stack: LocalStack, tmp_path: Path) -> None:
    # moto's state is process-wide: two stacks would see (and reset) each other's resources.
    with pytest.raises(RuntimeError, match="already running in this process"):
        LocalStack(tmp_path, sample_data=False).start()
    assert stack.running
