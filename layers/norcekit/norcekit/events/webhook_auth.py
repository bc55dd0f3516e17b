"""Webhook authentication: the static secret header Norce Admin sends, checked against every
accepted secret (DESIGN rule 8).

The accepted secrets are a JSON list in Secrets Manager, so old and new overlap during a rotation.
They are compared in constant time. On a miss the list is re-read, bypassing the cache (a rotation
inside the cache window), at most once per ``refresh_interval_s`` per container: wrong guesses must
not cost a GetSecretValue each, and a new secret is accepted at most that long after it is added.
When Secrets Manager fails after a list was read once, the last list read decides (a wrong header
looks like a missing one); only before any list was read does :class:`SecretsUnavailable` escape.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from norcekit.observability import register_secret

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

logger = Logger(service="norcekit", child=True)

DEFAULT_SECRET_HEADER = "X-Norce-Webhook-Secret"  # noqa: S105 - a header name
#: How long accepted secrets are cached before Secrets Manager is asked again.
SECRETS_MAX_AGE_S = 300
#: Minimum seconds between forced re-reads on a wrong secret (per container).
SECRET_REFRESH_INTERVAL_S = 30.0


class SecretSource(Protocol):
    def secrets(self, *, refresh: bool = False) -> list[str]:
        """Accepted secrets; ``refresh=True`` bypasses any cache."""
        ...


class SecretsUnavailable(Exception):  # noqa: N818
    """The accepted secrets could not be read. Before any list was read → 503, never 401: the
    caller may be legitimate; afterwards the last list read decides."""


def parse_secret_list(value: Any) -> list[str]:
    """A JSON list of strings (``["new", "old"]``); a single string is accepted as a list of one."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise SecretsUnavailable("webhook secret is not valid JSON") from None
        else:
            return [text] if text else []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise SecretsUnavailable("webhook secret must be a JSON list of strings")
    return [s for s in value if s]


class SecretsManagerSecrets:
    """Accepted secrets from Secrets Manager via Powertools Parameters (cached ``max_age`` seconds)."""

    def __init__(
        self, secret_arn: str, *, provider: SecretsProvider, max_age: int = SECRETS_MAX_AGE_S
    ) -> None:
        self.secret_arn = secret_arn
        self.max_age = max_age
        self.provider = provider

    def secrets(self, *, refresh: bool = False) -> list[str]:
        try:
            raw = self.provider.get(self.secret_arn, max_age=self.max_age, force_fetch=refresh)
        except Exception as exc:
            raise SecretsUnavailable(type(exc).__name__) from None
        secrets = parse_secret_list(raw)
        for secret in secrets:
            register_secret(secret)  # masked in every log line from now on
        return secrets


class StaticSecrets:
    """Fixed secrets (local stack, tests)."""

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = list(secrets)
        self.fetches = 0

    def secrets(self, *, refresh: bool = False) -> list[str]:
        self.fetches += 1
        return list(self._secrets)


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    lower = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == lower:
            return value
    return None


class WebhookAuthenticator:
    """Decides whether a request carries an accepted secret (see the module docstring)."""

    def __init__(
        self,
        secrets: SecretSource,
        *,
        header: str = DEFAULT_SECRET_HEADER,
        refresh_interval_s: float = SECRET_REFRESH_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = secrets
        self.header = header
        self.refresh_interval_s = refresh_interval_s
        self._monotonic = monotonic
        self._last_refresh: float | None = None
        self._last_secrets: list[str] | None = None
        self._refresh_lock = threading.Lock()

    def authenticate(self, headers: Mapping[str, str] | None) -> bool:
        """Constant-time compare against every accepted secret; on a miss re-read the list, at most
        once per refresh interval. Raises :class:`SecretsUnavailable` only when no list can be read."""
        provided = header_value(headers, self.header)
        if not provided:
            return False
        return self.accepts(provided)

    def accepts(self, provided: str) -> bool:
        """Whether ``provided`` is one of the accepted secrets (same rules as :meth:`authenticate`;
        the order receiver passes ``username:password`` from a Basic Authorization header)."""
        try:
            secrets = self._last_secrets = self.source.secrets()
        except SecretsUnavailable as exc:
            if self._last_secrets is None:
                raise
            logger.warning("webhook secrets unavailable, using the last list read", extra={"error": str(exc)})
            return self._matches(provided, self._last_secrets)
        if self._matches(provided, secrets):
            return True
        refreshed = self._refreshed_secrets()
        return refreshed is not None and self._matches(provided, refreshed)

    def _refreshed_secrets(self) -> list[str] | None:
        """The re-read list, or ``None`` when rate-limited, another caller is re-reading, or it failed."""
        if not self._refresh_lock.acquire(blocking=False):
            return None
        try:
            now = self._monotonic()
            if self._last_refresh is not None and now - self._last_refresh < self.refresh_interval_s:
                return None
            self._last_refresh = now  # a failed re-read counts too: no retry storm against Secrets Manager
            try:
                self._last_secrets = self.source.secrets(refresh=True)
                return self._last_secrets
            except SecretsUnavailable as exc:
                # The cached list just answered: the caller is unauthenticated (401), not us broken.
                logger.warning("webhook secret refresh failed", extra={"error": str(exc)})
                return None
        finally:
            self._refresh_lock.release()

    @staticmethod
    def _matches(provided: str, secrets: list[str]) -> bool:
        candidate = provided.encode()
        matched = False
        for secret in secrets:  # no early exit: timing does not reveal which secret matched
            matched |= hmac.compare_digest(candidate, secret.encode())
        return matched
