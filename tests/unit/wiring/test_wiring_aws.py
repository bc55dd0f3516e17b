"""Every AWS client built by the composition root has one botocore Config and the stack's endpoint."""

from __future__ import annotations

import os
from typing import Any

import boto3

from norcekit.settings import load_settings, settings_from_environ
from norcekit.wiring import AwsClients, Components, aws_client_config

LOCAL = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "eu-north-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "TABLE_NAME": "state",
    "QUARANTINE_BUCKET": "bucket",
}


def test_default_config_fails_fast_with_standard_retries() -> None:
    config = aws_client_config()
    assert (config.connect_timeout, config.read_timeout) == (2.0, 10.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_every_client_and_resource_carries_the_configured_timeouts() -> None:
    settings = load_settings(
        aws_region="eu-north-1", aws_connect_timeout_s=1.5, aws_read_timeout_s=7, aws_max_attempts=4
    )
    aws = AwsClients.from_settings(settings)
    configs = [
        aws.s3().meta.config,
        aws.sqs().meta.config,
        aws.events().meta.config,
        aws.secretsmanager().meta.config,
        aws.cloudformation().meta.config,
        aws.dynamodb().meta.client.meta.config,
        aws.secrets_provider().client.meta.config,
    ]
    for config in configs:
        assert (config.connect_timeout, config.read_timeout) == (1.5, 7)
        assert config.retries == {"mode": "standard", "total_max_attempts": 4}


def test_clients_are_shared_and_resources_are_per_caller() -> None:
    aws = AwsClients.from_settings(load_settings(aws_region="eu-north-1"))
    assert aws.sqs() is aws.sqs()
    assert aws.dynamodb() is not aws.dynamodb()  # boto3 resources are not thread-safe


def test_the_stacks_endpoint_region_and_credentials_come_from_the_mapping_not_os_environ() -> None:
    before, session = dict(os.environ), boto3.DEFAULT_SESSION
    components = Components(settings_from_environ(LOCAL), environ=LOCAL)
    s3 = components.quarantine.client
    assert s3.meta.endpoint_url == "http://127.0.0.1:4566"
    assert s3.meta.region_name == "eu-north-1"
    credentials = components.aws.session.get_credentials()
    assert credentials is not None and credentials.access_key == "testing"
    assert components.table.table.meta.client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert dict(os.environ) == before
    assert boto3.DEFAULT_SESSION is session


def test_the_webhook_receivers_first_request_creates_no_s3_client() -> None:
    # S3 only holds quarantined and claim-checked payloads: a cold start's valid webhook needs none.
    env = {
        **LOCAL,
        "WEBHOOK_SECRETS_ARN": "arn:aws:secretsmanager:eu-north-1:000000000000:secret:hooks",
        "EVENT_QUEUE_URL": "http://127.0.0.1:4566/000000000000/events",
    }
    created: list[str] = []

    class CountingClients(AwsClients):
        def client(self, service: str) -> Any:
            created.append(service)
            return super().client(service)

    aws = CountingClients.from_environ(env, region="eu-north-1")
    receiver = Components(settings_from_environ(env), environ=env, aws=aws).receiver
    assert "s3" not in created
    assert receiver.claims is not None
    # Used, both stores get the one shared, configured client.
    assert receiver.quarantine.client.meta.endpoint_url == "http://127.0.0.1:4566"  # type: ignore[attr-defined]
    assert receiver.claims.client.meta is aws.s3().meta  # type: ignore[attr-defined]
    assert "s3" in created
