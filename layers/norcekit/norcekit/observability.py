"""Powertools Logger/Metrics/Tracer factories, the kit's metric names and secret redaction.

Configuration comes from the usual Powertools environment variables (``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_TRACE_DISABLED``...); the
defaults are service ``norcekit`` and namespace ``Norcekit``. ``STACK_NAME`` (set by the template) adds
the metric dimension ``stack``: stacks in one account and region share the namespace, and each stack's
alarms and dashboard select their own data points by it.

No secret may reach a log line (DESIGN "Conventions"): code that handles a secret value registers it
with :func:`register_secret`, and every log line written through :func:`get_logger` is passed through
:func:`redact` after it has been rendered, so the value is masked wherever it appears (message,
extra keys, appended keys, exception text).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import re
import threading
from collections.abc import AsyncGenerator, Generator, Sequence
from enum import StrEnum
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment
from pydantic import SecretStr

DEFAULT_SERVICE = "norcekit"
DEFAULT_NAMESPACE = "Norcekit"
#: Dimension on every metric naming the stack that emitted it (from ``STACK_NAME``).
STACK_DIMENSION = "stack"
#: What the tracer patches when tracing is on: AWS SDK calls and the Norce/target HTTP client.
TRACED_MODULES = ("botocore", "httpx")
_TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})
#: Library modules log through ``Logger(service=LIBRARY_SERVICE, child=True)``.
LIBRARY_SERVICE = "norcekit"
REDACTED = "***"
#: Shorter values are not registered: masking them would garble ordinary text.
MIN_SECRET_LENGTH = 4


class MetricName(StrEnum):
    """Every metric the kit emits (CloudWatch EMF, namespace ``Norcekit`` by default)."""

    IMPORT_RUNS = "ImportRuns"
    IMPORT_RUNS_FAILED = "ImportRunsFailed"
    IMPORT_RUNS_PARTIAL = "ImportRunsPartial"
    IMPORT_RUNS_SKIPPED_LOCKED = "ImportRunsSkippedLocked"
    IMPORT_RUNS_DEFERRED = "ImportRunsDeferred"
    IMPORT_RUNS_REFUSED = "ImportRunsRefused"
    ITEMS_FAILED_IN_NORCE = "ItemsFailedInNorce"
    ITEMS_READ = "ItemsRead"
    ITEMS_MAPPED = "ItemsMapped"
    ITEMS_QUARANTINED = "ItemsQuarantined"
    ITEMS_SUBMITTED = "ItemsSubmitted"
    IMPORT_DURATION_SECONDS = "ImportDurationSeconds"
    JOBS_SUBMITTED = "JobsSubmitted"
    JOBS_SUCCEEDED = "JobsSucceeded"
    JOBS_FAILED = "JobsFailed"
    JOBS_VALIDATION_FAILED = "JobsValidationFailed"
    JOB_LEAD_TIME_SECONDS = "JobLeadTimeSeconds"
    JOBS_STUCK = "JobsStuck"
    JOB_RESTARTS = "JobRestarts"
    WATERMARK_LAG_SECONDS = "WatermarkLagSeconds"
    WEBHOOKS_RECEIVED = "WebhooksReceived"
    WEBHOOKS_REJECTED = "WebhooksRejected"
    WEBHOOKS_UNAUTHORIZED = "WebhooksUnauthorized"
    WEBHOOKS_UNKNOWN_TYPE = "WebhooksUnknownType"
    EVENTS_CLAIM_CHECKED = "EventsClaimChecked"
    DELIVERIES_STALE = "DeliveriesStale"
    EVENTS_ENQUEUED = "EventsEnqueued"
    EVENTS_PROCESSED = "EventsProcessed"
    EVENTS_COALESCED = "EventsCoalesced"
    QUERY_CALLS = "QueryCalls"
    QUERY_CACHE_HITS = "QueryCacheHits"
    QUERY_CACHE_MISSES = "QueryCacheMisses"
    TARGET_DELIVERIES = "TargetDeliveries"
    TARGET_FAILURES = "TargetFailures"
    NOT_FOUND_RECORDS = "NotFoundRecords"
    DLQ_REDRIVEN = "DlqRedriven"
    QUARANTINE_REPLAYED = "QuarantineReplayed"
    EVENTS_POISON = "EventsPoison"
    LOOKUP_FAILURES = "LookupFailures"
    JOB_EVENTS_RECORDED = "JobEventsRecorded"
    JOB_EVENTS_UNKNOWN_JOB = "JobEventsUnknownJob"
    ORDERS_RECEIVED = "OrdersReceived"
    ORDERS_DUPLICATE = "OrdersDuplicate"
    ORDERS_UNAUTHORIZED = "OrdersUnauthorized"
    ORDERS_REJECTED = "OrdersRejected"
    ORDERS_NOT_STORED = "OrdersNotStored"
    ORDERS_NOT_QUEUED = "OrdersNotQueued"
    #: A stored order the queue had refused, queued by the job monitor's sweep (norcekit.orders.sweep).
    ORDERS_REQUEUED = "OrdersRequeued"
    ORDER_DELIVERIES = "OrderDeliveries"
    ORDER_DELIVERY_FAILURES = "OrderDeliveryFailures"
    ORDER_ANSWERS_SENT = "OrderAnswersSent"
    ORDER_ANSWERS_FAILED = "OrderAnswersFailed"


# --- secret redaction ---------------------------------------------------------------------------

_secrets_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


class MetricsSink(Protocol):
    """Where a component counts things: Powertools ``Metrics`` in a Lambda, a fake in tests."""

    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class NoMetrics:
    """A :class:`MetricsSink` that drops everything (the CLI, tools, tests that do not count)."""

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        return None


def register_secret(value: str | SecretStr | None) -> None:
    """Mask ``value`` (and its JSON-escaped form) in every log line from now on."""
    global _pattern  # noqa: PLW0603 - one process-wide registry, like the loggers it protects
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text or len(text) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        escaped = json.dumps(text, ensure_ascii=False)[1:-1]
        if text in _secrets and escaped in _secrets:
            return
        _secrets.update({text, escaped})
        # Longest first so a secret containing another is masked whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def clear_secrets() -> None:
    """For tests."""
    global _pattern  # noqa: PLW0603
    with _secrets_lock:
        _secrets.clear()
        _pattern = None


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern is not None and text else text


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON formatter that redacts the finished line."""

    def serialize(self, log: LogRecord) -> str:
        return redact(super().serialize(log))


