"""Fixtures for the Norce client unit tests: a fake clock, a respx router, wired clients."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import respx
from tests.unit.norce.clients_support import TOKEN_URL, FakeClock, make_tokens, token_response

from norcekit.norce.auth import TokenProvider
from norcekit.norce.http import NorceHttp, RetryPolicy


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def http(clock: FakeClock, router: respx.MockRouter) -> Iterator[NorceHttp]:
    client = NorceHttp(
        policy=RetryPolicy(max_attempts=4, base=0.5, max_backoff=8.0),
        sleep=clock.sleep,
        rng=random.Random(7),
        wall_clock=clock.time,
    )
    yield client
    client.close()


@pytest.fixture
def token_route(router: respx.MockRouter) -> respx.Route:
    return router.post(TOKEN_URL).mock(return_value=token_response())


@pytest.fixture
def tokens(http: NorceHttp, clock: FakeClock, token_route: respx.Route) -> TokenProvider:
    return make_tokens(http, clock)
