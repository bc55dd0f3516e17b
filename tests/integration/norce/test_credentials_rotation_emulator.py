"""A rotated Norce client secret in Secrets Manager (moto) is picked up by warm clients built by the
composition root: the emulator refuses the cached secret, the re-read one gets the token."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws
from tests.fixtures.emulator import CLIENT_ID, CLIENT_SECRET
from tests.fixtures.norce_settings import emulator_settings

from norce_emulator import Emulator
from norcekit.deadline import Deadline
from norcekit.wiring.norce import build_norce_clients

pytestmark = pytest.mark.integration


@pytest.fixture
def secrets() -> Iterator[tuple[str, SecretsProvider, object]]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-north-1")
        arn = client.create_secret(
            Name="norce-credentials",
            SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": "secret-before-rotation"}),
        )["ARN"]
        yield arn, SecretsProvider(boto3_client=client), client


def test_a_rotated_secret_is_re_read_after_the_token_endpoint_refuses_the_cached_one(
    emulator: Emulator, secrets: tuple[str, SecretsProvider, object]
) -> None:
    arn, provider, client = secrets
    settings = emulator_settings(
        emulator, norce_client_id=None, norce_client_secret=None, norce_credentials_secret_arn=arn
    )
    clients = build_norce_clients(settings, secrets=provider)  # reads (and caches) the old secret
    try:
        # The operator rotates: Norce now knows only the new secret, Secrets Manager holds it.
        client.put_secret_value(  # type: ignore[attr-defined]
            SecretId=arn, SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        )
        assert clients.tokens.token(Deadline.after(30))
        assert emulator.token_request_count == 2  # the refused one, then the re-read secret
        assert clients.tokens.credential_rereads == 1
    finally:
        clients.close()
