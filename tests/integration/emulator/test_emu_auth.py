"""Token endpoint, bearer checks, token expiry and the token rate limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.fixtures.emulator import CLIENT_ID, CLIENT_SECRET, TOKEN_PATH, fetch_token

from norce_emulator import Emulator

pytestmark = pytest.mark.integration

JOB_GET = "/commerce/connect/4.0/Job/Get"


def token_form(**overrides: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "stage",
        **overrides,
    }


def test_token_flow_and_bearer_access(emulator: Emulator, emulator_http: httpx.Client) -> None:
    resp = emulator_http.post(TOKEN_PATH, data=token_form())
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and len(body["access_token"]) > 20
    assert emulator.token_request_count == 1

    # An unknown job is a 404 (not a 401) once the token is valid.
    ok = emulator_http.get(
        JOB_GET, params={"id": 1}, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert ok.status_code == 404


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (token_form(client_secret="wrong"), "invalid_client"),
        (token_form(client_id="someone-else"), "invalid_client"),
        (token_form(grant_type="password"), "unsupported_grant_type"),
        (token_form(scope="nope"), "invalid_scope"),
    ],
)
def test_token_rejections(emulator_http: httpx.Client, form: dict[str, str], error: str) -> None:
    resp = emulator_http.post(TOKEN_PATH, data=form)
    assert resp.status_code == 400
    assert resp.json() == {"error": error}


def test_token_requires_form_encoding(emulator_http: httpx.Client) -> None:
    assert emulator_http.post(TOKEN_PATH, json=token_form()).status_code == 400


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "bearer"])
def test_missing_or_bad_token_is_401(emulator_http: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in (JOB_GET + "?id=1", "/commerce/query/2.0/Products/ProductSkus"):
        resp = emulator_http.get(path, headers={**headers, "applicationId": "1042"})
        assert resp.status_code == 401, path
        assert "Bearer" in resp.headers["WWW-Authenticate"]
    resp = emulator_http.post("/commerce/connect/4.0/Product/ImportProducts", json=[], headers=headers)
    assert resp.status_code == 401


def test_token_expires_with_the_clock(emulator: Emulator, emulator_http: httpx.Client) -> None:
    token = fetch_token(emulator.base_url)
    auth = {"Authorization": f"Bearer {token}"}
    assert emulator_http.get(JOB_GET, params={"id": 1}, headers=auth).status_code == 404
    emulator.advance_clock(3599)
    assert emulator_http.get(JOB_GET, params={"id": 1}, headers=auth).status_code == 404
    emulator.advance_clock(2)
    resp = emulator_http.get(JOB_GET, params={"id": 1}, headers=auth)
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token"


@pytest.mark.parametrize("emulator_config", [{"token_ttl_seconds": 60}])
def test_token_ttl_is_configurable(emulator: Emulator, emulator_http: httpx.Client) -> None:
    body = emulator_http.post(TOKEN_PATH, data=token_form()).json()
    assert body["expires_in"] == 60
    emulator.advance_clock(61)
    resp = emulator_http.get(
        JOB_GET, params={"id": 1}, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert resp.status_code == 401


@pytest.mark.parametrize("emulator_config", [{"token_rate_limit_per_minute": 3, "token_burst": 2}])
def test_token_rate_limit_429_with_retry_after(emulator: Emulator, emulator_http: httpx.Client) -> None:
    statuses = [emulator_http.post(TOKEN_PATH, data=token_form()) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[2]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json() == {"error": "too_many_requests"}
    assert emulator.token_request_count == 3  # rate-limited attempts count too
    assert emulator.tokens_issued == 2


def test_default_token_endpoint_has_norces_limit_of_a_burst_of_20_then_3_a_minute(
    emulator: Emulator, emulator_http: httpx.Client
) -> None:
    statuses = [emulator_http.post(TOKEN_PATH, data=token_form()).status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    emulator.reset()  # the bucket refills at 3 a minute; a reset starts a full one
    assert emulator.config.token_rate_limit_per_minute == 3.0 and emulator.config.token_burst == 20


@pytest.mark.parametrize("emulator_config", [{"token_rate_limit_per_minute": None}])
def test_a_test_that_needs_more_tokens_turns_the_limit_off_explicitly(
    emulator: Emulator, emulator_http: httpx.Client
) -> None:
    assert all(emulator_http.post(TOKEN_PATH, data=token_form()).status_code == 200 for _ in range(30))
    assert emulator.token_request_count == 30


def test_any_credentials_mode(emulator_factory: Any) -> None:
    emu = emulator_factory(client_id=None, require_scope=False)
    resp = httpx.post(
        emu.base_url + TOKEN_PATH,
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert resp.status_code == 200


def test_application_id_header_presence_is_recorded(
    emulator: Emulator, emulator_http: httpx.Client, emulator_token: str
) -> None:
    auth = {"Authorization": f"Bearer {emulator_token}"}
    emulator_http.get(JOB_GET, params={"id": 1}, headers=auth)
    emulator_http.get(JOB_GET, params={"id": 1}, headers={**auth, "application-id": "1042"})
    recorded = emulator.requests(group="job")
    assert [r["HasApplicationId"] for r in recorded] == [False, True]
    assert all(r["Headers"]["authorization"] == "<redacted>" for r in recorded)
