"""Import runs wired to Norce Connect, the state table, the quarantine and the job tracker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from norcekit.configfile import read_config_document
from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.imports.runner import ImportRunner, NorceSide, RunnerOptions, RunStores

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from mypy_boto3_s3 import S3Client

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


def build_import_runner(
    settings: Settings,
    config: IntegrationConfig,
    *,
    table: StateTable,
    clients: NorceClients,
    quarantine: QuarantineStore,
    tracker: JobTracker,
    metrics: Metrics,
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
    )


__all__ = ["build_import_runner", "load_integration_config", "read_configuration"]
