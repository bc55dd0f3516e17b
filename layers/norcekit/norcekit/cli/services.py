"""What an operator command works with: one stack's stores and clients, each built once.

:class:`Services` is the CLI's (and the demo's) lazily built holder; every object comes from one
:class:`norcekit.wiring.Components`, so the import runner, the job tracker and the commands share
one state table handle, one Norce connection pool and token, and one set of boto3 clients.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.settings import Settings, SettingsError, settings_from_environ
from norcekit.stack import DLQ_ENV, StackResources
from norcekit.wiring import AwsClients, Components

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from norcekit.events.claims import ClaimStore
    from norcekit.events.queue import SqsEventQueue
    from norcekit.imports.config import IntegrationConfig
    from norcekit.imports.runner import ImportRunner
    from norcekit.jobs import JobTracker
    from norcekit.norce.factory import NorceClients
    from norcekit.observability import MetricName
    from norcekit.quarantine import S3QuarantineStore
    from norcekit.state.jobs import JobStore
    from norcekit.state.orders import DynamoOrderStore
    from norcekit.state.runs import RunStore
    from norcekit.state.table import StateTable
    from norcekit.state.watermarks import WatermarkStore
    from norcekit.wiring.invoke import LambdaInvoker

#: Said after a missing resource: how an operator points the CLI at a stack.
_HINT = " (or use --stack / --local)"


class QuietMetrics(Metrics):
    """Drops every metric: EMF lines printed by an operator's process would reach no dashboard
    (EMF is ingested from Lambda logs) and would garble ``--json`` output on stdout."""

    def add_metric(self, name: str, unit: MetricUnit | str, value: float, resolution: Any = 60) -> None:
        return None

    def add_dimension(self, name: str, value: str) -> None:
        return None

    def add_metadata(self, key: str, value: Any) -> None:
        return None


class QuietJobMetrics:
    """:class:`norcekit.jobs.JobMetrics` that drops every data point (see :class:`QuietMetrics`)."""

    def emit(
        self, name: MetricName, value: float, unit: MetricUnit, *, entity: str, import_name: str | None = None
    ) -> None:
        return None


def operator_components(
    settings: Settings, *, environ: Mapping[str, str], aws: AwsClients | None = None
) -> Components:
    """:class:`Components` for an operator's process: metrics dropped (see :class:`QuietMetrics`)."""
    return Components(
        settings, environ=environ, aws=aws, metrics=QuietMetrics(), job_metrics=QuietJobMetrics()
    )


