"""The token endpoint: client credentials, the token bucket Norce puts in front of it, bearer checks.

Norce allows 3 token requests a minute per IP with a burst of 20 (norce-api.md §3, §6); the
emulator does the same by default (``token_rate_limit_per_minute``/``token_burst``), so a kit that
fetched a token per call would be refused here before it is refused in production.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from .config import EmulatorConfig
from .errors import ApiError


class TokenIssuer:
    """Mixin of :class:`~norce_emulator.core.EmulatorCore`: token state lives on the emulator."""

    config: EmulatorConfig
    lock: threading.RLock
    _tokens: dict[str, datetime]
    _token_requests: int
    _tokens_issued: int
    _bucket_tokens: float
    _bucket_at: float

    def now(self) -> datetime:
        raise NotImplementedError

    def _reset_bucket(self) -> None:
        self._bucket_tokens = float(self.config.token_burst)
        self._bucket_at = time.monotonic()

    def _take_rate_token(self) -> float | None:
        """Token bucket for the token endpoint; returns seconds to wait when empty."""
        per_minute = self.config.token_rate_limit_per_minute
        if per_minute is None:
            return None
        rate = per_minute / 60.0
        now = time.monotonic()
        self._bucket_tokens = min(
            float(self.config.token_burst), self._bucket_tokens + (now - self._bucket_at) * rate
        )
        self._bucket_at = now
        if self._bucket_tokens >= 1.0:
            self._bucket_tokens -= 1.0
            return None
        return (1.0 - self._bucket_tokens) / rate if rate > 0 else 60.0

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        cfg = self.config
        with self.lock:
            self._token_requests += 1
            wait = self._take_rate_token()
            if wait is not None:
                raise ApiError(
                    429, {"error": "too_many_requests"}, {"Retry-After": str(max(1, math.ceil(wait)))}
                )
            if form.get("grant_type") != "client_credentials":
                raise ApiError(400, {"error": "unsupported_grant_type"})
            if cfg.client_id is not None and (
                form.get("client_id") != cfg.client_id or form.get("client_secret") != cfg.client_secret
            ):
                raise ApiError(400, {"error": "invalid_client"})
            if cfg.require_scope and form.get("scope") not in cfg.allowed_scopes:
                raise ApiError(400, {"error": "invalid_scope"})
            token = secrets.token_urlsafe(32)
            self._tokens[token] = self.now() + timedelta(seconds=cfg.token_ttl_seconds)
            self._tokens_issued += 1
            return {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": cfg.token_ttl_seconds,
                "scope": form.get("scope"),
            }

    def check_bearer(self, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(
                401,
                {"error": "unauthorized", "message": "Missing bearer token"},
                {"WWW-Authenticate": "Bearer"},
            )
        token = authorization[len("Bearer ") :].strip()
        with self.lock:
            expires = self._tokens.get(token)
            if expires is None or expires <= self.now():
                raise ApiError(
                    401,
                    {"error": "invalid_token", "message": "Token is unknown or expired"},
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )

    @property
    def token_request_count(self) -> int:
        """Every POST to the token endpoint, including rejected and rate-limited ones."""
        with self.lock:
            return self._token_requests

    @property
    def tokens_issued(self) -> int:
        with self.lock:
            return self._tokens_issued

    def issued_tokens(self) -> list[str]:
        """The access token values handed out (tests check that none of them reaches a log line)."""
        with self.lock:
            return list(self._tokens)
