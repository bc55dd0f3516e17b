"""TokenProvider: one token request for many callers, refresh before expiry, 401 handling."""

from __future__ import annotations

import contextlib
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr
from tests.unit.norce.clients_support import QUERY, TOKEN_URL, FakeClock, make_tokens, token_response

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider, authorized_request
from norcekit.norce.http import DeadlineExceeded, NorceAuthError, NorceHttp, RetryPolicy
from norcekit.norce.tokens import CachedToken, InMemoryTokenStore, TokenStore

API_URL = f"{QUERY}/Core/Currencies"


def test_token_is_requested_once_and_cached(tokens: TokenProvider, token_route: respx.Route) -> None:
    assert tokens.token(Deadline.none()) == "tok-1"
    assert tokens.token(Deadline.none()) == "tok-1"
    assert token_route.call_count == 1
    form = parse_qs(token_route.calls.last.request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["unit-client"],
        "client_secret": ["unit-secret-value"],
        "scope": ["stage"],
    }


def test_token_is_refreshed_a_minute_before_expiry(
    tokens: TokenProvider, token_route: respx.Route, clock: FakeClock
) -> None:
    token_route.side_effect = [token_response("tok-1"), token_response("tok-2")]
    assert tokens.token(Deadline.none()) == "tok-1"
    clock.advance(3600 - 61)
    assert tokens.token(Deadline.none()) == "tok-1"
    clock.advance(2)  # now 59 s before expiry: inside the refresh margin
    assert tokens.token(Deadline.none()) == "tok-2"
    assert token_route.call_count == 2


def test_twenty_concurrent_cold_callers_cause_one_token_request(router: respx.MockRouter) -> None:
    """Separate providers (≈ Lambda containers) sharing one store, all starting at once."""
    fetch_started = threading.Event()

    def slow_token(request: httpx.Request) -> httpx.Response:
        fetch_started.set()
        time.sleep(0.3)  # the others must wait for this one, not fetch their own
        return token_response("shared-token")

    route = router.post(TOKEN_URL).mock(side_effect=slow_token)
    store = InMemoryTokenStore()
    http = NorceHttp(policy=RetryPolicy(max_attempts=2))
    providers = [
        TokenProvider(
            http,
            token_url=TOKEN_URL,
            client_id="unit-client",
            client_secret=SecretStr("unit-secret-value"),
            scope="stage",
            store=store,
            poll_interval_s=0.01,
        )
        for _ in range(20)
    ]
    barrier = threading.Barrier(len(providers))
    results: list[str] = []
    errors: list[BaseException] = []

    def call(provider: TokenProvider) -> None:
        barrier.wait()
        try:
            results.append(provider.token(Deadline.after(10)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(p,)) for p in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    http.close()
    assert errors == []
    assert results == ["shared-token"] * 20
    assert route.call_count == 1
    assert sum(p.fetches for p in providers) == 1


def test_threads_sharing_one_provider_cause_one_token_request(router: respx.MockRouter) -> None:
    def slow_token(request: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        return token_response()

    route = router.post(TOKEN_URL).mock(side_effect=slow_token)
    http = NorceHttp()
    provider = TokenProvider(
        http, token_url=TOKEN_URL, client_id="c", client_secret=SecretStr("s"), scope="stage", store=None
    )
    threads = [threading.Thread(target=provider.token, args=(Deadline.after(10),)) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    http.close()
    assert route.call_count == 1


def test_others_keep_using_the_old_token_while_one_refreshes(
    http: NorceHttp, clock: FakeClock, token_route: respx.Route
) -> None:
    store = InMemoryTokenStore(clock=clock.time)
    store.save(CachedToken(SecretStr("old"), clock.time() + 30), owner="nobody")  # inside the margin
    assert store.try_acquire_refresh("another-container", lease_s=30)
    provider = make_tokens(http, clock, store)
    assert provider.token(Deadline.none()) == "old"
    assert token_route.call_count == 0


def test_waits_for_the_refreshing_container_when_no_token_is_usable(
    http: NorceHttp, clock: FakeClock, token_route: respx.Route
) -> None:
    store = InMemoryTokenStore(clock=clock.time)
    assert store.try_acquire_refresh("another-container", lease_s=30)
    provider = make_tokens(http, clock, store)
    polls = 0

    def sleep_then_other_saves(seconds: float) -> None:
        nonlocal polls
        polls += 1
        clock.sleep(seconds)
        if polls == 3:
            store.save(CachedToken(SecretStr("from-other"), clock.time() + 3600), "another-container")

    provider._sleep = sleep_then_other_saves
    assert provider.token(clock.deadline(10)) == "from-other"
    assert token_route.call_count == 0
    assert polls == 3


def test_waiting_for_another_refresh_is_bounded_by_the_deadline(
    http: NorceHttp, clock: FakeClock, token_route: respx.Route
) -> None:
    store = InMemoryTokenStore(clock=clock.time)
    assert store.try_acquire_refresh("another-container", lease_s=300)
    provider = make_tokens(http, clock, store)
    with pytest.raises(DeadlineExceeded):
        provider.token(clock.deadline(2))
    assert token_route.call_count == 0
    assert sum(clock.sleeps) <= 2


def test_an_abandoned_lease_expires_and_another_caller_refreshes(
    http: NorceHttp, clock: FakeClock, token_route: respx.Route
) -> None:
    store = InMemoryTokenStore(clock=clock.time)
    assert store.try_acquire_refresh("crashed-container", lease_s=5)
    provider = make_tokens(http, clock, store)
    assert provider.token(clock.deadline(30)) == "tok-1"
    assert token_route.call_count == 1
    assert store.load() is not None


def test_failed_fetch_releases_the_lease(http: NorceHttp, clock: FakeClock, token_route: respx.Route) -> None:
    token_route.return_value = httpx.Response(400, json={"error": "invalid_client"})
    store = InMemoryTokenStore(clock=clock.time)
    provider = make_tokens(http, clock, store)
    with pytest.raises(NorceAuthError) as caught:
        provider.token(Deadline.none())
    assert caught.value.code == "invalid_client" or "invalid_client" in caught.value.body
    assert "unit-secret-value" not in str(caught.value)
    assert store.try_acquire_refresh("someone-else", lease_s=30)  # lease was released


def test_token_endpoint_429_backs_off_as_told(
    tokens: TokenProvider, token_route: respx.Route, clock: FakeClock
) -> None:
    token_route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "20"}),
        token_response("after-wait"),
    ]
    assert tokens.token(Deadline.none()) == "after-wait"
    assert clock.sleeps == [20.0]


