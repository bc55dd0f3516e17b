"""An httpx transport whose requests end at a total deadline, not after a per-read timeout.

httpx (like the sockets under it) applies its ``read`` timeout to each read: a server that
trickles its answer a byte at a time keeps a call alive for as long as it likes (a REST source
with ``timeout_s=2`` was held 8.4 s). Here every socket operation of a request is given at most
the time left before the request's end (:func:`request_ends_at`), and an operation that would
start after it raises httpx's own timeout errors, so the retry rules in ``norce.http`` apply
unchanged.

The end is carried in a :class:`~contextvars.ContextVar`: httpx's sync client runs the whole
request (connect, TLS, send, receive headers and body) in the calling thread.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

_ENDS_AT: ContextVar[float | None] = ContextVar("norcekit_request_ends_at", default=None)


@contextlib.contextmanager
def request_ends_at(monotonic_end: float | None) -> Iterator[None]:
    """Requests sent inside this block end by ``monotonic_end`` (``time.monotonic`` seconds)."""
    token = _ENDS_AT.set(monotonic_end)
    try:
        yield
    finally:
        _ENDS_AT.reset(token)


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    ends_at = _ENDS_AT.get()
    if ends_at is None:
        return timeout
    left = ends_at - time.monotonic()
    if left <= 0:
        raise error("the request's total time limit was reached")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _clamp(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _clamp(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` (no proxy) whose socket operations honour :func:`request_ends_at`."""

    def __init__(self, *, limits: httpx.Limits, verify: ssl.SSLContext | bool = True) -> None:
        # Not super().__init__(): it would build a pool (and load the CA bundle) only to be replaced.
        # httpx has no public hook for the network backend, so the pool httpx.HTTPTransport would
        # build is built here with ours; handle_request/close use it unchanged.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )
