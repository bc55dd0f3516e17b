"""Observability: no registered secret reaches a log line; metric names and factories."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Logger, Metrics
from pydantic import SecretStr

from norcekit import observability
from norcekit.observability import (
    MetricName,
    RedactingFormatter,
    RedactionFilter,
    clear_secrets,
    get_logger,
    get_metrics,
    get_tracer,
    redact,
    register_secret,
)

SECRET = "s3cr3t-value-for-tests"


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


def test_redact_masks_every_registered_secret() -> None:
    assert redact(f"token={SECRET}") == f"token={SECRET}"  # nothing registered yet
    register_secret(SECRET)
    register_secret(SecretStr("other-secret"))
    assert redact(f"token={SECRET}; again {SECRET}; other-secret") == "token=***; again ***; ***"


def test_short_or_empty_values_are_not_registered() -> None:
    register_secret("")
    register_secret(None)
    register_secret("abc")
    assert redact("abc abc") == "abc abc"


def test_json_escaped_form_is_masked_too() -> None:
    tricky = 'pa"ss\\word'
    register_secret(tricky)
    line = json.dumps({"message": f"value {tricky}"})
    assert json.loads(redact(line))["message"] == "value ***"


def test_powertools_logger_lines_are_redacted_everywhere() -> None:
    stream = io.StringIO()
    logger = Logger(service="redaction-test-1", stream=stream, logger_formatter=RedactingFormatter())
    register_secret(SECRET)
    logger.append_keys(client=f"id:{SECRET}")
    logger.info("fetched %s", SECRET, extra={"detail": SECRET})
    try:
        raise RuntimeError(f"boom {SECRET}")
    except RuntimeError:
        logger.exception("failed")
    output = stream.getvalue()
    assert SECRET not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert (
        lines[0]["message"] == "fetched ***"
        and lines[0]["detail"] == "***"
        and lines[0]["client"] == "id:***"
    )
    assert "boom ***" in lines[1]["exception"]


def test_redaction_filter_for_plain_logging_handlers() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    plain = logging.getLogger("redaction-test-plain")
    plain.addHandler(handler)
    plain.propagate = False
    register_secret(SECRET)
    plain.warning("value %s", SECRET)
    assert stream.getvalue().strip() == "value ***"


def test_get_logger_uses_the_redacting_formatter_and_configures_the_library_logger() -> None:
    logger = get_logger("redaction-test-2")
    assert isinstance(logger.registered_handler.formatter, RedactingFormatter)
    library = Logger(service=observability.LIBRARY_SERVICE)
    assert isinstance(library.registered_handler.formatter, RedactingFormatter)


def test_get_logger_on_a_preconfigured_logger_adds_the_filter() -> None:
    Logger(service="redaction-test-3")  # someone configured it without our formatter
    logger = get_logger("redaction-test-3")
    assert any(isinstance(f, RedactionFilter) for f in logger.registered_handler.filters)


def test_metric_names_are_unique_and_cover_the_kit() -> None:
    names = [m.value for m in MetricName]
    assert len(names) == len(set(names))
    # The job-tracking metrics operators alarm on (issue: job tracking) must all exist.
    required = {
        "JobsSubmitted",
        "JobsSucceeded",
        "JobsFailed",
        "JobsValidationFailed",
        "JobLeadTimeSeconds",
        "JobsStuck",
        "JobRestarts",
        "WatermarkLagSeconds",
    }
    assert required <= set(names)
    assert str(MetricName.WATERMARK_LAG_SECONDS) == "WatermarkLagSeconds"


def test_metrics_and_tracer_factories_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    metrics = get_metrics()
    assert isinstance(metrics, Metrics)
    assert metrics.provider.namespace == "Norcekit"
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Custom")
    assert get_metrics().provider.namespace == "Custom"
    assert get_tracer().disabled  # POWERTOOLS_TRACE_DISABLED in tests
