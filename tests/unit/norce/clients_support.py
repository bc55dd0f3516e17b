"""Plain helpers for the Norce client unit tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider
from norcekit.norce.http import NorceHttp
from norcekit.norce.tokens import CachedToken, InMemoryTokenStore

HOST = "https://tenant.api-se.stage.norce.tech"
TOKEN_URL = f"{HOST}/identity/1.0/connect/token"
CONNECT = f"{HOST}/commerce/connect/4.0"
QUERY = f"{HOST}/commerce/query/2.0"
APP_ID = 1042


@dataclass
class FakeClock:
    """Monotonic and wall clock that only move when the code under test sleeps."""

    mono: float = 1000.0
    wall: float = 1_750_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds

    def deadline(self, seconds: float) -> Deadline:
        return Deadline.after(seconds, clock=self.monotonic)


def token_response(token: str = "tok-1", expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in})


def make_tokens(http: NorceHttp, clock: FakeClock, store: InMemoryTokenStore | None = None) -> TokenProvider:
    return TokenProvider(
        http,
        token_url=TOKEN_URL,
        client_id="unit-client",
        client_secret=SecretStr("unit-secret-value"),
        scope="stage",
        store=store,
        wall_clock=clock.time,
        sleep=clock.sleep,
    )


class HandlerTransport(httpx.BaseTransport):
    """Calls ``handler(request)`` with the request body still unread (respx reads it up front),
    so tests can see what a real socket sees: a connection failure before any byte is pulled from
    the body, and chunks pulled one by one."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.handler(request)


def preseeded_tokens(http: NorceHttp, clock: FakeClock) -> TokenProvider:
    """A provider whose store already holds a valid token: no token request is made."""
    store = InMemoryTokenStore(clock=clock.time)
    store.save(CachedToken(SecretStr("seeded"), clock.time() + 3600), owner="setup")
    return make_tokens(http, clock, store)
