"""How imports change the catalog: FullFile scopes, FieldsThatAreSet, CreateOnly, upserts."""

from __future__ import annotations

import httpx
import pytest
from tests.fixtures.emulator import import_and_wait, product

from norce_emulator import Emulator

pytestmark = pytest.mark.integration

PRODUCTS, PRICES, ONHAND = "Product/ImportProducts", "Product/ImportSkuPriceLists", "Product/ImportOnhands"


def statuses(emu: Emulator) -> dict[str, int]:
    return {r["PartNo"]: r["Status"] for r in emu.catalog_rows("skus")}


def test_fullfile_products_deactivates_exactly_the_missing_skus(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    items = [product("P1", "A", "B"), product("P2", "C", "D")]
    import_and_wait(emulator, emulator_http, emulator_headers, PRODUCTS, items, FullFile=False)
    assert statuses(emulator) == {"A": 1, "B": 1, "C": 1, "D": 1}
    before = {r["PartNo"]: r["Updated"] for r in emulator.catalog_rows("skus")}

    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRODUCTS,
        [product("P1", "A"), product("P2", "D")],
        FullFile=True,
    )
    assert job["StatusId"] == 2
    assert statuses(emulator) == {"A": 1, "B": 5, "C": 5, "D": 1}
    rows = {r["PartNo"]: r for r in emulator.catalog_rows("skus")}
    assert rows["B"]["IsActive"] is False and rows["A"]["IsActive"] is True
    assert rows["A"]["Updated"] == before["A"]  # unchanged rows are not touched
    assert rows["B"]["Updated"] is not None
    changed = {e["Payload"]["PartNo"] for e in emulator.emitted_events("SkuChangedNotification")}
    assert {"B", "C"} <= changed

    # FullFile=false never deactivates.
    import_and_wait(emulator, emulator_http, emulator_headers, PRODUCTS, [product("P1", "A")], FullFile=False)
    assert statuses(emulator)["D"] == 1


def test_fields_that_are_set_are_honoured(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRODUCTS,
        [product("P1", "A", EanCode="111", CommodityCode="X1")],
        FullFile=False,
    )
    # Only EanCode (5) is listed: CommodityCode and Status must stay as they were.
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRODUCTS,
        [product("P1", "A", EanCode="222", CommodityCode="X2", Status=4)],
        FullFile=False,
        SkuFieldsThatAreSet=[5],
    )
    assert job["Updates"] == 1
    sku = emulator.sku("A")
    assert sku is not None
    assert (sku["EanCode"], sku["CommodityCode"], sku["Status"]) == ("222", "X1", 1)

    # Names work as well as integers; an empty list writes nothing but keys.
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRODUCTS,
        [product("P1", "A", EanCode="333", CommodityCode="X3")],
        FullFile=False,
        SkuFieldsThatAreSet=["CommodityCode"],
    )
    sku = emulator.sku("A")
    assert sku is not None and (sku["EanCode"], sku["CommodityCode"]) == ("222", "X3")
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRODUCTS,
        [product("P1", "A", EanCode="444")],
        FullFile=False,
        SkuFieldsThatAreSet=[],
    )
    assert emulator.sku("A")["EanCode"] == "222"  # type: ignore[index]


def test_create_only_fields_are_written_only_on_insert(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    fields = {"FullFile": False, "SkuFieldsThatAreSet": [22, 5]}  # StatusCreateOnly, EanCode
    import_and_wait(
        emulator, emulator_http, emulator_headers, PRODUCTS, [product("P1", "A", Status=2)], **fields
    )
    assert emulator.sku("A")["Status"] == 2  # type: ignore[index]
    import_and_wait(
        emulator, emulator_http, emulator_headers, PRODUCTS, [product("P1", "A", Status=4)], **fields
    )
    assert emulator.sku("A")["Status"] == 2  # type: ignore[index]


def test_prices_fullfile_per_price_list_and_ignored_rows(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(price_lists=[{"Code": "B2C"}, {"Code": "B2B"}], skus=[{"PartNo": p} for p in "ABC"])
    rows = [
        {"PartNo": p, "PriceListCode": pl, "QuantityBreak": 1, "PriceSale": 10.0, "IsActive": True}
        for p in "ABC"
        for pl in ("B2C", "B2B")
    ]
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRICES,
        rows,
        FullFile=False,
        SkuPriceListFieldsThatAreSet=[3, 10],
    )
    assert job["Inserts"] == 6

    # FullFile with only B2C rows for A and B: C's B2C price is deactivated; B2B is out of scope.
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        PRICES,
        [
            {"PartNo": "A", "PriceListCode": "B2C", "PriceSale": 12.0},
            {"PartNo": "B", "PriceListCode": "B2C", "PriceSale": 0},  # 0 is ignored, not written
            {"PartNo": "ZZ", "PriceListCode": "B2C", "PriceSale": 1.0},  # unknown SKU: not imported
            {"PartNo": "A", "PriceListCode": "NOPE", "PriceSale": 1.0},
        ],  # unknown list: not imported
        FullFile=True,
        SkuPriceListFieldsThatAreSet=[3],
    )
    active = {
        (r["PartNo"], r["PriceListCode"]): (r["IsActive"], r.get("PriceSale"))
        for r in emulator.catalog_rows("prices")
    }
    assert active[("A", "B2C")] == (True, 12.0)
    assert active[("B", "B2C")] == (True, 10.0)
    assert active[("C", "B2C")] == (False, 10.0)
    assert all(active[(p, "B2B")][0] for p in "ABC")
    # The job Succeeds, but the two rows are item failures: counted and listed with their rows.
    assert job["StatusId"] == 2 and job["Fail"] == 2
    errors = {e["Message"]: e["ImportedRow"] for e in job["Log"] if e["SeverityId"] == 3}
    assert errors.keys() == {
        "Price not imported: unknown PartNo 'ZZ'",
        "Price not imported: unknown price list 'NOPE'",
    }
    assert '"PartNo":"ZZ"' in errors["Price not imported: unknown PartNo 'ZZ'"]
    price_events = emulator.emitted_events("SkuPriceChangedNotification")
    assert {"PartNo": "C", "PricelistCode": "B2C", "QuantityBreak": 1}.items() <= price_events[-1][
        "Payload"
    ].items()


