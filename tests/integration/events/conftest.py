"""Fixtures for the event pipeline's integration tests (moto in-process + the Norce emulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET

from norcekit.settings import reset_settings_cache

WEBHOOK_SECRET = "it-webhook-secret"
REGION = "eu-north-1"
TARGET_BUCKET = "norcekit-targets-test"


@pytest.fixture
def webhook_secret_arn(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="norcekit/webhook-secrets", SecretString=json.dumps([WEBHOOK_SECRET])
    )["ARN"]
    monkeypatch.setenv("WEBHOOK_SECRETS_ARN", arn)
    reset_settings_cache()
    return arn


@pytest.fixture
def target_bucket(moto_aws: None) -> str:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=TARGET_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return TARGET_BUCKET


def norce_environment(base_url: str) -> dict[str, str]:
    return {
        "NORCE_BASE_URL": base_url,
        "NORCE_APPLICATION_ID": str(APPLICATION_ID),
        "NORCE_CLIENT_ID": CLIENT_ID,
        "NORCE_CLIENT_SECRET": CLIENT_SECRET,
        "NORCE_ENVIRONMENT": "stage",
        "HTTP_MAX_ATTEMPTS": "3",
        "HTTP_BACKOFF_BASE": "0.01",
    }


@pytest.fixture
def norce_env(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in norce_environment(emulator.base_url).items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()


def write_config(path: Path, events: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    path.write_text(json.dumps({"events": events}))
    monkeypatch.setenv("NORCEKIT_CONFIG", str(path))
    reset_settings_cache()
    return path


def query_requests(emulator: Any) -> list[dict[str, Any]]:
    return emulator.requests("query")
