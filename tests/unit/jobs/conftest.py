"""Job-layer unit tests run on the in-memory state stores (held to the DynamoDB ones by the contract)."""

from __future__ import annotations

import pytest

from norcekit.state.memory import MemoryState


@pytest.fixture
def memory() -> MemoryState:
    """One empty in-memory state (what a fresh state table holds)."""
    return MemoryState()
