"""OAuth2 client-credentials tokens for Norce, shared across threads and Lambda containers.

Norce's token endpoint allows ~3 requests/min per IP (norce-api.md §3, §6), so a token is cached in
memory, then in a shared :class:`TokenStore` (DynamoDB in AWS: ``norcekit.state.token_store``), and
fetched only when both are stale. Refreshing starts ``refresh_margin_s`` before expiry and is done
by exactly one caller at a time: within a process a ``threading.Lock``, across processes a lease in
the store (``try_acquire_refresh``). Callers that lose the race keep using the still-valid old token,
or, when there is none, poll the store until the winner saved the new one (bounded by their deadline).

**Rotation.** The client credentials come from a :class:`CredentialsSource` (Secrets Manager in AWS:
``norce.credentials``). When the token endpoint refuses them (400 ``invalid_client`` or 401), they
are read again bypassing any cache, at most once per ``reread_interval_s``, and the token request is
repeated once if they changed; so a warm container follows a rotated secret instead of failing
until it is recycled.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson
from aws_lambda_powertools import Logger
from pydantic import SecretStr

from norcekit.deadline import Deadline
from norcekit.norce.http import (
    DeadlineExceeded,
    NorceAuthError,
    NorceError,
    NorceHttp,
    RequestContent,
)
from norcekit.norce.tokens import (
    CachedToken,
    ClientCredentials,
    CredentialsSource,
    TokenStore,
)

logger = Logger(service="norcekit", child=True)

#: A token this close to expiry is not handed out at all (a request must still reach Norce in time).
MIN_USABLE_S = 5.0
#: A fetch under the refresh lease stops this long before the lease ends (clock skew, the save).
LEASE_MARGIN_S = 5.0
#: Minimum seconds between forced credential re-reads after the token endpoint refused them.
CREDENTIALS_REREAD_INTERVAL_S = 60.0


class TokenProvider:
    """Hands out a valid bearer token: memory cache → shared store → token endpoint."""

    def __init__(
        self,
        http: NorceHttp,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str,
        store: TokenStore | None = None,
        credentials: CredentialsSource | None = None,
        reread_interval_s: float = CREDENTIALS_REREAD_INTERVAL_S,
        refresh_margin_s: float = 60.0,
        lease_s: float = 30.0,
        poll_interval_s: float = 0.1,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``client_id``/``client_secret`` are the credentials read at start; ``credentials`` is
        where they are read again after the token endpoint refused them (none: never re-read)."""
        self.http = http
        self.token_url = token_url
        self._credentials = ClientCredentials(client_id, client_secret)
        self._source = credentials
        self.reread_interval_s = reread_interval_s
        self._last_reread: float | None = None
        self._monotonic = monotonic
        self.scope = scope
        self.store = store
        self.refresh_margin_s = refresh_margin_s
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self._now = wall_clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._cached: CachedToken | None = None
        #: Token values Norce answered 401 to: never handed out again, even if the store has them.
        self._rejected: set[str] = set()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        #: Token endpoint calls made by this provider (tests, metrics).
        self.fetches = 0
        #: Forced credential re-reads after a refusal (tests, metrics).
        self.credential_rereads = 0

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    def token(self, deadline: Deadline) -> str:
        """A bearer token valid for at least a few more seconds."""
        cached = self._cached
        if cached is not None and self._fresh(cached):
            return cached.access_token.get_secret_value()
        if not self._lock.acquire(timeout=_lock_timeout(deadline)):
            raise DeadlineExceeded("waiting for another thread to refresh the Norce token")
        try:
            return self._token_locked(deadline).access_token.get_secret_value()
        finally:
            self._lock.release()

    def invalidate(self, token: str) -> None:
        """Norce rejected ``token`` (401): the next :meth:`token` call fetches a new one."""
        with self._lock:
            self._rejected.add(token)
            if self._cached is not None and self._cached.access_token.get_secret_value() == token:
                self._cached = None

    # --- internals ------------------------------------------------------------------------------

    def _fresh(self, token: CachedToken) -> bool:
        return token.valid_for(self._now()) > self.refresh_margin_s and not self._is_rejected(token)

    def _usable(self, token: CachedToken | None) -> bool:
        return (
            token is not None and token.valid_for(self._now()) > MIN_USABLE_S and not self._is_rejected(token)
        )

    def _is_rejected(self, token: CachedToken) -> bool:
        return token.access_token.get_secret_value() in self._rejected

    def _token_locked(self, deadline: Deadline) -> CachedToken:
        if self._cached is not None and self._fresh(self._cached):
            return self._cached  # another thread refreshed while we waited for the lock
        if self.store is None:
            self._cached = self._fetch(deadline)
            return self._cached
        while True:
            stored = self.store.load()
            if stored is not None and self._fresh(stored):
                self._cached = stored
                return stored
            if self.store.try_acquire_refresh(self.owner, self.lease_s):
                return self._refresh_with_lease(deadline)
            # Someone else is refreshing: an old token that still works is good enough meanwhile.
            if stored is not None and self._usable(stored):
                self._cached = stored
                return stored
            if deadline.remaining() <= self.poll_interval_s:
                raise DeadlineExceeded("waiting for another process to refresh the Norce token")
            self._sleep(self.poll_interval_s)

    def _refresh_with_lease(self, deadline: Deadline) -> CachedToken:
        assert self.store is not None
        try:
            stored = self.store.load()  # the previous lease holder may have saved just now
            if stored is not None and self._fresh(stored):
                self.store.release(self.owner)
                self._cached = stored
                return stored
            token = self._fetch(self._within_lease(deadline))
        except BaseException:
            self.store.release(self.owner)
            raise
        self.store.save(token, self.owner)
        self._cached = token
        return token

    def _within_lease(self, deadline: Deadline) -> Deadline:
        """``deadline``, shortened to end before our refresh lease does.

        The lease is never renewed: a fetch retried past it (the token endpoint's 429 asks for long
        waits) would let another container fetch at the same time, into the same rate limit.
        """
        lease_left = max(0.0, self.lease_s - min(LEASE_MARGIN_S, self.lease_s / 5))
        if deadline.remaining() <= lease_left:
            return deadline
        return Deadline.after(lease_left, clock=self._now)  # the lease runs on the wall clock

    def _fetch(self, deadline: Deadline) -> CachedToken:
        """A new token; refused credentials are re-read (rate-limited) and tried once more."""
        try:
            return self._fetch_with(self._credentials, deadline)
        except NorceAuthError as exc:
            if exc.status not in (400, 401):
                raise
            fresh = self._reread_credentials()
            if fresh is None:
                raise
            logger.info(
                "norce token endpoint refused the credentials; trying the re-read ones",
                extra={"status": exc.status, "client_id": fresh.client_id},
            )
            return self._fetch_with(fresh, deadline)

    def _reread_credentials(self) -> ClientCredentials | None:
        """Credentials read again from their source, or ``None`` when rate-limited/unchanged/failed."""
        if self._source is None:
            return None
        now = self._monotonic()
        if self._last_reread is not None and now - self._last_reread < self.reread_interval_s:
            return None
        self._last_reread = now  # a failed re-read counts too: no storm against Secrets Manager
        self.credential_rereads += 1
        try:
            fresh = self._source(refresh=True)
        except Exception as exc:  # the store is the source's business; the refusal is what we report
            logger.warning("norce credentials could not be re-read", extra={"error": type(exc).__name__})
            return None
        if fresh.same_as(self._credentials):
            return None
        self._credentials = fresh
        return fresh

    def _fetch_with(self, credentials: ClientCredentials, deadline: Deadline) -> CachedToken:
        """POST the client-credentials grant; 429/5xx/connection errors are retried by NorceHttp."""
        self.fetches += 1
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.get_secret_value(),
            "scope": self.scope,
        }
        try:
            # Fetching a token twice is harmless (only the rate limit cares), so it is retried freely.
            response = self.http.request(
                "POST",
                self.token_url,
                deadline=deadline,
                idempotent=True,
                data=form,
                headers={"Accept": "application/json"},
            )
        except NorceAuthError:
            raise
        except NorceError as exc:
            status = getattr(exc, "status", None)
            if status in (400, 401, 403):  # OAuth2 invalid_client / invalid_scope answers are 400
                raise NorceAuthError(status, "POST", self.token_url, getattr(exc, "body", "")) from exc
            raise
        try:
            payload: Any = orjson.loads(response.content)
            access_token = str(payload["access_token"])
            expires_in = float(payload.get("expires_in", 3600))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise NorceAuthError(
                response.status_code, "POST", self.token_url, "token response without access_token"
            ) from exc
        logger.info("norce token fetched", extra={"expires_in_s": expires_in, "client_id": self.client_id})
        return CachedToken(SecretStr(access_token), self._now() + expires_in)


