"""Nested JSON secrets: the stack's source/target secrets hold one object per system, and a
configuration names ``bc.client_secret``; an object is never sent as a (Python repr) credential."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
import respx
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws

from norcekit.events.config import HttpTargetConfig
from norcekit.events.targets.base import Outcome, TargetDocument
from norcekit.events.targets.http import HttpTarget, secret_auth
from norcekit.imports.sources.auth import SecretRef, resolve_secret
from norcekit.imports.sources.base import SourceError
from norcekit.secrets import SecretValueError, secret_value

pytestmark = pytest.mark.integration

REGION = "eu-north-1"
URL = "https://target.example.test/norce"
SOURCE_SECRET = {"bc": {"client_id": "app-1", "client_secret": "bc-test-secret"}, "pim": {"pin": 1234}}
TARGET_SECRET = {"shop": {"token": "shop-test-token"}, "flat.key": "flat-test-token"}


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def create(client: Any, name: str, value: dict[str, Any]) -> str:
    arn: str = client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    return arn


def fetcher(client: Any) -> Any:
    return lambda arn: client.get_secret_value(SecretId=arn)["SecretString"]


def test_a_source_reads_a_nested_value_by_dotted_key(secrets: Any) -> None:
    arn = create(secrets, "source-credentials", SOURCE_SECRET)
    ref = SecretRef(secret_arn=arn, key="bc.client_secret")
    assert resolve_secret(ref, fetch=fetcher(secrets)) == "bc-test-secret"
    assert resolve_secret(SecretRef(secret_arn=arn, key="pim.pin"), fetch=fetcher(secrets)) == "1234"


def test_a_source_key_naming_an_object_is_an_error_not_a_repr(secrets: Any) -> None:
    arn = create(secrets, "source-credentials", SOURCE_SECRET)
    with pytest.raises(SourceError) as caught:
        resolve_secret(SecretRef(secret_arn=arn, key="bc"), fetch=fetcher(secrets))
    message = str(caught.value)
    assert "bc.client_id, bc.client_secret" in message
    assert "bc-test-secret" not in message and "{'" not in message


def test_a_missing_nested_key_names_where_it_looked(secrets: Any) -> None:
    arn = create(secrets, "source-credentials", SOURCE_SECRET)
    with pytest.raises(SourceError, match="no key 'secret' under 'bc'"):
        resolve_secret(SecretRef(secret_arn=arn, key="bc.secret"), fetch=fetcher(secrets))


def test_an_exact_key_with_a_dot_wins_over_a_path() -> None:
    assert secret_value(json.dumps(TARGET_SECRET), "flat.key") == "flat-test-token"
    with pytest.raises(SecretValueError, match="not a JSON object"):
        secret_value("[1, 2]", "0")


def doc() -> TargetDocument:
    return TargetDocument.build("sku", "100011", ["SkuChangedNotification"], {"PartNo": "100011"})


def http_target(secrets: Any, key: str) -> HttpTarget:
    arn = create(secrets, "target-credentials", TARGET_SECRET)
    config = HttpTargetConfig.model_validate(
        {"type": "http", "url": URL, "credentials_secret_arn": arn, "credentials_key": key}
    )
    auth = secret_auth(config, provider=SecretsProvider(boto3_client=secrets))
    return HttpTarget("shop", config, client=httpx.Client(), auth=auth, sleep=lambda s: None)


def test_an_http_target_sends_a_nested_token(secrets: Any) -> None:
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(200))
        [result] = http_target(secrets, "shop.token").deliver([doc()])
    assert result.ok
    assert route.calls[0].request.headers["Authorization"] == "Bearer shop-test-token"


def test_an_http_target_whose_key_holds_an_object_sends_nothing(secrets: Any) -> None:
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(200))
        [result] = http_target(secrets, "shop").deliver([doc()])
    assert not route.called
    assert result.outcome is Outcome.PERMANENT_ERROR
    assert "shop.token" in result.detail and "shop-test-token" not in result.detail
