"""Connect request bodies checked against Norce's .NET contracts, the way Json.NET reads them.

Norce deserializes an import body into its contract classes (``connect_contracts.json``, copied from
Storm.Connect.Contracts @69a13d0, the file the kit's own contracts were generated from). So:

* a value of the wrong JSON type for its property is refused (HTTP 400, a Json.NET-style message
  naming the path), and so is ``null`` for a non-nullable value type (``bool``, ``int``, ``decimal``,
  ``DateTime``, an enum) and an integer outside its .NET width (``int`` is 32 bits);
* a collection class (``Order.Payments : List<Payment>``) is a JSON array;
* unknown properties are ignored (Json.NET's default ``MissingMemberHandling.Ignore``): they are
  dropped before the import, so they are never stored nor shown by Query.

Strict where Json.NET is lenient and Norce's settings are unknown (listed in the README's known
gaps): numbers are not accepted as strings nor numeric strings as numbers, an integer property
refuses ``1.5`` and ``1.0``, and an enum value must be a member (by number or case-insensitive name).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import orjson

#: Root contract class of each catalog import kind.
ROOT_CLASSES = {
    "products": "Product.Models.Product",
    "prices": "Product.Models.SkuPriceList",
    "price_lists": "Product.Models.PriceList",
    "onhand": "Product.Models.SkuOnhand",
    "customers": "Customer.Models.Customer",
    "companies": "Customer.Models.Company",
    "supplier_products": "Supplier.Models.SupplierProduct",
    "relations": "Product.Models.Relation",
}
_GENERIC = re.compile(r"^(?:List|IList|IEnumerable|ICollection)<(.+)>$")
_NET_NAMES = {
    "string": "System.String", "bool": "System.Boolean", "int": "System.Int32", "long": "System.Int64",
    "short": "System.Int16", "byte": "System.Byte", "decimal": "System.Decimal", "double": "System.Double",
    "float": "System.Single", "DateTime": "System.DateTime", "Guid": "System.Guid",
    "TimeSpan": "System.TimeSpan",
}  # fmt: skip

#: Checks a value and returns it as Norce would keep it (unknown properties dropped).
Checker = Callable[[Any], Any]


class BodyTypeError(ValueError):
    """A body value Json.NET could not convert to its contract type."""


class _Refused(Exception):  # noqa: N818 - internal: becomes a BodyTypeError with the full path
    """Raised where a value is refused; containers add their path segment while it propagates."""

    def __init__(self, value: Any, type_name: str) -> None:
        self.value, self.type_name = value, type_name
        self.segments: list[str] = []


@cache
def _contracts() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(
        resources.files(__package__).joinpath("connect_contracts.json").read_bytes()
    )
    return data


def check_body(kind: str, items: list[Any]) -> list[Any]:
    """The items as Norce reads them (unknown properties dropped); :class:`BodyTypeError` for the
    first value its contract type refuses. ``kind`` is an import kind or a contract class name."""
    check = _class_checker(ROOT_CLASSES.get(kind, kind))
    kept: list[Any] = []
    for index, item in enumerate(items):
        try:
            kept.append(check(item))
        except _Refused as refused:
            path = f"[{index}]" + "".join(reversed(refused.segments))
            raise _error(refused.value, refused.type_name, path) from None
    return kept


def _error(value: Any, type_name: str, path: str) -> BodyTypeError:
    shown = "{null}" if value is None else orjson.dumps(value).decode()[:80]
    net = _NET_NAMES.get(type_name, type_name)
    return BodyTypeError(f"Error converting value {shown} to type '{net}'. Path '{path}'.")


def _resolve(short: str, namespace: str) -> str | None:
    """Full contract name of a type used in ``namespace`` (same namespace first, then unique name)."""
    contracts = _contracts()
    names = [*contracts["classes"], *contracts["enums"]]
    if f"{namespace}.{short}" in names:
        return f"{namespace}.{short}"
    matches = [name for name in names if name.rsplit(".", 1)[-1] == short]
    if len(matches) > 1:  # e.g. PriceList in Customer and Product: prefer the same top namespace
        top = namespace.split(".", 1)[0]
        matches = [m for m in matches if m.startswith(top + ".")] or matches
    return matches[0] if matches else None


@cache
def _class_checker(full_name: str) -> Checker:
    namespace = full_name.rsplit(".", 1)[0]
    properties: dict[str, str] = _contracts()["classes"][full_name]["properties"]
    checks: dict[str, Checker] = {}
    for prop, type_name in properties.items():
        checks[prop] = _type_checker(type_name, namespace)

    def check(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict:
            raise _Refused(value, full_name)
        changed = False
        for prop, item in value.items():
            checker = checks.get(prop)
            if checker is None:
                changed = True
                continue
            try:
                if checker(item) is not item:
                    changed = True
            except _Refused as refused:
                refused.segments.append(f".{prop}")
                raise
        if not changed:
            return value
        # Unknown properties are ignored, as Json.NET does: keep only the contract's (and clean
        # nested objects the same way).
        return {prop: checks[prop](item) for prop, item in value.items() if prop in checks}

    return check


def _type_checker(type_name: str, namespace: str) -> Checker:
    nullable = type_name.endswith("?")
    base = type_name.rstrip("?")
    generic = _GENERIC.match(base)
    if generic is not None:
        inner = _type_checker(generic.group(1), namespace)

        def check_list(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not list:
                raise _Refused(value, base)
            kept = []
            changed = False
            for index, item in enumerate(value):
                try:
                    result = inner(item)
                except _Refused as refused:
                    refused.segments.append(f"[{index}]")
                    raise
                changed = changed or result is not item
                kept.append(result)
            return kept if changed else value

        return check_list
    primitive = _primitive(base)
    if primitive is not None:
        accepts_null = nullable or base == "string"

        def check_primitive(value: Any) -> Any:
            if value is None:
                if not accepts_null:
                    raise _Refused(value, base)
                return None
            if not primitive(value):
                raise _Refused(value, base)
            return value

        return check_primitive
    full = _resolve(base, namespace)
    if full is None:
        return lambda value: value  # a type the contracts file does not describe
    if full in _contracts()["enums"]:
        return _enum_checker(full, nullable)
    collection = _GENERIC.match(_contracts()["classes"][full].get("base") or "")
    if collection is not None:  # a collection class (Order.Payments : List<Payment>): a JSON array
        return _type_checker(collection.group(0), full.rsplit(".", 1)[0])

    def check_class(value: Any) -> Any:
        return _class_checker(full)(value)  # looked up late: classes refer to each other

    return check_class


def _enum_checker(full_name: str, nullable: bool) -> Checker:
    members: dict[str, int] = _contracts()["enums"][full_name]["members"]
    values = set(members.values())
    names = {name.lower() for name in members}

    def check(value: Any) -> Any:
        if value is None:
            if not nullable:
                raise _Refused(value, full_name)
            return None
        if type(value) is int and value in values:
            return value
        if isinstance(value, str) and (value.strip().lower() in names or _int_text(value) in values):
            return value
        raise _Refused(value, full_name)

    return check


def _int_in(low: int, high: int) -> Callable[[Any], bool]:
    """An integer of a .NET width: Json.NET refuses a value outside it (an overflow, not a wrap)."""
    return lambda value: type(value) is int and low <= value <= high


def _int_text(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_guid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _primitive(base: str) -> Callable[[Any], bool] | None:
    return {
        "string": lambda v: type(v) is str,
        "bool": lambda v: type(v) is bool,
        "int": _int_in(-(2**31), 2**31 - 1),
        "long": _int_in(-(2**63), 2**63 - 1),
        "short": _int_in(-(2**15), 2**15 - 1),
        "byte": _int_in(0, 255),
        "decimal": _is_number,
        "double": _is_number,
        "float": _is_number,
        "DateTime": _is_datetime,
        "Guid": _is_guid,
        "TimeSpan": lambda v: isinstance(v, str),
        "virtualExtensionDataObject": lambda v: True,
    }.get(base)
