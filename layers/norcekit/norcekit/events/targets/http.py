"""HTTP target: one POST of JSON per document, with an ``Idempotency-Key`` header.

One request per document keeps each delivery independently retryable and idempotent (the key is
stable for the same state, so a receiver can drop duplicates after SQS redelivery).

Failure policy:
- Each attempt ends ``timeout_s`` after it starts (or at the Lambda deadline, if sooner), however
  slowly the target trickles its answer: a total limit, not httpx's per-read one
  (:mod:`norcekit.norce.transport`).
- 2xx → ok.
- 408/429/5xx, timeouts, connection errors → retried with exponential backoff (``Retry-After``
  honoured) while the Lambda deadline allows, then ``retryable_error``: the SQS record fails and
  is redelivered after its visibility timeout.
- 401/403 → the credentials secret is re-read once (rotation), then like any other 4xx:
- other 4xx → ``permanent_error``. The record still fails (it is *not* dropped or quarantined):
  SQS redelivers it up to ``maxReceiveCount`` times and then moves it to the DLQ, from where
  ``norcekit events redrive`` sends it again once the target is fixed. Quarantine is reserved for
  payloads that were invalid when they arrived; a 4xx from a target is usually a target problem.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import orjson

from norcekit.deadline import Deadline
from norcekit.events.config import HttpTargetConfig
from norcekit.events.targets.base import DeliveryResult, TargetDocument
from norcekit.norce.http import parse_retry_after
from norcekit.norce.transport import DeadlineTransport, request_ends_at
from norcekit.observability import register_secret
from norcekit.secrets import SecretValueError, secret_value

VERSION_HEADER = "Norcekit-Version"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class TargetCredentialsError(Exception):
    """The target's credentials secret does not hold a value at ``credentials_key``."""


#: Returns the auth header value (``None`` = no header); ``refresh=True`` bypasses any cache.
AuthSource = Callable[[bool], "str | None"]


def secret_auth(config: HttpTargetConfig, *, provider: Any, max_age: int = 300) -> AuthSource | None:
    """Auth header value from the Secrets Manager secret named in the config (cached ``max_age``).

    ``provider`` is a Powertools ``SecretsProvider`` from the composition root, one per target, so
    its cache belongs to this target only.
    """
    arn = config.credentials_secret_arn
    if not arn:
        return None

    def value(refresh: bool) -> str | None:
        secret: Any = provider.get(arn, max_age=max_age, force_fetch=refresh)
        token = secret
        if isinstance(secret, dict) or (isinstance(secret, str) and secret.lstrip().startswith("{")):
            try:
                token = secret_value(secret, config.credentials_key)
            except SecretValueError as exc:
                # A wrong key is a configuration problem, never a request without credentials.
                raise TargetCredentialsError(f"target {config.url.host}: secret {arn}: {exc}") from None
        if not token:
            return None
        register_secret(str(token))
        return f"{config.auth_scheme} {token}" if config.auth_scheme else str(token)

    return value


#: Larger answers are not parsed: a target's answer is a short acknowledgement.
MAX_ANSWER_BYTES = 64 * 1024


def json_answer(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object, when it is one (small, ``application/json``); else ``None``."""
    if "json" not in response.headers.get("Content-Type", "") or len(response.content) > MAX_ANSWER_BYTES:
        return None
    try:
        value = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


class HttpTarget:
    def __init__(
        self,
        name: str,
        config: HttpTargetConfig,
        *,
        client: httpx.Client | None = None,
        auth: AuthSource | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.url = str(config.url)
        self._client = client
        if auth is None and config.credentials_secret_arn:
            raise ValueError(f"target {name}: credentials_secret_arn needs its auth source (norcekit.wiring)")
        self._auth = auth
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - backoff jitter, not crypto

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            limits = httpx.Limits(max_connections=10, max_keepalive_connections=5)
            self._client = httpx.Client(
                timeout=self.config.timeout_s, limits=limits, transport=DeadlineTransport(limits=limits)
            )
        return self._client

    def deliver(
        self, docs: Sequence[TargetDocument], *, deadline: Deadline | None = None
    ) -> list[DeliveryResult]:
        deadline = deadline or Deadline.none()
        return [self._deliver_one(doc, deadline) for doc in docs]

    def _headers(self, doc: TargetDocument, refresh: bool) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": doc.idempotency_key,
            # Monotonic per entity key: a receiver keeps the highest and ignores older ones.
            VERSION_HEADER: str(doc.version),
        }
        if self._auth is not None:
            value = self._auth(refresh)
            if value:
                headers[self.config.auth_header] = value
        return headers

    def _deliver_one(self, doc: TargetDocument, deadline: Deadline) -> DeliveryResult:
        body = doc.to_json()
        refreshed = False
        last = "not attempted"
        attempt = 0
        while attempt < self.config.max_attempts:
            attempt += 1
            wait = 0.0
            try:
                headers = self._headers(doc, refresh=refreshed)
            except TargetCredentialsError as exc:
                return DeliveryResult.permanent(str(exc))
            budget = deadline.cap(self.config.timeout_s) or 0.001
            try:
                with request_ends_at(time.monotonic() + budget):
                    response = self.client.post(self.url, content=body, headers=headers, timeout=budget)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return DeliveryResult.success(f"HTTP {status}", json_answer(response))
                last = f"HTTP {status}"
                if status in (401, 403) and not refreshed and self._auth is not None:
                    refreshed = True  # the credentials may have been rotated: re-read once
                    attempt -= 1
                    continue
                if status not in RETRY_STATUSES:
                    return DeliveryResult.permanent(last)
                wait = parse_retry_after(response.headers.get("Retry-After")) or 0.0
            if attempt >= self.config.max_attempts:
                break
            wait = max(wait, self._rng.uniform(0.5, 1.0) * self.config.backoff_s * 2 ** (attempt - 1))
            if wait >= deadline.remaining():
                break
            self._sleep(wait)
        return DeliveryResult.retryable(f"{last} after {attempt} attempt(s)")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