def _lock_timeout(deadline: Deadline) -> float:
    left = deadline.remaining()
    return -1 if left == float("inf") else left


def authorized_request(
    http: NorceHttp,
    tokens: TokenProvider,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    headers: Mapping[str, str],
    idempotent: bool,
    content_factory: Callable[[], RequestContent] | None = None,
    params: Mapping[str, str | int] | None = None,
    accept_status: tuple[int, ...] = (),
    attempt_timeout: float | None = None,
) -> httpx.Response:
    """Send an authenticated Norce request; on 401 refresh the token once and retry once.

    A 401 means Norce refused the request before acting on it, so the retry is safe even for
    non-idempotent requests (the body comes from ``content_factory`` again).
    """
    token = tokens.token(deadline)
    try:
        return http.request(
            method,
            url,
            deadline=deadline,
            idempotent=idempotent,
            headers={**headers, "Authorization": f"Bearer {token}"},
            params=params,
            content_factory=content_factory,
            accept_status=accept_status,
            attempt_timeout=attempt_timeout,
        )
    except NorceAuthError as exc:
        if exc.status != 401:
            raise
        logger.info("norce answered 401; refreshing the token once", extra={"url": exc.url.split("?")[0]})
        tokens.invalidate(token)
    token = tokens.token(deadline)
    return http.request(
        method,
        url,
        deadline=deadline,
        idempotent=idempotent,
        headers={**headers, "Authorization": f"Bearer {token}"},
        params=params,
        content_factory=content_factory,
        accept_status=accept_status,
        attempt_timeout=attempt_timeout,
    )


__all__ = ["TokenProvider", "authorized_request"]