class Services:
    """The stores and clients of one stack, built on first use. Close it when done.

    ``environ`` is every variable the process reads for this stack (:func:`norcekit.stack.stack_environ`);
    settings are read from it, never from a changed ``os.environ``.
    """

    def __init__(
        self,
        resources: StackResources,
        *,
        environ: Mapping[str, str],
        settings: Settings | None = None,
        aws: AwsClients | None = None,
        invoker: LambdaInvoker | None = None,
    ) -> None:
        self.resources = resources
        self.environ = dict(environ)
        self._settings = settings
        self._aws = aws
        self._invoker = invoker
        self._components: Components | None = None

    @property
    def components(self) -> Components:
        if self._components is None:
            settings = self._settings or settings_from_environ(self.environ)
            self._components = operator_components(settings, environ=self.environ, aws=self._aws)
        return self._components

    @property
    def settings(self) -> Settings:
        return self.components.settings

    # --- AWS ---

    @property
    def table(self) -> StateTable:
        if not self.settings.table_name:
            raise SettingsError(f"TABLE_NAME: required but not set{_HINT}")
        return self.components.table

    # The stores read state only: no Norce client needed (``watermarks list`` works without one).
    @cached_property
    def job_store(self) -> JobStore:
        from norcekit.state.jobs import JobStore  # noqa: PLC0415 - CLI start-up: only for state commands

        return JobStore(self.table)

    @cached_property
    def run_store(self) -> RunStore:
        from norcekit.state.runs import RunStore  # noqa: PLC0415 - CLI start-up

        return RunStore(self.table)

    @cached_property
    def watermark_store(self) -> WatermarkStore:
        from norcekit.state.watermarks import WatermarkStore  # noqa: PLC0415 - CLI start-up

        return WatermarkStore(self.table)

    @cached_property
    def order_store(self) -> DynamoOrderStore:
        from norcekit.wiring.orders import build_order_store  # noqa: PLC0415 - CLI start-up

        return build_order_store(self.settings, self.table, aws=self.components.aws)

    @cached_property
    def order_queue(self) -> SqsEventQueue:
        from norcekit.events.queue import SqsEventQueue  # noqa: PLC0415 - CLI start-up

        url = self.settings.order_queue_url
        if not url:
            raise SettingsError(f"ORDER_QUEUE_URL: required but not set{_HINT}")
        return SqsEventQueue(url, client=self.components.aws.sqs())

    @property
    def quarantine(self) -> S3QuarantineStore:
        if not self.settings.quarantine_bucket:
            raise SettingsError(f"QUARANTINE_BUCKET: required but not set{_HINT}")
        return self.components.quarantine

    @property
    def event_claims(self) -> ClaimStore | None:
        return self.components.event_claims

    @property
    def sqs(self) -> SQSClient:
        return self.components.aws.sqs()

    @property
    def queue_url(self) -> str:
        url = self.resources.queue_url or self.settings.event_queue_url
        if not url:
            raise SettingsError(f"EVENT_QUEUE_URL: required but not set{_HINT}")
        return url

    @property
    def dlq_url(self) -> str:
        url = self.resources.dlq_url or self.environ.get(DLQ_ENV)
        if not url:
            raise SettingsError(f"{DLQ_ENV}: required but not set{_HINT}")
        return url

    def dlq_and_queue(self, which: str) -> tuple[str, str]:
        """``(DLQ URL, the queue it redrives to)`` of the event (``events``), order delivery
        (``orders``) or ERP answer (``answers``) queue; an order queue's DLQ is its RedrivePolicy's."""
        if which == "events":
            return self.dlq_url, self.queue_url
        name = "ORDER_QUEUE_URL" if which == "orders" else "ORDER_ANSWER_QUEUE_URL"
        queue = self.settings.order_queue_url if which == "orders" else self.settings.order_answer_queue_url
        if not queue:
            raise SettingsError(f"{name}: required but not set{_HINT}")
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            raise SettingsError(f"{name}: the queue has no dead-letter queue (RedrivePolicy)")
        dlq_name = str(json.loads(policy)["deadLetterTargetArn"]).rsplit(":", 1)[-1]
        return self.sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"], queue

    @property
    def invoker(self) -> LambdaInvoker:
        """Invokes the stack's functions (the Lambda API unless one was given)."""
        if self._invoker is None:
            from norcekit.wiring.invoke import BotoLambdaInvoker  # noqa: PLC0415 - CLI start-up: --stack only

            self._invoker = BotoLambdaInvoker(self.components.aws.lambda_())
        return self._invoker

    def queue_depth(self, url: str) -> dict[str, int]:
        """Approximate message counts of a queue (SQS attributes)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }

    def quarantine_count(self, kind: str, *, cap: int = 10_000) -> int:
        """Pending quarantined items of ``kind`` (keys counted, objects not read), at most ``cap``."""
        store = self.quarantine
        count = 0
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix=f"{store.prefix}{kind}/"
        )
        for page in pages:
            count += sum(1 for obj in page.get("Contents", []) if obj.get("Key", "").endswith(".json"))
            if count >= cap:
                return cap
        return count

    # --- Norce and the domain (each built once: one table, one Norce pool, one token) ---

    @property
    def config(self) -> IntegrationConfig:
        return self.components.integration_config

    @property
    def norce(self) -> NorceClients:
        return self.components.norce

    @property
    def tracker(self) -> JobTracker:
        return self.components.tracker

    @property
    def runner(self) -> ImportRunner:
        return self.components.runner

    def close(self) -> None:
        if self._components is not None:
            self._components.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["QuietJobMetrics", "QuietMetrics", "Services", "operator_components"]
