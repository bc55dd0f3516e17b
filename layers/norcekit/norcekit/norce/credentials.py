"""Norce client credentials kept in Secrets Manager, as a :class:`~norcekit.norce.tokens.CredentialsSource`.

The secret holds ``{"client_id": ..., "client_secret": ...}``. Reads go through a Powertools
``SecretsProvider`` and are cached ``max_age`` seconds; ``refresh=True`` (the token endpoint refused
the cached ones: a rotation) bypasses the cache. The composition root builds one per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from norcekit.norce.tokens import ClientCredentials
from norcekit.observability import register_secret

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

#: How long a secret fetched from Secrets Manager is reused before it is read again.
SECRET_MAX_AGE_S = 300


class CredentialsUnavailable(Exception):  # noqa: N818 - reads as a state, like the kit's other errors
    """The secret could not be read or does not hold a client id and secret (message names no value)."""


class SecretsManagerCredentials:
    """Reads the Norce client credentials from one Secrets Manager secret."""

    def __init__(
        self, secret_arn: str, *, provider: SecretsProvider, max_age: int = SECRET_MAX_AGE_S
    ) -> None:
        self.secret_arn = secret_arn
        self.max_age = max_age
        self.provider = provider

    def __call__(self, *, refresh: bool = False) -> ClientCredentials:
        try:
            secret: Any = self.provider.get(
                self.secret_arn, transform="json", max_age=self.max_age, force_fetch=refresh
            )
        except Exception as exc:  # Powertools/boto3 raise many types; the kind is what matters
            raise CredentialsUnavailable(
                f"Norce credentials secret {self.secret_arn} could not be read ({type(exc).__name__})"
            ) from None
        client_id = secret.get("client_id") if isinstance(secret, dict) else None
        client_secret = secret.get("client_secret") if isinstance(secret, dict) else None
        if not client_id or not client_secret:
            raise CredentialsUnavailable(
                f"Norce credentials secret {self.secret_arn} must be JSON "
                '{"client_id": ..., "client_secret": ...}'
            )
        register_secret(str(client_secret))  # masked in every log line from now on
        return ClientCredentials(str(client_id), SecretStr(str(client_secret)))
