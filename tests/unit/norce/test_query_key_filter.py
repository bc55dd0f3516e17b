"""Batched key look-ups: `in` vs `or` chains (auto-detected once), and keys too long for a URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from tests.unit.norce.clients_support import APP_ID, QUERY

from norcekit.norce.auth import TokenProvider
from norcekit.norce.http import NorceHttp
from norcekit.norce.query import QueryClient

SKUS = f"{QUERY}/Products/ProductSkus"
ROWS = {p: {"PartNo": p} for p in ("A", "B", "C")}


def odata_server(router: respx.MockRouter, *, accepts_in: bool) -> list[str]:
    """A Query stand-in answering key filters; 400 for `in` when the server does not take it."""
    filters: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        flt = parse_qs(urlsplit(str(request.url)).query)["$filter"][0]
        filters.append(flt)
        if " in (" in flt and not accepts_in:
            return httpx.Response(400, json={"error": {"code": "BadRequest", "message": "Syntax error 'in'"}})
        keys = re.findall(r"'([^']*)'", flt)
        return httpx.Response(200, json={"value": [ROWS[k] for k in keys if k in ROWS]})

    router.get(url__startswith=SKUS).mock(side_effect=answer)
    return filters


def client(http: NorceHttp, tokens: TokenProvider, mode: str) -> QueryClient:
    return QueryClient(
        http,
        tokens,
        query_base_url=QUERY,
        application_id=APP_ID,
        max_url_length=400,
        key_filter=mode,  # type: ignore[arg-type]
    )


def test_auto_falls_back_to_or_chains_on_a_400_and_remembers(
    http: NorceHttp,
    tokens: TokenProvider,
    router: respx.MockRouter,
) -> None:
    filters = odata_server(router, accepts_in=False)
    query = client(http, tokens, "auto")

    assert set(query.get_many("Products/ProductSkus", "PartNo", ["A", "B", "X"])) == {"A", "B"}
    assert query.in_supported is False
    assert set(query.get_many("Products/ProductSkus", "PartNo", ["C"])) == {"C"}
    # One `in` probe, then only or-chains, also for the next batch.
    assert filters == [
        "PartNo in ('A','B','X')",
        "PartNo eq 'A' or PartNo eq 'B' or PartNo eq 'X'",
        "PartNo eq 'C'",
    ]


def test_auto_keeps_using_in_where_the_server_takes_it(
    http: NorceHttp,
    tokens: TokenProvider,
    router: respx.MockRouter,
) -> None:
    filters = odata_server(router, accepts_in=True)
    query = client(http, tokens, "auto")
    query.get_many("Products/ProductSkus", "PartNo", ["A", "B"])
    query.get_many("Products/ProductSkus", "PartNo", ["C"])
    assert query.in_supported is True
    assert filters == ["PartNo in ('A','B')", "PartNo in ('C')"]


def test_or_mode_never_sends_in_and_in_mode_does_not_fall_back(
    http: NorceHttp,
    tokens: TokenProvider,
    router: respx.MockRouter,
) -> None:
    filters = odata_server(router, accepts_in=False)
    assert set(client(http, tokens, "or").get_many("Products/ProductSkus", "PartNo", ["A", "C"])) == {
        "A",
        "C",
    }
    assert filters == ["PartNo eq 'A' or PartNo eq 'C'"]
    with pytest.raises(Exception, match="400"):
        client(http, tokens, "in").get_many("Products/ProductSkus", "PartNo", ["A"])


def test_a_key_too_long_fails_alone_and_its_neighbours_are_looked_up(
    http: NorceHttp,
    tokens: TokenProvider,
    router: respx.MockRouter,
) -> None:
    odata_server(router, accepts_in=True)
    unfit: set[str | int] = set()
    long_key = "P" * 700
    found = client(http, tokens, "in").get_many(
        "Products/ProductSkus", "PartNo", ["A", long_key, "B"], unfit=unfit
    )
    assert set(found) == {"A", "B"}
    assert unfit == {long_key}


def test_unknown_key_filter_setting_is_refused(http: NorceHttp, tokens: TokenProvider) -> None:
    with pytest.raises(ValueError, match="key_filter"):
        client(http, tokens, "any")


def test_or_chains_never_exceed_the_url_limit_so_a_long_key_cannot_fail_its_neighbours(
    http: NorceHttp,
    tokens: TokenProvider,
    router: respx.MockRouter,
) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        sent.append(url)
        if len(url) > 400:  # a server whose limit is exactly the configured one
            return httpx.Response(414, json={"error": {"code": "UriTooLong", "message": "URI too long"}})
        flt = parse_qs(urlsplit(url).query)["$filter"][0]
        keys = re.findall(r"'([^']*)'", flt)
        return httpx.Response(200, json={"value": [{"PartNo": k} for k in keys if k != "X"]})

    router.get(url__startswith=SKUS).mock(side_effect=answer)
    # A key whose or-chain fills the limit to the last character, once "?$filter=" is counted.
    long_key = "P" * (400 - len(SKUS) - len("?$filter=") - len("PartNo%20eq%20''"))
    too_long = long_key + "P"
    unfit: set[str | int] = set()
    found = client(http, tokens, "or").get_many(
        "Products/ProductSkus", "PartNo", ["A", too_long, long_key, "B"], unfit=unfit
    )

    assert set(found) == {"A", long_key, "B"}
    assert unfit == {too_long}
    assert max(len(url) for url in sent) == 400
