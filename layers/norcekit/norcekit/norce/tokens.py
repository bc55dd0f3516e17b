"""What the token provider keeps and shares: client credentials, cached tokens, the token store.

:class:`TokenStore` is the cross-process cache with a refresh lease (DynamoDB in AWS:
``norcekit.state.token_store``; :class:`InMemoryTokenStore` for tests and single-process tools);
:class:`CredentialsSource` is where the client id and secret are read (again after a rotation).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import httpx
from pydantic import SecretStr


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth2 client id and secret (the secret never printed)."""

    client_id: str
    client_secret: SecretStr

    def same_as(self, other: ClientCredentials) -> bool:
        return (
            self.client_id == other.client_id
            and self.client_secret.get_secret_value() == other.client_secret.get_secret_value()
        )


class CredentialsSource(Protocol):
    """Where the client credentials live. ``refresh=True`` bypasses any cache (a rotation happened)."""

    def __call__(self, *, refresh: bool = False) -> ClientCredentials: ...


class StaticCredentials:
    """Fixed credentials (environment variables, tests): a re-read finds nothing new."""

    def __init__(self, credentials: ClientCredentials) -> None:
        self._credentials = credentials

    def __call__(self, *, refresh: bool = False) -> ClientCredentials:
        return self._credentials


@dataclass(frozen=True)
class CachedToken:
    """An access token and its expiry (epoch seconds, wall clock: it is shared across machines)."""

    access_token: SecretStr
    expires_at: float

    def valid_for(self, now: float) -> float:
        return self.expires_at - now


@runtime_checkable
class TokenStore(Protocol):
    """Shared token cache with a refresh lease so only one caller fetches a new token.

    Implementations: :class:`InMemoryTokenStore` (tests, CLI) and
    ``norcekit.state.token_store.DynamoTokenStore`` (Lambda).
    """

    def load(self) -> CachedToken | None:
        """The stored token, or ``None``."""
        ...

    def try_acquire_refresh(self, owner: str, lease_s: float) -> bool:
        """Take the refresh lease unless another owner holds an unexpired one (conditional write)."""
        ...

    def save(self, token: CachedToken, owner: str) -> None:
        """Store ``token`` and release ``owner``'s lease."""
        ...

    def release(self, owner: str) -> None:
        """Release ``owner``'s lease without saving (the refresh failed)."""
        ...


def token_cache_key(token_url: str, client_id: str) -> str:
    """Stable key of one (host, client) token, e.g. for ``TOKEN#<key>`` (no secret in it)."""
    host = httpx.URL(token_url).host
    return hashlib.sha256(f"{host}{client_id}".encode()).hexdigest()[:16]


class InMemoryTokenStore:
    """Thread-safe :class:`TokenStore` for tests and single-process tools."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._token: CachedToken | None = None
        self._lease_owner: str | None = None
        self._lease_until = 0.0
        self._clock = clock

    def load(self) -> CachedToken | None:
        with self._lock:
            return self._token

    def try_acquire_refresh(self, owner: str, lease_s: float) -> bool:
        with self._lock:
            now = self._clock()
            if self._lease_owner not in (None, owner) and self._lease_until > now:
                return False
            self._lease_owner, self._lease_until = owner, now + lease_s
            return True

    def save(self, token: CachedToken, owner: str) -> None:
        with self._lock:
            self._token = token
            if self._lease_owner == owner:
                self._lease_owner = None

    def release(self, owner: str) -> None:
        with self._lock:
            if self._lease_owner == owner:
                self._lease_owner = None


__all__ = [
    "CachedToken",
    "ClientCredentials",
    "CredentialsSource",
    "InMemoryTokenStore",
    "StaticCredentials",
    "TokenStore",
    "token_cache_key",
]
