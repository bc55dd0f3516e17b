"""One process's objects, each built once, on first use, from one :class:`Settings`.

A Lambda container, a CLI invocation and each service of the local stack hold one
:class:`Components`; everything that talks to Norce or AWS comes from it, so they share one Norce
connection pool and token, one state table handle and one set of boto3 clients.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from norcekit.settings import Settings, SettingsError, get_settings
from norcekit.wiring.aws import AwsClients

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from norcekit.events.claims import ClaimStore
    from norcekit.events.config import EventsConfig
    from norcekit.events.processor import EventProcessor
    from norcekit.events.receiver import WebhookReceiver
    from norcekit.imports.config import IntegrationConfig
    from norcekit.imports.runner import ImportRunner
    from norcekit.jobs.metrics import JobMetrics
    from norcekit.jobs.monitor import JobMonitor
    from norcekit.jobs.tracker import JobTracker
    from norcekit.norce.factory import NorceClients
    from norcekit.orders.answers import AnswerForwarder
    from norcekit.orders.config import OrdersConfig
    from norcekit.orders.delivery import OrderDelivery
    from norcekit.orders.intake import AnswerIntake
    from norcekit.orders.receiver import OrderReceiver
    from norcekit.orders.sweep import OrderSweeper
    from norcekit.quarantine import S3QuarantineStore
    from norcekit.state.deliveries import DeliveryLedger
    from norcekit.state.orders import DynamoOrderStore
    from norcekit.state.table import StateTable


class Components:
    """Settings (+ the integration configuration) → every client, store and service, built once.

    ``environ`` supplies ``${VAR}`` in the configuration file and, with ``aws`` absent, the AWS
    endpoint and credentials (the CLI's and the local stack's variables; read, never changed).
    ``metrics``/``job_metrics`` default to EMF (Lambda); operator tools pass quiet ones.
    ``integration_config`` replaces the ``NORCEKIT_CONFIG`` file (tests, tools).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        environ: Mapping[str, str] | None = None,
        aws: AwsClients | None = None,
        metrics: Metrics | None = None,
        job_metrics: JobMetrics | None = None,
        integration_config: IntegrationConfig | None = None,
    ) -> None:
        self.settings = settings
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._aws = aws
        self._explicit_environ = environ is not None
        self._metrics = metrics
        self._job_metrics = job_metrics
        self._closers: list[Any] = []
        if integration_config is not None:  # given (tests, tools): NORCEKIT_CONFIG is not read
            self.__dict__["integration_config"] = integration_config

    @classmethod
    def from_environment(cls, **kwargs: Any) -> Components:
        """A Lambda container's components: settings from the function's environment."""
        return cls(get_settings(), **kwargs)

    # --- AWS ----------------------------------------------------------------------------------------

    @cached_property
    def aws(self) -> AwsClients:
        if self._aws is not None:
            return self._aws
        return AwsClients.from_settings(self.settings, self.environ if self._explicit_environ else None)

    @cached_property
    def table(self) -> StateTable:
        from norcekit.state.table import StateTable  # noqa: PLC0415 - cold start: only when state is used

        return StateTable(self._require("table_name", "TABLE_NAME"), dynamodb_resource=self.aws.dynamodb())

    @cached_property
    def quarantine(self) -> S3QuarantineStore:
        from norcekit.quarantine import S3QuarantineStore  # noqa: PLC0415 - cold start

        bucket = self._require("quarantine_bucket", "QUARANTINE_BUCKET")
        # Most requests quarantine nothing: their cold start does not create the S3 client.
        return S3QuarantineStore(bucket, s3_client=self.aws.s3_on_first_use())

    # --- configuration ------------------------------------------------------------------------------

    @cached_property
    def integration_config(self) -> IntegrationConfig:
        """The ``NORCEKIT_CONFIG`` document's imports part (required)."""
        from norcekit.wiring.imports import load_integration_config  # noqa: PLC0415 - cold start

        return load_integration_config(self.settings, environ=self.environ, s3=self.aws.s3)

    @property
    def optional_integration_config(self) -> IntegrationConfig | None:
        if "integration_config" in self.__dict__ or self.settings.norcekit_config:
            return self.integration_config
        return None

    @cached_property
    def events_config(self) -> EventsConfig:
        from norcekit.events.config import load_events_config  # noqa: PLC0415 - cold start

        location = self.settings.norcekit_config or ""
        s3 = self.aws.s3() if location.startswith("s3://") else None
        return load_events_config(self.settings, environ=self.environ, s3_client=s3)

    # --- Norce --------------------------------------------------------------------------------------

    @cached_property
    def norce(self) -> NorceClients:
        """The Norce clients; their token is shared through the state table when there is one."""
        from norcekit.state.table import StateTable  # noqa: PLC0415 - cold start: not the receiver's
        from norcekit.wiring.norce import build_norce_clients, build_token_store  # noqa: PLC0415 - cold start

        settings = self.settings
        settings.require_norce()
        secrets = self._norce_secrets()
        token_store = None
        if settings.table_name:
            # Its own table handle (own boto3 resource): a token refresh may run on a poll thread.
            token_table = StateTable(settings.table_name, dynamodb_resource=self.aws.dynamodb())
            token_store = build_token_store(settings, token_table, secrets=secrets)
        clients = build_norce_clients(settings, token_store=token_store, secrets=secrets)
        self._closers.append(clients)
        return clients

    def _norce_secrets(self) -> SecretsProvider | None:
        if self.settings.norce_client_id and self.settings.norce_client_secret:
            return None
        return self.aws.secrets_provider()

    # --- the domain ---------------------------------------------------------------------------------

    @cached_property
    def tracker(self) -> JobTracker:
        from norcekit.wiring.jobs import build_job_tracker  # noqa: PLC0415 - cold start

        return build_job_tracker(
            self.settings,
            table=self.table,
            clients=self.norce,
            metrics=self._job_metrics,
            # Items Norce rejects in Succeeded jobs are kept when a quarantine bucket is configured.
            quarantine=self.quarantine if self.settings.quarantine_bucket else None,
        )

    @cached_property
    def monitor(self) -> JobMonitor:
        from norcekit.wiring.jobs import build_job_monitor  # noqa: PLC0415 - cold start

        return build_job_monitor(
            self.settings,
            self.optional_integration_config,
            tracker=self.tracker,
            clients=self.norce,
            metrics=self._job_metrics,
        )

    @cached_property
    def runner(self) -> ImportRunner:
        from norcekit.wiring.imports import build_import_runner, source_factory  # noqa: PLC0415 - cold start

        return build_import_runner(
            self.settings,
            self.integration_config,
            table=self.table,
            clients=self.norce,
            quarantine=self.quarantine,
            tracker=self.tracker,
            metrics=self.metrics,
            sources=source_factory(
                self.integration_config, s3=self.aws.s3, secrets=self.aws.secrets_provider
            ),
        )

    @cached_property
    def processor(self) -> EventProcessor:
        from norcekit.wiring.events import build_event_processor  # noqa: PLC0415 - cold start

        return build_event_processor(
            self.events_config,
            clients=self.norce,
            aws=self.aws,
            tracker=self.tracker if self.settings.table_name else None,
            metrics=self.metrics,
            claims=self._claims(),
            ledger=self._delivery_ledger(),
        )

    def _delivery_ledger(self) -> DeliveryLedger | None:
        """Last delivered version per target and key (needs the state table)."""
        if not self.settings.table_name:
            return None
        from norcekit.state.deliveries import DynamoDeliveryLedger  # noqa: PLC0415 - cold start

        return DynamoDeliveryLedger(self.table)

    def _claims(self) -> ClaimStore | None:
        """Where the receiver put payloads too large for the queue (beside the quarantine)."""
        from norcekit.events.claims import S3ClaimStore  # noqa: PLC0415 - cold start

        bucket = self.settings.quarantine_bucket
        return S3ClaimStore(bucket, client=self.aws.s3()) if bucket else None

    @cached_property
    def event_claims(self) -> ClaimStore | None:
        """The claim store for an operator's quarantine replay (queued like a fresh webhook)."""
        return self._claims()

    @cached_property
    def receiver(self) -> WebhookReceiver:
        from norcekit.wiring.receiver import build_webhook_receiver  # noqa: PLC0415 - cold start

        return build_webhook_receiver(
            self.settings, aws=self.aws, quarantine=self.quarantine, metrics=self.metrics
        )

    @cached_property
    def order_store(self) -> DynamoOrderStore:
        from norcekit.wiring.orders import build_order_store  # noqa: PLC0415 - cold start

        return build_order_store(self.settings, self.table, aws=self.aws)

    @cached_property
    def order_receiver(self) -> OrderReceiver:
        from norcekit.wiring.orders import build_order_receiver  # noqa: PLC0415 - cold start

        return build_order_receiver(
            self.settings,
            aws=self.aws,
            store=self.order_store,
            quarantine=self.quarantine,
            metrics=self.metrics,
        )

    @cached_property
    def order_sweeper(self) -> OrderSweeper | None:
        """The job monitor's sweep of stored, never queued orders (``None``: no order queue here)."""
        if not (self.settings.order_queue_url and self.settings.table_name):
            return None
        from norcekit.wiring.orders import build_order_sweeper  # noqa: PLC0415 - cold start

        return build_order_sweeper(self.settings, aws=self.aws, store=self.order_store, metrics=self.metrics)

    @cached_property
    def orders_config(self) -> OrdersConfig:
        from norcekit.orders.config import load_orders_config  # noqa: PLC0415 - cold start

        location = self.settings.norcekit_config or ""
        s3 = self.aws.s3() if location.startswith("s3://") else None
        return load_orders_config(self.settings, environ=self.environ, s3_client=s3)

    @cached_property
    def order_delivery(self) -> OrderDelivery:
        from norcekit.wiring.orders import build_order_delivery  # noqa: PLC0415 - cold start

        return build_order_delivery(
            self.orders_config, store=self.order_store, aws=self.aws, metrics=self.metrics
        )

    @cached_property
    def answer_intake(self) -> AnswerIntake:
        from norcekit.wiring.orders import build_answer_intake  # noqa: PLC0415 - cold start

        return build_answer_intake(self.settings, aws=self.aws)

    @cached_property
    def answer_forwarder(self) -> AnswerForwarder:
        from norcekit.wiring.orders import build_answer_forwarder  # noqa: PLC0415 - cold start

        return build_answer_forwarder(
            self.settings, clients=self.norce, store=self.order_store, metrics=self.metrics
        )

    @cached_property
    def metrics(self) -> Metrics:
        if self._metrics is not None:
            return self._metrics
        from norcekit.observability import get_metrics  # noqa: PLC0415 - cold start

        return get_metrics()

    # --- lifecycle ----------------------------------------------------------------------------------

    def _require(self, field: str, variable: str) -> str:
        value = getattr(self.settings, field)
        if not value:
            raise SettingsError(f"{variable}: required but not set")
        return str(value)

    def close(self) -> None:
        while self._closers:
            with contextlib.suppress(Exception):
                self._closers.pop().close()

    def __enter__(self) -> Components:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ContainerComponents:
    """What a Lambda handler module holds: its container's :class:`Components`, built on first use
    from the environment, or handed in with :meth:`provide` (the local stack, tests), so an
    in-process handler never needs ``os.environ`` changed."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._components: Components | None = None
        self._lock = threading.Lock()

    def provide(self, components: Components) -> None:
        with self._lock:
            self._components = components

    def reset(self) -> None:
        """Close and forget the components (tests; the next call builds new ones)."""
        with self._lock:
            components, self._components = self._components, None
        if components is not None:
            components.close()

    def __call__(self) -> Components:
        with self._lock:
            if self._components is None:
                self._components = Components.from_environment(**self._kwargs)
            return self._components


__all__ = ["Components", "ContainerComponents"]
