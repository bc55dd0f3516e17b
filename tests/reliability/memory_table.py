"""An in-memory :class:`StateTable` for property tests: the real stores' logic at dictionary speed.

WatermarkStore, RunStore, JobStore and LeaseLock express every rule as DynamoDB condition and key
expressions (boto3 ``conditions`` objects); this table evaluates those same objects against plain
dicts, so the stores run unchanged. moto does the same work ~100 times slower (botocore serialization),
which is too slow for hundreds of generated histories; the property test runs a few examples on
moto as well to show both tables agree.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from boto3.dynamodb.conditions import AttributeBase, ConditionBase

from norcekit.state.table import ConditionFailed, Item, StateTable, item_from_dynamo, to_dynamo

INDEX_KEYS = {None: ("PK", "SK"), "GSI1": ("GSI1PK", "GSI1SK"), "GSI2": ("GSI2PK", "GSI2SK")}
_MISSING = object()


def _value(operand: Any, item: Mapping[str, Any]) -> Any:
    if isinstance(operand, AttributeBase):
        return item.get(operand.name, _MISSING)
    return to_dynamo(operand)


def _cmp(op: str, left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING:
        return False
    try:
        if op == "=":
            return bool(left == right)
        if op == "<>":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
    except TypeError:  # DynamoDB: comparing different types is simply false
        return False
    raise NotImplementedError(op)


def evaluate(condition: ConditionBase, item: Mapping[str, Any]) -> bool:
    """A boto3 condition (or key condition) against an item held as plain Python values."""
    expression = condition.get_expression()
    op, values = expression["operator"], expression["values"]
    if op == "AND":
        return evaluate(values[0], item) and evaluate(values[1], item)
    if op == "OR":
        return evaluate(values[0], item) or evaluate(values[1], item)
    if op == "NOT":
        return not evaluate(values[0], item)
    if op == "attribute_exists":
        return item.get(values[0].name, _MISSING) is not _MISSING
    if op == "attribute_not_exists":
        return item.get(values[0].name, _MISSING) is _MISSING
    args = [_value(v, item) for v in values]
    if op == "begins_with":
        return isinstance(args[0], str) and isinstance(args[1], str) and args[0].startswith(args[1])
    if op == "BETWEEN":
        return _cmp(">=", args[0], args[1]) and _cmp("<=", args[0], args[2])
    if op == "IN":
        return args[0] is not _MISSING and args[0] in args[1]
    if op == "contains":
        return args[0] is not _MISSING and args[1] in args[0]
    return _cmp(op, args[0], args[1])


class MemoryStateTable(StateTable):
    """Same interface and semantics as :class:`StateTable` for get/query/put/update/delete."""

    def __init__(self, name: str = "memory") -> None:
        super().__init__(name)
        self.items: dict[tuple[str, str], Item] = {}
        self.operations = 0

    @staticmethod
    def _stored(item: Mapping[str, Any]) -> Item:
        return item_from_dynamo(to_dynamo(copy.deepcopy(dict(item))))

    def get(self, key: Mapping[str, str], *, consistent: bool = True) -> Item | None:
        self.operations += 1
        item = self.items.get((key["PK"], key["SK"]))
        return copy.deepcopy(item) if item is not None else None

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
        self.operations += 1
        pk, sk = INDEX_KEYS[index]
        matches = [
            item
            for item in self.items.values()
            if pk in item and sk in item and evaluate(key_condition, item)
        ]
        matches.sort(key=lambda item: item[sk], reverse=not forward)
        yielded = 0
        for item in matches:
            if limit is not None and yielded >= limit:
                return
            if filter_condition is not None and not evaluate(filter_condition, item):
                continue
            yielded += 1
            yield copy.deepcopy(item)

    def _check(self, key: tuple[str, str], condition: ConditionBase | None) -> Item | None:
        old = self.items.get(key)
        if condition is not None and not evaluate(condition, old or {}):
            raise ConditionFailed("conditional check failed", copy.deepcopy(old) if old else None)
        return old

    def put(
        self, item: Mapping[str, Any], *, condition: ConditionBase | None = None, return_old: bool = False
    ) -> Item | None:
        self.operations += 1
        key = (item["PK"], item["SK"])
        old = self._check(key, condition)
        self.items[key] = self._stored(item)
        return copy.deepcopy(old) if (old is not None and return_old) else None

    def update(
        self,
        key: Mapping[str, str],
        *,
        set_values: Mapping[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        append: Mapping[str, list[Any]] | None = None,
        condition: ConditionBase | None = None,
    ) -> Item:
        self.operations += 1
        if not (set_values or remove or append):
            raise ValueError("update() needs at least one attribute to set, append or remove")
        k = (key["PK"], key["SK"])
        old = self._check(k, condition)
        new = copy.deepcopy(old) if old is not None else dict(key)
        new.update(self._stored(set_values or {}))
        for name, extra in (append or {}).items():
            new[name] = [*new.get(name, []), *self._stored({"v": list(extra)})["v"]]
        for name in remove:
            new.pop(name, None)
        self.items[k] = new
        return copy.deepcopy(new)

    def delete(self, key: Mapping[str, str], *, condition: ConditionBase | None = None) -> Item | None:
        self.operations += 1
        k = (key["PK"], key["SK"])
        old = self._check(k, condition)
        self.items.pop(k, None)
        return copy.deepcopy(old) if old is not None else None
