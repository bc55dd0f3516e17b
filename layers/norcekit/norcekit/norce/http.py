"""Resilient HTTP shared by every Norce client: deadlines, retries with backoff, clear errors.

One :class:`NorceHttp` wraps one pooled ``httpx.Client``. :meth:`NorceHttp.request` retries what is
safe to retry (DESIGN "Retries"): exponential backoff with full jitter on 429/500/502/503/504 and on
transport errors, honouring ``Retry-After``, and never sleeping past the caller's :class:`Deadline`
(normally the Lambda's remaining time minus a margin).

Whether a failure is safe to retry depends on the request: an idempotent GET may be resent after
any transport failure, while a non-idempotent POST (a Connect import creates a job) may only be
resent when the request provably never reached the server (see :class:`RetryRule`).
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import httpx
from aws_lambda_powertools import Logger

from norcekit import __version__
from norcekit.deadline import Deadline
from norcekit.norce.errors import (
    BODY_EXCERPT_CHARS,
    DeadlineExceeded,
    NorceAuthError,
    NorceError,
    NorceHTTPError,
    NorceRateLimited,
    NorceUnavailable,
    error_from_response,
)
from norcekit.norce.transport import DeadlineTransport, request_ends_at

if TYPE_CHECKING:
    from norcekit.settings import Settings

logger = Logger(service="norcekit", child=True)

USER_AGENT = f"norcekit/{__version__}"
#: Longest time one attempt may take, connect to last byte, unless the caller says otherwise.
DEFAULT_ATTEMPT_TIMEOUT_S = 60.0

RequestContent = bytes | str | Iterable[bytes]

# Re-exported: callers import the errors from here.
__all__ = [
    "BODY_EXCERPT_CHARS",
    "DeadlineExceeded",
    "NorceAuthError",
    "NorceError",
    "NorceHTTPError",
    "NorceHttp",
    "NorceRateLimited",
    "NorceUnavailable",
    "RetryPolicy",
    "RetryRule",
    "error_from_response",
    "parse_retry_after",
]


# --- Retry policy -------------------------------------------------------------------------------

#: Statuses retried for a request that may be resent: rate limiting, gateway trouble, and 500,
#: which Norce Query is known to answer transiently (norce-api.md §6).
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
#: Statuses that mean the server refused the request before processing it, so even a
#: non-idempotent request may be resent.
REFUSED_STATUSES: frozenset[int] = frozenset({429, 503})


class RetryRule(enum.Enum):
    """Which failures a request may be resent after."""

    #: GETs, token requests: any transport error and 429/500/502/503/504.
    IDEMPOTENT = "idempotent"
    #: Imports, job restart: only connection failures (nothing was sent) and 429/503 (refused).
    NOT_SENT = "not_sent"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: wait ``uniform(0, min(max_backoff, base * 2**n))``."""

    max_attempts: int = 6
    base: float = 0.5
    max_backoff: float = 20.0
    #: A Retry-After longer than this is not waited for (the call fails with NorceRateLimited).
    max_retry_after: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.http_max_attempts,
            base=settings.http_backoff_base,
            max_backoff=settings.http_backoff_max,
        )

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Wait before retry number ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.max_backoff, self.base * 2 ** (retry_number - 1))
        return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP-date; ``None`` if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


# --- The client ---------------------------------------------------------------------------------


