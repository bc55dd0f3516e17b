"""The emulator serves Query 2.0 as published: documented set names and keys, `in` off by default."""

from __future__ import annotations

import httpx
import pytest
from tests.fixtures.emulator import QUERY

from norce_emulator import Emulator
from norce_emulator.query_schema import ENTITY_SETS
from norcekit.norce.query_schema import PUBLISHED_SETS

pytestmark = pytest.mark.integration


def get(client: httpx.Client, headers: dict[str, str], path: str, **params: str) -> httpx.Response:
    return client.get(QUERY + path, headers=headers, params={f"${k}": v for k, v in params.items()})


def test_in_is_refused_by_default_and_or_chains_work(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(skus=[{"PartNo": "A", "Status": 1}, {"PartNo": "B", "Status": 1}])
    refused = get(emulator_http, emulator_headers, "Products/ProductSkus", filter="PartNo in ('A','B')")
    assert refused.status_code == 400 and "'in' is not supported" in refused.text
    chained = get(
        emulator_http, emulator_headers, "Products/ProductSkus", filter="PartNo eq 'A' or PartNo eq 'B'"
    )
    assert sorted(r["PartNo"] for r in chained.json()["value"]) == ["A", "B"]


@pytest.mark.parametrize("emulator_config", [{"query_supports_in": True}])
def test_in_can_be_switched_on(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(skus=[{"PartNo": "A", "Status": 1}])
    answer = get(emulator_http, emulator_headers, "Products/ProductSkus", filter="PartNo in ('A')")
    assert answer.status_code == 200 and [r["PartNo"] for r in answer.json()["value"]] == ["A"]


def test_supplier_skus_and_orders_by_quotation_id_use_the_published_names(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(orders=[{"Id": 9001, "OrderNo": "E-1", "ClientOrderRef": "10001", "StatusId": 2}])
    orders = get(emulator_http, emulator_headers, "Orders/Orders", filter="QuotationId eq 10001").json()[
        "value"
    ]
    assert [o["Id"] for o in orders] == [9001]
    assert get(emulator_http, emulator_headers, "Products/SupplierProducts").status_code == 404
    suppliers = get(emulator_http, emulator_headers, "Products/SupplierProductSkus", filter="SupplierId eq 7")
    assert suppliers.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "Products/ProductSkuOnhands",  # client on-hand: no 2.0 name published
        "Customers/Companies",  # the company set's name is not published
        "Orders/OrderItems",  # tenants answer 404 (use $expand=Items)
        "Products/SupplierProducts",
        "Products/ProductSkuPriceList",
    ],
)
def test_sets_norce_does_not_publish_answer_404(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str], path: str
) -> None:
    answer = get(emulator_http, emulator_headers, path)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "NotFound"


def test_every_served_set_has_the_published_keys_and_names(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    """The emulator's schema against the kit's encoding of the facts sheet (norce/query_schema.py)."""
    for (namespace, name), served in ENTITY_SETS.items():
        published = PUBLISHED_SETS[f"{namespace}/{name}"]
        assert served.key in (*published.keys, None), name
        if served.key is None:
            assert len(published.keys) > 1, f"{name} has a single published key"
        names = set(published.keys) | published.properties | {"Created", "Updated"}
        if published.properties:  # Customers/Customers: only its key is published
            assert set(served.props) <= names, (name, set(served.props) - names)
        assert not set(served.props) & set(published.absent), name
        assert set(served.navigations) <= published.navigations, name
        assert {k: served.props[k] for k in published.keys} == {
            k: "str" if t == "string" else "int" for k, t in published.keys.items()
        }, name


def test_rows_carry_ids_not_codes_and_undocumented_names_are_refused(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(
        price_lists=[{"Code": "B2C", "CurrencyCode": "EUR"}],
        skus=[{"PartNo": "A", "Status": 1}],
        prices=[{"PartNo": "A", "PriceListCode": "B2C", "QuantityBreak": 2, "PriceSale": 5}],
    )
    [price] = get(emulator_http, emulator_headers, "Products/ProductSkuPriceLists").json()["value"]
    [eur] = get(emulator_http, emulator_headers, "Core/Currencies", filter="Code eq 'EUR'").json()["value"]
    [price_list] = get(emulator_http, emulator_headers, "Application/ClientPriceLists").json()["value"]
    assert (price["PartNo"], price["QtyBreak"], price["PriceSale"]) == ("A", 2, 5)
    assert price["PriceListId"] == price_list["PriceListId"] and price_list["Agreement"] == "B2C"
    assert price["CurrencyId"] == eur["Id"] == price_list["CurrencyId"]
    assert not {"PriceListCode", "CurrencyCode", "QuantityBreak"} & set(price)
    [sku] = get(emulator_http, emulator_headers, "Products/ProductSkus").json()["value"]
    assert "ProductCode" not in sku and sku["StatusId"] == 1 and sku["ClientId"] == 1234
    for path, select in [
        ("Products/ProductSkus", "ProductCode"),
        ("Products/ProductSkuPriceLists", "PriceListCode"),
        ("Orders/Orders", "ClientOrderRef"),
    ]:
        assert get(emulator_http, emulator_headers, path, select=select).status_code == 400, path
