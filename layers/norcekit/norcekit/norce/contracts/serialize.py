"""Wire serialization for Connect bodies and the ``X-StormConnect-Header``.

Nulls are omitted everywhere: Norce reads an absent property as "not sent", while an explicit
null may overwrite. Enums go out as integers, datetimes as naive ``YYYY-MM-DDTHH:MM:SS``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from .headers import Header
from .wire import WireItem

_HEADER_TAIL = ("SupplierId", "StorageName", "SerializationType")


def dump_item(item: BaseModel | WireItem) -> bytes:
    """Compact JSON of one body item (called once per item for up to ~1M items per import).

    A model: pydantic-core writes the JSON directly (enums -> ints, UUID -> str, normalised
    datetimes), faster than ``orjson.dumps(model_dump(...))``. A :class:`WireItem` (validated without
    a model) is already the wire dict: ``orjson`` writes the same bytes several times faster.
    """
    if isinstance(item, WireItem):
        return item.to_json()
    return item.__pydantic_serializer__.to_json(item, exclude_none=True)


def dump_header(header: Header) -> str:
    """Single-line, compact, ASCII-only JSON for the ``X-StormConnect-Header`` HTTP header.

    Key order follows Norce's documentation (AccountId first, SerializationType last) so a header
    can be compared with the docs by eye; ASCII escaping keeps the value a legal HTTP header.
    """
    data: dict[str, Any] = header.model_dump(mode="json", exclude_none=True)
    ordered: dict[str, Any] = {"AccountId": data.pop("AccountId")}
    tail = {key: data.pop(key) for key in _HEADER_TAIL if key in data}
    ordered.update(data)
    ordered.update(tail)
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=True)
