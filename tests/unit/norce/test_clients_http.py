"""NorceHttp: which failures are retried, how long it waits, and what it raises."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
import respx
from tests.unit.norce.clients_support import QUERY, FakeClock

from norcekit.deadline import Deadline
from norcekit.norce.http import (
    USER_AGENT,
    DeadlineExceeded,
    NorceAuthError,
    NorceHttp,
    NorceHTTPError,
    NorceRateLimited,
    NorceUnavailable,
    RetryPolicy,
    parse_retry_after,
)
from norcekit.settings import load_settings

URL = f"{QUERY}/Core/Currencies"


def test_backoff_is_full_jitter_within_exponential_ceiling() -> None:
    policy = RetryPolicy(base=0.5, max_backoff=8.0)
    rng = random.Random(1)
    for retry in range(1, 9):
        ceiling = min(8.0, 0.5 * 2 ** (retry - 1))
        waits = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # spread over the whole range, not a constant
        assert min(waits) < ceiling * 0.2


def test_transient_statuses_are_retried_then_succeed(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(502),
            httpx.Response(504),
            httpx.Response(200, json={}),
        ]
    )
    response = http.request("GET", URL, deadline=clock.deadline(60), idempotent=True)
    assert response.status_code == 200
    assert route.call_count == 4
    assert len(clock.sleeps) == 3
    for retry, wait in enumerate(clock.sleeps, start=1):
        assert 0 <= wait <= min(8.0, 0.5 * 2 ** (retry - 1))


def test_connection_errors_and_timeouts_are_retried_for_idempotent_requests(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200, json={})]
    )
    assert http.request("GET", URL, deadline=clock.deadline(60), idempotent=True).status_code == 200
    assert route.call_count == 3


def test_retry_after_seconds_is_honoured(http: NorceHttp, router: respx.MockRouter, clock: FakeClock) -> None:
    router.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)])
    http.request("GET", URL, deadline=clock.deadline(60), idempotent=True)
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    when = datetime.fromtimestamp(clock.wall + 12, tz=UTC)
    router.get(URL).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200),
        ]
    )
    http.request("GET", URL, deadline=clock.deadline(60), idempotent=True)
    assert clock.sleeps == [pytest.approx(12.0, abs=1.0)]


def test_parse_retry_after_rejects_garbage_and_clamps_past_dates() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1_750_000_000.0) == 0.0
    assert parse_retry_after(" 3 ") == 3.0


def test_never_sleeps_past_the_deadline(http: NorceHttp, router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    deadline = clock.deadline(10)
    with pytest.raises(DeadlineExceeded) as caught:
        http.request("GET", URL, deadline=deadline, idempotent=True)
    assert clock.sleeps == []  # a 30 s wait would pass the 10 s deadline: fail now instead
    assert route.call_count == 1
    assert caught.value.last_status == 429
    assert "deadline" in str(caught.value)


def test_expired_deadline_makes_no_request(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(URL).mock(return_value=httpx.Response(200))
    with pytest.raises(DeadlineExceeded):
        http.request("GET", URL, deadline=clock.deadline(0), idempotent=True)
    assert route.call_count == 0


def test_exhausted_retries_name_the_last_status(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(URL).mock(return_value=httpx.Response(503))
    with pytest.raises(NorceUnavailable) as caught:
        http.request("GET", URL, deadline=Deadline.none(), idempotent=True)
    assert caught.value.last_status == 503
    assert caught.value.attempts == 4
    assert len(clock.sleeps) == 3  # no pointless wait after the last attempt


def test_exhausted_429_raises_rate_limited(http: NorceHttp, router: respx.MockRouter) -> None:
    router.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(NorceRateLimited):
        http.request("GET", URL, deadline=Deadline.none(), idempotent=True)


def test_retry_after_longer_than_allowed_fails_fast(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(NorceRateLimited) as caught:
        http.request("GET", URL, deadline=Deadline.none(), idempotent=True)
    assert caught.value.retry_after == 3600
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [400, 404, 409, 501])
def test_other_statuses_are_not_retried(http: NorceHttp, router: respx.MockRouter, status: int) -> None:
    route = router.get(URL).mock(return_value=httpx.Response(status, text="nope"))
    with pytest.raises(NorceHTTPError) as caught:
        http.request("GET", URL, deadline=Deadline.none(), idempotent=True)
    assert route.call_count == 1
    assert caught.value.status == status
    assert caught.value.body == "nope"


def test_unauthorised_raises_auth_error(http: NorceHttp, router: respx.MockRouter) -> None:
    router.get(URL).mock(return_value=httpx.Response(401))
    with pytest.raises(NorceAuthError):
        http.request("GET", URL, deadline=Deadline.none(), idempotent=True)


def test_odata_error_body_is_surfaced_and_bounded(http: NorceHttp, router: respx.MockRouter) -> None:
    body = {
        "error": {"code": "BadRequest", "message": "Could not find a property named 'Nope'." + "x" * 2000}
    }
    router.get(URL).mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(NorceHTTPError) as caught:
        http.request("GET", URL, deadline=Deadline.none(), idempotent=True)
    assert caught.value.code == "BadRequest"
    assert caught.value.message is not None and caught.value.message.startswith("Could not find a property")
    assert len(caught.value.body) <= 500
    assert "BadRequest: Could not find" in str(caught.value)


def test_non_idempotent_request_is_retried_only_when_it_was_not_sent(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.post(URL).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("connect"),
            httpx.Response(503),
            httpx.Response(200, json={}),
        ]
    )
    response = http.request("POST", URL, deadline=clock.deadline(60), idempotent=False, content=b"[]")
    assert response.status_code == 200
    assert route.call_count == 4


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(502),
        httpx.Response(500),
    ],
)
def test_non_idempotent_request_is_not_retried_once_it_may_have_been_processed(
    http: NorceHttp, router: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = router.post(URL).mock(side_effect=[failure, httpx.Response(200)])
    with pytest.raises((NorceUnavailable, NorceHTTPError)):
        http.request("POST", URL, deadline=Deadline.none(), idempotent=False, content=b"[]")
    assert route.call_count == 1


def test_user_agent_names_the_kit(http: NorceHttp, router: respx.MockRouter) -> None:
    route = router.get(URL).mock(return_value=httpx.Response(200))
    http.request("GET", URL, deadline=Deadline.none(), idempotent=True)
    assert route.calls.last.request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("norcekit/")


def test_attempt_timeout_is_shortened_to_the_deadline(
    http: NorceHttp, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(URL).mock(return_value=httpx.Response(200))
    http.request("GET", URL, deadline=clock.deadline(2.5), idempotent=True)
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout["read"] == pytest.approx(2.5)
    assert timeout["connect"] == pytest.approx(2.5)


def test_deadline_from_lambda_remaining_time_keeps_a_margin(clock: FakeClock) -> None:
    deadline = Deadline.from_remaining_ms(30_000, margin_s=5, clock=clock.monotonic)
    assert deadline.remaining() == pytest.approx(25.0)
    clock.advance(25)
    assert deadline.expired
    assert Deadline.from_remaining_ms(1_000, margin_s=5, clock=clock.monotonic).expired
    assert Deadline.none().remaining() == float("inf") and not Deadline.none().expired


def test_from_settings_uses_configured_timeouts_and_policy() -> None:
    settings = load_settings(
        http_connect_timeout=1.5, http_read_timeout=9, http_max_attempts=3, http_pool_timeout=2
    )
    with NorceHttp.from_settings(settings) as http:
        assert http.timeout.connect == 1.5 and http.timeout.read == 9 and http.timeout.pool == 2
        assert http.policy.max_attempts == 3
