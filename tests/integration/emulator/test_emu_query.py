"""Query (OData v4 subset): filter grammar, select/expand, paging, key lookup, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.fixtures.emulator import QUERY

from norce_emulator import Emulator
from norce_emulator.odata import ODataError, compile_filter

pytestmark = pytest.mark.integration

SKUS = QUERY + "Products/ProductSkus"
T0 = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def emulator_config() -> dict[str, Any]:
    # These tests exercise the OData subset including 4.01 `in` (off by default, as for Norce).
    return {"query_supports_in": True}


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    emulator.seed(
        price_lists=[{"Code": "B2C"}, {"Code": "B2B"}],
        skus=[
            {
                "PartNo": "A-1",
                "Status": 1,
                "EanCode": "111",
                "Created": T0,
                "Updated": T0 + timedelta(days=1),
            },
            {
                "PartNo": "B-2",
                "Status": 5,
                "EanCode": "222",
                "Created": T0 + timedelta(days=2),
                "Updated": None,
            },
            {
                "PartNo": "C'3",
                "Status": 1,
                "EanCode": None,
                "Created": T0 + timedelta(days=3),
                "Updated": T0 + timedelta(days=4),
            },
            {
                "PartNo": "D-4",
                "Status": 2,
                "EanCode": "444",
                "Created": T0 - timedelta(days=10),
                "Updated": None,
            },
        ],
        prices=[
            {"PartNo": "A-1", "PriceListCode": "B2C", "PriceSale": 10.5},
            {"PartNo": "A-1", "PriceListCode": "B2B", "PriceSale": 8.0, "IsActive": False},
        ],
        onhand=[{"PartNo": "A-1", "WarehouseCode": "W1", "LocationCode": "L1", "OnhandValue": 3}],
    )
    return emulator


def q(client: httpx.Client, headers: dict[str, str], path: str = SKUS, **params: Any) -> httpx.Response:
    return client.get(path, params={f"${k}": v for k, v in params.items()}, headers=headers)


def part_nos(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return sorted(r["PartNo"] for r in resp.json()["value"])


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("StatusId eq 1", ["A-1", "C'3"]),
        ("StatusId ne 1", ["B-2", "D-4"]),
        ("StatusId gt 1", ["B-2", "D-4"]),
        ("StatusId ge 2", ["B-2", "D-4"]),
        ("StatusId lt 2", ["A-1", "C'3"]),
        ("StatusId le 1", ["A-1", "C'3"]),
        ("PartNo eq 'C''3'", ["C'3"]),  # '' escapes a quote
        ("PartNo in ('A-1', 'D-4', 'nope')", ["A-1", "D-4"]),
        ("StatusId in (2, 5)", ["B-2", "D-4"]),
        ("EanCode eq null", ["C'3"]),
        ("EanCode ne null and StatusId ne 5", ["A-1", "D-4"]),
        ("StatusId eq 5 and EanCode eq '222'", ["B-2"]),
        # and binds tighter than or
        ("StatusId eq 5 or StatusId eq 1 and EanCode eq '111'", ["A-1", "B-2"]),
        ("(StatusId eq 5 or StatusId eq 1) and EanCode eq '111'", ["A-1"]),
        ("not (StatusId eq 1)", ["B-2", "D-4"]),
        ("Created ge 2025-06-02T00:00:00Z", ["B-2", "C'3"]),
        ("Created lt 2025-06-01T00:00:00.000+02:00", ["D-4"]),
        # the incremental-sync filter from norce-api.md §4
        (
            "Updated ge 2025-06-02T00:00:00Z or (Updated eq null and Created ge 2025-06-02T00:00:00Z)",
            ["A-1", "B-2", "C'3"],
        ),
        ("startswith(PartNo, 'A') or contains(PartNo, '''')", ["A-1", "C'3"]),
        # OData 4.0 key lists: equalities on one property, the literal on either side
        ("PartNo eq 'A-1' or PartNo eq 'nope' or 'D-4' eq PartNo", ["A-1", "D-4"]),
        ("StatusId eq 5.0 or StatusId eq 2", ["B-2", "D-4"]),
        ("EanCode eq null or EanCode eq '111'", ["A-1", "C'3"]),
        ("PartNo eq 'A-1' or StatusId eq 5", ["A-1", "B-2"]),
        ("PartNo eq 'A-1' or PartNo ne 'B-2'", ["A-1", "C'3", "D-4"]),
    ],
)
def test_filter_grammar(
    seeded: Emulator,
    emulator_http: httpx.Client,
    emulator_headers: dict[str, str],
    flt: str,
    expected: list[str],
) -> None:
    assert part_nos(q(emulator_http, emulator_headers, filter=flt)) == expected


@pytest.mark.parametrize(
    ("flt", "fragment"),
    [
        ("StatusId eq", "unexpected end"),
        ("StatusId eq 1 and", "unexpected end"),
        ("(StatusId eq 1", "unexpected end"),
        ("StatusId eq 1)", "unexpected ')'"),
        ("PartNo eq 'unterminated", "Syntax error"),
        ("Colour eq 'red'", "Could not find a property named 'Colour'"),
        ("Updated ge '2025-06-01T00:00:00Z'", "incompatible types"),  # datetimes are unquoted
        ("StatusId eq '1'", "incompatible types"),
        ("StatusId in ()", "expected a literal"),
        ("StatusId === 1", "Syntax error"),
    ],
)
def test_filter_syntax_errors_are_400(
    seeded: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str], flt: str, fragment: str
) -> None:
    resp = q(emulator_http, emulator_headers, filter=flt)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "BadRequest" and fragment in error["message"]


def test_filter_parser_directly() -> None:
    props = {"A": "int", "B": "str", "D": "datetime"}
    match = compile_filter("A eq 1 or A eq 2 and B eq 'x'", props)
    assert match({"A": 1, "B": "y"}) and not match({"A": 2, "B": "y"}) and match({"A": 2, "B": "x"})
    assert compile_filter("D gt 2025-01-01", props)({"D": datetime(2025, 1, 2, tzinfo=UTC)})
    assert compile_filter("A eq -1.5e0", props)({"A": -1.5})
    with pytest.raises(ODataError):
        compile_filter("", props)


def test_a_key_list_matches_as_its_equalities_do() -> None:
    props = {"A": "int", "B": "str"}
    keys = compile_filter(" or ".join(f"A eq {n}" for n in range(0, 1200, 2)), props)
    assert [n for n in range(1200) if keys({"A": n})] == list(range(0, 1200, 2))
    assert keys({"A": 4.0}) and not keys({"A": 3}) and not keys({"A": None})
    names = compile_filter("B eq 'x' or B eq 'y' or B eq null", props)
    assert names({"B": "y"}) and names({}) and not names({"B": "z"})
    assert not names({"B": ["x"]}) and not names({"B": {"x": 1}})  # list and object values equal no text


def test_select_expand_and_key_lookup(
    seeded: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = q(
        emulator_http,
        emulator_headers,
        filter="PartNo eq 'A-1'",
        select="PartNo,StatusId",
        expand="PriceLists($filter=IsActive eq true;$select=PriceListId,PriceSale)",
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["@odata.context"].endswith("/commerce/query/2.0/Products/$metadata#ProductSkus")
    [row] = body["value"]
    assert set(row) == {"PartNo", "StatusId", "PriceLists"}
    [b2c] = q(
        emulator_http, emulator_headers, QUERY + "Application/ClientPriceLists", filter="Agreement eq 'B2C'"
    ).json()["value"]
    assert row["PriceLists"] == [{"PriceListId": b2c["PriceListId"], "PriceSale": 10.5}]
    # Client on-hand has no published 2.0 navigation: not served.
    assert q(emulator_http, emulator_headers, expand="OnHands").status_code == 400

    one = emulator_http.get(SKUS + "('C''3')", params={"$select": "PartNo,Created"}, headers=emulator_headers)
    assert one.status_code == 200
    assert one.json()["PartNo"] == "C'3" and one.json()["Created"] == "2025-06-04T00:00:00Z"
    assert "value" not in one.json()

    missing = emulator_http.get(SKUS + "('nope')", headers=emulator_headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NotFound"

    bad = q(emulator_http, emulator_headers, select="PartNo,Nope")
    assert bad.status_code == 400
    assert q(emulator_http, emulator_headers, expand="Nope").status_code == 400
    assert q(emulator_http, emulator_headers, apply="groupby").status_code == 400


def test_orderby_multiple_keys(
    seeded: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = q(emulator_http, emulator_headers, orderby="StatusId desc,PartNo", select="PartNo")
    assert [r["PartNo"] for r in resp.json()["value"]] == ["B-2", "D-4", "A-1", "C'3"]
    resp = q(emulator_http, emulator_headers, orderby="Updated", select="PartNo")
    assert [r["PartNo"] for r in resp.json()["value"]][-2:] == ["A-1", "C'3"]  # nulls first


def test_application_id_header_is_required(
    seeded: Emulator, emulator_http: httpx.Client, emulator_token: str
) -> None:
    auth = {"Authorization": f"Bearer {emulator_token}"}
    resp = emulator_http.get(SKUS, headers=auth)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest"
    assert emulator_http.get(SKUS, headers={**auth, "applicationId": "1042"}).status_code == 200
    assert emulator_http.get(SKUS, headers={**auth, "application-id": "1042"}).status_code == 200


def test_paging_through_1200_rows_with_next_link(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(skus=[{"PartNo": f"P{i:04d}", "Status": 1} for i in range(1200)])
    url: str | None = SKUS + "?$filter=StatusId eq 1&$orderby=PartNo&$select=PartNo"
    seen: list[str] = []
    pages = 0
    while url:
        resp = emulator_http.get(url, headers=emulator_headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        seen += [r["PartNo"] for r in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(emulator.base_url)  # absolute
            assert parse_qs(urlsplit(url).query)["$filter"] == ["StatusId eq 1"]
        pages += 1
    assert pages == 3 and seen == [f"P{i:04d}" for i in range(1200)]
    assert len(emulator.requests(group="query")) == 3
    assert emulator.requests(group="query")[1]["Params"][-1] == ("$skip", "500")


def test_top_is_clamped_to_500_without_next_link(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(skus=[{"PartNo": f"P{i:04d}"} for i in range(600)])
    body = q(emulator_http, emulator_headers, top="1000").json()
    assert len(body["value"]) == 500 and "@odata.nextLink" not in body
    body = q(emulator_http, emulator_headers, top="10", skip="595", count="true").json()
    assert len(body["value"]) == 5 and body["@odata.count"] == 600


@pytest.mark.parametrize("emulator_config", [{"query_page_size": 2}])
def test_configurable_page_size(
    seeded: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    body = q(emulator_http, emulator_headers, orderby="PartNo").json()
    assert len(body["value"]) == 2 and "$skip=2" in body["@odata.nextLink"]


def test_long_urls_get_414(
    seeded: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    codes = ",".join(f"'PART-{i:05d}'" for i in range(600))
    resp = q(emulator_http, emulator_headers, filter=f"PartNo in ({codes})")
    assert resp.status_code == 414
    short = ",".join(f"'PART-{i:05d}'" for i in range(100))
    assert q(emulator_http, emulator_headers, filter=f"PartNo in ({short})").status_code == 200


def test_other_entity_sets(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(
        customers=[
            {
                "Code": "C1",
                "FirstName": "Anna",
                "EmailAddress": "a@x",
                "Updated": "2025-06-02T00:00:00Z",
                "Companies": [{"Code": "CO1", "IsPrimary": True}],
            }
        ],
        companies=[{"Code": "CO1", "Name": "Acme"}],
        orders=[
            {
                "Id": 1,
                "OrderNo": "1001",
                "StatusId": 3,
                "Updated": "2025-06-02T10:00:00Z",
                "Items": [{"PartNo": "A", "QtyOrdered": 2}, {"PartNo": "B", "QtyOrdered": 1}],
            }
        ],
        products=[
            {
                "Code": "P1",
                "Cultures": [{"CultureCode": "sv-SE", "Name": "Tröja"}],
                "Variants": [{"Skus": [{"PartNo": "A"}]}],
            }
        ],
    )
    cust = q(
        emulator_http,
        emulator_headers,
        QUERY + "Customers/Customers",
        filter="Updated ge 2025-06-01T00:00:00Z",
    ).json()["value"]
    assert cust[0]["CustomerCode"] == "C1" and cust[0]["FirstName"] == "Anna"
    links = q(
        emulator_http,
        emulator_headers,
        QUERY + "Customers/CustomerCompanies",
        filter=f"CustomerId eq {cust[0]['Id']}",
        expand="Company($select=CompanyCode,Name)",
    ).json()["value"]
    assert links == [
        {
            "CustomerId": cust[0]["Id"],
            "CompanyId": links[0]["CompanyId"],
            "RoleId": None,
            "CustomerCode": "C1",
            "IsPrimary": True,
            "Company": {"CompanyCode": "CO1", "Name": "Acme"},
        }
    ]
    orders = q(
        emulator_http,
        emulator_headers,
        QUERY + "Orders/Orders",
        filter="ApplicationId eq 1042 and Updated ge 2025-06-01T00:00:00Z",
        select="Id,OrderNo,StatusId,Updated",
        expand="Items($select=PartNo,QtyOrdered)",
        orderby="Id",
        top="500",
    ).json()["value"]
    assert orders[0]["OrderNo"] == "1001" and orders[0]["Items"][1] == {"PartNo": "B", "QtyOrdered": 1}
    prods = q(emulator_http, emulator_headers, QUERY + "Products/Products", expand="Skus").json()["value"]
    assert prods[0]["DefaultName"] == "Tröja" and prods[0]["Skus"][0]["PartNo"] == "A"
    assert emulator_http.get(QUERY + "Products/Nope", headers=emulator_headers).status_code == 404
