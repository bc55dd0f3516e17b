"""Fixtures for the import-runner integration tests: moto state + quarantine, emulator clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.norce_settings import emulator_settings
from tests.integration.imports.run.runner_support import Stack

from norce_emulator import Emulator
from norcekit.state.table import StateTable
from norcekit.wiring.norce import build_norce_clients


@pytest.fixture
def stack(
    emulator: Emulator, state_table: StateTable, quarantine_bucket: str, tmp_path: Path
) -> Iterator[Stack]:
    settings = emulator_settings(emulator, http_max_attempts=2)
    clients = build_norce_clients(settings)
    try:
        yield Stack(clients=clients, table=state_table, bucket=quarantine_bucket, root=tmp_path / "drop")
    finally:
        clients.close()
