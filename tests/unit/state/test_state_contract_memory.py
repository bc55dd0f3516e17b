"""The state contract (tests/contracts/state_stores.py) on the in-memory stores."""

from __future__ import annotations

import pytest
from tests.contracts.state_stores import Backend, Clock, StateStoreContract

from norcekit.state.memory import (
    MemoryFinishClaims,
    MemoryJobStore,
    MemoryLocks,
    MemoryRunStore,
    MemoryState,
    MemoryTokenStore,
    MemoryWatermarkStore,
)


class TestMemoryStores(StateStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        memory = MemoryState()
        return Backend(
            jobs=lambda: MemoryJobStore(memory),
            runs=lambda: MemoryRunStore(memory),
            watermarks=lambda clock: MemoryWatermarkStore(memory, clock=clock),
            locks=lambda clock: MemoryLocks(memory, clock=clock.epoch),
            claims=lambda clock: MemoryFinishClaims(memory, clock=clock),
            tokens=lambda key, clock: MemoryTokenStore(memory, key, clock=clock.epoch),
        )


def test_stores_on_separate_memory_share_nothing() -> None:
    first, second = MemoryLocks(clock=Clock().epoch), MemoryLocks(clock=Clock().epoch)
    assert first.lease("products", "a", 30).acquire()
    assert second.lease("products", "b", 30).acquire()
