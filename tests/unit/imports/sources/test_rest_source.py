"""Generic REST source: paging styles, changed-since formats, auth kinds, throttling."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from norcekit.imports.sources import SourceError
from norcekit.imports.sources.auth import build_authenticator, clear_token_cache
from norcekit.imports.sources.rest import RestOptions, RestSource, format_timestamp
from norcekit.norce.http import NorceHttp, RetryPolicy

BASE = "https://erp.test/api/"
SINCE = datetime(2026, 11, 27, 7, 0, 0, 123000, tzinfo=UTC)
UNTIL = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make(options: dict[str, Any], sleeps: list[float] | None = None) -> RestSource:
    opts = RestOptions.model_validate(
        {"base_url": BASE, "entities": {"products": {"path": "items", "key_fields": ["sku"]}}, **options}
    )
    waits = sleeps if sleeps is not None else []
    http = NorceHttp(httpx.Client(), policy=RetryPolicy(max_attempts=3), sleep=waits.append)
    return RestSource("erp", opts, http=http, authenticator=build_authenticator(opts.auth))


def items(*skus: str) -> list[dict[str, Any]]:
    return [{"sku": s, "updated": "2026-11-27T07:30:00Z"} for s in skus]


@respx.mock
def test_nextlink_paging_follows_relative_and_absolute_links() -> None:
    respx.get(f"{BASE}items", params={"kind": "all"}).respond(
        json={"value": items("A", "B"), "@odata.nextLink": "items?skip=2"}
    )
    respx.get(f"{BASE}items", params={"skip": "2"}).respond(
        json={"value": items("C"), "@odata.nextLink": f"{BASE}items?skip=3"}
    )
    respx.get(f"{BASE}items", params={"skip": "3"}).respond(json={"value": []})
    entity = {
        "path": "items",
        "key_fields": ["sku"],
        "params": {"kind": "all"},
        "changed_at_field": "updated",
    }
    source = make({"entities": {"products": entity}})

    records = list(source.iter_all("products"))

    assert [r.key for r in records] == ["A", "B", "C"]
    assert records[0].changed_at == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    assert records[2].origin == f"{BASE}items?skip=2#0"


@respx.mock
def test_nextlink_loop_is_detected() -> None:
    respx.get(f"{BASE}items").respond(json={"value": items("A"), "@odata.nextLink": f"{BASE}items?x=1"})
    with pytest.raises(SourceError, match="next link repeats"):
        list(make({}).iter_all("products"))


@respx.mock
def test_page_and_size_paging_reads_past_a_short_page_until_an_empty_one() -> None:
    route = respx.get(f"{BASE}items")
    route.side_effect = [
        httpx.Response(200, json={"data": items("A", "B")}),
        httpx.Response(200, json={"data": items("C")}),  # short: not the end
        httpx.Response(200, json={"data": items("D")}),
        httpx.Response(200, json={"data": []}),
    ]
    source = make({"paging": {"style": "page", "items_pointer": "/data", "page_size": 2, "page_param": "p",
                              "size_param": "n"}})  # fmt: skip

    assert [r.key for r in source.iter_all("products")] == ["A", "B", "C", "D"]
    assert [c.request.url.params["p"] for c in route.calls] == ["1", "2", "3", "4"]
    assert {c.request.url.params["n"] for c in route.calls} == {"2"}


@respx.mock
def test_offset_and_limit_paging_on_a_bare_list_body() -> None:
    route = respx.get(f"{BASE}items")
    route.side_effect = [httpx.Response(200, json=items("A", "B")), httpx.Response(200, json=[])]
    source = make({"paging": {"style": "offset", "items_pointer": "", "page_size": 2}})

    assert [r.key for r in source.iter_all("products")] == ["A", "B"]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"offset": "0", "limit": "2"},
        {"offset": "2", "limit": "2"},
    ]


@pytest.mark.parametrize(
    ("fmt", "zone", "since", "until"),
    [
        ("iso8601", "UTC", "2026-11-27T07:00:00Z", "2026-11-27T08:00:00Z"),
        ("iso8601_ms", "UTC", "2026-11-27T07:00:00.123Z", "2026-11-27T08:00:00.000Z"),
        ("epoch_s", "UTC", "1795762800", "1795766400"),
        ("epoch_ms", "UTC", "1795762800123", "1795766400000"),
        # Fortnox style: local Swedish time, minute precision, no offset.
        ("%Y-%m-%d %H:%M", "Europe/Stockholm", "2026-11-27 08:00", "2026-11-27 09:00"),
        ("iso8601", "Europe/Stockholm", "2026-11-27T08:00:00+01:00", "2026-11-27T09:00:00+01:00"),
    ],
)
@respx.mock
def test_changed_since_formats(fmt: str, zone: str, since: str, until: str) -> None:
    route = respx.get(f"{BASE}items").respond(json={"value": []})
    source = make({"delta": {"since_param": "modifiedSince", "until_param": "modifiedBefore", "format": fmt,
                             "timezone": zone}})  # fmt: skip

    list(source.iter_changed("products", SINCE, UNTIL))

    assert dict(route.calls.last.request.url.params) == {"modifiedSince": since, "modifiedBefore": until}


def _instants(text: str, fmt: str, zone: str) -> set[datetime]:
    """Every instant a local wall time without an offset can mean (two in a repeated DST hour)."""
    wall = datetime.strptime(text, fmt)
    return {wall.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC) for fold in (0, 1)}


@respx.mock
def test_local_time_window_at_the_autumn_dst_change_skips_no_changes() -> None:
    """Fortnox-style ``lastmodified`` in Stockholm time, no offset: on 2026-10-25 the wall clock runs
    02:00-03:00 twice. A since sent as ``02:30`` may be read by the ERP as the second 02:30 (an hour
    later): the changes of that hour would never be imported. Bounds are sent so that any reading
    of the wall time keeps the window at least as wide as asked."""
    fmt, zone = "%Y-%m-%d %H:%M:%S", "Europe/Stockholm"
    route = respx.get(f"{BASE}items").respond(json={"value": []})
    source = make({"delta": {"since_param": "lastmodified", "until_param": "lastmodifiedTo", "format": fmt,
                             "timezone": zone}})  # fmt: skip
    since = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first 02:30
    until = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second 02:30

    list(source.iter_changed("products", since, until))

    params = route.calls.last.request.url.params
    assert max(_instants(params["lastmodified"], fmt, zone)) <= since
    assert min(_instants(params["lastmodifiedTo"], fmt, zone)) >= until
    # Outside a repeated hour the wall time is sent as it is.
    assert format_timestamp(SINCE, fmt, zone) == "2026-11-27 08:00:00"


def test_format_timestamp_rejects_naive() -> None:
    with pytest.raises(SourceError, match="no timezone"):
        format_timestamp(datetime(2026, 1, 1), "iso8601")


@respx.mock
def test_odata_filter_window_and_first_delta_without_since() -> None:
    route = respx.get(f"{BASE}items").respond(json={"value": []})
    source = make({"delta": {"filter_param": "$filter", "since_filter": "modified ge {value}",
                             "until_filter": "modified lt {value}"}})  # fmt: skip

    list(source.iter_changed("products", SINCE, UNTIL))
    list(source.iter_changed("products", None, UNTIL))

    filters = [c.request.url.params["$filter"] for c in route.calls]
    assert filters == [
        "modified ge 2026-11-27T07:00:00Z and modified lt 2026-11-27T08:00:00Z",
        "modified lt 2026-11-27T08:00:00Z",
    ]


def test_delta_without_delta_settings_is_refused() -> None:
    source = make({})
    assert source.capabilities.delta_supported is False
    with pytest.raises(SourceError, match="full imports only"):
        list(source.iter_changed("products", SINCE, UNTIL))


@pytest.mark.parametrize(
    "bad",
    [
        {"format": "unix"},
        {"timezone": "Mars/Olympus"},
        {"filter_param": "$filter"},
    ],
)
def test_delta_settings_are_validated(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="delta"):
        RestOptions.model_validate(
            {"base_url": BASE, "entities": {}, "delta": {"since_param": "since", **bad}}
        )


@respx.mock
def test_bearer_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_TOKEN", "tok-123")
    route = respx.get(f"{BASE}items").respond(json={"value": []})
    list(make({"auth": {"type": "bearer", "token": {"env": "ERP_TOKEN"}}}).iter_all("products"))
    assert route.calls.last.request.headers["Authorization"] == "Bearer tok-123"


def test_missing_secret_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ERP_TOKEN", raising=False)
    with pytest.raises(SourceError, match="environment variable ERP_TOKEN is not set"):
        make({"auth": {"type": "bearer", "token": {"env": "ERP_TOKEN"}}})


def test_inline_secret_is_not_accepted() -> None:
    with pytest.raises(ValueError, match="token"):
        RestOptions.model_validate(
            {"base_url": BASE, "entities": {}, "auth": {"type": "bearer", "token": "plain-text"}}
        )


@respx.mock
def test_basic_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_PASSWORD", "pw")
    route = respx.get(f"{BASE}items").respond(json={"value": []})
    list(
        make({"auth": {"type": "basic", "username": "svc", "password": {"env": "ERP_PASSWORD"}}}).iter_all(
            "products"
        )
    )
    assert (
        route.calls.last.request.headers["Authorization"] == "Basic " + base64.b64encode(b"svc:pw").decode()
    )


OAUTH = {
    "type": "oauth2_client_credentials",
    "token_url": "https://id.erp.test/token",
    "client_id": "norcekit",
    "client_secret": {"env": "ERP_CLIENT_SECRET"},
    "scope": "read",
}


@respx.mock
def test_oauth2_client_credentials_token_is_cached_and_refreshed_after_401(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERP_CLIENT_SECRET", "s3cr3t")
    token = respx.post("https://id.erp.test/token")
    token.side_effect = [
        httpx.Response(200, json={"access_token": "t1", "expires_in": 3600}),
        httpx.Response(200, json={"access_token": "t2", "expires_in": 3600}),
    ]
    data = respx.get(f"{BASE}items")
    data.side_effect = [
        httpx.Response(200, json={"value": items("A")}),
        httpx.Response(200, json={"value": items("B")}),
        httpx.Response(401, json={"error": "expired"}),
        httpx.Response(200, json={"value": items("C")}),
    ]
    source = make({"auth": OAUTH})

    assert [r.key for r in source.iter_all("products")] == ["A"]
    assert [r.key for r in source.iter_all("products")] == ["B"]
    assert token.call_count == 1  # second run reused the cached token
    assert parse_qs(token.calls[0].request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["norcekit"],
        "client_secret": ["s3cr3t"],
        "scope": ["read"],
    }
    assert [r.key for r in source.iter_all("products")] == ["C"]  # 401 → new token → retried
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in data.calls] == ["Bearer t1"] * 3 + ["Bearer t2"]


@respx.mock
def test_oauth2_refused_token_is_a_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_CLIENT_SECRET", "wrong")
    respx.post("https://id.erp.test/token").respond(400, json={"error": "invalid_client"})
    with pytest.raises(
        SourceError,
        match=r"token request to https://id\.erp\.test/token for client norcekit failed.*invalid_client",
    ):
        list(make({"auth": OAUTH}).iter_all("products"))


@respx.mock
def test_429_and_503_with_retry_after_are_retried(sleeps: list[float]) -> None:
    route = respx.get(f"{BASE}items")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(503, headers={"Retry-After": "1"}),
        httpx.Response(200, json={"value": items("A")}),
    ]
    assert [r.key for r in make({}, sleeps).iter_all("products")] == ["A"]
    assert sleeps == [2.0, 1.0]


@respx.mock
def test_persistent_throttling_and_errors_become_source_errors(sleeps: list[float]) -> None:
    respx.get(f"{BASE}items").respond(429, headers={"Retry-After": "1"})
    with pytest.raises(SourceError, match=r"source 'erp'.*still rate limited"):
        list(make({}, sleeps).iter_all("products"))
    respx.get(f"{BASE}items").respond(500, text="boom")
    with pytest.raises(SourceError, match="HTTP 500"):
        list(make({}).iter_all("products"))
    respx.get(f"{BASE}items").respond(200, text="<html>")
    with pytest.raises(SourceError, match="did not return JSON"):
        list(make({}).iter_all("products"))


@respx.mock
def test_unusable_items_become_error_records() -> None:
    respx.get(f"{BASE}items").respond(json={"value": [{"sku": "A"}, "oops", {"name": "no key"}]})
    records = list(make({}).iter_all("products"))
    assert [r.ok for r in records] == [True, False, False]
    assert records[1].error == "item 1: expected a JSON object"
    assert records[2].error == "item 2: key field(s) sku missing or empty"
