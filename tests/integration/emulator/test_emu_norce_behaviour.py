"""The emulator behaves like Norce where the kit's safety depends on it: item failures inside a
Succeeded job, the Queued/Validating statuses, request bodies read as Json.NET reads them."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.fixtures.emulator import CONNECT, import_and_wait, post_import, product

from norce_emulator import Emulator

pytestmark = pytest.mark.integration

PRODUCTS, PRICES, ONHAND = "Product/ImportProducts", "Product/ImportSkuPriceLists", "Product/ImportOnhands"
SUPPLIER = "Supplier/ImportProducts"


def job_over_http(client: httpx.Client, headers: dict[str, str], job_id: str) -> tuple[Any, Any]:
    dto = client.get(CONNECT + "Job/Get", params={"id": job_id}, headers=headers).json()
    log = client.get(CONNECT + "Job/GetLog", params={"id": job_id}, headers=headers).json()
    return dto, log


# --- A Succeeded job with item failures ----------------------------------------------------------


def test_a_price_and_an_on_hand_row_for_an_unknown_part_no_fail_inside_a_succeeded_job(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(price_lists=[{"Code": "B2C"}], skus=[{"PartNo": "KNOWN"}])
    prices = [
        {"PartNo": "KNOWN", "PriceListCode": "B2C", "PriceSale": 10.0, "IsActive": True},
        {"PartNo": "GHOST-1", "PriceListCode": "B2C", "PriceSale": 99.0, "IsActive": True},
    ]
    price_job = import_and_wait(emulator, emulator_http, emulator_headers, PRICES, prices, FullFile=False,
                                SkuPriceListFieldsThatAreSet=[3, 10])  # fmt: skip
    onhand = [{"PartNo": "GHOST-2", "WarehouseCode": "W", "LocationCode": "L", "OnhandValue": 3}]
    onhand_job = import_and_wait(emulator, emulator_http, emulator_headers, ONHAND, onhand, FullFile=False,
                                 SkuOnhandFieldsThatAreSet=[3])  # fmt: skip

    dto, log = job_over_http(emulator_http, emulator_headers, str(price_job["JobId"]))
    assert (dto["StatusId"], dto["Totals"], dto["Inserts"], dto["Fail"]) == (2, 2, 1, 1)
    failed = [entry for entry in log if entry["SeverityId"] == 3]
    assert [entry["Message"] for entry in failed] == ["Price not imported: unknown PartNo 'GHOST-1'"]
    assert '"PartNo":"GHOST-1"' in failed[0]["ImportedRow"]

    dto, log = job_over_http(emulator_http, emulator_headers, str(onhand_job["JobId"]))
    assert (dto["StatusId"], dto["Fail"]) == (2, 1)
    assert [e["Message"] for e in log if e["SeverityId"] == 3] == [
        "Onhand not imported: unknown PartNo 'GHOST-2'"
    ]
    assert {(r["PartNo"], r["PriceListCode"]) for r in emulator.catalog_rows("prices")} == {("KNOWN", "B2C")}


@pytest.mark.parametrize("emulator_config", [{"unknown_reference_rows": "ignore"}])
def test_unknown_reference_rows_can_be_set_to_warnings(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    onhand = [{"PartNo": "GHOST", "WarehouseCode": "W", "LocationCode": "L", "OnhandValue": 3}]
    job = import_and_wait(emulator, emulator_http, emulator_headers, ONHAND, onhand, FullFile=False)

    assert (job["StatusId"], job["Fail"]) == (2, 0)
    assert [e["Message"] for e in job["Log"] if e["SeverityId"] == 2] == [
        "Onhand ignored: unknown PartNo 'GHOST'"
    ]


def test_a_standard_price_on_an_unknown_list_skips_part_of_the_product_only(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    item = product("P1", "A", StandardPrice={"PriceListCode": "NOPE", "PriceSale": 5.0})
    job = import_and_wait(emulator, emulator_http, emulator_headers, PRODUCTS, [item], FullFile=False)

    assert (job["StatusId"], job["Fail"], job["Inserts"]) == (2, 0, 1)  # Norce: severity 2 = part skipped
    assert any(e["SeverityId"] == 2 and "'NOPE'" in e["Message"] for e in job["Log"])


# --- Queued and Validating ----------------------------------------------------------------------


def wait_for_status(
    client: httpx.Client, headers: dict[str, str], job_id: str, status: int
) -> dict[str, Any]:
    for _ in range(500):  # bounded by count, not by the clock
        dto: dict[str, Any] = client.get(CONNECT + "Job/Get", params={"id": job_id}, headers=headers).json()
        if dto["StatusId"] == status:
            return dto
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never reached status {status}: {dto}")


@pytest.mark.parametrize(
    "emulator_config",
    [{"job_queued_seconds": 0.0, "job_validating_seconds": 300.0, "job_running_seconds": 0.0}],
)
def test_a_job_stays_validating_for_the_configured_time(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = post_import(emulator_http, emulator_headers, PRODUCTS, [product("P1", "A")], FullFile=False)
    dto = wait_for_status(emulator_http, emulator_headers, resp.json()["JobId"], 5)

    assert dto["IsFinished"] is False and dto["Stop"] is None
    assert emulator.sku("A") is None  # nothing is imported while the job validates


@pytest.mark.parametrize("emulator_config", [{"job_queued_seconds": 300.0}])
def test_a_job_stays_queued_for_the_configured_time(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = post_import(emulator_http, emulator_headers, PRODUCTS, [product("P1", "A")], FullFile=False)
    job_id = resp.json()["JobId"]

    time.sleep(0.2)  # far longer than every other step; the job must still be queued
    dto = emulator_http.get(CONNECT + "Job/Get", params={"id": job_id}, headers=emulator_headers).json()
    assert (dto["StatusId"], dto["IsFinished"]) == (6, False)


# Validating lasts 3 s so that a poller on a loaded machine cannot miss it.
@pytest.mark.parametrize(
    "emulator_config",
    [{"job_queued_seconds": 0.0, "job_validating_seconds": 3.0, "job_running_seconds": 0.0}],
)
def test_items_without_keys_end_validation_failed_after_validating(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = post_import(emulator_http, emulator_headers, PRICES, [{"PriceSale": 1.0}], FullFile=False)
    job_id = resp.json()["JobId"]
    wait_for_status(emulator_http, emulator_headers, job_id, 5)
    job = emulator.wait_for_job(job_id)

    assert (job["StatusId"], job["Fail"]) == (4, 1)
    assert "Starting import." not in [e["Message"] for e in job["Log"]]


# --- Request bodies as Json.NET reads them ----------------------------------------------------


@pytest.mark.parametrize(
    ("op", "items", "path"),
    [
        (PRODUCTS, [product("P1", "A", Status="on")], "[0].Variants[0].Skus[0].Status"),
        (PRODUCTS, [product("P1", "A", EanCode=7350001234567)], "[0].Variants[0].Skus[0].EanCode"),
        (PRODUCTS, [{"Code": "P1", "Variants": {"ManufacturerPartNo": "V"}}], "[0].Variants"),
        (PRICES, [{"PartNo": "A", "PriceListCode": "B2C", "PriceSale": "12.50"}], "[0].PriceSale"),
        (PRICES, [{"PartNo": "A", "PriceListCode": "B2C", "QuantityBreak": 1.5}], "[0].QuantityBreak"),
        (ONHAND, [{"PartNo": "A", "WarehouseCode": "W", "LocationCode": "L", "OnhandValue": None}],
             "[0].OnhandValue"),
        (ONHAND, [{"PartNo": "A", "WarehouseCode": "W", "LocationCode": "L", "NextDeliveryDate": "soon"}],
         "[0].NextDeliveryDate"),
        (SUPPLIER, [{"SupplierPartNo": "S1", "OnHand": [{"WarehouseCode": "W", "IsActive": "yes"}]}],
         "[0].OnHand[0].IsActive"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_refused_with_a_400_naming_its_path(
    emulator: Emulator,
    emulator_http: httpx.Client,
    emulator_headers: dict[str, str],
    op: str,
    items: list[dict[str, Any]],
    path: str,
) -> None:
    header: dict[str, Any] = {"FullFile": False, "SupplierId": 1} if op == SUPPLIER else {"FullFile": False}
    resp = post_import(emulator_http, emulator_headers, op, items, **header)

    assert resp.status_code == 400
    assert resp.json()["StatusCode"] == "Failed"
    assert f"Path '{path}'" in resp.json()["Description"]
    assert emulator.jobs() == []


def test_unknown_properties_are_ignored_and_not_stored(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    item = product("P1", "A", Colour="red")
    item["Variants"][0]["Skus"][0]["Status"] = "Active"  # an enum by name is fine
    item["Brand"] = {"Name": "not a Norce property"}
    job = import_and_wait(emulator, emulator_http, emulator_headers, PRODUCTS, [item], FullFile=False)

    assert (job["StatusId"], job["Fail"]) == (2, 0)
    sku = emulator.sku("A")
    assert sku is not None and "Colour" not in sku
    assert all("Brand" not in row for row in emulator.catalog_rows("products"))


@pytest.mark.parametrize("emulator_config", [{"check_body_types": False}])
def test_body_type_checks_can_be_turned_off(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    price = {"PartNo": "A", "PriceListCode": "B2C", "PriceSale": "12.50"}
    resp = post_import(emulator_http, emulator_headers, PRICES, [price], FullFile=False)
    assert resp.status_code == 200