def test_onhand_fullfile_per_warehouse_location(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(skus=[{"PartNo": p} for p in "AB"])
    rows = [
        {"PartNo": p, "WarehouseCode": w, "LocationCode": "L1", "OnhandValue": 5}
        for p in "AB"
        for w in ("W1", "W2")
    ]
    import_and_wait(emulator, emulator_http, emulator_headers, ONHAND, rows, FullFile=False)
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        ONHAND,
        [{"PartNo": "A", "WarehouseCode": "W1", "LocationCode": "L1", "OnhandValue": 7}],
        FullFile=True,
        SkuOnhandFieldsThatAreSet=[3],
    )
    state = {
        (r["PartNo"], r["WarehouseCode"]): (r["IsActive"], r["OnhandValue"])
        for r in emulator.catalog_rows("onhand")
    }
    assert state == {
        ("A", "W1"): (True, 7),
        ("B", "W1"): (False, 5),
        ("A", "W2"): (True, 5),
        ("B", "W2"): (True, 5),
    }


def test_customers_and_companies_upsert_with_ids(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    customer = {"Code": "C1", "FirstName": "Anna", "LastName": "A", "EmailAddress": "anna@example.com"}
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Customer/ImportCustomers",
        [customer, {"Code": "C2", "FirstName": "No email"}],
        CustomerFieldsThatAreSet=[2, 3, 6, 8],
    )
    assert (job["StatusId"], job["Inserts"], job["Fail"]) == (2, 1, 1)
    [row] = emulator.catalog_rows("customers")
    assert isinstance(row["Id"], int) and row["FirstName"] == "Anna"
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Customer/ImportCustomers",
        [{"Code": "C1", "FirstName": "Anne", "LastName": "Changed"}],
        CustomerFieldsThatAreSet=[6],
    )
    [row2] = emulator.catalog_rows("customers")
    assert (row2["Id"], row2["FirstName"], row2["LastName"]) == (row["Id"], "Anne", "A")
    events = emulator.emitted_events("CustomerChangedNotification")
    assert events[-1]["Payload"] == {
        "ClientId": 1234,
        "ApplicationId": 1042,
        "CustomerId": row["Id"],
        "EntityChanged": "tClientCustomer",
    }

    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Customer/ImportCompanies",
        [{"Code": "CO1", "Name": "Acme", "OrganizationNo": "556000-0000"}],
    )
    [company] = emulator.catalog_rows("companies")
    assert company["Name"] == "Acme" and isinstance(company["Id"], int)
    assert emulator.emitted_events("CompanyChangedNotification")[-1]["Payload"]["CompanyId"] == company["Id"]


def test_price_lists_and_supplier_products(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Product/ImportPriceLists",
        [{"Code": "SE-B2C", "Name": "Sweden", "CurrencyCode": "SEK"}],
        PriceListFieldsThatAreSet=[0, 1],
    )
    [pl] = emulator.catalog_rows("price_lists")
    assert (pl["Code"], pl["Name"], pl["CurrencyCode"]) == ("SE-B2C", "Sweden", "SEK")

    stock = [
        {"WarehouseCode": "W1", "LocationCode": "L", "Value": 1},
        {"WarehouseCode": "W2", "LocationCode": "L"},
    ]
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Supplier/ImportProducts",
        [{"SupplierPartNo": "SP1", "ProductName": "Thing", "OnHand": stock}],
        FullFile=False,
        SupplierId=7,
    )
    import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Supplier/ImportProducts",
        [{"SupplierPartNo": "SP1", "OnHand": stock[:1]}],
        FullFile=True,
        SupplierId=7,
    )
    [sp] = emulator.catalog_rows("supplier_products")
    assert sp["SupplierId"] == 7 and sp["ProductName"] == "Thing"
    assert {s["WarehouseCode"]: s["IsActive"] for s in sp["OnHand"]} == {
        "W1": True,
        "W2": True,
    }  # W2 not in scope
