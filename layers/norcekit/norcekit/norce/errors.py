"""Errors raised by the Norce clients, and the one function that turns a failed answer into one.

Messages carry method, URL, status and a bounded body excerpt; never request bodies or headers
(they hold tokens and secrets).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

#: Longest error-body excerpt kept on an exception (bodies can be large; keep logs readable).
BODY_EXCERPT_CHARS = 500


class NorceError(Exception):
    """Base of every error raised by the Norce clients."""


class NorceHTTPError(NorceError):
    """Norce answered with a status we do not retry (or stopped retrying).

    ``body`` is a bounded excerpt of the response body; ``code``/``message`` are filled from an
    OData error body (``{"error": {"code", "message"}}``) or a ``{"Message": ...}`` body when present.
    Request bodies and headers (which carry tokens and secrets) are never included.
    """

    def __init__(
        self,
        status: int,
        method: str,
        url: str,
        body: str = "",
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body
        self.code = code
        self.message = message
        detail = message or body or "(empty body)"
        prefix = f"{code}: " if code else ""
        super().__init__(f"{method} {url} -> HTTP {status}: {prefix}{detail}")


class NorceAuthError(NorceHTTPError):
    """401/403, or a token request that was refused: credentials or permissions are wrong."""


class NorceUnavailable(NorceError):  # noqa: N818 (the name the rest of the kit uses)
    """Norce could not be reached or kept failing; ``last_status`` is the last HTTP status seen."""

    def __init__(self, message: str, *, last_status: int | None = None, attempts: int = 0) -> None:
        self.last_status = last_status
        self.attempts = attempts
        super().__init__(message)


class NorceRateLimited(NorceUnavailable):
    """Still 429 after the allowed retries (or Retry-After asks for longer than we may wait)."""

    def __init__(self, message: str, *, retry_after: float | None = None, attempts: int = 0) -> None:
        self.retry_after = retry_after
        super().__init__(message, last_status=429, attempts=attempts)


class DeadlineExceeded(NorceUnavailable):
    """The caller's deadline left no time for the next attempt (or the next wait)."""


def error_from_response(response: httpx.Response) -> NorceHTTPError:
    """A :class:`NorceHTTPError` (or :class:`NorceAuthError`) describing a failed response."""
    text = response.text[:BODY_EXCERPT_CHARS] if response.content else ""
    code: str | None = None
    message: str | None = None
    try:
        parsed: Any = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):  # OData v4 error body
            code = _str_or_none(error.get("code"))
            message = _str_or_none(error.get("message"))
        elif isinstance(error, str):  # OAuth2 error body: {"error": "invalid_client", ...}
            code = error
            message = _str_or_none(parsed.get("error_description"))
        else:  # ASP.NET style {"Message": "..."}
            message = _str_or_none(parsed.get("Message") or parsed.get("message"))
    if message is not None:
        message = message[:BODY_EXCERPT_CHARS]
    error_type = NorceAuthError if response.status_code in (401, 403) else NorceHTTPError
    return error_type(
        response.status_code, response.request.method, _safe_url(response.request.url), text,
        code=code, message=message,
    )  # fmt: skip


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _safe_url(url: httpx.URL) -> str:
    """URL without userinfo (never expected, but never logged either)."""
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)
