"""Fault injection (random at a fixed seed, deterministic next-N), admin HTTP API and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from tests.fixtures.emulator import QUERY, TOKEN_PATH, fetch_token, import_and_wait, post_import, product

from norce_emulator import Emulator

pytestmark = pytest.mark.integration

SKUS = QUERY + "Products/ProductSkus"


def outcome(client: httpx.Client, headers: dict[str, str]) -> int | str:
    try:
        return client.get(SKUS, params={"$top": "1"}, headers=headers).status_code
    except httpx.TransportError:
        return "drop"


def test_random_faults_within_tolerance_at_fixed_seed(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.set_faults(
        {"query": {"rate_429": 0.2, "rate_5xx": 0.1, "drop_rate": 0.05, "retry_after_seconds": 3}}, seed=42
    )
    n = 250
    results = Counter(outcome(emulator_http, emulator_headers) for _ in range(n))
    assert 0.12 * n <= results[429] <= 0.28 * n
    five_xx = sum(results[s] for s in (500, 502, 503, 504))
    assert 0.04 * n <= five_xx <= 0.16 * n
    assert len([s for s in (500, 502, 503, 504) if results[s]]) >= 3  # a mix, not one code
    assert 0.01 * n <= results["drop"] <= 0.10 * n
    assert results[200] == n - results[429] - five_xx - results["drop"]
    # Other groups are untouched.
    assert (
        emulator_http.get(
            "/commerce/connect/4.0/Job/Get", params={"id": 1}, headers=emulator_headers
        ).status_code
        == 404
    )
    recorded = emulator.requests(group="query")
    assert sum(r["Fault"] == "drop" for r in recorded) == results["drop"]

    # Same seed, same sequence.
    emulator.set_faults({"query": {"rate_429": 0.2, "rate_5xx": 0.1, "drop_rate": 0.05}}, seed=42)
    again = Counter(outcome(emulator_http, emulator_headers) for _ in range(n))
    assert again == results


def test_429_has_retry_after(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.set_faults({"query": {"rate_429": 1.0, "retry_after_seconds": 7}})
    resp = emulator_http.get(SKUS, headers=emulator_headers)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"


def test_fail_next_n_is_deterministic(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.fail_next("query", 2, 503, retry_after=2)
    emulator.fail_next("query", 1, "drop")
    assert outcome(emulator_http, emulator_headers) == 503
    assert outcome(emulator_http, emulator_headers) == 503
    assert outcome(emulator_http, emulator_headers) == "drop"
    assert outcome(emulator_http, emulator_headers) == 200

    emulator.fail_next("token", 1, 429)
    form = {
        "grant_type": "client_credentials",
        "client_id": "local-client",
        "client_secret": "local-secret",
        "scope": "stage",
    }
    first = emulator_http.post(TOKEN_PATH, data=form)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert emulator_http.post(TOKEN_PATH, data=form).status_code == 200


def test_drop_after_processing_creates_the_job_but_loses_the_answer(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.fail_next("connect", 1, "drop_after")
    with pytest.raises(httpx.TransportError):
        post_import(
            emulator_http, emulator_headers, "Product/ImportProducts", [product("P1", "A")], FullFile=False
        )
    [job] = emulator.jobs()
    assert job["Kind"] == "products"
    assert emulator.requests(group="connect")[0]["Fault"] == "drop_after"


def test_latency_and_job_failure_rate(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    emulator.set_faults({"job": {"latency_ms": 150}}, job_failure_rate=1.0)
    started = time.monotonic()
    assert (
        emulator_http.get(
            "/commerce/connect/4.0/Job/Get", params={"id": 1}, headers=emulator_headers
        ).status_code
        == 404
    )
    assert time.monotonic() - started >= 0.15
    job = import_and_wait(
        emulator,
        emulator_http,
        emulator_headers,
        "Product/ImportProducts",
        [product("P1", "A")],
        FullFile=False,
    )
    assert job["StatusId"] == 3
    assert any(e["SeverityId"] == 3 and "Import failed" in e["Message"] for e in job["Log"])
    assert emulator.sku("A") is None  # a failed job changes nothing
    assert emulator.emitted_events("JobCompletedEvent")[-1]["Payload"]["StatusId"] == 3


def test_admin_http_api(
    emulator: Emulator, emulator_http: httpx.Client, emulator_headers: dict[str, str]
) -> None:
    admin = "/_admin/"
    assert emulator_http.post(
        admin + "seed", json={"skus": [{"PartNo": "A"}, {"PartNo": "B"}], "orders": [{"OrderNo": "1"}]}
    ).json() == {"skus": 2, "orders": 1}
    assert [r["PartNo"] for r in emulator_http.get(admin + "catalog", params={"kind": "skus"}).json()] == [
        "A",
        "B",
    ]
    assert set(emulator_http.get(admin + "catalog").json()) >= {
        "skus",
        "prices",
        "onhand",
        "orders",
        "customers",
    }
    assert emulator_http.get(admin + "catalog", params={"kind": "nope"}).status_code == 400
    emulator_http.post(admin + "mutate", json={"kind": "skus", "key": {"PartNo": "B"}, "delete": True})
    assert len(emulator.catalog_rows("skus")) == 1

    job_id = post_import(
        emulator_http, emulator_headers, "Product/ImportProducts", [product("P1", "A")], FullFile=False
    ).json()["JobId"]
    emulator.wait_for_job(job_id)
    jobs = emulator_http.get(admin + "jobs").json()
    assert [j["JobId"] for j in jobs] == [int(job_id)]
    detail = emulator_http.get(admin + f"jobs/{job_id}").json()
    assert detail["Log"][0]["Message"] == "Starting import." and detail["Header"]["AccountId"] == 123
    forced = emulator_http.post(admin + f"jobs/{job_id}/status", json={"StatusId": 3}).json()
    assert forced["StatusId"] == 3
    assert emulator_http.get(admin + "jobs/999999").status_code == 404

    requests = emulator_http.get(admin + "requests", params={"group": "connect"}).json()
    assert len(requests) == 1 and requests[0]["Method"] == "POST" and requests[0]["BodySize"] > 0
    assert emulator_http.get(admin + "tokens").json() == {"TokenRequests": 1, "TokensIssued": 1}

    emulator_http.post(admin + "faults", json={"fail_next": [{"group": "job", "n": 1, "status": 500}]})
    assert (
        emulator_http.get(
            "/commerce/connect/4.0/Job/Get", params={"id": job_id}, headers=emulator_headers
        ).status_code
        == 500
    )
    now = emulator_http.post(admin + "clock", json={"advance_seconds": 86400}).json()["now"]
    assert now > time.strftime("%Y-%m-%d")
    emulator_http.post(admin + "config", json={"query_page_size": 1})
    assert emulator.config.query_page_size == 1
    emulator_http.post(admin + "reset", json={})
    assert (
        emulator.catalog_rows("skus") == []
        and emulator.jobs() == []
        and emulator.config.query_page_size == 500
    )


def test_cli_starts_a_server() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "norce_emulator",
            "--port",
            "0",
            "--job-delay",
            "0",
            "--client-id",
            "cli",
            "--client-secret",
            "cli-secret",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base_url = line.split(" on ")[1].split()[0]
        token = fetch_token(base_url, client_id="cli", client_secret="cli-secret")
        assert token
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0


def test_context_manager_and_independent_instances(emulator_factory: Any) -> None:
    a: Emulator = emulator_factory()
    b: Emulator = emulator_factory(client_id="other", client_secret="x")
    assert a.base_url != b.base_url
    a.seed(skus=[{"PartNo": "A"}])
    assert b.catalog_rows("skus") == []
    with Emulator() as c:
        assert httpx.get(c.base_url + "/nope", verify=False).status_code == 404
