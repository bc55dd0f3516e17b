"""The state contract (tests/contracts/state_stores.py) on the DynamoDB stores, against moto."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from tests.contracts.state_stores import Backend, StateStoreContract
from tests.fixtures.aws import REGION

from norcekit.state.claims import FinishClaimStore
from norcekit.state.jobs import JobStore
from norcekit.state.locks import LeaseLocks
from norcekit.state.runs import RunStore
from norcekit.state.table import StateTable
from norcekit.state.token_store import DynamoTokenStore
from norcekit.state.watermarks import WatermarkStore

pytestmark = pytest.mark.integration

# DynamoDB applies the writes to one item one at a time, each checking its condition against the
# last; moto does not (two threads can both pass a condition under load), so the race tests
# serialize moto's writes the way DynamoDB does and still test our conditions.
_ITEM_WRITES = threading.Lock()


class _SerializedWrites(StateTable):
    def put(self, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return super().put(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return super().update(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return super().delete(*args, **kwargs)


class TestDynamoStores(StateStoreContract):
    @pytest.fixture
    def backend(self, state_table: StateTable) -> Backend:
        # A new StateTable per store: its own boto3 resource, like another Lambda container.
        def table() -> StateTable:
            return _SerializedWrites(
                state_table.name, dynamodb_resource=boto3.resource("dynamodb", region_name=REGION)
            )

        return Backend(
            jobs=lambda: JobStore(table()),
            runs=lambda: RunStore(table()),
            watermarks=lambda clock: WatermarkStore(table(), clock=clock),
            locks=lambda clock: LeaseLocks(table(), clock=clock.epoch),
            claims=lambda clock: FinishClaimStore(table(), clock=clock),
            tokens=lambda key, clock: DynamoTokenStore(table(), key, clock=clock.epoch),
        )
