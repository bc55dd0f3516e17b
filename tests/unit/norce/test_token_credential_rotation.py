"""A rotated Norce client secret: the token endpoint's refusal re-reads the credentials (rate-limited)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider
from norcekit.norce.credentials import CredentialsUnavailable, SecretsManagerCredentials
from norcekit.norce.http import NorceAuthError, NorceHttp, RetryPolicy
from norcekit.norce.tokens import ClientCredentials

TOKEN_URL = "https://tenant.api-se.stage.norce.tech/identity/1.0/connect/token"
ARN = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:norce-credentials"
OLD = {"client_id": "kit-client", "client_secret": "old-secret-value"}
NEW = {"client_id": "kit-client", "client_secret": "new-secret-value"}


class FakeSecretsProvider:
    """Powertools' SecretsProvider.get with a cache: a rotation is visible only to a forced fetch."""

    def __init__(self, value: Any) -> None:
        self.stored = value
        self.cached = value
        self.forced = 0
        self.fail = False

    def get(self, name: str, *, transform: str, max_age: int, force_fetch: bool) -> Any:
        assert (name, transform) == (ARN, "json")
        if self.fail:
            raise RuntimeError("AccessDeniedException")
        if force_fetch:
            self.forced += 1
            self.cached = self.stored
        return copy.deepcopy(self.cached)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def token_endpoint(request: httpx.Request) -> httpx.Response:
    """Norce after the rotation: only the new secret is accepted (400 invalid_client otherwise)."""
    form = parse_qs(request.content.decode())
    if form["client_secret"] == [NEW["client_secret"]]:
        return httpx.Response(200, json={"access_token": "tok-new", "expires_in": 3600})
    return httpx.Response(400, json={"error": "invalid_client"})


def provider(secrets: FakeSecretsProvider, clock: Clock) -> TokenProvider:
    source = SecretsManagerCredentials(ARN, provider=secrets)  # type: ignore[arg-type]
    first = source()
    return TokenProvider(
        NorceHttp(policy=RetryPolicy(max_attempts=1)),
        token_url=TOKEN_URL,
        client_id=first.client_id,
        client_secret=first.client_secret,
        scope="stage",
        credentials=source,
        reread_interval_s=60.0,
        monotonic=clock,
    )


@respx.mock
def test_a_refused_secret_is_re_read_and_the_rotated_one_gets_the_token() -> None:
    route = respx.post(TOKEN_URL).mock(side_effect=token_endpoint)
    secrets, clock = FakeSecretsProvider(OLD), Clock()
    tokens = provider(secrets, clock)
    secrets.stored = NEW  # rotated in Secrets Manager; the cache still holds the old value

    assert tokens.token(Deadline.none()) == "tok-new"
    assert secrets.forced == 1
    sent = [parse_qs(call.request.content.decode())["client_secret"] for call in route.calls]
    assert sent == [["old-secret-value"], ["new-secret-value"]]


@pytest.mark.parametrize("status", [400, 401])
@respx.mock
def test_re_reads_are_rate_limited(status: int) -> None:
    route = respx.post(TOKEN_URL).respond(status, json={"error": "invalid_client"})
    secrets, clock = FakeSecretsProvider(OLD), Clock()
    tokens = provider(secrets, clock)
    secrets.stored = {**OLD, "client_secret": "also-wrong-value"}

    for _ in range(3):
        with pytest.raises(NorceAuthError):
            tokens.token(Deadline.none())
    assert secrets.forced == 1  # one re-read, however many refusals inside the interval
    assert route.call_count == 4  # 3 refusals + 1 retry with the re-read secret

    clock.now += 61
    with pytest.raises(NorceAuthError):
        tokens.token(Deadline.none())
    assert secrets.forced == 2


@respx.mock
def test_an_unchanged_secret_is_not_tried_twice() -> None:
    route = respx.post(TOKEN_URL).respond(400, json={"error": "invalid_client"})
    secrets = FakeSecretsProvider(OLD)
    tokens = provider(secrets, Clock())

    with pytest.raises(NorceAuthError):
        tokens.token(Deadline.none())
    assert (secrets.forced, route.call_count) == (1, 1)


@respx.mock
def test_a_failing_secret_store_leaves_the_original_refusal() -> None:
    respx.post(TOKEN_URL).respond(401, json={"error": "invalid_client"})
    secrets = FakeSecretsProvider(OLD)
    tokens = provider(secrets, Clock())
    secrets.fail = True

    with pytest.raises(NorceAuthError) as caught:
        tokens.token(Deadline.none())
    assert caught.value.status == 401


@respx.mock
def test_other_token_errors_do_not_re_read() -> None:
    respx.post(TOKEN_URL).respond(403, json={"error": "forbidden"})
    secrets = FakeSecretsProvider(OLD)
    tokens = provider(secrets, Clock())

    with pytest.raises(NorceAuthError):
        tokens.token(Deadline.none())
    assert secrets.forced == 0


def test_without_a_source_nothing_is_re_read() -> None:
    with respx.mock:
        respx.post(TOKEN_URL).respond(400, json={"error": "invalid_client"})
        tokens = TokenProvider(
            NorceHttp(policy=RetryPolicy(max_attempts=1)),
            token_url=TOKEN_URL, client_id="c", client_secret=SecretStr("s"), scope="stage",
        )  # fmt: skip
        with pytest.raises(NorceAuthError):
            tokens.token(Deadline.none())
        assert tokens.credential_rereads == 0


@pytest.mark.parametrize(
    "value", [{"client_id": "x"}, ["not", "an", "object"], {"client_secret": "leaky-secret-value"}]
)
def test_a_secret_without_id_and_secret_is_refused_without_its_value(value: Any) -> None:
    secrets = FakeSecretsProvider(value)
    with pytest.raises(CredentialsUnavailable, match="must be JSON") as caught:
        SecretsManagerCredentials(ARN, provider=secrets)()  # type: ignore[arg-type]
    assert "leaky" not in str(caught.value)


def test_credentials_compare_by_value() -> None:
    a = ClientCredentials("c", SecretStr("s1"))
    assert a.same_as(ClientCredentials("c", SecretStr("s1")))
    assert not a.same_as(ClientCredentials("c", SecretStr("s2")))
