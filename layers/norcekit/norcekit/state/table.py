"""The DynamoDB single table: its definition, key layout and a thin typed wrapper.

Every item has string keys ``PK``/``SK``; two sparse GSIs list items in time order
(``GSI1``: jobs and runs per entity, watermarks) and the open (non-terminal) jobs (``GSI2``).
The key layout is documented in docs/architecture.md; :class:`Keys` is its only implementation.

Numbers: the boto3 resource API returns ``Decimal`` and refuses ``float``. :meth:`StateTable.put`
and :meth:`StateTable.update` convert floats to ``Decimal`` and every read converts back to
``int``/``float``, so callers only ever see plain Python values.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from boto3.dynamodb.conditions import ConditionBase
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table

Item = dict[str, Any]

#: Epoch seconds after which DynamoDB may delete an item (garbage collection only: never rely on it).
TTL_ATTRIBUTE: Final = "expires_at"
GSI1: Final = "GSI1"
GSI2: Final = "GSI2"

#: ``create_table(TableName=..., **TABLE_DEFINITION)``; the SAM template and local stack use the same
#: keys (KeySchema, AttributeDefinitions, GlobalSecondaryIndexes, BillingMode are spelled alike in
#: CloudFormation). Encryption at rest is always on in DynamoDB (AWS-owned key by default).
#: Treat as read-only; :func:`create_table` passes a copy.
TABLE_DEFINITION: Final[dict[str, Any]] = {
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": f"{index}PK", "KeyType": "HASH"},
                {"AttributeName": f"{index}SK", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index in (GSI1, GSI2)
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

#: Attributes that are key plumbing, not part of any record model.
KEY_ATTRIBUTES: Final = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", TTL_ATTRIBUTE})


class ConditionFailed(Exception):  # noqa: N818 - the public name the kit uses
    """A conditional write was refused; ``item`` is the stored item when DynamoDB returned it."""

    def __init__(self, message: str, item: Item | None = None) -> None:
        super().__init__(message)
        self.item = item


def iso_utc(moment: datetime) -> str:
    """Fixed-width, lexicographically sortable UTC timestamp: ``2025-06-02T10:15:01.120000Z``.

    Naive datetimes are refused: guessing their zone would silently shift sort keys.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware: {moment!r}")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def epoch_s(moment: datetime) -> int:
    return int(moment.timestamp())


class Keys:
    """The key layout (docs/architecture.md, "DynamoDB single table")."""

    @staticmethod
    def token(cache_key: str) -> Item:
        return {"PK": f"TOKEN#{cache_key}", "SK": "TOKEN"}

    @staticmethod
    def lock(name: str) -> Item:
        return {"PK": f"LOCK#{name}", "SK": "LOCK"}

    @staticmethod
    def watermark(entity: str) -> Item:
        return {"PK": f"WATERMARK#{entity}", "SK": "COMMITTED"}

    @staticmethod
    def run(run_id: str) -> Item:
        return {"PK": f"RUN#{run_id}", "SK": "RUN"}

    @staticmethod
    def job(job_id: int) -> Item:
        return {"PK": f"JOB#{job_id}", "SK": "JOB"}

    @staticmethod
    def job_restart(job_id: int, number: int) -> Item:
        return {"PK": f"JOB#{job_id}", "SK": f"RESTART#{number:04d}"}

    @staticmethod
    def finish_claim(job_id: int) -> Item:
        return {"PK": f"JOB#{job_id}", "SK": "FINISH"}

    @staticmethod
    def delivery(target: str, entity: str, key: str) -> Item:
        return {"PK": f"DELIVERY#{target}#{entity}#{key}", "SK": "LAST"}

    @staticmethod
    def order(client_order_ref: str) -> Item:
        return {"PK": f"ORDER#{client_order_ref}", "SK": "ORDER"}

    @staticmethod
    def order_part(client_order_ref: str, part: str) -> Item:
        """A delivery (``DELIVERY#<target>``) or ERP answer (``ANSWER#<kind>#<id>``) of one order."""
        return {"PK": f"ORDER#{client_order_ref}", "SK": part}

    @staticmethod
    def full_counts(entity: str) -> Item:
        return {"PK": f"FULLCOUNTS#{entity}", "SK": "FULLCOUNTS"}

    # GSI partitions
    WATERMARKS: Final = "WATERMARKS"
    OPEN_JOBS: Final = "OPEN"
    #: GSI2: finish claims whose terminal actions are not done (running, deferred or abandoned).
    FINISHING: Final = "FINISHING"
    #: GSI1: received orders, in time order.
    ORDERS: Final = "ORDERS"

    @staticmethod
    def runs_of(entity: str) -> str:
        return f"RUNS#{entity}"

    @staticmethod
    def jobs_of(entity: str) -> str:
        return f"JOBS#{entity}"


def create_table(client: DynamoDBClient, name: str, *, exist_ok: bool = False) -> None:
    """Create the state table from :data:`TABLE_DEFINITION`, wait for it and enable TTL."""
    try:
        client.create_table(TableName=name, **copy.deepcopy(TABLE_DEFINITION))
    except ClientError as exc:
        if not (exist_ok and _error_code(exc) == "ResourceInUseException"):
            raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )


