"""Contract validation without model instances: a payload checked by the model's own schema, kept as
the wire-form dict and written with ``orjson``.

A full import validates up to a million SKUs against the Connect contract. Building pydantic models
for that (about 20 instances per product, each filling ~15 defaults) and serializing them back cost
several times the raw JSON pass-through, so :class:`WireValidator` checks the payload dict with a
schema derived from the model's core schema instead: every ``model`` node becomes a ``typed-dict``
with the same field validators (types, enums, finite floats, numbers accepted as text, naive
datetimes) and the model validators' dict twins (``_CHECKS``).

The derived schema is only ever allowed to *accept* what the model accepts with the same output, so
a payload is taken on the fast path only when

* the typed-dict schema validates it: optional fields are not nullable there (a ``None`` the
  model would leave off the wire fails here and takes the model path), unknown keys are ignored,
  and the schema holds only the fields this process has seen the contract use (see below);
* the validated dict equals the payload: an ignored key (a misspelt field, a field not seen yet),
  a number turned into text or a timezone dropped all make them differ.

Anything else goes to ``Model.model_validate``: its ``ValidationError`` is the error the caller sees
(the same wording and field path as before), and a payload it accepts teaches the fast schema the
fields it set (the schema is rebuilt, at most once per new field), so a mapping's first items take
the model path and the rest the fast one. Output keys follow the model's field order, which is also
the order pydantic writes them in, so ``orjson.dumps(item.data)`` gives the bytes ``dump_item`` gives
for the model (tests compare both over the sample export, mutated rows and hypothesis payloads).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, TypeAlias, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

from .common import ContractModel
from .customer import Company, Customer
from .product import Product, Sku

M = TypeVar("M", bound=ContractModel)

#: Core-schema node types the derivation understands; a contract using another one is refused.
_LEAVES = frozenset({"str", "int", "float", "bool", "enum", "datetime", "uuid", "definition-ref"})


class UnsupportedContractError(TypeError):
    """A model uses a schema feature the wire path cannot mirror exactly (it keeps the model path)."""


class WireItem:
    """A contract item validated against ``contract``: ``data`` is its wire form (no ``None`` values)."""

    __slots__ = ("contract", "data")

    def __init__(self, contract: type[ContractModel], data: dict[str, Any]) -> None:
        self.contract = contract
        self.data = data

    def get(self, name: str, default: Any = None) -> Any:
        """A top-level property, as ``getattr(model, name)`` would give it (``default`` when absent)."""
        return self.data.get(name, default)

    def to_json(self) -> bytes:
        try:
            return orjson.dumps(self.data)
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: pydantic-core writes those
            model = self.to_model()
            return model.__pydantic_serializer__.to_json(model, exclude_none=True)

    def to_model(self) -> ContractModel:
        """The model instance (for code that needs one; the import stream does not)."""
        return self.contract.model_validate(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WireItem):
            return NotImplemented
        return self.contract is other.contract and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable, like the models

    def __repr__(self) -> str:
        return f"WireItem({self.contract.__name__}, {self.data!r})"


def _product_identified(data: dict[str, Any]) -> dict[str, Any]:
    """``Product._has_identifier`` on the wire dict: Code, else the first SKU's PartNo, else
    ManufacturerCode plus a variant's ManufacturerPartNo (``Product.first_part_no`` /
    ``manufacturer_key``)."""
    if data.get("Code"):
        return data
    variants = data.get("Variants") or ()
    for variant in variants:
        skus = variant.get("Skus")
        if skus:
            if skus[0]["PartNo"]:
                return data
            break
    if data.get("ManufacturerCode") and any(v.get("ManufacturerPartNo") for v in variants):
        return data
    raise ValueError("product has no identifier")


def _customer_identified(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("Code") or "Id" in data or data.get("EmailAddress"):
        return data
    raise ValueError("customer has no identifier")


def _company_identified(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("Code") or "Id" in data or data.get("OrganizationNo"):
        return data
    raise ValueError("company has no identifier")


#: ``mode="after"`` model validators → their twin on the validated wire dict (it may only raise).
_CHECKS: dict[Any, Callable[[dict[str, Any]], dict[str, Any]]] = {
    Product._has_identifier: _product_identified,
    Customer._has_identifier: _customer_identified,
    Company._has_identifier: _company_identified,
}
#: ``mode="before"`` model validators that only fill in data (never reject): left out of the fast
#: schema, because a payload they would change then differs from its validated dict.
_FILL_INS: frozenset[Any] = frozenset({Sku._standard_price_inherits_part_no.__func__})  # type: ignore[attr-defined]


def _function_of(node: dict[str, Any]) -> Callable[..., Any]:
    function: Callable[..., Any] = node["function"]["function"]
    return getattr(function, "__func__", function)


def _derive(node: dict[str, Any], used: dict[type, set[str]]) -> dict[str, Any]:
    """The fast schema of a model core-schema ``node`` (``used``: fields kept per model class)."""
    kind = node["type"]
    if kind == "definitions":
        return {
            "type": "definitions",
            "schema": _derive(node["schema"], used),
            "definitions": [_derive(d, used) for d in node["definitions"]],
        }
    if kind == "model":
        return _typed_dict(node, used)
    if kind == "function-after":
        inner = node["schema"]
        if inner["type"] == "model":  # a model validator: its dict twin
            check = _CHECKS.get(_function_of(node))
            if check is None:
                raise UnsupportedContractError(f"model validator {node['function']} has no wire twin")
            derived = {
                "type": "function-after",
                "function": {"type": "no-info", "function": check},
                "schema": _typed_dict(inner, used),
            }
        else:  # a field validator such as NorceDateTime's: the same function
            derived = {**node, "schema": _derive(inner, used)}
        if "ref" in node:
            derived["ref"] = node["ref"]
        return derived
    if kind == "list":
        return {**node, "items_schema": _derive(node["items_schema"], used)}
    if kind in _LEAVES:
        return node
    raise UnsupportedContractError(f"core schema node {kind!r} is not mirrored by the wire path")


def _typed_dict(node: dict[str, Any], used: dict[type, set[str]]) -> dict[str, Any]:
    cls = node["cls"]
    inner = node["schema"]
    if inner["type"] == "function-before":
        if _function_of(inner) not in _FILL_INS:
            raise UnsupportedContractError(f"{cls.__name__}: before-validator {inner['function']} may reject")
        inner = inner["schema"]
    if inner["type"] != "model-fields" or inner.get("computed_fields"):
        raise UnsupportedContractError(f"{cls.__name__}: {inner['type']} is not mirrored by the wire path")
    kept = used.get(cls, set())
    fields: dict[str, Any] = {}
    for name, field in inner["fields"].items():
        if set(field) - {"type", "schema", "metadata"}:  # aliases, exclude, frozen...
            raise UnsupportedContractError(f"{cls.__name__}.{name}: field options are not mirrored")
        schema = field["schema"]
        required = schema["type"] != "default"
        if not required:
            if schema.get("default", ...) is not None or "default_factory" in schema:
                raise UnsupportedContractError(f"{cls.__name__}.{name}: only None defaults are mirrored")
            schema = schema["schema"]
            if name not in kept:
                continue
        if schema["type"] == "nullable":  # None is left off the wire: here it takes the model path
            schema = schema["schema"]
        fields[name] = {"type": "typed-dict-field", "schema": _derive(schema, used), "required": required}
    derived: dict[str, Any] = {
        "type": "typed-dict",
        "fields": fields,
        "extra_behavior": "ignore",  # an extra key makes the output differ from the payload
        "config": {**node.get("config", {}), "extra_fields_behavior": "ignore"},
    }
    if "ref" in node:
        derived["ref"] = node["ref"]
    return derived


def _fields_set(model: BaseModel, into: dict[type, set[str]]) -> bool:
    """Add the fields ``model`` (and every model inside it) set; True when one was new."""
    seen = into.setdefault(type(model), set())
    new = not model.model_fields_set <= seen
    seen |= model.model_fields_set
    for name in model.model_fields_set:
        value = getattr(model, name)
        for element in value if isinstance(value, list) else (value,):
            if isinstance(element, BaseModel):
                new = _fields_set(element, into) or new
    return new


#: What a mapping hands the import stream: a contract model, or a contract item validated without one.
ContractItem: TypeAlias = BaseModel | WireItem


def item_field(item: ContractItem, name: str, default: Any = None) -> Any:
    """A top-level property of a model or a wire item (``default`` when it has none)."""
    if isinstance(item, WireItem):
        return item.data.get(name, default)
    return getattr(item, name, default)


class WireValidator(Generic[M]):
    """``validator(payload)`` → :class:`WireItem`, or the model's own ``ValidationError``."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._used: dict[type, set[str]] = {}
        self._fast: SchemaValidator | None = self._build()

    def _build(self) -> SchemaValidator | None:
        try:
            return SchemaValidator(_derive(self.model.__pydantic_core_schema__, self._used))  # type: ignore[arg-type]
        except UnsupportedContractError:
            return None

    def __call__(self, payload: Any) -> WireItem:
        fast = self._fast
        if fast is not None:
            try:
                data = fast.validate_python(payload)
            except ValidationError:
                pass
            else:
                if data == payload:
                    return WireItem(self.model, data)
        return self._slow(payload)

    def _slow(self, payload: Any) -> WireItem:
        model = self.model.model_validate(payload)  # the contract's own error for a bad payload
        if self._fast is not None and _fields_set(model, self._used):
            self._fast = self._build()
            return self(payload)
        return WireItem(self.model, model.model_dump(exclude_none=True))


@functools.cache
def wire_validator(model: type[M]) -> WireValidator[M]:
    """The process-wide validator of ``model`` (its fast schema grows with the fields seen)."""
    return WireValidator(model)
