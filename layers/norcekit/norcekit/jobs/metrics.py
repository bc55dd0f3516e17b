"""Job metrics: one data point per job event, each with its own ``entity`` dimension."""

from __future__ import annotations

import os
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from norcekit.norce.jobs import JobStatus
from norcekit.observability import DEFAULT_NAMESPACE, DEFAULT_SERVICE, MetricName, default_dimensions

#: The metric counting jobs that ended with each terminal status.
STATUS_METRIC = {
    JobStatus.SUCCEEDED: MetricName.JOBS_SUCCEEDED,
    JobStatus.FAILED: MetricName.JOBS_FAILED,
    JobStatus.VALIDATION_FAILED: MetricName.JOBS_VALIDATION_FAILED,
}


class JobMetrics(Protocol):
    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        """One data point with dimensions ``entity`` (the kind) and ``import`` (default: the kind)."""
        ...


class EmfJobMetrics:
    """One EMF document per data point, so each carries its own ``entity`` dimension.

    (A Powertools ``Metrics`` instance has one dimension set per flush; a tick covers many entities.)
    """

    def __init__(self, namespace: str | None = None, service: str | None = None) -> None:
        self.namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE

    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        with single_metric(
            name=name.value,
            unit=unit,
            value=value,
            namespace=self.namespace,
            default_dimensions=default_dimensions(self.service),
        ) as metric:
            metric.add_dimension(name="entity", value=entity)
            metric.add_dimension(name="import", value=import_name or entity)
