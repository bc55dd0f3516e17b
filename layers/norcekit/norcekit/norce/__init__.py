"""The Norce boundary: HTTP resilience, OAuth tokens, Connect, Job, Query clients, contracts, events.

Imports stay lazy on purpose: the webhook receiver imports ``norcekit.norce.event_models`` on a cold
start and must not pay for httpx and the clients. ``from norcekit.norce import QueryClient`` still works;
the module holding the name is imported on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DeadlineExceeded": "http",
    "NorceAuthError": "http",
    "NorceError": "http",
    "NorceHTTPError": "http",
    "NorceHttp": "http",
    "NorceRateLimited": "http",
    "NorceUnavailable": "http",
    "RetryPolicy": "http",
    "CachedToken": "tokens",
    "InMemoryTokenStore": "tokens",
    "TokenProvider": "auth",
    "TokenStore": "tokens",
    "ConnectClient": "connect",
    "ImportResult": "connect",
    "JobClient": "jobs",
    "JobDto": "jobs",
    "JobLogEntry": "jobs",
    "JobStatus": "jobs",
    "QueryClient": "query",
    "odata_literal": "query",
    "NorceClients": "factory",
}

__all__ = [
    "CachedToken",
    "ConnectClient",
    "DeadlineExceeded",
    "ImportResult",
    "InMemoryTokenStore",
    "JobClient",
    "JobDto",
    "JobLogEntry",
    "JobStatus",
    "NorceAuthError",
    "NorceClients",
    "NorceError",
    "NorceHTTPError",
    "NorceHttp",
    "NorceRateLimited",
    "NorceUnavailable",
    "QueryClient",
    "RetryPolicy",
    "TokenProvider",
    "TokenStore",
    "odata_literal",
]

if TYPE_CHECKING:
    from norcekit.norce.auth import TokenProvider
    from norcekit.norce.connect import ConnectClient, ImportResult
    from norcekit.norce.factory import NorceClients
    from norcekit.norce.http import (
        DeadlineExceeded,
        NorceAuthError,
        NorceError,
        NorceHttp,
        NorceHTTPError,
        NorceRateLimited,
        NorceUnavailable,
        RetryPolicy,
    )
    from norcekit.norce.jobs import JobClient, JobDto, JobLogEntry, JobStatus
    from norcekit.norce.query import QueryClient, odata_literal
    from norcekit.norce.tokens import CachedToken, InMemoryTokenStore, TokenStore


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
