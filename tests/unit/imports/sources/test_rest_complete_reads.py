"""REST and Business Central reads are complete or fail: no stop on a short page, no error page
read as an empty one, totals honoured, next links only on the configured origin over https."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from norcekit.imports.sources import SourceError
from norcekit.imports.sources.auth import build_authenticator, clear_token_cache
from norcekit.imports.sources.business_central import BusinessCentralOptions, BusinessCentralSource
from norcekit.imports.sources.rest import RestOptions, RestSource
from norcekit.norce.http import NorceHttp, RetryPolicy

BASE = "https://erp.test/api/"


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


def make(options: dict[str, Any], base: str = BASE) -> RestSource:
    opts = RestOptions.model_validate(
        {"base_url": base, "entities": {"products": {"path": "items", "key_fields": ["sku"]}}, **options}
    )
    http = NorceHttp(httpx.Client(), policy=RetryPolicy(max_attempts=2), sleep=lambda _: None)
    return RestSource("erp", opts, http=http, authenticator=build_authenticator(opts.auth))


def rows(start: int, stop: int) -> list[dict[str, Any]]:
    return [{"sku": f"S{n:04d}"} for n in range(start, stop)]


class CappingApi:
    """An offset/limit API that never returns more than ``cap`` rows, whatever limit was asked."""

    def __init__(self, total: int, cap: int) -> None:
        self.total, self.cap = total, cap

    def __call__(self, request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = min(int(request.url.params["limit"]), self.cap)
        return httpx.Response(200, json={"data": rows(offset, min(offset + limit, self.total))})


@respx.mock
def test_an_api_capping_pages_below_page_size_is_read_to_the_end() -> None:
    route = respx.get(f"{BASE}items").mock(side_effect=CappingApi(total=1000, cap=100))
    source = make({"paging": {"style": "offset", "items_pointer": "/data", "page_size": 1000}})

    keys = [r.key for r in source.iter_all("products")]

    assert len(keys) == 1000
    assert keys[-1] == "S0999"
    assert len(set(keys)) == 1000
    assert route.call_count == 11  # ten capped pages and the empty one that ends the read


@respx.mock
def test_page_numbers_continue_past_a_capped_page() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        start = (page - 1) * 100  # the server pages by its own cap of 100
        return httpx.Response(200, json={"items": rows(start, min(start + 100, 250))})

    respx.get(f"{BASE}items").mock(side_effect=api)
    source = make({"paging": {"style": "page", "items_pointer": "/items", "page_size": 500}})

    assert len(list(source.iter_all("products"))) == 250


@respx.mock
def test_a_200_answer_without_the_items_pointer_fails_the_read() -> None:
    respx.get(f"{BASE}items").respond(200, json={"error": {"message": "session expired"}})
    source = make({"paging": {"style": "nextlink", "items_pointer": "/value"}})

    with pytest.raises(SourceError, match=r"no items at '/value'.*session expired"):
        list(source.iter_all("products"))


@respx.mock
def test_an_error_page_in_the_middle_fails_the_read_after_the_first_page() -> None:
    route = respx.get(f"{BASE}items")
    route.side_effect = [
        httpx.Response(200, json={"data": rows(0, 2)}),
        httpx.Response(200, json={"status": "maintenance"}),
    ]
    source = make({"paging": {"style": "offset", "items_pointer": "/data", "page_size": 2}})
    read: list[str] = []

    with pytest.raises(SourceError, match="refusing to treat it as an empty page"):
        for record in source.iter_all("products"):
            read.append(record.key or "")

    assert read == ["S0000", "S0001"]  # the caller saw the first page, then the read failed


@respx.mock
def test_reaching_the_announced_total_ends_the_read_without_another_request() -> None:
    route = respx.get(f"{BASE}items")
    route.side_effect = [
        httpx.Response(200, json={"total": 3, "data": rows(0, 2)}),
        httpx.Response(200, json={"total": 3, "data": rows(2, 3)}),
    ]
    source = make({"paging": {"style": "page", "items_pointer": "/data", "page_size": 2,
                              "total_pointer": "/total"}})  # fmt: skip

    assert [r.key for r in source.iter_all("products")] == ["S0000", "S0001", "S0002"]
    assert route.call_count == 2


@respx.mock
def test_a_next_link_is_followed_past_a_total_that_rows_changed_during_the_read_outgrew() -> None:
    """The count comes with the first page only; a row that changes while the pages are read joins
    the window, so the announced total is reached one row early. Stopping there while the API still
    gives a next link would drop the last row for good: its stamp is older than the next window."""
    route = respx.get(f"{BASE}items")
    entered = {"sku": "S0001b"}
    route.side_effect = [
        httpx.Response(200, json={"@odata.count": 4, "value": rows(0, 2), "@odata.nextLink": "items?p=2"}),
        httpx.Response(200, json={"value": [entered, *rows(2, 3)], "@odata.nextLink": "items?p=3"}),
        httpx.Response(200, json={"value": rows(3, 4), "@odata.nextLink": "items?p=4"}),
        httpx.Response(200, json={"value": []}),
    ]
    source = make({"paging": {"style": "nextlink", "total_pointer": "/@odata.count"}})

    keys = [r.key for r in source.iter_all("products")]

    assert keys == ["S0000", "S0001", "S0001b", "S0002", "S0003"]
    assert route.call_count == 4  # the empty page after the total ended the read


@respx.mock
def test_paging_that_ends_before_the_announced_total_fails_the_read() -> None:
    route = respx.get(f"{BASE}items")
    route.side_effect = [
        httpx.Response(200, json={"@odata.count": 5, "value": rows(0, 2), "@odata.nextLink": "items?p=2"}),
        httpx.Response(200, json={"@odata.count": 5, "value": rows(2, 3)}),  # no next link
    ]
    source = make({"paging": {"style": "nextlink", "total_pointer": "/@odata.count"}})

    with pytest.raises(SourceError, match="after 3 of the 5 rows"):
        list(source.iter_all("products"))


@respx.mock
def test_an_api_that_ignores_the_page_parameter_is_not_read_forever() -> None:
    respx.get(f"{BASE}items").respond(200, json={"data": rows(0, 2)})
    source = make({"paging": {"style": "page", "items_pointer": "/data", "page_size": 2}})

    with pytest.raises(SourceError, match="same page came back"):
        list(source.iter_all("products"))


@pytest.mark.parametrize(
    "link",
    [
        "https://collector.example/steal?page=2",  # another host
        "http://erp.test/api/items?page=2",  # same host, plain http
        "https://erp.test:8443/api/items?page=2",  # same host, another port
        "//collector.example/items",  # scheme-relative link to another host
    ],
)
@respx.mock
def test_a_next_link_off_the_configured_origin_is_not_followed(link: str) -> None:
    respx.get(f"{BASE}items").respond(200, json={"value": rows(0, 1), "@odata.nextLink": link})
    foreign = respx.route(host="collector.example").respond(200, json={"value": []})
    downgraded = respx.route(scheme="http").respond(200, json={"value": []})
    source = make({"auth": {"type": "bearer", "token": {"env": "ERP_TOKEN"}}})

    with pytest.raises(SourceError, match="next link") as caught:
        list(source.iter_all("products"))

    assert not foreign.called and not downgraded.called
    assert "steal" not in str(caught.value)  # a foreign link's path is not repeated in the message


@pytest.fixture(autouse=True)
def _erp_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_TOKEN", "erp-test-token")


@respx.mock
def test_plain_http_is_allowed_on_loopback_only() -> None:
    local = "http://127.0.0.1:8089/api/"
    respx.get(f"{local}items", params={"page": "2"}).respond(200, json={"value": rows(1, 2)})
    respx.get(f"{local}items").respond(
        200, json={"value": rows(0, 1), "@odata.nextLink": f"{local}items?page=2"}
    )
    assert len(list(make({}, base=local).iter_all("products"))) == 2

    with pytest.raises(SourceError, match="not https"):
        list(make({}, base="http://erp.test/api/").iter_all("products"))


def test_an_oauth_token_url_over_plain_http_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_SECRET", "s")
    with pytest.raises(SourceError, match="not https"):
        make({"auth": {"type": "oauth2_client_credentials", "token_url": "http://idp.test/token",
                       "client_id": "c", "client_secret": {"env": "ERP_SECRET"}}})  # fmt: skip


# --- Business Central -----------------------------------------------------------------------------

TENANT = "contoso.onmicrosoft.com"
COMPANY = "5d115c9c-44e3-ea11-bb43-000d3a2feca1"
API = f"https://bc.test/v2.0/{TENANT}/production/api/v2.0/companies({COMPANY})"


def business_central(monkeypatch: pytest.MonkeyPatch) -> BusinessCentralSource:
    monkeypatch.setenv("BC_CLIENT_SECRET", "test-secret")
    respx.post(f"https://login.test/{TENANT}/oauth2/v2.0/token").respond(
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0.test"}
    )
    options = BusinessCentralOptions.model_validate(
        {"tenant_id": TENANT, "company_id": COMPANY, "client_id": "app-id",
         "client_secret": {"env": "BC_CLIENT_SECRET"}, "api_base_url": "https://bc.test",
         "login_base_url": "https://login.test", "max_page_size": 2}
    )  # fmt: skip
    http = NorceHttp(httpx.Client(), policy=RetryPolicy(max_attempts=2), sleep=lambda _: None)
    return BusinessCentralSource("bc", options, http=http)


@respx.mock
def test_business_central_short_pages_are_followed_to_the_last_next_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    respx.get(f"{API}/items", params={"$skiptoken": "2"}).respond(json={"value": [{"number": "C"}]})
    respx.get(f"{API}/items", params={"$skiptoken": "1"}).respond(
        json={"value": [{"number": "B"}], "@odata.nextLink": f"{API}/items?$skiptoken=2"}
    )
    respx.get(f"{API}/items").respond(
        json={"value": [{"number": "A"}], "@odata.nextLink": f"{API}/items?$skiptoken=1"}
    )

    assert [r.key for r in business_central(monkeypatch).iter_all("products")] == ["A", "B", "C"]


@respx.mock
def test_business_central_error_body_and_foreign_next_link_fail_the_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    respx.get(f"{API}/customers").respond(200, json={"error": {"code": "Internal_ServerError"}})
    respx.get(f"{API}/items").respond(
        json={"value": [{"number": "A"}], "@odata.nextLink": "https://elsewhere.test/items?$skiptoken=1"}
    )
    foreign = respx.route(host="elsewhere.test").respond(json={"value": []})
    source = business_central(monkeypatch)

    with pytest.raises(SourceError, match="no items at '/value'"):
        list(source.iter_all("customers"))
    with pytest.raises(SourceError, match="outside the configured origin"):
        list(source.iter_all("products"))
    assert not foreign.called
