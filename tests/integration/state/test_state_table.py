"""StateTable: the shared table definition, conditional writes and paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from tests.fixtures.aws import moto_table

from norcekit.state.table import (
    GSI1,
    TABLE_DEFINITION,
    TTL_ATTRIBUTE,
    ConditionFailed,
    Keys,
    StateTable,
    create_table,
    iso_utc,
)

pytestmark = pytest.mark.integration


def test_definition_has_string_keys_two_sparse_gsis_and_on_demand_billing() -> None:
    assert {a["AttributeName"]: a["AttributeType"] for a in TABLE_DEFINITION["AttributeDefinitions"]} == {
        name: "S" for name in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
    }
    indexes = {i["IndexName"]: i for i in TABLE_DEFINITION["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1", "GSI2"}
    assert all(i["Projection"] == {"ProjectionType": "ALL"} for i in indexes.values())
    assert TABLE_DEFINITION["BillingMode"] == "PAY_PER_REQUEST"
    assert "TableName" not in TABLE_DEFINITION


def test_created_table_has_ttl_on_expires_at(state_table: StateTable) -> None:
    client = boto3.client("dynamodb")
    ttl = client.describe_time_to_live(TableName=state_table.name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": TTL_ATTRIBUTE}
    described = client.describe_table(TableName=state_table.name)["Table"]
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}


def test_create_table_twice_needs_exist_ok(state_table: StateTable) -> None:
    client = boto3.client("dynamodb")
    with pytest.raises(ClientError):
        create_table(client, state_table.name)
    create_table(client, state_table.name, exist_ok=True)


def test_numbers_round_trip_as_plain_python(state_table: StateTable) -> None:
    state_table.put({**Keys.lock("n"), "f": 1.25, "i": 7, "nested": {"x": [0.5, 2]}})
    item = state_table.get(Keys.lock("n"))
    assert item is not None
    assert item["f"] == 1.25 and isinstance(item["f"], float)
    assert item["i"] == 7 and isinstance(item["i"], int)
    assert item["nested"] == {"x": [0.5, 2]}


def test_refused_condition_raises_condition_failed_with_the_stored_item(state_table: StateTable) -> None:
    state_table.put({**Keys.lock("c"), "owner": "a"})
    with pytest.raises(ConditionFailed) as caught:
        state_table.put({**Keys.lock("c"), "owner": "b"}, condition=Attr("PK").not_exists())
    assert caught.value.item is not None and caught.value.item["owner"] == "a"
    with pytest.raises(ConditionFailed):
        state_table.update(Keys.lock("c"), set_values={"owner": "b"}, condition=Attr("owner").eq("x"))
    with pytest.raises(ConditionFailed):
        state_table.delete(Keys.lock("c"), condition=Attr("owner").eq("x"))
    assert state_table.get(Keys.lock("c"))["owner"] == "a"  # type: ignore[index]


def test_other_errors_are_not_mistaken_for_refused_conditions(moto_aws: None) -> None:
    missing = moto_table("no-such-table")
    with pytest.raises(ClientError) as caught:
        missing.put({**Keys.lock("x")}, condition=Attr("PK").not_exists())
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_update_sets_appends_and_removes(state_table: StateTable) -> None:
    key = Keys.run("r1")
    state_table.put({**key, "status": "x", "gone": 1})
    state_table.update(key, append={"job_ids": [1]})
    item = state_table.update(key, set_values={"status": "y"}, append={"job_ids": [2, 3]}, remove=("gone",))
    assert item["status"] == "y" and item["job_ids"] == [1, 2, 3] and "gone" not in item
    with pytest.raises(ValueError):
        state_table.update(key)


def test_query_pages_through_results_and_honours_limit_with_filters(state_table: StateTable) -> None:
    for n in range(9):
        state_table.put(
            {"PK": f"X#{n}", "SK": "X", "GSI1PK": "ALL", "GSI1SK": f"{n:02d}", "even": n % 2 == 0}
        )
    everything = list(state_table.query(Key("GSI1PK").eq("ALL"), index=GSI1, page_size=2))
    assert [i["GSI1SK"] for i in everything] == [f"{n:02d}" for n in range(9)]
    newest_evens = list(
        state_table.query(
            Key("GSI1PK").eq("ALL"),
            index=GSI1,
            forward=False,
            limit=3,
            filter_condition=Attr("even").eq(True),
            page_size=2,
        )
    )
    assert [i["GSI1SK"] for i in newest_evens] == ["08", "06", "04"]
    assert list(state_table.query(Key("GSI1PK").eq("ALL"), index=GSI1, limit=0)) == []


def test_iso_utc_is_fixed_width_utc_and_refuses_naive_datetimes() -> None:
    cet = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2025, 6, 2, 11, 15, 1, 120000, tzinfo=cet)) == "2025-06-02T10:15:01.120000Z"
    assert iso_utc(datetime(2025, 6, 2, tzinfo=UTC)) == "2025-06-02T00:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        iso_utc(datetime(2025, 6, 2))


def test_resource_is_created_lazily(moto_aws: None) -> None:
    table = moto_table("lazy")
    assert table._table is None
    assert table.table.name == "lazy"
