"""Credentials for HTTP sources: secret references and bearer / basic / OAuth2 client-credentials auth.

Secrets never appear in configuration files: a :class:`SecretRef` names an environment variable or a
Secrets Manager secret (optionally a key of a JSON secret), resolved when the source is built.

OAuth2 tokens are cached per process (keyed by token URL, client id and scope) until shortly before
they expire, so warm Lambda invocations reuse them; a 401 from the API drops the cached token and
the request is retried once with a fresh one.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from norcekit.deadline import Deadline
from norcekit.imports.sources.base import SourceError
from norcekit.imports.sources.paging import check_transport
from norcekit.norce.http import NorceError, NorceHttp
from norcekit.secrets import SecretValueError, secret_value

#: Refresh a cached token this long before it expires.
TOKEN_EXPIRY_MARGIN_S = 60.0


class SecretRef(BaseModel):
    """Where a secret lives: ``env`` (variable name) or ``secret_arn`` (+ ``key`` for JSON secrets;
    ``bc.client_secret`` walks nested objects, see :func:`norcekit.secrets.secret_value`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    secret_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:secretsmanager:")
    key: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.secret_arn is None):
            raise ValueError("set exactly one of 'env' (variable name) or 'secret_arn'")
        if self.key is not None and self.secret_arn is None:
            raise ValueError("'key' applies only to a Secrets Manager secret holding JSON")
        return self

    def describe(self) -> str:
        if self.env:
            return f"environment variable {self.env}"
        return f"secret {self.secret_arn}" + (f" key {self.key!r}" if self.key else "")


SecretFetcher = Callable[[str], str]


def resolve_secret(ref: SecretRef, *, fetch: SecretFetcher | None = None) -> str:
    """The secret's value; :class:`SourceError` naming the reference (never the value) if unavailable."""
    if ref.env:
        value = os.environ.get(ref.env)
        if not value:
            raise SourceError(f"{ref.describe()} is not set")
        return value
    assert ref.secret_arn is not None
    if fetch is None:
        raise SourceError(
            f"{ref.describe()}: no secret reader given (the process's comes from norcekit.wiring)"
        )
    try:
        raw = fetch(ref.secret_arn)
    except SourceError:
        raise
    except Exception as exc:  # boto3/Powertools raise many types; the message is what matters
        raise SourceError(f"cannot read {ref.describe()}: {type(exc).__name__}") from exc
    if ref.key is None:
        return raw
    try:
        return secret_value(raw, ref.key)
    except SecretValueError as exc:
        raise SourceError(f"{ref.describe()}: {exc}") from None


# --- Auth options -------------------------------------------------------------------------------


class NoAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["none"] = "none"


class BearerAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["bearer"]
    token: SecretRef


class BasicAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["basic"]
    username: str = Field(min_length=1)
    password: SecretRef


class OAuth2ClientCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(pattern=r"^https?://")
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    scope: str | None = None


AuthOptions = Annotated[
    NoAuth | BearerAuth | BasicAuth | OAuth2ClientCredentials, Field(discriminator="type")
]


# --- Authenticators -----------------------------------------------------------------------------


class Authenticator(Protocol):
    def headers(self, http: NorceHttp, deadline: Deadline) -> dict[str, str]:
        """Headers to add to each request (may fetch a token)."""
        ...

    def invalidate(self) -> None:
        """Forget cached credentials after a 401."""
        ...


class StaticAuth:
    """Fixed headers (none, bearer, basic)."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def headers(self, http: NorceHttp, deadline: Deadline) -> dict[str, str]:
        return dict(self._headers)

    def invalidate(self) -> None:
        return None


@dataclass
class _CachedToken:
    access_token: str
    expires_at: float  # time.monotonic()


_TOKENS: dict[tuple[str, str, str], _CachedToken] = {}
_TOKENS_LOCK = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests)."""
    with _TOKENS_LOCK:
        _TOKENS.clear()


class ClientCredentialsAuth:
    """OAuth2 client credentials (RFC 6749 §4.4) with a per-process token cache.

    Microsoft Entra ID (Business Central) and most ERP identity servers accept the form POST
    ``grant_type=client_credentials&client_id=..&client_secret=..&scope=..``.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_transport(token_url, f"token URL of client {client_id}")
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self._clock = clock
        self._cache_key = (token_url, client_id, scope or "")

    def headers(self, http: NorceHttp, deadline: Deadline) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token(http, deadline)}"}

    def invalidate(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key, None)

    def _token(self, http: NorceHttp, deadline: Deadline) -> str:
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._cache_key)
        if cached is not None and cached.expires_at > self._clock():
            return cached.access_token
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        try:
            response = http.request("POST", self.token_url, deadline=deadline, idempotent=True, data=form)
        except NorceError as exc:
            raise SourceError(
                f"token request to {self.token_url} for client {self.client_id} failed: {exc}"
            ) from exc
        try:
            body: Any = orjson.loads(response.content)
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise SourceError(f"token response from {self.token_url} has no access_token") from None
        entry = _CachedToken(token, self._clock() + max(0.0, lifetime - TOKEN_EXPIRY_MARGIN_S))
        with _TOKENS_LOCK:
            _TOKENS[self._cache_key] = entry
        return token


def build_authenticator(options: Any, *, fetch_secret: SecretFetcher | None = None) -> Authenticator:
    """An :class:`Authenticator` for validated auth options (secrets resolved now)."""
    if isinstance(options, BearerAuth):
        return StaticAuth({"Authorization": f"Bearer {resolve_secret(options.token, fetch=fetch_secret)}"})
    if isinstance(options, BasicAuth):
        password = resolve_secret(options.password, fetch=fetch_secret)
        pair = base64.b64encode(f"{options.username}:{password}".encode()).decode()
        return StaticAuth({"Authorization": f"Basic {pair}"})
    if isinstance(options, OAuth2ClientCredentials):
        secret = resolve_secret(options.client_secret, fetch=fetch_secret)
        return ClientCredentialsAuth(options.token_url, options.client_id, secret, options.scope)
    return StaticAuth({})
