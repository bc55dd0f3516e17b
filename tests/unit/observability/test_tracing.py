"""The Tracer is on only when the stack's ``Tracing`` parameter turns it on; off, it is a no-op."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_xray_sdk.core
import pytest
from aws_lambda_powertools import Tracer

from norcekit.observability import TRACED_MODULES, get_tracer


@pytest.fixture(autouse=True)
def _fresh_tracer() -> Iterator[None]:
    # Powertools Tracer instances share one configuration.
    Tracer._reset_config()
    yield
    Tracer._reset_config()


def test_tracing_off_leaves_handlers_and_libraries_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")  # in Lambda
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # Tracing: PassThrough
    patched: list[Any] = []
    monkeypatch.setattr(aws_xray_sdk.core, "patch", lambda modules, **_: patched.append(modules))

    tracer = get_tracer()

    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "echo": event["n"]}

    assert tracer.disabled
    assert handler({"n": 3}, None) == {"statusCode": 200, "echo": 3}
    assert patched == []


def test_tracing_on_patches_the_aws_sdk_and_the_http_client_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")  # in Lambda
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")  # Tracing: Active
    patched: list[Any] = []
    monkeypatch.setattr(aws_xray_sdk.core, "patch", lambda modules, **_: patched.append(tuple(modules)))

    tracer = get_tracer()

    assert not tracer.disabled
    assert patched == [TRACED_MODULES] == [("botocore", "httpx")]
