"""QueryClient: paging, single look-ups, keyset paging and many-key look-ups within URL limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import respx
from tests.unit.norce.clients_support import APP_ID, QUERY

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider
from norcekit.norce.http import NorceHttp, NorceHTTPError
from norcekit.norce.query import QueryClient, odata_literal

SKUS = f"{QUERY}/Products/ProductSkus"


@pytest.fixture
def query(http: NorceHttp, tokens: TokenProvider) -> QueryClient:
    return QueryClient(http, tokens, query_base_url=QUERY, application_id=APP_ID, max_url_length=2000)


def params_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("O'Brien", "'O''Brien'"),
        ("", "''"),
        (42, "42"),
        (1.5, "1.5"),
        (True, "true"),
        (None, "null"),
        (datetime(2025, 6, 1, 12, 0, 5, 123, tzinfo=timezone(timedelta(hours=2))), "2025-06-01T10:00:05Z"),
        (datetime(2025, 6, 1), "2025-06-01T00:00:00Z"),
    ],
)
def test_odata_literals(value: object, literal: str) -> None:
    assert odata_literal(value) == literal  # type: ignore[arg-type]


def test_query_follows_next_links_and_sends_headers(query: QueryClient, router: respx.MockRouter) -> None:
    next_url = f"{SKUS}?$skiptoken=abc"
    first = router.get(SKUS, params={"$filter": "StatusId eq 1"}).mock(
        return_value=httpx.Response(
            200, json={"value": [{"PartNo": "A"}, {"PartNo": "B"}], "@odata.nextLink": next_url}
        )
    )
    second = router.get(SKUS, params={"$skiptoken": "abc"}).mock(
        return_value=httpx.Response(200, json={"value": [{"PartNo": "C"}]})
    )
    rows = list(query.query("Products/ProductSkus", filter="StatusId eq 1", select=["PartNo", "StatusId"]))
    assert [r["PartNo"] for r in rows] == ["A", "B", "C"]
    request = first.calls.last.request
    assert request.headers["applicationId"] == str(APP_ID)
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert params_of(request)["$select"] == "PartNo,StatusId"
    assert second.called
    assert query.calls == 2


def test_top_is_capped_at_500_per_page(query: QueryClient, router: respx.MockRouter) -> None:
    tops: list[str] = []

    def page(request: httpx.Request) -> httpx.Response:
        params = params_of(request)
        tops.append(params["$top"])
        skip = int(params.get("$skip", "0"))
        count = min(int(params["$top"]), 500)
        return httpx.Response(200, json={"value": [{"Id": skip + i} for i in range(count)]})

    router.get(SKUS).mock(side_effect=page)
    rows = list(query.query("Products/ProductSkus", top=1200))
    assert tops == ["500", "500", "200"]
    assert [r["Id"] for r in rows] == list(range(1200))


def test_top_smaller_than_a_page_stops_early(query: QueryClient, router: respx.MockRouter) -> None:
    router.get(SKUS).mock(
        return_value=httpx.Response(
            200, json={"value": [{"Id": i} for i in range(10)], "@odata.nextLink": f"{SKUS}?n=2"}
        )
    )
    assert len(list(query.query("Products/ProductSkus", top=3))) == 3
    assert query.calls == 1


def test_get_by_string_key_quotes_and_escapes(query: QueryClient, router: respx.MockRouter) -> None:
    route = router.get(url__regex=r".*/Products/ProductSkus\(.*\)").mock(
        return_value=httpx.Response(200, json={"PartNo": "O'B 1"})
    )
    assert query.get("Products/ProductSkus", "O'B 1", expand="PriceLists($filter=IsActive eq true)") == {
        "PartNo": "O'B 1"
    }
    url = route.calls.last.request.url
    assert unquote(url.raw_path.decode()).startswith("/commerce/query/2.0/Products/ProductSkus('O''B 1')")
    assert params_of(route.calls.last.request)["$expand"] == "PriceLists($filter=IsActive eq true)"


def test_get_by_int_key_is_bare(query: QueryClient, router: respx.MockRouter) -> None:
    route = router.get(f"{QUERY}/Orders/Orders(42)").mock(return_value=httpx.Response(200, json={"Id": 42}))
    assert query.get("Orders/Orders", 42) == {"Id": 42}
    assert route.called


def test_get_missing_returns_none(query: QueryClient, router: respx.MockRouter) -> None:
    router.get(url__regex=r".*ProductSkus\('NOPE'\)").mock(return_value=httpx.Response(404))
    assert query.get("Products/ProductSkus", "NOPE") is None


def test_odata_error_is_raised_with_its_message(query: QueryClient, router: respx.MockRouter) -> None:
    router.get(SKUS).mock(
        return_value=httpx.Response(
            400, json={"error": {"code": "", "message": "The query specified is invalid."}}
        )
    )
    with pytest.raises(NorceHTTPError, match="The query specified is invalid"):
        list(query.query("Products/ProductSkus", filter="bad eq"))


def test_rate_limit_is_retried(query: QueryClient, router: respx.MockRouter) -> None:
    router.get(SKUS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(200, json={"value": [{"A": 1}]}),
        ]
    )
    assert list(query.query("Products/ProductSkus")) == [{"A": 1}]


def test_keyset_pages_by_key(query: QueryClient, router: respx.MockRouter) -> None:
    data: list[dict[str, int | str]] = [{"Id": i, "Name": f"n{i}"} for i in range(1, 8)]
    filters: list[str] = []

    def page(request: httpx.Request) -> httpx.Response:
        params = params_of(request)
        filters.append(params.get("$filter", ""))
        assert params["$orderby"] == "Id"
        match = re.search(r"Id gt (\d+)", params.get("$filter", ""))
        after = int(match.group(1)) if match else 0
        rows = [r for r in data if int(r["Id"]) > after][: int(params["$top"])]
        return httpx.Response(200, json={"value": rows})

    router.get(f"{QUERY}/Orders/Orders").mock(side_effect=page)
    rows = list(
        query.keyset("Orders/Orders", "Id", filter="ApplicationId eq 1042", select="Name", page_size=3)
    )
    assert [r["Id"] for r in rows] == list(range(1, 8))
    assert filters == [
        "(ApplicationId eq 1042)",
        "(ApplicationId eq 1042) and (Id gt 3)",
        "(ApplicationId eq 1042) and (Id gt 6)",
    ]


@pytest.mark.parametrize("use_in", [True, False])
def test_get_many_packs_keys_into_urls_within_the_limit(
    query: QueryClient, router: respx.MockRouter, use_in: bool
) -> None:
    keys = [f"SKU-{n:05d}/ä'x" for n in range(1000)]  # needs escaping and percent-encoding
    url_lengths: list[int] = []
    keys_per_call: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        url_lengths.append(len(str(request.url)))
        found = re.findall(r"'((?:[^']|'')*)'", params_of(request)["$filter"])
        wanted = [k.replace("''", "'") for k in found]
        keys_per_call.append(len(wanted))
        return httpx.Response(200, json={"value": [{"PartNo": k, "StatusId": 1} for k in wanted]})

    router.get(SKUS).mock(side_effect=answer)
    rows = query.get_many("Products/ProductSkus", "PartNo", keys, select=["StatusId"], use_in=use_in)
    assert set(rows) == set(keys)
    assert max(url_lengths) <= 2000
    assert sum(keys_per_call) == 1000
    # Few calls: every call but the last is nearly full.
    assert all(length > 2000 - 60 for length in url_lengths[:-1])
    assert len(url_lengths) == query.calls


def test_get_many_never_asks_for_more_than_500_keys(
    http: NorceHttp, tokens: TokenProvider, router: respx.MockRouter
) -> None:
    query = QueryClient(http, tokens, query_base_url=QUERY, application_id=APP_ID, max_url_length=100_000)
    counts: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        counts.append(params_of(request)["$filter"].count(","))
        return httpx.Response(200, json={"value": []})

    router.get(f"{QUERY}/Products/Products").mock(side_effect=answer)
    assert query.get_many("Products/Products", "Id", range(1, 1201), deadline=Deadline.none()) == {}
    assert [c + 1 for c in counts] == [500, 500, 200]


def test_get_many_with_an_extra_filter_and_no_keys(query: QueryClient, router: respx.MockRouter) -> None:
    route = router.get(SKUS).mock(return_value=httpx.Response(200, json={"value": [{"PartNo": "A"}]}))
    assert query.get_many("Products/ProductSkus", "PartNo", []) == {}
    assert not route.called
    query.get_many("Products/ProductSkus", "PartNo", ["A"], filter="StatusId eq 1")
    assert params_of(route.calls.last.request)["$filter"] == "(StatusId eq 1) and (PartNo in ('A'))"


def test_a_key_too_long_for_any_url_is_left_out_and_reported(query: QueryClient) -> None:
    unfit: set[str | int] = set()
    assert query.get_many("Products/ProductSkus", "PartNo", ["x" * 3000], unfit=unfit) == {}
    assert unfit == {"x" * 3000}


def test_datetime_filter_helper_output_is_unquoted_utc() -> None:
    since = datetime(2025, 6, 1, tzinfo=UTC)
    assert f"Updated ge {odata_literal(since)}" == "Updated ge 2025-06-01T00:00:00Z"
