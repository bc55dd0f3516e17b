"""The emulator serves Query 2.0 as published: documented set names and keys, `in` off by default."""

from __future__ import annotations

import httpx
import pytest
from tests.fixtures.emulator import QUERY

from norce_emulator import Emulator

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
