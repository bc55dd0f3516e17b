"""Settings: one validated model; every failure names the variable, never a secret value."""

from __future__ import annotations

import pytest

from norcekit.settings import NorceEnvironment, SettingsError, load_settings, settings_from_environ

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


# --- The environment reader (norcekit.settings.environ_values) ----------------------------------


def test_variable_names_match_in_any_case() -> None:
    settings = settings_from_environ(
        {"norce_slug": "acme", "Http_Read_Timeout": "12.5", "NORCE_ENVIRONMENT": "prod"}
    )
    assert settings.norce_slug == "acme"
    assert settings.http_read_timeout == 12.5
    assert settings.token_url == "https://acme.api-se.norce.tech/identity/1.0/connect/token"


def test_an_invalid_lower_case_variable_is_named_as_documented() -> None:
    with pytest.raises(SettingsError) as info:
        settings_from_environ({"norce_application_id": "not-a-number"})
    assert str(info.value).startswith("NORCE_APPLICATION_ID: ")


@pytest.mark.parametrize(
    ("environ", "table", "region"),
    [
        ({"TABLE_NAME": "primary", "NORCEKIT_TABLE": "other"}, "primary", None),
        ({"NORCEKIT_TABLE": "other"}, "other", None),
        ({"AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "eu-west-1"}, None, "eu-north-1"),
        ({"aws_default_region": "eu-west-1"}, None, "eu-west-1"),
    ],
)
def test_aliases_are_read_in_order_of_preference(
    environ: dict[str, str], table: str | None, region: str | None
) -> None:
    settings = settings_from_environ(environ)
    assert (settings.table_name, settings.aws_region) == (table, region)


def test_only_the_given_mapping_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORCE_SLUG", "from-the-process")
    assert settings_from_environ({}).norce_slug is None
    assert load_settings().norce_slug == "from-the-process"


def test_overrides_win_over_the_environment_and_are_validated() -> None:
    settings = settings_from_environ({"NORCE_SLUG": "acme", "HTTP_MAX_ATTEMPTS": "3"}, http_max_attempts=9)
    assert (settings.norce_slug, settings.http_max_attempts) == ("acme", 9)
    with pytest.raises(SettingsError, match=r"^HTTP_MAX_ATTEMPTS: "):
        settings_from_environ({}, http_max_attempts=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", {}), ('{"erp": 7}', {"erp": 7})],
)
def test_account_ids_map_is_read_from_json(value: str, expected: dict[str, int]) -> None:
    assert settings_from_environ({"NORCE_ACCOUNT_IDS": value}).norce_account_ids == expected


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("[1, 2]", "NORCE_ACCOUNT_IDS: "),
        ('{"erp": "first"}', "NORCE_ACCOUNT_IDS_ERP: "),
        ('{"erp": 1,}', "NORCE_ACCOUNT_IDS: "),
    ],
)
def test_a_bad_account_ids_map_names_the_variable(value: str, named: str) -> None:
    with pytest.raises(SettingsError) as info:
        settings_from_environ({"norce_account_ids": value})
    assert str(info.value).startswith(named)


def test_a_secret_is_never_echoed_in_an_error() -> None:
    secret = "fake-secret-for-test"
    with pytest.raises(SettingsError) as info:
        settings_from_environ(
            {"NORCE_CLIENT_SECRET": secret, "NORCE_APPLICATION_ID": "x"}, norce_client_secret=[secret]
        )
    message = str(info.value)
    assert "NORCE_CLIENT_SECRET: invalid value" in message
    assert "NORCE_APPLICATION_ID: " in message
    assert secret not in message
    # Raised "from None": a traceback does not print the ValidationError (which quotes inputs).
    assert info.value.__cause__ is None and info.value.__suppress_context__