def test_a_rate_limited_token_fetch_gives_up_within_its_refresh_lease(
    http: NorceHttp, clock: FakeClock, token_route: respx.Route
) -> None:
    store = InMemoryTokenStore(clock=clock.time)
    provider = make_tokens(http, clock, store)  # lease_s=30
    other = make_tokens(http, clock, store)  # another container, trying while the first waits
    other_fetches: list[int] = []
    sleep = clock.sleep

    def sleep_and_let_the_other_try(seconds: float) -> None:
        sleep(seconds)
        with contextlib.suppress(DeadlineExceeded):
            other.token(clock.deadline(0.05))
        other_fetches.append(other.fetches)

    http.sleep = sleep_and_let_the_other_try  # type: ignore[method-assign]
    provider._sleep = sleep_and_let_the_other_try  # type: ignore[method-assign]
    token_route.side_effect = [httpx.Response(429, headers={"Retry-After": "20"})] * 4

    with pytest.raises(DeadlineExceeded):
        provider.token(Deadline.none())

    assert sum(clock.sleeps) < 30  # never waited past its own lease
    assert other_fetches == [0] * len(other_fetches)  # no second fetch while the lease was held
    assert token_route.call_count == 1 + len(clock.sleeps)
    assert store.try_acquire_refresh("someone-else", lease_s=30)  # released on giving up


def test_a_token_fetch_told_to_wait_past_the_lease_does_not_wait(
    http: NorceHttp, clock: FakeClock, token_route: respx.Route
) -> None:
    store = InMemoryTokenStore(clock=clock.time)
    provider = make_tokens(http, clock, store)
    token_route.side_effect = [httpx.Response(429, headers={"Retry-After": "60"}), token_response("late")]

    with pytest.raises(DeadlineExceeded):
        provider.token(Deadline.none())

    assert clock.sleeps == []
    assert token_route.call_count == 1
    assert store.try_acquire_refresh("someone-else", lease_s=30)


def test_api_401_refreshes_the_token_once_and_retries(
    http: NorceHttp, tokens: TokenProvider, router: respx.MockRouter, token_route: respx.Route
) -> None:
    token_route.side_effect = [token_response("stale"), token_response("fresh")]
    api = router.get(API_URL).mock(side_effect=[httpx.Response(401), httpx.Response(200, json={"value": []})])
    response = authorized_request(
        http, tokens, "GET", API_URL, deadline=Deadline.none(), headers={}, idempotent=True
    )
    assert response.status_code == 200
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer stale", "Bearer fresh"]
    assert token_route.call_count == 2


def test_api_401_twice_raises_auth_error(
    http: NorceHttp, tokens: TokenProvider, router: respx.MockRouter, token_route: respx.Route
) -> None:
    token_route.side_effect = [token_response("a"), token_response("b"), token_response("c")]
    api = router.get(API_URL).mock(return_value=httpx.Response(401))
    with pytest.raises(NorceAuthError) as caught:
        authorized_request(
            http, tokens, "GET", API_URL, deadline=Deadline.none(), headers={}, idempotent=True
        )
    assert caught.value.status == 401
    assert api.call_count == 2
    assert token_route.call_count == 2  # exactly one refresh


def test_rejected_token_in_the_shared_store_is_replaced_once(
    http: NorceHttp, clock: FakeClock, router: respx.MockRouter, token_route: respx.Route
) -> None:
    """Container A sees 401 and refreshes; container B then picks the new token from the store."""
    token_route.side_effect = [token_response("first"), token_response("second")]
    store = InMemoryTokenStore(clock=clock.time)
    a, b = make_tokens(http, clock, store), make_tokens(http, clock, store)
    assert a.token(Deadline.none()) == b.token(Deadline.none()) == "first"
    a.invalidate("first")
    assert a.token(Deadline.none()) == "second"
    b.invalidate("first")
    assert b.token(Deadline.none()) == "second"
    assert token_route.call_count == 2


def test_in_memory_store_implements_the_protocol() -> None:
    store: TokenStore = InMemoryTokenStore()
    assert isinstance(store, TokenStore)
    assert store.try_acquire_refresh("a", 30)
    assert not store.try_acquire_refresh("b", 30)
    assert store.try_acquire_refresh("a", 30)  # re-entrant for the holder
    store.release("a")
    assert store.try_acquire_refresh("b", 30)
    store.save(CachedToken(SecretStr("t"), 123.0), "b")
    assert store.load() == CachedToken(SecretStr("t"), 123.0)
    assert store.try_acquire_refresh("c", 30)  # save released b's lease


def test_token_does_not_appear_in_logs(
    tokens: TokenProvider, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    tokens.token(Deadline.none())
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err
    assert "tok-1" not in text
    assert "unit-secret-value" not in text
