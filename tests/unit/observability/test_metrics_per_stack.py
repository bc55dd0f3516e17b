"""Every data point carries dimension ``stack``: stacks sharing an account and region stay apart."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.jobs import EmfJobMetrics
from norcekit.observability import MetricName, default_dimensions, get_metrics


@pytest.fixture(autouse=True)
def _fresh_metrics() -> Iterator[None]:
    # Powertools Metrics instances share their dimensions: leave none behind for other tests.
    yield
    metrics = get_metrics()
    metrics.clear_default_dimensions()
    metrics.clear_metrics()


def _emf_documents(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and "_aws" in line]


def test_function_metrics_carry_the_stack_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STACK_NAME", "norcekit-stage")
    metrics = get_metrics()
    metrics.add_dimension(name="entity", value="products")
    metrics.add_metric(name=MetricName.IMPORT_RUNS, unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()

    (document,) = _emf_documents(capsys.readouterr().out)
    assert document["stack"] == "norcekit-stage"
    assert document["entity"] == "products"
    (directive,) = document["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
    assert {"stack", "service", "entity"} <= set(directive["Dimensions"][0])
    assert directive["Namespace"] == "NorcekitTest"


def test_two_stacks_emit_distinguishable_data_points(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for stack in ("norcekit-dev", "norcekit-prod"):
        monkeypatch.setenv("STACK_NAME", stack)
        metrics = get_metrics()
        metrics.add_metric(name=MetricName.WEBHOOKS_RECEIVED, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        metrics.clear_default_dimensions()
    documents = _emf_documents(capsys.readouterr().out)
    assert [d["stack"] for d in documents] == ["norcekit-dev", "norcekit-prod"]


def test_job_metrics_written_per_entity_carry_the_stack_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STACK_NAME", "norcekit-prod")
    EmfJobMetrics().emit(MetricName.JOBS_FAILED, 1, MetricUnit.Count, entity="sku_prices")

    (document,) = _emf_documents(capsys.readouterr().out)
    assert (document["stack"], document["entity"]) == ("norcekit-prod", "sku_prices")
    (directive,) = document["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
    assert "stack" in directive["Dimensions"][0]


def test_without_a_stack_name_there_is_no_stack_dimension(monkeypatch: pytest.MonkeyPatch) -> None:
    # The local stack and the CLI run outside CloudFormation.
    monkeypatch.delenv("STACK_NAME", raising=False)
    assert default_dimensions() == {"service": "norcekit-test"}
    monkeypatch.setenv("STACK_NAME", "s1")
    assert default_dimensions("svc") == {"service": "svc", "stack": "s1"}
