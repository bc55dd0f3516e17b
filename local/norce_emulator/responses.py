"""HTTP answers of the emulator: (status, body, headers) tuples with JSON bodies."""

from __future__ import annotations

from typing import Any

import orjson

JSON = "application/json; charset=utf-8"
ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true"

Response = tuple[int, bytes, dict[str, str]]


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS)


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, content_type: str = JSON
) -> Response:
    return status, dumps(body), {"Content-Type": content_type, **(headers or {})}


def odata_error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})
