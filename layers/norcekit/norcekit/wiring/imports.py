"""Import runs wired to Norce Connect, the state table, the quarantine and the job tracker."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from norcekit.configfile import read_config_document
from norcekit.imports.config import FileDropSourceConfig, IntegrationConfig, build_source, load_config
from norcekit.imports.runner import ImportRunner, NorceSide, RunnerOptions, RunStores

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_s3 import S3Client

    from norcekit.imports.sources.auth import SecretFetcher
    from norcekit.imports.sources.base import Source
    from norcekit.jobs.tracker import JobTracker
    from norcekit.norce.factory import NorceClients
    from norcekit.quarantine import QuarantineStore
    from norcekit.settings import Settings
    from norcekit.state.table import StateTable


def read_configuration(location: str, *, s3: Callable[[], S3Client]) -> dict[str, object]:
    """The configuration document at ``location`` (a path, or ``s3://`` read with ``s3()``)."""
    return read_config_document(location, s3_client=s3() if location.startswith("s3://") else None)


def load_integration_config(
    settings: Settings, *, environ: Mapping[str, str], s3: Callable[[], S3Client]
) -> IntegrationConfig:
    """The imports configuration named by ``NORCEKIT_CONFIG``, ``${VAR}`` taken from ``environ``."""
    if not settings.norcekit_config:
        return load_config(settings=settings, environ=environ)  # raises "NORCEKIT_CONFIG: not set"
    return load_config(read_configuration(settings.norcekit_config, s3=s3), environ=environ)


def secret_fetcher(provider: Callable[[], SecretsProvider]) -> SecretFetcher:
    """A source's ``secret_arn`` read through one SecretsProvider, made on the first read (5 min cache)."""
    made = functools.cache(provider)

    def fetch(arn: str) -> str:
        value = made().get(arn)
        return value if isinstance(value, str) else bytes(value).decode()  # type: ignore[arg-type]

    return fetch


def source_factory(
    config: IntegrationConfig, *, s3: Callable[[], S3Client], secrets: Callable[[], SecretsProvider]
) -> Callable[[str], Source]:
    """Sources built on the process's AWS clients (their one botocore Config), never boto3 defaults:
    the S3 client for an ``s3://`` file drop, the secrets provider for a ``secret_arn``."""
    fetch = secret_fetcher(secrets)

    def build(name: str) -> Source:
        options = config.sources.get(name)
        s3_drop = isinstance(options, FileDropSourceConfig) and options.root.startswith("s3://")
        return build_source(config, name, s3_client=s3() if s3_drop else None, fetch_secret=fetch)

    return build


def build_import_runner(
    settings: Settings,
    config: IntegrationConfig,
    *,
    table: StateTable,
    clients: NorceClients,
    quarantine: QuarantineStore,
    tracker: JobTracker,
    metrics: Metrics,
    sources: Callable[[str], Source] | None = None,
) -> ImportRunner:
    """An :class:`ImportRunner` on the given adapters; build it once per container."""
    return ImportRunner(
        config,
        stores=RunStores.on_table(table, quarantine),
        norce=NorceSide(
            connect=clients.connect,
            jobs=clients.jobs,
            account_id_for=settings.account_id_for,
            query=clients.query,
            status_sink=tracker,
        ),
        metrics=metrics,
        options=RunnerOptions.from_settings(settings),
        source_factory=sources,
    )


__all__ = ["build_import_runner", "load_integration_config", "read_configuration", "source_factory"]