class StateTable:
    """The state table on the DynamoDB resource the composition root built (``norcekit.wiring``).

    The table handle is made on first use (cheap cold start).
    """

    def __init__(self, table_name: str, *, dynamodb_resource: DynamoDBServiceResource) -> None:
        if not table_name:
            raise ValueError("table_name is required")
        self.name = table_name
        self._resource = dynamodb_resource
        self._table: Table | None = None

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = self._resource.Table(self.name)
        return self._table

    # --- reads ------------------------------------------------------------------------------------

    def get(self, key: Mapping[str, str], *, consistent: bool = True) -> Item | None:
        response = self.table.get_item(Key=dict(key), ConsistentRead=consistent)
        item = response.get("Item")
        return None if item is None else item_from_dynamo(item)

    def query(
        self,
        key_condition: ConditionBase,
        *,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        filter_condition: ConditionBase | None = None,
        consistent: bool = False,
        page_size: int | None = None,
    ) -> Iterator[Item]:
        """Yield matching items across pages, at most ``limit`` of them."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": key_condition, "ScanIndexForward": forward}
        if index is not None:
            kwargs["IndexName"] = index
        if filter_condition is not None:
            kwargs["FilterExpression"] = filter_condition
        if consistent:
            kwargs["ConsistentRead"] = True
        yielded = 0
        if limit is not None and limit <= 0:
            return
        while True:
            # Limit caps items *evaluated*, so with a filter we keep paging instead of trusting it.
            caps = [page_size] if page_size else []
            if limit is not None and filter_condition is None:
                caps.append(limit - yielded)
            if caps:
                kwargs["Limit"] = min(caps)
            page = self.table.query(**kwargs)
            for item in page.get("Items", []):
                yield item_from_dynamo(item)
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return
            kwargs["ExclusiveStartKey"] = last_key

    # --- writes -----------------------------------------------------------------------------------

    def put(
        self, item: Mapping[str, Any], *, condition: ConditionBase | None = None, return_old: bool = False
    ) -> Item | None:
        """Write a whole item; raises :class:`ConditionFailed` when ``condition`` is false."""
        kwargs: dict[str, Any] = {"Item": to_dynamo(dict(item))}
        if condition is not None:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if return_old:
            kwargs["ReturnValues"] = "ALL_OLD"
        try:
            response = self.table.put_item(**kwargs)
        except ClientError as exc:
            raise _condition_failed(exc) from None
        old = response.get("Attributes")
        return item_from_dynamo(old) if old else None

    def update(
        self,
        key: Mapping[str, str],
        *,
        set_values: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        append: Mapping[str, list[Any]] | None = None,
        condition: ConditionBase | None = None,
    ) -> Item:
        """SET/REMOVE/list-append top-level attributes; returns the item as written (ALL_NEW)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        # "#u"/":u" placeholders: boto3 names the ones it generates for conditions "#n"/":v".
        for i, (attr, value) in enumerate((set_values or {}).items()):
            names[f"#u{i}"], values[f":u{i}"] = attr, value
            sets.append(f"#u{i} = :u{i}")
        for i, (attr, extra) in enumerate((append or {}).items()):
            names[f"#a{i}"], values[f":a{i}"] = attr, list(extra)
            sets.append(f"#a{i} = list_append(if_not_exists(#a{i}, :empty), :a{i})")
            values[":empty"] = []
        removes = []
        for i, attr in enumerate(remove):
            names[f"#r{i}"] = attr
            removes.append(f"#r{i}")
        expression = " ".join(
            part
            for part in (
                f"SET {', '.join(sets)}" if sets else "",
                f"REMOVE {', '.join(removes)}" if removes else "",
            )
            if part
        )
        if not expression:
            raise ValueError("update() needs at least one attribute to set, append or remove")
        kwargs: dict[str, Any] = {
            "Key": dict(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            kwargs["ExpressionAttributeValues"] = to_dynamo(values)
        if condition is not None:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            response = self.table.update_item(**kwargs)
        except ClientError as exc:
            raise _condition_failed(exc) from None
        return item_from_dynamo(response["Attributes"])

    def delete(self, key: Mapping[str, str], *, condition: ConditionBase | None = None) -> Item | None:
        """Delete an item; returns what was deleted (``None`` when there was nothing)."""
        kwargs: dict[str, Any] = {"Key": dict(key), "ReturnValues": "ALL_OLD"}
        if condition is not None:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            response = self.table.delete_item(**kwargs)
        except ClientError as exc:
            raise _condition_failed(exc) from None
        old = response.get("Attributes")
        return item_from_dynamo(old) if old else None


# --- value conversion -----------------------------------------------------------------------------

_deserializer = TypeDeserializer()


def number(value: float) -> Decimal:
    """A float for a condition value (``Attr(...).lt(number(now))``): boto3 refuses floats there."""
    return Decimal(repr(float(value)))


def to_dynamo(value: Any) -> Any:
    """Plain Python → what the boto3 resource accepts (floats become ``Decimal``)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value


def item_from_dynamo(item: Mapping[str, Any]) -> Item:
    return {name: from_dynamo(value) for name, value in item.items()}


def from_dynamo(value: Any) -> Any:
    """What the boto3 resource returns → plain Python (``Decimal`` becomes ``int`` or ``float``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {from_dynamo(v) for v in value}
    return value


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _condition_failed(exc: ClientError) -> Exception:
    """Translate a refused condition to :class:`ConditionFailed`; anything else stays as it was."""
    if _error_code(exc) != "ConditionalCheckFailedException":
        return exc
    raw = exc.response.get("Item")  # low-level (typed) shape, present with ReturnValuesOnCondition...
    item = (
        item_from_dynamo({k: _deserializer.deserialize(v) for k, v in raw.items()})
        if isinstance(raw, dict)
        else None
    )
    return ConditionFailed("conditional check failed", item)
