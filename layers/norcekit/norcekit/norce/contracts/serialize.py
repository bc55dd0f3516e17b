"""Wire serialization for Connect bodies and the ``X-StormConnect-Header``.

Nulls are omitted everywhere: Norce reads an absent property as "not sent", while an explicit
null may overwrite. Enums go out as integers, datetimes as naive ``YYYY-MM-DDTHH:MM:SS``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from .headers import Header

_HEADER_TAIL = ("SupplierId", "StorageName", "SerializationType")


def dump_item(model: BaseModel) -> bytes:
    """Compact JSON of one body item (called once per item for up to ~1M items per import).

    pydantic-core writes the JSON directly (enums -> ints, UUID -> str, normalised datetimes),
    which measured faster than ``orjson.dumps(model_dump(...))``: no intermediate dicts.
    """
    return model.__pydantic_serializer__.to_json(model, exclude_none=True)


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
