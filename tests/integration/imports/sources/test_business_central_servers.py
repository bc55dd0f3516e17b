"""A Business Central source against real local servers (token endpoint and API on 127.0.0.1): a
server that caps its pages below the asked ``odata.maxpagesize``, an error page in the middle of a
read, and a next link to another origin, which must get no request and no token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tests.fixtures.local_http import LocalServer, Request, Responder, local_server

from norcekit.imports.sources import SourceError
from norcekit.imports.sources.business_central import BusinessCentralOptions, BusinessCentralSource

pytestmark = pytest.mark.integration

TENANT = "contoso.onmicrosoft.com"
COMPANY = "5d115c9c-44e3-ea11-bb43-000d3a2feca1"
ITEMS = [{"number": f"1{n:03d}", "displayName": f"Item {n}"} for n in range(10)]
CAP = 3  # rows per page, whatever odata.maxpagesize asks for
TOKEN = "bc-test-access-token"


def token_or(api: Responder) -> Responder:
    """The Entra token endpoint (POST .../oauth2/v2.0/token) and ``api`` for everything else."""

    def respond(request: Request) -> None:
        if request.method == "POST" and request.path.endswith("/oauth2/v2.0/token"):
            request.send_json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN})
        else:
            api(request)

    return respond


def capped_pages(server_url: str) -> Responder:
    """``items`` in pages of CAP rows, each but the last with an ``@odata.nextLink`` on this server."""

    def api(request: Request) -> None:
        start = int(request.query.get("$skiptoken", "0"))
        body: dict[str, Any] = {"value": ITEMS[start : start + CAP]}
        if start + CAP < len(ITEMS):
            body["@odata.nextLink"] = f"{server_url}{request.path}?$skiptoken={start + CAP}"
        request.send_json(200, body)

    return api


@contextmanager
def bc_server(api_for: Any) -> Iterator[tuple[LocalServer, BusinessCentralSource]]:
    """A local BC (``api_for(server_url)`` answers the API) and a source pointed at it."""
    holder: dict[str, Responder] = {}

    def respond(request: Request) -> None:  # the API's links need the server's URL: known once it runs
        holder["respond"](request)

    with local_server(respond) as server:
        holder["respond"] = token_or(api_for(server.url))
        options = BusinessCentralOptions.model_validate(
            {"tenant_id": TENANT, "company_id": COMPANY, "client_id": "app-id",
             "client_secret": {"env": "BC_CLIENT_SECRET"}, "api_base_url": server.url,
             "login_base_url": server.url, "max_page_size": 1000, "max_attempts": 1}
        )  # fmt: skip
        source = BusinessCentralSource("bc", options)
        try:
            yield server, source
        finally:
            source.close()


@pytest.fixture(autouse=True)
def _client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BC_CLIENT_SECRET", "bc-test-secret")


def data_requests(server: LocalServer) -> list[tuple[str, dict[str, str]]]:
    return [(path, headers) for method, path, headers in server.requests if method == "GET"]


def test_pages_capped_below_the_asked_size_are_read_to_the_last_next_link() -> None:
    with bc_server(capped_pages) as (server, source):
        keys = [record.key for record in source.iter_all("products")]

    assert keys == [item["number"] for item in ITEMS]
    requests = data_requests(server)
    assert len(requests) == 4  # 3 + 3 + 3 + 1: no stop at the first page shorter than 1000
    assert all(h["prefer"] == "odata.maxpagesize=1000" for _, h in requests)
    assert all(h["authorization"] == f"Bearer {TOKEN}" for _, h in requests)
    assert requests[0][0].startswith(f"/v2.0/{TENANT}/production/api/v2.0/companies({COMPANY})/items")


def test_an_error_page_in_the_middle_fails_the_read() -> None:
    def error_after_first_page(server_url: str) -> Responder:
        first = capped_pages(server_url)

        def api(request: Request) -> None:
            if "$skiptoken" in request.query:  # a gateway answering 200 with an OData error document
                request.send_json(200, {"error": {"code": "Internal_ServerError", "message": "try again"}})
            else:
                first(request)

        return api

    with (
        bc_server(error_after_first_page) as (_, source),
        pytest.raises(SourceError, match="no items at '/value'"),
    ):
        list(source.iter_all("products"))


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_next_link_to_another_origin_gets_no_request_and_no_token(scheme: str) -> None:
    with local_server(lambda request: request.send_json(200, {"value": ITEMS})) as foreign:
        elsewhere = foreign.url.replace("http://", f"{scheme}://")

        def api_linking_away(server_url: str) -> Responder:
            def api(request: Request) -> None:
                request.send_json(200, {"value": ITEMS[:CAP], "@odata.nextLink": f"{elsewhere}/items?p=2"})

            return api

        with (
            bc_server(api_linking_away) as (server, source),
            pytest.raises(SourceError, match="outside the configured origin") as refused,
        ):
            list(source.iter_all("products"))

    assert foreign.requests == []
    assert len(data_requests(server)) == 1
    assert TOKEN not in str(refused.value) and "p=2" not in str(refused.value)
