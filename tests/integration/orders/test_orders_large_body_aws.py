"""An order larger than a DynamoDB item (400 KB) is received, kept and delivered whole: its body goes
to the data bucket first and the order item keeps the reference (moto: DynamoDB, S3, SQS)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.fixtures.orders import basic, order_request
from tests.integration.orders.conftest import (
    PASSWORD,
    REGION,
    USER,
    OrderQueues,
    api_event,
    as_sqs_event,
    receive_all,
)

from norcekit.settings import reset_settings_cache
from norcekit.state.orders import INLINE_BODY_LIMIT, DynamoOrderStore, OrderBodyError
from norcekit.state.table import StateTable
from norcekit.wiring.orders import ORDER_BODY_PREFIX
from norcekit_local.handlers import FakeLambdaContext, load_handler

pytestmark = pytest.mark.integration


def large_order(ref: str, lines: int = 2500) -> dict[str, Any]:
    """A B2B order of ``lines`` lines: about 600 KB of JSON, beyond one DynamoDB item."""
    order = order_request(ref)
    template = order["Items"][0]
    order["Items"] = []
    for n in range(1, lines + 1):
        item = copy.deepcopy(template)
        item.update({"LineNo": n, "PartNo": f"PART-{n:06d}", "Description": f"Spare part number {n:06d}"})
        order["Items"].append(item)
    return order


def test_an_order_beyond_an_item_is_stored_whole_answered_ok_and_delivered(
    order_aws: OrderQueues,
    state_table: StateTable,
    quarantine_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = {
        "orders": {"targets": {"archive": {"type": "s3", "bucket": quarantine_bucket, "prefix": "out/"}}}
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("NORCEKIT_CONFIG", str(tmp_path / "config.json"))
    reset_settings_cache()
    order = large_order("B2B-1")
    body = json.dumps(order)
    assert len(body.encode()) > 400 * 1024  # what a DynamoDB item cannot hold

    receiver = load_handler("order_receiver", fresh=True)
    answers = [
        receiver(api_event("/orders", body, basic(USER, PASSWORD)), FakeLambdaContext()) for _ in range(2)
    ]

    assert [a["statusCode"] for a in answers] == [200, 200]
    assert [json.loads(a["body"])["StatusCode"] for a in answers] == ["OK", "OK"]
    s3 = boto3.client("s3", region_name=REGION)
    kept = s3.list_objects_v2(Bucket=quarantine_bucket, Prefix=ORDER_BODY_PREFIX)["Contents"]
    assert len(kept) == 1  # the retry wrote nothing new
    item = state_table.get({"PK": "ORDER#B2B-1", "SK": "ORDER"})
    assert item is not None and "body" not in item and item["body_ref"].endswith(kept[0]["Key"])

    delivery = load_handler("order_delivery", fresh=True)
    assert delivery(as_sqs_event(receive_all(order_aws.orders)), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    delivered = json.loads(s3.get_object(Bucket=quarantine_bucket, Key="out/order/B2B-1.json")["Body"].read())
    assert len(delivered["data"]["Items"]) == 2500
    assert delivered["data"]["Items"][-1]["PartNo"] == "PART-002500"


def test_without_a_body_store_a_large_order_is_refused_by_name_and_small_ones_stay_inline(
    state_table: StateTable,
) -> None:
    store = DynamoOrderStore(state_table)
    with pytest.raises(OrderBodyError, match=r"B2B-2: a [0-9,]+-byte body needs the body store"):
        store.add("B2B-2", "x" * (INLINE_BODY_LIMIT + 1))
    assert store.get("B2B-2") is None
    small, new = store.add("R-1", json.dumps(order_request("R-1")))
    assert new and state_table.get({"PK": "ORDER#R-1", "SK": "ORDER"})["body"] == small.body  # type: ignore[index]
