"""Basic authentication of Norce's calls to the Order Receiver Service.

Norce Admin ("ERP integration") holds one username and password and sends them as HTTP Basic
authentication (norce-api.md §7: production must be HTTPS with basic auth). The accepted
credentials live in Secrets Manager, several at once so a rotation overlaps:

* ``{"username": "norce", "password": "..."}`` — one pair (what the template generates);
* ``[{"username": ..., "password": ...}, ...]`` or ``["user:password", ...]`` — several.

The comparison, the cache and the rate-limited re-read on a miss are the webhook secret's
(:class:`~norcekit.events.webhook_auth.WebhookAuthenticator`): ``username:password`` is compared in
constant time against every accepted pair, never stopping at the first match.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from norcekit.events.webhook_auth import (
    SECRET_REFRESH_INTERVAL_S,
    SECRETS_MAX_AGE_S,
    SecretSource,
    SecretsUnavailable,
    WebhookAuthenticator,
    header_value,
)
from norcekit.observability import register_secret

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

#: ``WWW-Authenticate`` on a 401 (RFC 7617).
CHALLENGE = 'Basic realm="norcekit-orders", charset="UTF-8"'


def parse_credentials(value: Any) -> list[str]:
    """The secret's accepted pairs as ``username:password`` strings (formats: module docstring)."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SecretsUnavailable("order receiver credentials are not JSON") from None
    entries = value if isinstance(value, list) else [value]
    pairs: list[str] = []
    for entry in entries:
        if entry == {"username": "", "password": ""}:
            continue  # the template's placeholder: nothing accepted yet (every order gets 401)
        if isinstance(entry, str) and ":" in entry:
            pairs.append(entry)
        elif (
            isinstance(entry, dict)
            and isinstance(entry.get("username"), str)
            and isinstance(entry.get("password"), str)
            and entry["username"]
            and entry["password"]
            and ":" not in entry["username"]
        ):
            pairs.append(f"{entry['username']}:{entry['password']}")
        else:
            raise SecretsUnavailable(
                'order receiver credentials: {"username", "password"} objects or "user:password" strings'
            )
    return pairs


class SecretsManagerCredentials:
    """Accepted pairs from Secrets Manager via the process's Powertools provider (cached)."""

    def __init__(
        self, secret_arn: str, *, provider: SecretsProvider, max_age: int = SECRETS_MAX_AGE_S
    ) -> None:
        self.secret_arn = secret_arn
        self.provider = provider
        self.max_age = max_age

    def secrets(self, *, refresh: bool = False) -> list[str]:
        try:
            raw = self.provider.get(self.secret_arn, max_age=self.max_age, force_fetch=refresh)
        except Exception as exc:
            raise SecretsUnavailable(type(exc).__name__) from None
        pairs = parse_credentials(raw)
        for pair in pairs:
            register_secret(pair.split(":", 1)[1])  # the password is masked in every log line
        return pairs


class StaticCredentials:
    """Fixed pairs (local stack, tests)."""

    def __init__(self, pairs: list[str]) -> None:
        self.pairs = list(pairs)

    def secrets(self, *, refresh: bool = False) -> list[str]:
        return list(self.pairs)


def basic_credentials(headers: Mapping[str, str] | None) -> str | None:
    """``username:password`` from ``Authorization: Basic ...``; ``None`` when absent or malformed."""
    value = header_value(headers, "Authorization")
    if not value:
        return None
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if ":" in decoded else None


class BasicAuthenticator:
    def __init__(
        self,
        source: SecretSource,
        *,
        refresh_interval_s: float = SECRET_REFRESH_INTERVAL_S,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._check = WebhookAuthenticator(
            source, refresh_interval_s=refresh_interval_s, monotonic=monotonic or time.monotonic
        )

    def authenticate(self, headers: Mapping[str, str] | None) -> bool:
        """Raises :class:`SecretsUnavailable` only when no credential list could ever be read."""
        provided = basic_credentials(headers)
        return bool(provided) and self._check.accepts(provided)  # type: ignore[arg-type]


__all__ = [
    "CHALLENGE",
    "BasicAuthenticator",
    "SecretsManagerCredentials",
    "SecretsUnavailable",
    "StaticCredentials",
    "basic_credentials",
    "parse_credentials",
]
