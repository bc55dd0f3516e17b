"""The Norce boundary of one process (:class:`NorceClients`) and where its credentials come from.

Credentials come from ``NORCE_CLIENT_ID``/``NORCE_CLIENT_SECRET`` or, in AWS, from the Secrets
Manager secret ``NORCE_CREDENTIALS_SECRET_ARN`` holding ``{"client_id": ..., "client_secret": ...}``
(read through a Powertools ``SecretsProvider``, cached 5 minutes). The clients are built by the
composition root, :func:`norcekit.wiring.build_norce_clients`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from norcekit.norce.auth import TokenProvider
from norcekit.norce.connect import ConnectClient
from norcekit.norce.http import NorceHttp
from norcekit.norce.jobs import JobClient
from norcekit.norce.query import QueryClient
from norcekit.settings import Settings, SettingsError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

#: How long a secret fetched from Secrets Manager is reused before it is read again.
SECRET_MAX_AGE_S = 300


@dataclass
class NorceClients:
    """The Norce boundary of one process: share it across invocations (one pool, one token)."""

    http: NorceHttp
    tokens: TokenProvider
    connect: ConnectClient
    jobs: JobClient
    query: QueryClient

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> NorceClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_credentials(
    settings: Settings, *, secrets: SecretsProvider | None = None
) -> tuple[str, SecretStr]:
    """(client_id, client_secret) from settings, or from the configured Secrets Manager secret.

    ``secrets`` is the process's provider (:meth:`norcekit.wiring.AwsClients.secrets_provider`),
    required when the secret is read: this module never builds an AWS client of its own.
    """
    if settings.norce_client_id and settings.norce_client_secret:
        return settings.norce_client_id, settings.norce_client_secret
    arn = settings.norce_credentials_secret_arn
    if not arn:
        raise SettingsError(
            "NORCE_CLIENT_ID + NORCE_CLIENT_SECRET (or NORCE_CREDENTIALS_SECRET_ARN): required"
        )
    if secrets is None:
        raise SettingsError("NORCE_CREDENTIALS_SECRET_ARN: no Secrets Manager provider given (wiring)")
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - boto3 only when a secret is read

    try:
        secret: Any = secrets.get(arn, transform="json", max_age=SECRET_MAX_AGE_S)
    except parameters.exceptions.TransformParameterError:
        raise SettingsError("NORCE_CREDENTIALS_SECRET_ARN: the secret is not JSON") from None
    except parameters.exceptions.GetParameterError as exc:
        raise SettingsError(f"NORCE_CREDENTIALS_SECRET_ARN: secret could not be read ({exc})") from exc
    client_id = secret.get("client_id") if isinstance(secret, dict) else None
    client_secret = secret.get("client_secret") if isinstance(secret, dict) else None
    if not client_id or not client_secret:
        raise SettingsError(
            'NORCE_CREDENTIALS_SECRET_ARN: secret must be JSON {"client_id": ..., "client_secret": ...}'
        )
    return str(client_id), SecretStr(str(client_secret))
