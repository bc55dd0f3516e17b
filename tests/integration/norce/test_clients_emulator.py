"""The Norce clients against the emulator (real HTTP on loopback): import → job → Query, faults, tokens."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.fixtures.aws import moto_table
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, product
from tests.fixtures.norce_settings import emulator_settings

from norce_emulator import Emulator
from norce_emulator.contracts import SKU_STATUS_INACTIVE
from norcekit.deadline import Deadline
from norcekit.norce.contracts import IMPORT_KINDS, ProductHeader, SkuOnhand, SkuOnhandHeader
from norcekit.norce.contracts.product import Product
from norcekit.norce.factory import NorceClients
from norcekit.norce.http import NorceUnavailable
from norcekit.norce.jobs import JobClient, JobDto, JobStatus
from norcekit.norce.tokens import CachedToken, token_cache_key
from norcekit.settings import Settings
from norcekit.state.table import StateTable
from norcekit.state.token_store import DynamoTokenStore
from norcekit.wiring import build_norce_clients

pytestmark = pytest.mark.integration


def client_settings(emulator: Emulator) -> Settings:
    return emulator_settings(emulator, http_max_attempts=10)


@pytest.fixture
def clients(emulator: Emulator) -> Iterator[NorceClients]:
    with build_norce_clients(client_settings(emulator)) as built:
        yield built


def wait_for(jobs: JobClient, job_id: int, timeout: float = 10.0) -> JobDto:
    deadline = Deadline.after(timeout)
    while True:
        job = jobs.get(job_id, deadline=deadline)
        if job.is_terminal:
            return job
        if deadline.remaining() < 0.05:
            raise AssertionError(f"job {job_id} still {job.StatusId!r}")
        time.sleep(0.02)


def products(codes: range) -> list[Product]:
    return [Product.model_validate(product(f"P{n}", f"SKU-{n}")) for n in codes]


def header(full_file: bool = False) -> ProductHeader:
    return ProductHeader(AccountId=123, FullFile=full_file)


def test_import_streams_products_and_query_sees_them(emulator: Emulator, clients: NorceClients) -> None:
    items = products(range(300))
    result = clients.connect.import_products(header(), lambda: iter(items), deadline=Deadline.after(30))
    assert result.items_sent == 300
    assert result.job_id is not None

    job = wait_for(clients.jobs, result.job_id)
    assert job.StatusId is JobStatus.SUCCEEDED
    assert job.Inserts is not None and job.Inserts > 0
    log = clients.jobs.get_log(result.job_id)
    assert any(entry.Message == "Import finished." for entry in log)

    rows = list(
        clients.query.query("Products/ProductSkus", filter="startswith(PartNo,'SKU-')", select="PartNo")
    )
    assert {r["PartNo"] for r in rows} == {f"SKU-{n}" for n in range(300)}
    assert clients.query.get("Products/ProductSkus", "SKU-7")["PartNo"] == "SKU-7"  # type: ignore[index]
    assert clients.query.get("Products/ProductSkus", "NOT-THERE") is None

    [post] = [r for r in emulator.requests("connect") if r["Method"] == "POST"]
    headers = {k.lower(): v for k, v in post["Headers"].items()}
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert headers["application-id"] == str(APPLICATION_ID)
    assert emulator.token_request_count == 1


def test_full_file_import_deactivates_exactly_the_missing_skus(clients: NorceClients) -> None:
    first = clients.connect.import_products(header(), products(range(10)))
    assert wait_for(clients.jobs, first.job_id or 0).StatusId is JobStatus.SUCCEEDED

    kept = products(range(10))[:7]
    full = clients.connect.import_products(header(full_file=True), kept)
    assert full.items_sent == 7
    assert wait_for(clients.jobs, full.job_id or 0).StatusId is JobStatus.SUCCEEDED

    rows = clients.query.get_many(
        "Products/ProductSkus", "PartNo", [f"SKU-{n}" for n in range(10)], select=["PartNo", "StatusId"]
    )
    inactive = {part_no for part_no, row in rows.items() if row["StatusId"] == SKU_STATUS_INACTIVE}
    assert inactive == {"SKU-7", "SKU-8", "SKU-9"}


def test_onhand_import_by_kind_name(clients: NorceClients, emulator: Emulator) -> None:
    wait_for(clients.jobs, clients.connect.import_products(header(), products(range(3))).job_id or 0)
    onhand = [
        SkuOnhand(PartNo=f"SKU-{n}", WarehouseCode="MAIN", LocationCode="STO", OnhandValue=n)
        for n in range(3)
    ]
    result = clients.connect.import_items(
        IMPORT_KINDS["onhand"],
        SkuOnhandHeader(AccountId=123, FullFile=False, SkuOnhandFieldsThatAreSet=[3]),
        onhand,
    )
    assert wait_for(clients.jobs, result.job_id or 0).StatusId is JobStatus.SUCCEEDED
    # Query 2.0 publishes no client on-hand set: read what Norce stored from the emulator itself.
    rows = [r for r in emulator.catalog_rows("onhand") if r["WarehouseCode"] == "MAIN"]
    assert sorted(r["OnhandValue"] for r in rows) == [0, 1, 2]


@pytest.mark.parametrize(
    "emulator_config",
    [
        {
            "seed": 7,
            "faults": {
                group: {"rate_429": 0.15, "rate_5xx": 0.15, "drop_rate": 0.1, "retry_after_seconds": 0}
                for group in ("token", "job", "query")
            },
            "query_page_size": 50,
        }
    ],
)
def test_faults_on_token_job_and_query_are_retried(
    emulator: Emulator, clients: NorceClients, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING")
    result = clients.connect.import_products(header(), products(range(200)), deadline=Deadline.after(60))
    job = wait_for(clients.jobs, result.job_id or 0, timeout=30)
    assert job.StatusId is JobStatus.SUCCEEDED

    rows = list(clients.query.query("Products/ProductSkus", select="PartNo", deadline=Deadline.after(60)))
    assert len(rows) == 200  # 4 pages of 50, every one possibly faulted first
    found = clients.query.get_many("Products/ProductSkus", "PartNo", [f"SKU-{n}" for n in range(200)])
    assert len(found) == 200

    retried = [getattr(r, "url", "") for r in caplog.records if r.getMessage() == "norce request retry"]
    assert any("/Job/Get" in url for url in retried)  # the faults really happened and were retried
    assert any("/commerce/query/" in url for url in retried)


@pytest.mark.parametrize("emulator_config", [{"job_delay": 0.0}])
def test_connect_drop_after_processing_is_not_retried(emulator: Emulator, clients: NorceClients) -> None:
    """The emulator creates the job and then drops the connection: resending would create a second job."""
    clients.tokens.token(Deadline.none())
    emulator.fail_next("connect", 1, status="drop_after")
    with pytest.raises(NorceUnavailable, match="not idempotent"):
        clients.connect.import_products(header(), products(range(2)))
    assert len(emulator.jobs()) == 1


def test_connect_503_is_retried_with_the_same_items(emulator: Emulator, clients: NorceClients) -> None:
    clients.tokens.token(Deadline.none())
    emulator.fail_next("connect", 2, status=503, retry_after=0)
    result = clients.connect.import_products(header(), products(range(5)))
    assert result.items_sent == 5
    assert len(emulator.jobs()) == 1
    assert wait_for(clients.jobs, result.job_id or 0).StatusId is JobStatus.SUCCEEDED


def test_expired_token_is_refreshed_once_on_401(emulator: Emulator, clients: NorceClients) -> None:
    assert list(clients.query.query("Products/ProductSkus")) == []
    emulator.advance_clock(7200)  # Norce forgot our token; the client still thinks it is valid
    assert list(clients.query.query("Products/ProductSkus")) == []
    assert emulator.token_request_count == 2


_MOTO_LOCK = threading.Lock()


class SerializedStore:
    """DynamoDB applies a conditional write atomically; moto's in-process backend does not lock, so
    concurrent threads could both pass a condition. One lock around each call restores DynamoDB's
    guarantee without changing what the store sends."""

    def __init__(self, inner: DynamoTokenStore) -> None:
        self.inner = inner

    def load(self) -> CachedToken | None:
        with _MOTO_LOCK:
            return self.inner.load()

    def try_acquire_refresh(self, owner: str, lease_s: float) -> bool:
        with _MOTO_LOCK:
            return self.inner.try_acquire_refresh(owner, lease_s)

    def save(self, token: CachedToken, owner: str) -> None:
        with _MOTO_LOCK:
            self.inner.save(token, owner)

    def release(self, owner: str) -> None:
        with _MOTO_LOCK:
            self.inner.release(owner)


@pytest.mark.parametrize("emulator_config", [{"token_rate_limit_per_minute": 3, "token_burst": 1}])
def test_containers_sharing_a_dynamo_token_store_fetch_one_token(
    emulator: Emulator, state_table: StateTable
) -> None:
    """20 cold 'containers' (own clients, own table handle) at once: one token request in total."""
    settings = client_settings(emulator)
    key = token_cache_key(settings.token_url, CLIENT_ID)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []
    answers: list[Any] = []

    def container() -> None:
        store = SerializedStore(DynamoTokenStore(moto_table(state_table.name), key))
        with build_norce_clients(settings, token_store=store) as own:
            own.tokens.poll_interval_s = 0.02
            barrier.wait()
            try:
                answers.append(list(own.query.query("Products/ProductSkus", deadline=Deadline.after(20))))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=container) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert answers == [[]] * 20
    assert emulator.token_request_count == 1
    stored = DynamoTokenStore(state_table, key).load()
    assert stored is not None and stored.expires_at > time.time() + 3000


def test_token_endpoint_429_and_dropped_connections_are_retried(
    emulator: Emulator, clients: NorceClients
) -> None:
    emulator.fail_next("token", 2, status=429, retry_after=0)
    emulator.fail_next("token", 1, status="drop")
    assert clients.tokens.token(Deadline.after(10))
    assert clients.tokens.fetches == 1
