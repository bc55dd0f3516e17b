"""Build every Norce client from :class:`~norcekit.settings.Settings` in one call.

Credentials come from ``NORCE_CLIENT_ID``/``NORCE_CLIENT_SECRET`` or, in AWS, from the Secrets
Manager secret ``NORCE_CREDENTIALS_SECRET_ARN`` holding ``{"client_id": ..., "client_secret": ...}``
(read through Powertools Parameters, cached 5 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from norcekit.norce.auth import TokenProvider, TokenStore
from norcekit.norce.connect import ConnectClient
from norcekit.norce.http import NorceHttp
from norcekit.norce.jobs import JobClient
from norcekit.norce.query import QueryClient
from norcekit.settings import Settings, SettingsError

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


def resolve_credentials(settings: Settings) -> tuple[str, SecretStr]:
    """(client_id, client_secret) from settings, or from the configured Secrets Manager secret."""
    if settings.norce_client_id and settings.norce_client_secret:
        return settings.norce_client_id, settings.norce_client_secret
    arn = settings.norce_credentials_secret_arn
    if not arn:
        raise SettingsError(
            "NORCE_CLIENT_ID + NORCE_CLIENT_SECRET (or NORCE_CREDENTIALS_SECRET_ARN): required"
        )
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 (boto3 only when used)

    try:
        secret: Any = parameters.get_secret(arn, transform="json", max_age=SECRET_MAX_AGE_S)
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


def build_norce_clients(
    settings: Settings,
    *,
    token_store: TokenStore | None = None,
    http_client: httpx.Client | None = None,
    http: NorceHttp | None = None,
) -> NorceClients:
    """Clients wired to one :class:`NorceHttp` and one :class:`TokenProvider`.

    ``token_store`` shares the token across processes (``DynamoTokenStore`` in Lambda); without
    it tokens are shared by this process only. ``http_client``/``http`` let tests inject transports.
    Raises :class:`SettingsError` naming every missing variable.
    """
    settings.require_norce()
    assert settings.norce_application_id is not None  # checked by require_norce
    client_id, client_secret = resolve_credentials(settings)
    http = http or NorceHttp.from_settings(settings, client=http_client)
    tokens = TokenProvider(
        http,
        token_url=settings.token_url,
        client_id=client_id,
        client_secret=client_secret,
        scope=settings.oauth_scope,
        store=token_store,
    )
    application_id = settings.norce_application_id
    return NorceClients(
        http=http,
        tokens=tokens,
        connect=ConnectClient(
            http, tokens, connect_base_url=settings.connect_base_url, application_id=application_id
        ),
        jobs=JobClient(
            http,
            tokens,
            connect_base_url=settings.connect_base_url,
            application_id=application_id,
            get_path=settings.norce_job_get_path,
            log_path=settings.norce_job_log_path,
            restart_path=settings.norce_job_restart_path,
        ),
        query=QueryClient(
            http,
            tokens,
            query_base_url=settings.query_base_url,
            application_id=application_id,
            max_url_length=settings.query_max_url_length,
        ),
    )
