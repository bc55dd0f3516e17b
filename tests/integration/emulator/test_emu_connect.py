"""Connect imports: header validation, chunked bodies, job lifecycle, job log, restart rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from tests.fixtures.emulator import (
    CONNECT,
    connect_header,
    fetch_token,
    import_and_wait,
    post_import,
    product,
)

from norce_emulator import Emulator

pytestmark = pytest.mark.integration

PRODUCTS = "Product/ImportProducts"


def job_get(
    client: httpx.Client, headers: dict[str, str], job_id: int | str, api: bool = False
) -> httpx.Response:
    prefix = CONNECT + ("api/" if api else "")
    return client.get(prefix + "Job/Get", params={"id": job_id}, headers=headers)


@pytest.mark.parametrize(
    ("header_value", "fragment"),
    [
        (None, "Missing X-StormConnect-Header"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"FullFile": false}', "AccountId is required"),
        ('{"AccountId": "123", "FullFile": false}', "AccountId is required and must be an integer"),
        ('{"AccountId": 123}', "FullFile is required"),
        ('{"AccountId": 123, "FullFile": "false"}', "FullFile must be a boolean"),
        ('{"AccountId": 123, "Fullfile": false}', "Unknown ProductHeader properties"),
        ('{"AccountId": 123, "FullFile": false, "SkuFieldsThatAreSet": [17]}', "17 is not a valid SkuField"),
        ('{"AccountId": 123, "FullFile": false, "SkuFieldsThatAreSet": ["Colour"]}', "not a valid SkuField"),
        ('{"AccountId": 123, "FullFile": false, "SkuFieldsThatAreSet": 1}', "must be an array"),
        (
            '{"AccountId": 123, "FullFile": false, "ProductFieldsThatAreSet": [0], '
            '"VariantFieldsThatAreSet": [0]}',
            "must include Variants",
        ),
        ('{"AccountId": 123, "FullFile": false, "SerializationType": 1}', "SerializationType"),
    ],
)
def test_header_validation_400(
    emulator_http: httpx.Client, emulator_headers: dict[str, str], header_value: str | None, fragment: str
) -> None:
    headers = dict(emulator_headers)
    if header_value is not None:
        headers["X-StormConnect-Header"] = header_value
    resp = emulator_http.post(CONNECT + PRODUCTS, json=[product("P1", "S1")], headers=headers)
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["Description"]


def test_header_name_is_case_insensitive_and_enum_names_accepted(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    header = orjson.dumps(
        {"AccountId": 1, "FullFile": False, "SkuFieldsThatAreSet": ["Status", "eancode", 2]}
    )
    resp = emulator_http.post(
        CONNECT + PRODUCTS,
        json=[product("P1", "S1")],
        headers={**emulator_headers, "x-stormconnect-header": header.decode()},
    )
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("op", "header", "fragment"),
    [
        ("Customer/ImportCustomers", {"FullFile": True}, "Unknown CustomerHeader properties"),
        ("Product/ImportPriceLists", {"FullFile": False}, "Unknown PriceListHeader properties"),
        ("Supplier/ImportProducts", {"FullFile": False}, "SupplierId is required"),
        (
            "Product/ImportOnhands",
            {"FullFile": False, "SkuOnhandFieldsThatAreSet": [1]},
            "not a valid SkuOnhandField",
        ),
        (
            "Product/ImportSkuPriceLists",
            {"FullFile": False, "SkuPriceListFieldsThatAreSet": [0]},
            "not a valid SkuPriceListField",
        ),
    ],
)
def test_header_rules_per_operation(
    emulator_http: httpx.Client,
    emulator_headers: dict[str, str],
    op: str,
    header: dict[str, Any],
    fragment: str,
) -> None:
    resp = emulator_http.post(
        CONNECT + op, json=[{"Code": "x"}], headers={**emulator_headers, **connect_header(**header)}
    )
    assert resp.status_code == 400
    assert fragment in resp.json()["Description"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "Empty body"),
        (b"{oops", "not valid JSON"),
        (b'{"Code": "x"}', "JSON array"),
        (b"[1, 2]", "not a JSON object"),
    ],
)
def test_body_validation_400(
    emulator_http: httpx.Client, emulator_headers: dict[str, str], content: bytes, fragment: str
) -> None:
    resp = emulator_http.post(
        CONNECT + PRODUCTS,
        content=content,
        headers={**emulator_headers, **connect_header(FullFile=False), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert fragment in resp.json()["Description"]


def test_unknown_connect_operation_is_404(
    emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = emulator_http.post(CONNECT + "Product/ImportProduct", json=[], headers=emulator_headers)
    assert resp.status_code == 404


def _stream(n: int, per_chunk: int = 100) -> Iterator[bytes]:
    """A streamed JSON array, ``per_chunk`` items per HTTP chunk (like a buffered streaming writer)."""
    yield b"["
    for start in range(0, n, per_chunk):
        items = [
            orjson.dumps(
                {"PartNo": f"S{i:05d}", "WarehouseCode": "MAIN", "LocationCode": "STO", "OnhandValue": i}
            )
            for i in range(start, min(n, start + per_chunk))
        ]
        yield (b"," if start else b"") + b",".join(items)
    yield b"]"


def test_chunked_streamed_import_of_10k_items(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.seed(skus=[{"PartNo": f"S{i:05d}"} for i in range(10_000)])
    headers = {
        **emulator_headers,
        **connect_header(FullFile=False, SkuOnhandFieldsThatAreSet=[3]),
        "Content-Type": "application/json",
    }
    resp = emulator_http.post(CONNECT + "Product/ImportOnhands", content=_stream(10_000), headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["StatusCode"] == "OK"
    assert body["ValidationSummary"] == {
        "NrOfItemsInTotal": 10_000,
        "NrOfValidationFailures": 0,
        "Messages": [],
    }
    recorded = emulator.requests(group="connect")[-1]
    assert recorded["Headers"]["transfer-encoding"] == "chunked"
    job = emulator.wait_for_job(body["JobId"])
    assert (job["StatusId"], job["Inserts"], job["Fail"]) == (2, 10_000, 0)
    assert len(emulator.catalog_rows("onhand")) == 10_000


def test_large_streamed_body_parses_in_linear_time(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    # 100k items (~8 MB) in many small chunks: quadratic buffering would take many minutes. The bound
    # is generous (a busy 2-core box); the speed itself is measured in tests/bench.
    emulator.set_job_processing(False)
    headers = {**emulator_headers, **connect_header(FullFile=False), "Content-Type": "application/json"}
    started = time.monotonic()
    resp = emulator_http.post(CONNECT + "Product/ImportOnhands", content=_stream(100_000), headers=headers)
    assert resp.status_code == 200
    assert resp.json()["ValidationSummary"]["NrOfItemsInTotal"] == 100_000
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("emulator_config", [{"job_delay": 0.15}])
def test_job_lifecycle_queued_validating_initialized_succeeded(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = post_import(emulator_http, emulator_headers, PRODUCTS, [product("P1", "S1", "S2")], FullFile=False)
    job_id = resp.json()["JobId"]
    assert job_id.isdigit()
    seen: list[int] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        dto = job_get(emulator_http, emulator_headers, job_id).json()
        if not seen or seen[-1] != dto["StatusId"]:
            seen.append(dto["StatusId"])
        if dto["IsFinished"]:
            break
        time.sleep(0.02)
    assert seen == [6, 5, 1, 2]
    assert dto["JobId"] == int(job_id)
    assert dto["Totals"] == 1 and dto["Inserts"] == 1 and dto["Updates"] == 0 and dto["Fail"] == 0
    assert dto["Stop"] is not None and dto["RunTime"].startswith("00:00:00.")
    assert set(dto) == {
        "JobId",
        "StatusId",
        "IsFinished",
        "Totals",
        "Inserts",
        "Updates",
        "Fail",
        "Start",
        "Stop",
        "LastUpdated",
        "RunTime",
        "StorageName",
    }
    # The same job answers on the api/ path too.
    assert job_get(emulator_http, emulator_headers, job_id, api=True).json() == dto
    log = emulator_http.get(CONNECT + "Job/GetLog", params={"id": job_id}, headers=emulator_headers).json()
    assert [e["Message"] for e in log] == ["Starting import.", "Import finished."]
    assert {e["SeverityId"] for e in log} == {1}
    assert set(log[0]) == {"SeverityId", "Message", "TimeStamp", "ImportedRow"}


@pytest.mark.parametrize("emulator_config", [{"job_emit_insert_singular": True}])
def test_job_dto_can_say_insert_like_the_docs(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    job = import_and_wait(
        emulator, emulator_http, emulator_headers, PRODUCTS, [product("P1", "S1")], FullFile=False
    )
    dto = job_get(emulator_http, emulator_headers, job["JobId"]).json()
    assert "Insert" in dto and "Inserts" not in dto


def test_admin_shows_the_items_a_job_received_and_the_tokens_issued(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    items = [product("P1", "S1"), product("P2", "S2")]
    job = import_and_wait(emulator, emulator_http, emulator_headers, PRODUCTS, items, FullFile=False)

    assert emulator.job_items(int(job["JobId"])) == items
    bearer = emulator_headers["Authorization"].removeprefix("Bearer ")
    assert bearer in emulator.issued_tokens()


def test_job_endpoints_errors(emulator_http: httpx.Client, emulator_headers: dict[str, str]) -> None:
    assert job_get(emulator_http, emulator_headers, 999_999).status_code == 404
    assert (
        emulator_http.get(CONNECT + "Job/Get", params={"id": "x"}, headers=emulator_headers).status_code
        == 400
    )
    assert emulator_http.get(CONNECT + "Job/Get", headers=emulator_headers).status_code == 400
    assert (
        emulator_http.post(
            CONNECT + "Job/Restart", params={"id": 999_999}, headers=emulator_headers
        ).status_code
        == 404
    )


def test_items_missing_keys_are_logged_and_all_invalid_is_validation_failed(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    bad_sku = {"Code": "P2", "Variants": [{"Skus": [{"Status": 1}]}]}
    job = import_and_wait(
        emulator, emulator_http, emulator_headers, PRODUCTS, [product("P1", "S1"), bad_sku], FullFile=False
    )
    assert (job["StatusId"], job["Fail"], job["Inserts"]) == (2, 1, 1)
    errors = [e for e in job["Log"] if e["SeverityId"] == 3]
    assert len(errors) == 1 and "PartNo" in errors[0]["Message"]
    assert orjson.loads(errors[0]["ImportedRow"]) == bad_sku

    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Product/ImportSkuPriceLists",
        [{"PriceListCode": "B2C"}, {"PartNo": "S1"}],
        FullFile=False,
    )
    assert job["StatusId"] == 4 and job["Fail"] == 2
    assert sum(e["SeverityId"] == 3 for e in job["Log"]) == 2


@pytest.mark.parametrize("emulator_config", [{"reject_items_missing_keys": True}])
def test_optionally_reject_missing_keys_synchronously(
    emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    resp = post_import(
        emulator_http, emulator_headers, "Product/ImportOnhands", [{"PartNo": "S1"}], FullFile=False
    )
    assert resp.status_code == 400
    assert resp.json()["ValidationSummary"]["NrOfValidationFailures"] == 2


def test_restart_rules(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    def restart(job_id: int | str) -> httpx.Response:
        return emulator_http.post(CONNECT + "Job/Restart", params={"id": job_id}, headers=emulator_headers)

    done = import_and_wait(
        emulator, emulator_http, emulator_headers, PRODUCTS, [product("P1", "S1")], FullFile=False
    )
    resp = restart(done["JobId"])
    assert resp.status_code == 200
    new_id = int(resp.json()["JobId"])
    assert new_id != done["JobId"]
    rerun = emulator.wait_for_job(new_id)
    assert rerun["StatusId"] == 2 and rerun["RestartOf"] == done["JobId"] and rerun["Updates"] == 1

    # Validation failed (4) cannot be restarted, nor can unfinished jobs.
    invalid = import_and_wait(
        emulator, emulator_http, emulator_headers, "Product/ImportOnhands", [{"PartNo": "S1"}], FullFile=False
    )
    assert invalid["StatusId"] == 4
    assert restart(invalid["JobId"]).status_code == 400
    emulator.set_job_processing(False)
    queued = post_import(
        emulator_http, emulator_headers, PRODUCTS, [product("P1", "S1")], FullFile=False
    ).json()
    assert restart(queued["JobId"]).status_code == 400
    emulator.set_job_processing(True)

    # Failed (3) can be restarted; after 14 days the payload is gone.
    failed = emulator.force_job_status(done["JobId"], 3)
    assert failed["StatusId"] == 3
    assert restart(done["JobId"]).status_code == 200
    emulator.advance_clock(14 * 86400 + 60)
    emulator_headers["Authorization"] = f"Bearer {fetch_token(emulator.base_url)}"  # the old token expired
    resp = restart(done["JobId"])
    assert resp.status_code == 400 and "14 days" in resp.json()["Description"]


def test_forced_status_holds_a_job(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.set_job_processing(False)
    job_id = post_import(
        emulator_http, emulator_headers, PRODUCTS, [product("P1", "S1")], FullFile=False
    ).json()["JobId"]
    emulator.force_job_status(int(job_id), 1)
    emulator.set_job_processing(True)
    time.sleep(0.1)
    assert job_get(emulator_http, emulator_headers, job_id).json()["StatusId"] == 1  # stuck, as forced
    assert emulator.sku("S1") is None  # never applied
