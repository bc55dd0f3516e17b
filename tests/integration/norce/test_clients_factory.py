"""build_norce_clients: credentials from settings or Secrets Manager, clear errors when missing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import boto3
import httpx
import pytest
import respx
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws

from norcekit.deadline import Deadline
from norcekit.norce.factory import resolve_credentials
from norcekit.settings import Settings, SettingsError, load_settings
from norcekit.wiring import build_norce_clients

pytestmark = pytest.mark.integration

BASE = "http://norce.test"


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"norce_base_url": BASE, "norce_application_id": 1042}
    values.update(overrides)
    return load_settings(**values)


def provider() -> SecretsProvider:
    """The provider a process gets from norcekit.wiring (on moto here)."""
    return SecretsProvider(boto3_client=boto3.client("secretsmanager", region_name="eu-north-1"))


@pytest.fixture
def secret_arn() -> Iterator[str]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-north-1")
        arn = client.create_secret(
            Name="norce/credentials",
            SecretString=json.dumps({"client_id": "from-secret", "client_secret": "secret-from-sm"}),
        )["ARN"]
        yield arn


def test_clients_use_the_configured_urls_and_credentials() -> None:
    with respx.mock(base_url=BASE) as router:
        token = router.post("/identity/1.0/connect/token").mock(
            return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        )
        currencies = router.get("/commerce/query/2.0/Core/Currencies").mock(
            return_value=httpx.Response(200, json={"value": [{"Code": "SEK"}]})
        )
        with build_norce_clients(
            settings(
                norce_client_id="direct", norce_client_secret="direct-secret", norce_environment="playground"
            )
        ) as clients:
            assert list(clients.query.query("Core/Currencies", deadline=Deadline.after(5))) == [
                {"Code": "SEK"}
            ]
            assert clients.connect.base_url == f"{BASE}/commerce/connect/4.0"
            assert clients.jobs.get_path == "Job/Get"
        form = token.calls.last.request.content.decode()
        assert "client_id=direct" in form and "scope=playground" in form
        assert currencies.calls.last.request.headers["applicationId"] == "1042"


def test_credentials_from_secrets_manager(secret_arn: str) -> None:
    found = settings(norce_credentials_secret_arn=secret_arn)
    client_id, client_secret = resolve_credentials(found, secrets=provider())
    assert client_id == "from-secret"
    assert client_secret.get_secret_value() == "secret-from-sm"


def test_direct_credentials_win_over_the_secret(secret_arn: str) -> None:
    client_id, _ = resolve_credentials(
        settings(norce_client_id="direct", norce_client_secret="x", norce_credentials_secret_arn=secret_arn)
    )  # no provider needed: nothing is read
    assert client_id == "direct"


def test_secret_with_the_wrong_shape_is_a_settings_error() -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-north-1")
        arn = client.create_secret(Name="bad", SecretString=json.dumps({"id": "x"}))["ARN"]
        with pytest.raises(SettingsError, match="NORCE_CREDENTIALS_SECRET_ARN"):
            resolve_credentials(settings(norce_credentials_secret_arn=arn), secrets=provider())


def test_missing_secret_is_a_settings_error() -> None:
    with mock_aws(), pytest.raises(SettingsError, match="NORCE_CREDENTIALS_SECRET_ARN"):
        resolve_credentials(
            settings(
                norce_credentials_secret_arn="arn:aws:secretsmanager:eu-north-1:123456789012:secret:gone"
            ),
            secrets=provider(),
        )


def test_reading_the_secret_needs_the_processs_provider() -> None:
    with pytest.raises(SettingsError, match="no Secrets Manager provider given"):
        resolve_credentials(settings(norce_credentials_secret_arn="arn:aws:secretsmanager:x"))


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(SettingsError) as caught:
        build_norce_clients(settings(norce_application_id=None))
    message = str(caught.value)
    assert "NORCE_APPLICATION_ID" in message
    assert "NORCE_CLIENT_ID" in message and "NORCE_CREDENTIALS_SECRET_ARN" in message


def test_lazy_package_exports_do_not_import_httpx_eagerly() -> None:
    code = (
        "import sys, norcekit.norce as n; assert 'httpx' not in sys.modules, 'eager';"
        "assert n.RetryPolicy is not None; assert 'httpx' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
