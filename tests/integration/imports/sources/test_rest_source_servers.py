"""A REST source against real local servers: a page-capping API, an error page, a foreign next link,
and a full import whose read fails half-way (Norce must receive no job)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET, SCOPE
from tests.fixtures.local_http import Request, local_server

from norce_emulator import Emulator
from norcekit.deadline import Deadline
from norcekit.imports.sources import SourceError
from norcekit.imports.sources.rest import RestOptions, RestSource
from norcekit.norce.auth import TokenProvider
from norcekit.norce.connect import ConnectClient
from norcekit.norce.http import NorceHttp, RetryPolicy

pytestmark = pytest.mark.integration

ROWS = [{"sku": f"S{n:04d}", "qty": n} for n in range(1000)]
CAP = 100


@pytest.fixture(autouse=True)
def _erp_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_TOKEN", "erp-test-token")


def source(base_url: str, paging: dict[str, Any]) -> RestSource:
    options = RestOptions.model_validate(
        {
            "base_url": base_url,
            "entities": {"onhand": {"path": "stock", "key_fields": ["sku"]}},
            "paging": paging,
            "auth": {"type": "bearer", "token": {"env": "ERP_TOKEN"}},
            "max_attempts": 1,
        }
    )
    return RestSource("erp", options)


def capping_api(request: Request) -> None:
    """offset/limit paging that never returns more than CAP rows, whatever the limit asked."""
    offset = int(request.query.get("offset", "0"))
    limit = min(int(request.query.get("limit", "1000")), CAP)
    request.send_json(200, {"data": ROWS[offset : offset + limit], "total": len(ROWS)})


def test_a_page_capping_server_is_read_completely() -> None:
    with local_server(capping_api) as server:
        erp = source(server.url, {"style": "offset", "items_pointer": "/data", "page_size": 1000})
        try:
            keys = [r.key for r in erp.iter_all("onhand")]
        finally:
            erp.close()

    assert keys == [row["sku"] for row in ROWS]


def test_an_error_page_fails_the_read() -> None:
    def error_page(request: Request) -> None:
        if request.query.get("offset", "0") == "0":
            capping_api(request)
        else:  # a gateway that answers 200 with an error document
            request.send_json(200, {"message": "upstream timeout", "code": 504})

    with local_server(error_page) as server:
        erp = source(server.url, {"style": "offset", "items_pointer": "/data", "page_size": 100})
        try:
            with pytest.raises(SourceError, match="no items at '/data'"):
                list(erp.iter_all("onhand"))
        finally:
            erp.close()


def test_a_next_link_to_another_origin_gets_no_request_and_no_credentials() -> None:
    with local_server(lambda request: request.send_json(200, {"value": []})) as foreign:

        def api(request: Request) -> None:
            request.send_json(200, {"value": ROWS[:2], "@odata.nextLink": f"{foreign.url}/stock?page=2"})

        with local_server(api) as server:
            erp = source(server.url, {"style": "nextlink"})
            try:
                with pytest.raises(SourceError, match="outside the configured origin"):
                    list(erp.iter_all("onhand"))
            finally:
                erp.close()
        assert server.requests[0][2]["authorization"] == "Bearer erp-test-token"
    assert foreign.requests == []


@pytest.fixture
def connect(emulator: Emulator) -> Iterator[ConnectClient]:
    http = NorceHttp(policy=RetryPolicy(max_attempts=2), sleep=lambda _: None)
    tokens = TokenProvider(
        http,
        token_url=f"{emulator.base_url}/identity/1.0/connect/token",
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        scope=SCOPE,
    )
    try:
        yield ConnectClient(
            http,
            tokens,
            connect_base_url=f"{emulator.base_url}/commerce/connect/4.0/",
            application_id=APPLICATION_ID,
        )
    finally:
        http.close()


def test_a_full_import_whose_read_fails_half_way_creates_no_norce_job(
    emulator: Emulator, connect: ConnectClient
) -> None:
    def breaks_after_three_pages(request: Request) -> None:
        if int(request.query.get("offset", "0")) >= 3 * CAP:
            request.send_json(200, {"error": "session expired"})
        else:
            capping_api(request)

    with local_server(breaks_after_three_pages) as server:
        erp = source(server.url, {"style": "offset", "items_pointer": "/data", "page_size": 1000})

        def items() -> Iterator[dict[str, Any]]:
            for record in erp.iter_all("onhand"):
                yield {"PartNo": record.key, "WarehouseCode": "MAIN", "LocationCode": "STO",
                       "OnhandValue": record.data["qty"], "IsActive": True}  # fmt: skip

        header = '{"AccountId":1,"FullFile":true,"SkuOnhandFieldsThatAreSet":[3,10],"SerializationType":0}'
        try:
            with pytest.raises(SourceError, match="no items"):
                connect.import_items("onhand", header, items(), deadline=Deadline.none())
        finally:
            erp.close()

    assert emulator.jobs() == []  # the truncated body was discarded: nothing was deactivated
