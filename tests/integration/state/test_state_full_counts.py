"""Full-import counts per scope (the shrink guardrail's baseline): same rules on DynamoDB and in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from norcekit.state.baselines import FullCountsStore, FullImportCounts, MemoryFullCounts, ScopeCounts
from norcekit.state.table import StateTable

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> FullImportCounts:
    if request.param == "memory":
        return MemoryFullCounts()
    table: StateTable = request.getfixturevalue("state_table")
    return FullCountsStore(table)


def counts(run_id: str, **scopes: int) -> ScopeCounts:
    return ScopeCounts(run_id=run_id, counts=scopes, recorded_at=AT)


def test_a_submitted_full_import_becomes_the_baseline_only_when_it_succeeded(store: FullImportCounts) -> None:
    assert store.get("onhand").confirmed is None

    store.record_submitted("onhand", counts("run-1", W1=10, W2=4))
    assert store.get("onhand").confirmed is None
    assert store.get("onhand").pending == counts("run-1", W1=10, W2=4)

    settled = store.settle("onhand", "run-1", succeeded=True)
    assert settled.confirmed == counts("run-1", W1=10, W2=4)
    assert settled.pending is None

    store.record_submitted("onhand", counts("run-2", W1=3))
    dropped = store.settle("onhand", "run-2", succeeded=False)
    assert dropped.confirmed == counts("run-1", W1=10, W2=4)  # a failed import never becomes the baseline
    assert dropped.pending is None
    assert store.get("onhand") == dropped


def test_settling_another_runs_counts_changes_nothing(store: FullImportCounts) -> None:
    store.record_submitted("products", counts("run-3", all=20))

    unchanged = store.settle("products", "run-2", succeeded=True)

    assert unchanged.pending == counts("run-3", all=20) and unchanged.confirmed is None
    assert store.get("other").pending is None


def test_counts_survive_the_process_another_store_on_the_table_reads_them(state_table: StateTable) -> None:
    FullCountsStore(state_table).record_submitted("products", counts("run-9", all=7))
    FullCountsStore(state_table).settle("products", "run-9", succeeded=True)

    assert FullCountsStore(state_table).get("products").confirmed == counts("run-9", all=7)
