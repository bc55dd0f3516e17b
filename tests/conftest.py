"""Project-wide pytest setup: shared fixture modules and a clean, offline environment."""

from __future__ import annotations

import pytest

from norcekit.settings import reset_settings_cache

# Fixture modules shared across test areas (emulator on loopback, moto-backed AWS resources).
pytest_plugins = ["tests.fixtures.emulator", "tests.fixtures.aws"]


@pytest.fixture(autouse=True)
def _offline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS or read the developer's credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "NorcekitTest")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "norcekit-test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    reset_settings_cache()
