"""Settings: one validated model; every failure names the variable, never a secret value."""

from __future__ import annotations

import pytest

from norcekit.settings import NorceEnvironment, SettingsError, load_settings

NORCE_VARS = (
    "NORCE_SLUG",
    "NORCE_ENVIRONMENT",
    "NORCE_BASE_URL",
    "NORCE_APPLICATION_ID",
    "NORCE_CLIENT_ID",
    "NORCE_CLIENT_SECRET",
    "NORCE_CREDENTIALS_SECRET_ARN",
    "NORCE_ACCOUNT_ID",
    "NORCE_ACCOUNT_IDS",
    "TABLE_NAME",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NORCE_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("environment", "expected_host"),
    [
        ("playground", "https://acme.api-se.playground.norce.tech"),
        ("stage", "https://acme.api-se.stage.norce.tech"),
        ("prod", "https://acme.api-se.norce.tech"),
    ],
)
def test_environment_picks_documented_host_and_scope(
    monkeypatch: pytest.MonkeyPatch, environment: str, expected_host: str
) -> None:
    monkeypatch.setenv("NORCE_SLUG", "acme")
    monkeypatch.setenv("NORCE_ENVIRONMENT", environment)
    settings = load_settings()
    assert settings.token_url == f"{expected_host}/identity/1.0/connect/token"
    assert settings.connect_base_url == f"{expected_host}/commerce/connect/4.0"
    assert settings.query_base_url == f"{expected_host}/commerce/query/2.0"
    assert settings.oauth_scope == environment


def test_base_url_overrides_every_norce_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORCE_SLUG", "acme")
    monkeypatch.setenv("NORCE_BASE_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.token_url == "http://127.0.0.1:8081/identity/1.0/connect/token"
    assert settings.connect_base_url == "http://127.0.0.1:8081/commerce/connect/4.0"
    assert settings.query_base_url == "http://127.0.0.1:8081/commerce/query/2.0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NORCE_APPLICATION_ID", "not-a-number"),
        ("NORCE_APPLICATION_ID", "0"),
        ("NORCE_ENVIRONMENT", "production-ish"),
        ("NORCE_BASE_URL", "ftp://example.invalid"),
        ("NORCE_ACCOUNT_IDS", "{erp: 1"),
        ("HTTP_READ_TIMEOUT", "-1"),
    ],
)
def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(name)
    assert "\n" not in message


def test_missing_norce_settings_are_listed_in_one_message() -> None:
    settings = load_settings()
    with pytest.raises(SettingsError) as info:
        settings.require_norce()
    message = str(info.value)
    for name in ("NORCE_SLUG", "NORCE_APPLICATION_ID", "NORCE_CLIENT_ID"):
        assert name in message


def test_credentials_may_come_from_a_secret_arn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORCE_SLUG", "acme")
    monkeypatch.setenv("NORCE_APPLICATION_ID", "1042")
    monkeypatch.setenv(
        "NORCE_CREDENTIALS_SECRET_ARN", "arn:aws:secretsmanager:eu-north-1:000000000000:secret:norce-AbCdEf"
    )
    load_settings().require_norce()  # does not raise


def test_secret_value_never_appears_in_errors_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORCE_CLIENT_SECRET", "fake-secret-for-test")
    settings = load_settings()
    assert "fake-secret-for-test" not in repr(settings)
    assert settings.norce_client_secret is not None
    assert settings.norce_client_secret.get_secret_value() == "fake-secret-for-test"


def test_account_id_per_source_with_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORCE_ACCOUNT_IDS", '{"erp": 101, "pim": 202}')
    monkeypatch.setenv("NORCE_ACCOUNT_ID", "999")
    settings = load_settings()
    assert settings.account_id_for("erp") == 101
    assert settings.account_id_for("pim") == 202
    assert settings.account_id_for("wms") == 999
    assert settings.norce_environment is NorceEnvironment.STAGE


def test_account_id_missing_names_both_variables() -> None:
    with pytest.raises(SettingsError, match=r"NORCE_ACCOUNT_IDS\['erp'\] or NORCE_ACCOUNT_ID"):
        load_settings().account_id_for("erp")
