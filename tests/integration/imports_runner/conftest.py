"""Fixtures for the import-runner integration tests: moto state + quarantine, emulator clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET
from tests.integration.imports_runner.runner_support import Stack

from norce_emulator import Emulator
from norcekit.norce.factory import build_norce_clients
from norcekit.settings import load_settings
from norcekit.state.table import StateTable


@pytest.fixture
def stack(
    emulator: Emulator, state_table: StateTable, quarantine_bucket: str, tmp_path: Path
) -> Iterator[Stack]:
    settings = load_settings(
        norce_base_url=emulator.base_url,
        norce_client_id=CLIENT_ID,
        norce_client_secret=CLIENT_SECRET,
        norce_application_id=APPLICATION_ID,
        norce_environment="stage",
        norce_account_id=123,
        http_max_attempts=2,
        http_backoff_base=0.01,
    )
    clients = build_norce_clients(settings)
    try:
        yield Stack(clients=clients, table=state_table, bucket=quarantine_bucket, root=tmp_path / "drop")
    finally:
        clients.close()