_STANDARD_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactionFilter(logging.Filter):
    """For plain ``logging`` handlers: redacts the message and string ``extra`` values of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        if isinstance(record.msg, str) or record.args:
            record.msg = redact(record.getMessage())
            record.args = None
        for name, value in vars(record).items():
            if name not in _STANDARD_RECORD_ATTRS and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


# --- factories ----------------------------------------------------------------------------------


def get_logger(service: str | None = None) -> Logger:
    """A Powertools Logger whose output is redacted; ``service`` defaults to POWERTOOLS_SERVICE_NAME.

    Also configures the ``norcekit`` logger that library modules log to as children, so their
    lines are JSON and redacted too when the function runs under another service name.
    """
    name = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE
    logger = _redacted_logger(name)
    if name != LIBRARY_SERVICE:
        library = _redacted_logger(LIBRARY_SERVICE)
        library.append_keys(service=name)
    return logger


def _redacted_logger(service: str) -> Logger:
    logger = Logger(service=service, logger_formatter=RedactingFormatter())
    handler = logger.registered_handler
    # Configured earlier without our formatter (someone called Logger() first): filter instead.
    if not isinstance(handler.formatter, RedactingFormatter) and not any(
        isinstance(f, RedactionFilter) for f in handler.filters
    ):
        handler.addFilter(RedactionFilter())
    return logger


def default_dimensions(service: str | None = None) -> dict[str, str]:
    """The dimensions every data point carries: ``service``, and ``stack`` when STACK_NAME is set."""
    dimensions = {"service": service or os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE}
    stack = os.environ.get("STACK_NAME")
    if stack:
        dimensions[STACK_DIMENSION] = stack
    return dimensions


def get_metrics() -> Metrics:
    """Powertools EMF metrics; namespace POWERTOOLS_METRICS_NAMESPACE or ``Norcekit``, dimension
    ``stack`` from STACK_NAME (:func:`default_dimensions`)."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    dimensions = default_dimensions()
    metrics = Metrics(namespace=namespace, service=dimensions.pop("service"))
    # Instances share their default dimensions; setting an equal value again only warns.
    if dimensions and any(metrics.default_dimensions.get(k) != v for k, v in dimensions.items()):
        metrics.set_default_dimensions(**dimensions)
    return metrics


class _NoTraceSegment(BaseSegment):
    """What a disabled tracer records into: nothing."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class _NoTraceProvider(BaseProvider):
    """Tracer provider for tracing off: Powertools' default provider imports the X-Ray SDK's core
    (about as long as ``import boto3`` at a cold start) even for a disabled tracer."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoTraceSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoTraceSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def tracing_enabled() -> bool:
    """In Lambda (not SAM local) with POWERTOOLS_TRACE_DISABLED false: the stack's ``Tracing: Active``."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY
    in_lambda = bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")
    return in_lambda and not disabled and importlib.util.find_spec("aws_xray_sdk") is not None


def get_tracer() -> Tracer:
    """Powertools Tracer for a handler: X-Ray segments for the invocation, AWS SDK and HTTP calls.

    When tracing is off (:func:`tracing_enabled`) it is a no-op that imports and patches nothing.
    """
    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE
    if not tracing_enabled():
        return Tracer(service=service, disabled=True, auto_patch=False, provider=_NoTraceProvider())
    return Tracer(service=service, patch_modules=TRACED_MODULES)


__all__ = [
    "DEFAULT_NAMESPACE",
    "STACK_DIMENSION",
    "MetricName",
    "RedactingFormatter",
    "RedactionFilter",
    "clear_secrets",
    "default_dimensions",
    "get_logger",
    "get_metrics",
    "get_tracer",
    "redact",
    "register_secret",
    "tracing_enabled",
]
