"""The emulator's HTTP error answer, raised by its logic and turned into a response by the server."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer produced by emulator logic."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}
