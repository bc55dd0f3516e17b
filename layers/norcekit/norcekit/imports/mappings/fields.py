"""Small helpers for writing mappings: typed reads of source fields that fail naming the field.

``Row(data).decimal("price_sale")`` returns a float (or ``None`` when empty) and raises
:class:`MappingError` ``price_sale: 'abc' is not a number`` otherwise. Nested rows keep their path,
so an error deep in a product reads ``variants[1].skus[0].status: ...``. :func:`build` validates
the finished contract payload and turns a pydantic error into a :class:`MappingError` naming the
contract field (``Variants[0].Skus[0].PartNo: Field required``).

The accessors run a few times per SKU for up to a million SKUs per full import, so each takes the
common case (a clean string, a float, an enum name) first and falls back to the general, error-naming
path only for anything else; both paths return the same values.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from norcekit.norce.contracts.common import ContractModel
from norcekit.norce.contracts.enums import ContractEnum
from norcekit.norce.contracts.wire import WireItem, wire_validator

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=ContractEnum)

_TRUE = {"1", "true", "yes", "y", "t", "x"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_CONTAINERS = (dict, list)


class MappingError(ValueError):
    """A source row cannot be mapped: ``field`` (source or contract path) and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Row:
    """Read-only view of a source row with typed, error-naming accessors."""

    __slots__ = ("_path", "data")

    def __init__(self, data: dict[str, Any], path: str = "") -> None:
        if not isinstance(data, dict):
            raise MappingError(path or "(row)", f"expected an object, found {type(data).__name__}")
        self.data = data
        self._path: str | tuple[Row, str, int | None] = path

    @classmethod
    def _child(cls, data: dict[str, Any], parent: Row, field: str, index: int | None) -> Row:
        # A nested row's path is spelt out only when an error names it (most rows never fail).
        row = cls.__new__(cls)
        row.data = data
        row._path = (parent, field, index)
        return row

    @property
    def path(self) -> str:
        path = self._path
        if isinstance(path, tuple):
            parent, field, index = path
            path = parent.name(field) if index is None else f"{parent.name(field)}[{index}]"
            self._path = path
        return path

    def name(self, field: str) -> str:
        return f"{self.path}.{field}" if self.path else field

    def fail(self, field: str, reason: str) -> MappingError:
        return MappingError(self.name(field), reason)

    def raw(self, field: str, *, required: bool = False) -> Any:
        value = self.data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(field, "required but missing or empty")
            return None
        return value

    def text(self, field: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(field)
        if isinstance(value, str):
            text = value.strip()
            if text:
                return text
        elif value is not None:
            if isinstance(value, _CONTAINERS):
                raise self.fail(field, f"expected text, found {type(value).__name__}")
            return str(value).strip()
        if required:
            raise self.fail(field, "required but missing or empty")
        return default

    def required_text(self, field: str) -> str:
        value = self.data.get(field)
        if isinstance(value, str):
            text = value.strip()
            if text:
                return text
        result = self.text(field, required=True)
        assert result is not None
        return result

    def decimal(self, field: str, *, required: bool = False) -> float | None:
        value = self.data.get(field)
        # Fast path: float() rounds a decimal string exactly as float(Decimal(...)) does, so a
        # finite result is the same number; anything else takes the general path below.
        number: float | None = None
        if isinstance(value, str):
            try:
                number = float(value.replace(" ", ""))
            except ValueError:
                number = None
        elif type(value) is float:
            number = value
        elif type(value) is int:  # not bool (a subclass): booleans are refused below
            try:
                number = float(value)
            except OverflowError:
                number = None
        if number is not None and number - number == 0.0:  # finite (inf - inf and nan give nan)
            return number
        return self._decimal(field, value, required=required)

    def _decimal(self, field: str, value: Any, *, required: bool) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(field, "required but missing or empty")
            return None
        if isinstance(value, bool):
            raise self.fail(field, f"{value!r} is not a number")
        try:
            number = Decimal(str(value).strip().replace(" ", ""))
        except InvalidOperation:
            raise self.fail(field, f"{value!r} is not a number") from None
        if not number.is_finite():
            raise self.fail(field, f"{value!r} is not a finite number")
        return float(number)

    def integer(self, field: str, *, required: bool = False) -> int | None:
        number = self.decimal(field, required=required)
        if number is None:
            return None
        if number != int(number):
            raise self.fail(field, f"{self.data.get(field)!r} is not a whole number")
        return int(number)

    def boolean(self, field: str, *, required: bool = False, default: bool | None = None) -> bool | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.fail(field, "required but missing")
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False if text else default
        raise self.fail(field, f"{value!r} is not a yes/no value (use true/false, 1/0, yes/no)")

    def date(self, field: str, *, required: bool = False) -> datetime | None:
        value = self.raw(field, required=required)
        if value is None:
            return None
        text = str(value).strip()
        try:
            if len(text) == 10:
                parsed = date.fromisoformat(text)
                return datetime(parsed.year, parsed.month, parsed.day)
            return datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(field, f"{value!r} is not an ISO-8601 date") from None

    def enum(
        self, field: str, enum_cls: type[E], *, required: bool = False, default: E | None = None
    ) -> E | None:
        value = self.data.get(field)
        if isinstance(value, str):
            member: E | None = _members_by_name(enum_cls).get(value.strip().casefold())
            if member is not None:
                return member
        value = self.raw(field, required=required)
        if value is None:
            return default
        try:
            return enum_cls.coerce(value)
        except ValueError:
            raise self.fail(
                field, f"{value!r} is not a {enum_cls.__name__}; valid: {enum_cls.valid_names()}"
            ) from None

    def obj(self, field: str, *, required: bool = False) -> Row | None:
        value = self.raw(field, required=required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, found {type(value).__name__}")
        return Row._child(value, self, field, None)

    def rows(self, field: str, *, required: bool = False) -> Iterator[Row]:
        """Each element of a list of objects, as a :class:`Row` with an indexed path."""
        value = self.raw(field, required=required)
        if value is None:
            return
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, found {type(value).__name__}")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise MappingError(
                    f"{self.name(field)}[{index}]", f"expected an object, found {type(item).__name__}"
                )
            yield Row._child(item, self, field, index)

    def texts(self, field: str) -> list[str]:
        """A list of strings (a JSON list, or a ``;``/``,``-separated CSV cell)."""
        value = self.raw(field)
        if value is None:
            return []
        if isinstance(value, list):
            return [str(item).strip() for item in value if not _empty(item)]
        if isinstance(value, str):
            separator = ";" if ";" in value else ","
            return [part.strip() for part in value.split(separator) if part.strip()]
        raise self.fail(field, f"expected a list, found {type(value).__name__}")

    def translations(self, field: str) -> dict[str, str]:
        """``{"sv-SE": "...", "en-GB": "..."}`` → the same dict, empty values dropped."""
        value = self.data.get(field)
        if type(value) is dict:  # the common case, all text: the row's own dict (read, never changed)
            for culture, text in value.items():
                if type(culture) is not str or type(text) is not str or not text.strip():
                    break
            else:
                return value
        value = self.raw(field)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object of culture → text, found {type(value).__name__}")
        return {
            str(culture): str(text)
            for culture, text in value.items()
            if text is not None and not (isinstance(text, str) and not text.strip())
        }


def build(model: type[M], payload: dict[str, Any]) -> M:
    """Validate ``payload`` as ``model``; a failure becomes a :class:`MappingError` on the contract path.

    ``None`` values and empty lists are dropped first (at any depth), so a mapping may write every
    property it knows and leave the "not sent" ones as ``None`` or ``[]``.
    """
    return validate(model, _prune(payload))


def validate(model: type[M], payload: dict[str, Any]) -> M:
    """:func:`build` without the pruning walk, for hot mappings that write minimal payloads.

    ``None`` values are fine (the wire form omits them), but an empty list is validated and sent as
    ``[]``, which Norce may read as "clear this list": leave empty lists out of the payload.
    """
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise _contract_error(model, exc) from None


def wire_item(model: type[ContractModel], payload: dict[str, Any]) -> WireItem:
    """:func:`validate` without a model instance: the same checks and errors, the wire-form item.

    For high-volume mappings: the payload is checked against the contract by pydantic-core without
    building models and streamed with ``orjson`` (:mod:`norcekit.norce.contracts.wire`). Leave
    ``None`` values out as well as empty lists: a ``None`` is still fine (never sent) but takes the
    slower model path, and ``[]`` is sent as ``[]``.
    """
    try:
        return wire_validator(model)(payload)
    except ValidationError as exc:
        raise _contract_error(model, exc) from None


def _contract_error(model: type[BaseModel], exc: ValidationError) -> MappingError:
    first = exc.errors()[0]
    return MappingError(_loc(first["loc"]) or model.__name__, first["msg"])


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _prune(value: Any) -> Any:
    """Drop ``None`` values and empty lists so payloads stay minimal ("not sent" in Norce)."""
    if isinstance(value, dict):
        return {
            k: _prune(v) if isinstance(v, _CONTAINERS) else v
            for k, v in value.items()
            if v is not None and not (isinstance(v, list) and not v)
        }
    if isinstance(value, list):
        return [_prune(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


@functools.cache
def _members_by_name(enum_cls: type[E]) -> dict[str, E]:
    """casefolded name → member, first name winning as in ``ContractEnum._missing_``."""
    members: dict[str, E] = {}
    for name, member in enum_cls.__members__.items():
        members.setdefault(name.casefold(), member)
    return members
