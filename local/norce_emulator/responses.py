"""HTTP answers of the emulator: (status, body, headers) tuples with JSON bodies."""

from __future__ import annotations

from typing import Any

from .emulator import dumps

JSON = "application/json; charset=utf-8"
ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true"

Response = tuple[int, bytes, dict[str, str]]


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, content_type: str = JSON
) -> Response:
    return status, dumps(body), {"Content-Type": content_type, **(headers or {})}


def odata_error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})
