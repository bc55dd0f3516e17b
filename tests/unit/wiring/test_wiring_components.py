"""The composition root builds each shared thing once: one table handle, one Norce pool and token."""

from __future__ import annotations

from pathlib import Path

import pytest

from norcekit.cli.services import QuietMetrics, Services
from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.settings import SettingsError, settings_from_environ
from norcekit.stack import StackResources
from norcekit.wiring import Components, ContainerComponents

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "eu-north-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "TABLE_NAME": "state",
    "QUARANTINE_BUCKET": "bucket",
    "NORCE_BASE_URL": "http://127.0.0.1:9",
    "NORCE_APPLICATION_ID": "1042",
    "NORCE_CLIENT_ID": "client",
    "NORCE_CLIENT_SECRET": "not-a-real-secret",
    "NORCE_ACCOUNT_ID": "1",
}


def config(root: Path) -> IntegrationConfig:
    return load_config(
        {
            "sources": {
                "erp": {
                    "type": "filedrop",
                    "root": str(root),
                    "entities": {"customers": {"key_fields": ["code"]}},
                }
            },
            "entities": {"customers": {"source": "erp", "mapping": "sample"}},
        },
        environ={},
    )


def test_runner_tracker_and_monitor_share_one_table_and_one_norce_pool(tmp_path: Path) -> None:
    with Components(
        settings_from_environ(ENV), environ=ENV, metrics=QuietMetrics(), integration_config=config(tmp_path)
    ) as components:
        runner, tracker, monitor = components.runner, components.tracker, components.monitor
        assert runner.norce.connect is components.norce.connect
        assert runner.norce.status_sink is tracker
        assert monitor.tracker is tracker
        assert monitor.jobs_client is components.norce.jobs
        assert tracker.jobs_client is components.norce.jobs
        assert components.runner is runner  # built once


def test_the_cli_runner_reuses_the_commands_table_and_norce_clients(tmp_path: Path) -> None:
    resources = StackResources("environment", None, "eu-north-1", "state", None, None, "bucket")
    with Services(resources, environ=ENV) as services:
        services.components.__dict__["integration_config"] = config(tmp_path)
        assert services.runner.norce.connect is services.norce.connect
        assert services.tracker is services.runner.norce.status_sink
        assert services.table is services.components.table


def test_a_missing_resource_names_its_variable() -> None:
    env = {k: v for k, v in ENV.items() if k != "QUARANTINE_BUCKET"}
    with pytest.raises(SettingsError, match="QUARANTINE_BUCKET"):
        _ = Components(settings_from_environ(env), environ=env).quarantine


def test_a_handler_module_can_be_handed_its_components() -> None:
    holder = ContainerComponents()
    given = Components(settings_from_environ(ENV), environ=ENV)
    holder.provide(given)
    assert holder() is given
    holder.reset()
    holder.provide(given)
    assert holder() is given


def test_the_runners_sources_use_the_processs_s3_client_and_secrets_provider() -> None:
    asked: list[str] = []
    providers: list[object] = []

    class Provider:  # the part of Powertools' SecretsProvider a source secret needs
        def __init__(self) -> None:
            providers.append(self)

        def get(self, name: str) -> str:
            asked.append(name)
            return '{"token": "erp-test-token"}'

    arn = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:erp-AbCdEf"
    integration = load_config(
        {
            "sources": {
                "drop": {
                    "type": "filedrop",
                    "root": "s3://bucket/incoming/erp",
                    "entities": {"customers": {"key_fields": ["code"]}},
                },
                "api": {
                    "type": "rest",
                    "base_url": "https://erp.example.test/api/",
                    "auth": {"type": "bearer", "token": {"secret_arn": arn, "key": "token"}},
                    "entities": {"companies": {"path": "companies", "key_fields": ["code"]}},
                },
            },
            "entities": {
                "customers": {"source": "drop", "mapping": "sample"},
                "companies": {"source": "api", "mapping": "sample", "delta": {"enabled": False}},
            },
        },
        environ={},
    )
    with Components(
        settings_from_environ({**ENV, "AWS_READ_TIMEOUT_S": "4"}),
        environ=ENV,
        metrics=QuietMetrics(),
        integration_config=integration,
    ) as components:
        components.aws.secrets_provider = Provider  # type: ignore[assignment,method-assign]
        drop = components.runner.source_factory("drop")
        api = components.runner.source_factory("api")
        api_again = components.runner.source_factory("api")

        client = drop.store.client  # type: ignore[attr-defined]
        assert client is components.aws.s3()  # not a boto3 default client
        assert client.meta.config.read_timeout == 4
        assert client.meta.config.retries["mode"] == "standard"
    assert api.auth.headers(None, None) == {"Authorization": "Bearer erp-test-token"}  # type: ignore[arg-type,attr-defined]
    assert api_again.auth.headers(None, None) == api.auth.headers(None, None)  # type: ignore[arg-type,attr-defined]
    assert asked == [arn, arn] and len(providers) == 1  # one provider (its own cache: 5 min)
