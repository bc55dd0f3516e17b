"""The delivery ledger's conditional write on DynamoDB (moto): only a newer version advances it."""

from __future__ import annotations

import pytest

from norcekit.state.deliveries import DynamoDeliveryLedger
from norcekit.state.table import StateTable

pytestmark = pytest.mark.integration


def test_only_a_newer_version_advances_the_last_delivered_one(state_table: StateTable) -> None:
    ledger = DynamoDeliveryLedger(state_table)
    assert ledger.advance("shop", "sku", "P1", 1_000, "price-100") == 1_000
    assert ledger.advance("shop", "sku", "P1", 999, "price-90") is None  # an older read
    assert ledger.advance("shop", "sku", "P1", 1_001, "price-100") == 1_000  # a retry: same version
    assert ledger.advance("shop", "sku", "P1", 1_002, "price-90") == 1_002
    assert ledger.advance("shop", "sku", "P1", 1_003, "price-100") == 1_003  # 100 -> 90 -> 100
    assert ledger.advance("bus", "sku", "P1", 5, "price-100") == 5  # another target keeps its own
