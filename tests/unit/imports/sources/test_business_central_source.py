"""Business Central API v2.0: URL, $filter window, nextLink paging, maxpagesize, Entra token, 429."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from norcekit.imports.mappings import load_mapping
from norcekit.imports.sources import SourceError
from norcekit.imports.sources.auth import clear_token_cache
from norcekit.imports.sources.business_central import BusinessCentralOptions, BusinessCentralSource
from norcekit.norce.contracts import dump_item
from norcekit.norce.http import NorceHttp, RetryPolicy

TENANT = "contoso.onmicrosoft.com"
COMPANY = "5d115c9c-44e3-ea11-bb43-000d3a2feca1"
API = f"https://bc.test/v2.0/{TENANT}/production/api/v2.0/companies({COMPANY})"
TOKEN_URL = f"https://login.test/{TENANT}/oauth2/v2.0/token"
SINCE = datetime(2026, 11, 27, 7, 55, tzinfo=UTC)
UNTIL = datetime(2026, 11, 27, 8, 59, 30, 250000, tzinfo=UTC)

ITEM = {
    "@odata.etag": 'W/"JzQ0O0VnQUFBQUo3QlRFQU1BQXdBQUFBQUE9PTE7MDsn"',
    "id": "0b6d1c2a-44e3-ea11-bb43-000d3a2feca1",
    "number": "1896-S",
    "displayName": "ATHENS Desk",
    "type": "Inventory",
    "itemCategoryId": "00000000-0000-0000-0000-000000000000",
    "itemCategoryCode": "TABLE",
    "blocked": False,
    "gtin": "7350001234567",
    "inventory": 4,
    "unitPrice": 1000.8,
    "priceIncludesTax": False,
    "unitCost": 780.7,
    "taxGroupCode": "FURNITURE",
    "baseUnitOfMeasureCode": "PCS",
    "lastModifiedDateTime": "2026-11-27T08:11:59.58Z",
}
CUSTOMER = {
    "id": "7c6d1c2a-44e3-ea11-bb43-000d3a2feca1",
    "number": "10000",
    "displayName": "Adatum Corporation",
    "type": "Company",
    "addressLine1": "192 Market Square",
    "addressLine2": "",
    "city": "Atlanta",
    "state": "GA",
    "country": "US",
    "postalCode": "31772",
    "phoneNumber": "",
    "email": "robert.townes@contoso.com",
    "website": "",
    "taxLiable": True,
    "currencyCode": "USD",
    "blocked": " ",
    "lastModifiedDateTime": "2026-11-27T08:12:20.467Z",
}


@pytest.fixture(autouse=True)
def _fresh_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BC_CLIENT_SECRET", "test-secret")
    clear_token_cache()
    yield
    clear_token_cache()


def make(sleeps: list[float] | None = None, **overrides: Any) -> BusinessCentralSource:
    options = BusinessCentralOptions.model_validate(
        {
            "tenant_id": TENANT,
            "company_id": COMPANY,
            "client_id": "app-id",
            "client_secret": {"env": "BC_CLIENT_SECRET"},
            "api_base_url": "https://bc.test",
            "login_base_url": "https://login.test",
            "max_page_size": 2,
            **overrides,
        }
    )
    waits = sleeps if sleeps is not None else []
    http = NorceHttp(httpx.Client(), policy=RetryPolicy(max_attempts=4), sleep=waits.append)
    return BusinessCentralSource("bc", options, http=http)


def token_route() -> respx.Route:
    return respx.post(TOKEN_URL).respond(
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0.test"}
    )


@respx.mock
def test_delta_filter_string_paging_and_prefer_header() -> None:
    token = token_route()
    # The nextLink route is registered first: respx matches routes in order and params by subset.
    second = respx.get(f"{API}/items", params={"$skiptoken": "abc"}).respond(
        json={"value": [{**ITEM, "number": "1906-S"}]}
    )
    first = respx.get(f"{API}/items").respond(
        json={
            "@odata.context": "...",
            "value": [ITEM, {**ITEM, "number": "1900-S"}],
            "@odata.nextLink": f"{API}/items?$filter=x&$skiptoken=abc",
        }
    )
    source = make()

    records = list(source.iter_changed("products", SINCE, UNTIL))

    assert [r.key for r in records] == ["1896-S", "1900-S", "1906-S"]
    assert records[0].changed_at == datetime(2026, 11, 27, 8, 11, 59, 580000, tzinfo=UTC)
    request = first.calls[0].request
    assert request.url.params["$filter"] == (
        "lastModifiedDateTime ge 2026-11-27T07:55:00.000Z"
        " and lastModifiedDateTime lt 2026-11-27T08:59:30.250Z"
    )
    assert request.headers["Prefer"] == "odata.maxpagesize=2"
    assert request.headers["Authorization"] == "Bearer eyJ0.test"
    assert second.calls[0].request.headers["Prefer"] == "odata.maxpagesize=2"
    assert token.call_count == 1


@respx.mock
def test_entra_token_request_shape_and_cache_across_runs() -> None:
    token = token_route()
    respx.get(f"{API}/customers").respond(json={"value": [CUSTOMER]})
    source = make()

    assert [r.key for r in source.iter_all("customers")] == ["10000"]
    assert [r.key for r in source.iter_all("customers")] == ["10000"]
    list(make().iter_all("customers"))  # a second source instance shares the process-wide cache

    assert token.call_count == 1
    assert parse_qs(token.calls[0].request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["app-id"],
        "client_secret": ["test-secret"],
        "scope": ["https://api.businesscentral.dynamics.com/.default"],
    }


@respx.mock
def test_429_retry_after_is_honoured() -> None:
    token_route()
    route = respx.get(f"{API}/items")
    route.side_effect = [
        httpx.Response(
            429, headers={"Retry-After": "3"}, json={"error": {"code": "Application_TooManyRequests"}}
        ),
        httpx.Response(200, json={"value": [ITEM]}),
    ]
    sleeps: list[float] = []
    assert [r.key for r in make(sleeps).iter_all("products")] == ["1896-S"]
    assert sleeps == [3.0]


@respx.mock
def test_unknown_company_is_a_source_error_with_bc_message() -> None:
    token_route()
    respx.get(f"{API}/items").respond(
        404,
        json={
            "error": {
                "code": "BadRequest_ResourceNotFound",
                "message": "Resource not found for the segment 'companies'.",
            }
        },
    )
    with pytest.raises(SourceError, match="BadRequest_ResourceNotFound: Resource not found"):
        list(make().iter_all("products"))


def test_default_urls_and_capabilities() -> None:
    options = BusinessCentralOptions.model_validate(
        {
            "tenant_id": TENANT,
            "environment": "sandbox",
            "company_id": COMPANY,
            "client_id": "a",
            "client_secret": {"env": "BC_CLIENT_SECRET"},
        }
    )
    assert options.company_url() == (
        f"https://api.businesscentral.dynamics.com/v2.0/{TENANT}/sandbox/api/v2.0/companies({COMPANY})/"
    )
    assert options.token_url() == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    source = BusinessCentralSource("bc", options)
    assert source.capabilities.delta_supported and source.capabilities.timestamp_granularity_s == 0.001
    assert "inventory" in source.capabilities.notes
    assert source.entities() == {"products", "customers"}


def test_page_size_above_bc_maximum_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_page_size"):
        make(max_page_size=50_000)


def test_bc_items_and_customers_map_to_contracts() -> None:
    options = {"culture": "sv-SE", "standard_price_list": "SE-B2C"}
    product = load_mapping("business_central", entity="products", options=options)(ITEM)
    assert product is not None
    assert dump_item(product) == (
        b'{"Code":"1896-S","Categories":[{"Code":"TABLE"}],'
        b'"Cultures":[{"CultureCode":"sv-SE","Name":"ATHENS Desk"}],'
        b'"Variants":[{"ManufacturerPartNo":"1896-S","Skus":[{"PartNo":"1896-S","Status":1,"Type":1,'
        b'"EanCode":"7350001234567","UnitOfMeasurementType":1,"StandardPrice":{"PartNo":"1896-S",'
        b'"PriceListCode":"SE-B2C","PriceSale":1000.8,"CostPurchase":780.7},'
        b'"Cultures":[{"CultureCode":"sv-SE","ErpName":"ATHENS Desk"}]}]}]}'
    )
    blocked = load_mapping("business_central", entity="products")({**ITEM, "blocked": True, "gtin": ""})
    assert blocked is not None
    sku = blocked.Variants[0].Skus[0]  # type: ignore[attr-defined]
    assert sku.Status.name == "Inactive" and sku.EanCode is None

    customer = load_mapping("business_central", entity="customers")(CUSTOMER)
    assert customer is not None
    assert dump_item(customer) == (
        b'{"Type":1,"Code":"10000","EmailAddress":"robert.townes@contoso.com","FirstName":"Adatum",'
        b'"LastName":"Corporation","IsActive":true,"InvoiceAddress":{"AddressLine1":"192 Market Square",'
        b'"ZipCode":"31772","City":"Atlanta","Region":"GA","CountryCode":"US"}}'
    )
    inactive = load_mapping("business_central", entity="customers")({**CUSTOMER, "blocked": "All"})
    assert inactive is not None and inactive.IsActive is False  # type: ignore[attr-defined]