class NorceHttp:
    """One pooled ``httpx.Client`` plus the retry loop every Norce call goes through.

    Every attempt ends by a total time limit, ``attempt_timeout`` shortened to the caller's
    deadline, however slowly the server trickles its answer (``norce.transport``); ``timeout``
    still bounds each phase. An injected ``client`` keeps its own transport (tests use respx).
    ``sleep`` and ``rng`` are injectable so tests run instantly and deterministically.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = timeout or httpx.Timeout(connect=5.0, read=30.0, write=60.0, pool=5.0)
        self.attempt_timeout = attempt_timeout
        self._owns_client = client is None
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
        self.client = client or httpx.Client(
            timeout=self.timeout,
            limits=limits,
            headers={"User-Agent": USER_AGENT},
            transport=DeadlineTransport(limits=limits),
        )
        if client is not None:
            self.client.headers.setdefault("User-Agent", USER_AGENT)
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.wall_clock = wall_clock
        # Jitter only spreads retries apart; it is not security sensitive.
        self.rng = rng or random.Random()  # noqa: S311

    @classmethod
    def from_settings(
        cls, settings: Settings, *, client: httpx.Client | None = None, **kwargs: Any
    ) -> NorceHttp:
        timeout = httpx.Timeout(
            connect=settings.http_connect_timeout,
            read=settings.http_read_timeout,
            write=settings.http_write_timeout,
            pool=settings.http_pool_timeout,
        )
        return cls(
            client,
            policy=RetryPolicy.from_settings(settings),
            timeout=timeout,
            attempt_timeout=settings.http_attempt_timeout,
            **kwargs,
        )

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> NorceHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        deadline: Deadline,
        idempotent: bool,
        retry_on: Collection[int] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        content: RequestContent | None = None,
        content_factory: Callable[[], RequestContent] | None = None,
        data: Mapping[str, str] | None = None,
        accept_status: Collection[int] = (),
        attempt_timeout: float | None = None,
    ) -> httpx.Response:
        """Send a request, retrying what is safe to retry; return a 2xx (or accepted) response.

        Each attempt ends after ``attempt_timeout`` seconds (default: the client's), or at the
        ``deadline`` if that comes first; a timed-out attempt is a transport error (retry rules).

        ``idempotent`` picks the :class:`RetryRule`; ``retry_on`` overrides the retried statuses.
        A body that can only be read once (a generator) must come from ``content_factory``, which
        is called once per attempt; it may raise :class:`NorceUnavailable` when it cannot produce
        the body again. Statuses in ``accept_status`` are returned instead of raised (e.g. 404).

        Raises :class:`NorceHTTPError`/:class:`NorceAuthError` for a non-retried failure status,
        :class:`NorceRateLimited`/:class:`NorceUnavailable` when retries run out and
        :class:`DeadlineExceeded` when the deadline leaves no room for another attempt.
        """
        rule = RetryRule.IDEMPOTENT if idempotent else RetryRule.NOT_SENT
        statuses = frozenset(retry_on) if retry_on is not None else (
            RETRY_STATUSES if rule is RetryRule.IDEMPOTENT else REFUSED_STATUSES
        )  # fmt: skip
        last_status: int | None = None
        last_problem = "no attempt made"
        for attempt in range(1, self.policy.max_attempts + 1):
            if deadline.expired:
                raise DeadlineExceeded(
                    f"{method} {url}: deadline reached before attempt {attempt} ({last_problem})",
                    last_status=last_status,
                    attempts=attempt - 1,
                )
            body = content_factory() if content_factory is not None else content
            budget = deadline.cap(attempt_timeout if attempt_timeout is not None else self.attempt_timeout)
            try:
                with request_ends_at(time.monotonic() + budget):
                    response = self.client.request(
                        method,
                        url,
                        headers=headers,
                        params=params,
                        content=body,
                        data=data,
                        timeout=self._attempt_timeout(deadline),
                    )
            except httpx.TransportError as exc:
                if not _transport_retryable(exc, rule):
                    raise NorceUnavailable(
                        f"{method} {url}: {type(exc).__name__} after the request may have been sent; "
                        "not retried because the request is not idempotent",
                        last_status=last_status,
                        attempts=attempt,
                    ) from exc
                last_problem = type(exc).__name__
                wait = self.policy.backoff(attempt, self.rng)
            else:
                status = response.status_code
                if response.is_success or status in accept_status:
                    return response
                response.read()
                if status not in statuses:
                    raise error_from_response(response)
                last_status = status
                last_problem = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.wall_clock)
                if retry_after is not None and retry_after > self.policy.max_retry_after:
                    raise _too_long(method, url, status, attempt, retry_after)
                backoff = self.policy.backoff(attempt, self.rng)
                wait = retry_after if retry_after is not None else backoff
            if attempt == self.policy.max_attempts:
                break
            if wait >= deadline.remaining():
                raise DeadlineExceeded(
                    f"{method} {url}: {last_problem}; next retry in {wait:.2f}s would pass the deadline",
                    last_status=last_status,
                    attempts=attempt,
                )
            logger.warning(
                "norce request retry",
                extra={
                    "method": method,
                    "url": _loggable_url(url),
                    "attempt": attempt,
                    "problem": last_problem,
                    "wait_s": round(wait, 3),
                },
            )
            self.sleep(wait)
        if last_status == 429:
            raise NorceRateLimited(
                f"{method} {url}: still rate limited after {self.policy.max_attempts} attempts",
                attempts=self.policy.max_attempts,
            )
        raise NorceUnavailable(
            f"{method} {url}: gave up after {self.policy.max_attempts} attempts ({last_problem})",
            last_status=last_status,
            attempts=self.policy.max_attempts,
        )

    def _attempt_timeout(self, deadline: Deadline) -> httpx.Timeout:
        """Per-attempt timeouts, each shortened so an attempt cannot outlive the deadline."""
        left = deadline.remaining()
        if left == float("inf"):
            return self.timeout
        left = max(left, 0.001)
        return httpx.Timeout(
            connect=_min_opt(self.timeout.connect, left),
            read=_min_opt(self.timeout.read, left),
            write=_min_opt(self.timeout.write, left),
            pool=_min_opt(self.timeout.pool, left),
        )


def _too_long(method: str, url: str, status: int, attempts: int, retry_after: float) -> NorceUnavailable:
    message = f"{method} {url}: HTTP {status} with Retry-After {retry_after:.0f}s, longer than we may wait"
    if status == 429:
        return NorceRateLimited(message, retry_after=retry_after, attempts=attempts)
    return NorceUnavailable(message, last_status=status, attempts=attempts)


def _min_opt(configured: float | None, left: float) -> float:
    return left if configured is None else min(configured, left)


def _transport_retryable(exc: httpx.TransportError, rule: RetryRule) -> bool:
    if rule is RetryRule.IDEMPOTENT:
        return True
    # Connection never established (or no pooled connection free): nothing reached the server.
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _loggable_url(url: str) -> str:
    """Path only: query strings may hold customer data (OData filters on e-mail addresses)."""
    return str(httpx.URL(url).copy_with(query=None))
