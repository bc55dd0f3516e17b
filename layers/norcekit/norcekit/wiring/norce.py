"""The Norce clients of a process: one connection pool, one token provider, one token store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from norcekit.norce.auth import TokenProvider
from norcekit.norce.connect import ConnectClient
from norcekit.norce.credentials import SecretsManagerCredentials
from norcekit.norce.factory import NorceClients, resolve_credentials
from norcekit.norce.http import NorceHttp
from norcekit.norce.jobs import JobClient
from norcekit.norce.query import QueryClient
from norcekit.norce.tokens import CredentialsSource, TokenStore, token_cache_key
from norcekit.state.table import StateTable
from norcekit.state.token_store import DynamoTokenStore

if TYPE_CHECKING:
    import httpx
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from norcekit.settings import Settings


def build_norce_clients(
    settings: Settings,
    *,
    token_store: TokenStore | None = None,
    http_client: httpx.Client | None = None,
    http: NorceHttp | None = None,
    secrets: SecretsProvider | None = None,
) -> NorceClients:
    """Clients wired to one :class:`NorceHttp` and one :class:`TokenProvider`.

    ``token_store`` shares the token across processes (:func:`build_token_store`); without it
    tokens are shared by this process only. ``secrets`` reads ``NORCE_CREDENTIALS_SECRET_ARN``;
    ``http_client``/``http`` let tests inject transports. Raises :class:`SettingsError` naming every
    missing variable.
    """
    settings.require_norce()
    assert settings.norce_application_id is not None  # checked by require_norce
    client_id, client_secret = resolve_credentials(settings, secrets=secrets)
    http = http or NorceHttp.from_settings(settings, client=http_client)
    tokens = TokenProvider(
        http,
        token_url=settings.token_url,
        client_id=client_id,
        client_secret=client_secret,
        scope=settings.oauth_scope,
        store=token_store,
        credentials=_credentials_source(settings, secrets),
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
            key_filter=settings.query_key_filter,
        ),
    )


def _credentials_source(settings: Settings, secrets: SecretsProvider | None) -> CredentialsSource | None:
    """Where a refused client secret is re-read (a rotation): the secret, unless set in the env."""
    arn = settings.norce_credentials_secret_arn
    if not arn or secrets is None or (settings.norce_client_id and settings.norce_client_secret):
        return None
    return SecretsManagerCredentials(arn, provider=secrets)


def build_token_store(
    settings: Settings, table: StateTable, *, secrets: SecretsProvider | None = None
) -> DynamoTokenStore:
    """The token shared through the state table by every container and the CLI (rate limit).

    ``table`` should be the token store's own :class:`StateTable`: a refresh may run on a poll thread.
    """
    client_id, _ = resolve_credentials(settings, secrets=secrets)
    return DynamoTokenStore(table, token_cache_key(settings.token_url, client_id))


__all__ = ["NorceClients", "build_norce_clients", "build_token_store"]
