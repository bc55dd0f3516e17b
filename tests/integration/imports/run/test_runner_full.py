"""Full imports against the emulator: catalog == source, deactivation, quarantine, supersede, scopes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.integration.imports.run.runner_support import Stack, integration_config

from norce_emulator import Emulator
from norcekit.deadline import Deadline
from norcekit.imports.mappings import load_mapping
from norcekit.jobs.completion import settle_jobs
from norcekit.norce.jobs import JobStatus
from norcekit.state.runs import RunOutcome
from norcekit_local.sample_data.generate import generate, read_csv, read_jsonl

pytestmark = pytest.mark.integration


def _skus(products: list[dict[str, Any]]) -> set[str]:
    return {sku["part_no"] for p in products for v in p["variants"] for sku in v["skus"]}


def _write_full(root: Path, entity: str, name: str, lines: list[bytes]) -> None:
    folder = root / entity / "full"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(line + b"\n" for line in lines))
    (folder / f"{name}.done").write_bytes(b"")


def test_full_import_creates_the_catalog_and_a_second_one_deactivates_exactly_the_missing_skus(
    stack: Stack, emulator: Emulator
) -> None:
    export = generate(stack.root, products=6, customers=3, companies=1, supplier_products=1)
    products = list(read_jsonl(next((stack.root / "products" / "full").glob("*.jsonl"))))
    # One product of six dropped is a 17 % shrink: allowed here (the default 10 % is tested apart).
    runner = stack.runner(
        integration_config(stack.root, products={"full": {"guardrails": {"max_shrink": 0.5}}})
    )

    first = runner.run("products", "full", deadline=Deadline.after(600))

    assert first.outcome is RunOutcome.SUBMITTED, first.message
    assert len(first.job_ids) == 1  # rule 1: one FullFile job for the whole catalogue
    assert first.counts.read == first.counts.mapped == first.counts.submitted == export.counts.products
    settled = settle_jobs(first.job_ids, stack.clients.jobs, stack.jobs, 10, run_store=stack.runs,
                          watermark_store=stack.watermarks)  # fmt: skip
    assert settled.all_succeeded
    catalog = {row["PartNo"]: row for row in emulator.catalog_rows("skus")}
    assert set(catalog) == _skus(products)
    assert {row["Code"] for row in emulator.catalog_rows("products")} == {p["code"] for p in products}
    assert all(row["IsActive"] for row in catalog.values())
    # The successful full import started the delta chain: its candidate (run start - lag) is committed.
    assert stack.watermarks.get("products") == first.candidate_watermark

    # The ERP drops one product and one SKU of another.
    dropped_product, trimmed = products[0], products[1]
    removed_sku = trimmed["variants"][0]["skus"].pop()["part_no"]
    kept = [p for p in products if p is not dropped_product]
    _write_full(stack.root, "products", "20261128T060000Z.jsonl", [orjson.dumps(p) for p in kept])
    stack.clock.advance(3600)

    second = runner.run("products", "full", deadline=Deadline.after(600))
    assert second.outcome is RunOutcome.SUBMITTED, second.message
    assert settle_jobs(second.job_ids, stack.clients.jobs, stack.jobs, 10).all_succeeded

    inactive = {
        part_no
        for part_no, row in ((r["PartNo"], r) for r in emulator.catalog_rows("skus"))
        if not row["IsActive"]
    }
    assert inactive == _skus([dropped_product]) | {removed_sku}
    assert emulator.job(second.job_ids[0])["FullFile"] is True


def test_a_malformed_source_row_is_quarantined_with_key_and_reason_and_the_rest_is_imported(
    stack: Stack, emulator: Emulator
) -> None:
    generate(stack.root, products=1, customers=4, companies=1, supplier_products=1)
    path = next((stack.root / "customers" / "full").glob("*.jsonl"))
    rows = list(read_jsonl(path))
    rows[1]["email"] = "not-an-address"  # the sample mapping rejects it
    lines = [orjson.dumps(r) for r in rows] + [b'{"code": "BROKEN", "email": ']  # unparseable line
    path.write_bytes(b"".join(line + b"\n" for line in lines))

    result = stack.runner().run("customers", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert result.counts.read == 5
    assert result.counts.quarantined == 2
    assert result.counts.submitted == 3
    settle_jobs(result.job_ids, stack.clients.jobs, stack.jobs, 10)
    imported = {row["Code"] for row in emulator.catalog_rows("customers")}
    assert imported == {r["code"] for r in rows} - {rows[1]["code"]}

    stored = stack.quarantine.list("import_record")
    assert len(stored) == 2
    by_key = {item.metadata["record_key"]: item for item in stored}
    bad_mail = by_key[rows[1]["code"]]
    assert "email" in bad_mail.reason and "not-an-address" in bad_mail.reason
    assert bad_mail.payload["email"] == "not-an-address"
    assert bad_mail.metadata["run_id"] == result.run_id
    unreadable = next(item for key, item in by_key.items() if key != rows[1]["code"])
    assert "line 5" in unreadable.reason
    assert unreadable.metadata["origin"].endswith(":5")
    assert {r.key for r in result.rejections} == set(by_key)


def test_a_duplicate_key_in_a_full_export_keeps_the_first_row_and_quarantines_the_rest(
    stack: Stack, emulator: Emulator
) -> None:
    generate(stack.root, products=1, customers=2, companies=1, supplier_products=1)
    path = next((stack.root / "customers" / "full").glob("*.jsonl"))
    rows = list(read_jsonl(path))
    duplicate = {**rows[0], "first_name": "Later"}
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [*rows, duplicate]))

    result = stack.runner().run("customers", "full", deadline=Deadline.after(600))

    assert result.counts.deduplicated == 1
    assert result.counts.submitted == 2
    settle_jobs(result.job_ids, stack.clients.jobs, stack.jobs, 10)
    first = next(r for r in emulator.catalog_rows("customers") if r["Code"] == rows[0]["code"])
    assert first["FirstName"] == rows[0]["first_name"]
    [kept] = stack.quarantine.list("import_record")
    assert "duplicate key" in kept.reason and kept.payload["first_name"] == "Later"


def test_a_successful_full_import_supersedes_earlier_failed_jobs(stack: Stack, emulator: Emulator) -> None:
    generate(stack.root, products=2, customers=1, companies=1, supplier_products=1)
    runner = stack.runner()
    emulator.set_job_processing(False)
    failed_run = runner.run("products", "full", deadline=Deadline.after(600))
    emulator.force_job_status(failed_run.job_ids[0], int(JobStatus.FAILED))
    settle_jobs(failed_run.job_ids, stack.clients.jobs, stack.jobs, 5, run_store=stack.runs,
                watermark_store=stack.watermarks)  # fmt: skip
    assert stack.jobs.get(failed_run.job_ids[0]).status is JobStatus.FAILED
    assert stack.watermarks.get("products") is None  # a failed run never moves the watermark
    emulator.set_job_processing(True)
    stack.clock.advance(60)

    full = runner.run("products", "full", deadline=Deadline.after(600))
    settle_jobs(full.job_ids, stack.clients.jobs, stack.jobs, 10, run_store=stack.runs,
                watermark_store=stack.watermarks)  # fmt: skip

    old = stack.jobs.get(failed_run.job_ids[0])
    assert old.superseded and old.superseded_by == full.job_ids[0]
    assert stack.runs.get(full.run_id).outcome is RunOutcome.SUCCEEDED
    assert stack.runs.get(failed_run.run_id).outcome is RunOutcome.FAILED
    assert stack.watermarks.get("products") == full.candidate_watermark


def test_onhand_full_split_by_warehouse_sends_one_fullfile_job_per_warehouse(
    stack: Stack, emulator: Emulator
) -> None:
    generate(stack.root, products=3, customers=1, companies=1, supplier_products=1)
    config = integration_config(stack.root, onhand={"full_scope_split": "warehouse"})
    runner = stack.runner(config)
    assert settle_jobs(runner.run("products", "full", deadline=Deadline.after(600)).job_ids,
                       stack.clients.jobs, stack.jobs, 10).all_succeeded  # fmt: skip
    rows = list(read_csv(next((stack.root / "onhand" / "full").glob("*.csv"))))
    warehouses = {r["warehouse_code"] for r in rows}

    result = runner.run("onhand", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert len(result.job_ids) == len(warehouses) == 2
    assert result.counts.read == result.counts.submitted == len(rows)
    for job_id in result.job_ids:
        job = emulator.job(job_id)
        assert job["FullFile"] is True
        assert job["ItemCount"] == len(rows) // 2  # the sample stocks every SKU in both warehouses
    assert settle_jobs(result.job_ids, stack.clients.jobs, stack.jobs, 10).all_succeeded
    assert len(emulator.catalog_rows("onhand")) == len(rows)


def test_a_full_import_of_a_kind_without_fullfile_is_a_complete_upsert(
    stack: Stack, emulator: Emulator
) -> None:
    generate(stack.root, products=1, customers=3, companies=1, supplier_products=1)

    result = stack.runner().run("customers", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED
    job = emulator.job(result.job_ids[0])
    assert "FullFile" not in job["Header"]
    assert job["ItemCount"] == 3
    assert "upsert" in (result.message or "")


def test_a_full_stream_that_runs_out_of_time_is_aborted_and_norce_creates_no_job(
    stack: Stack, emulator: Emulator
) -> None:
    generate(stack.root, products=1, customers=300, companies=1, supplier_products=1)
    sample = load_mapping("sample", entity="customers")

    def slow_mapping(data: dict[str, Any]) -> Any:
        stack.clock.advance(1)  # each record "takes" a second
        return sample(data)

    runner = stack.runner(mapping_factory=lambda entity: slow_mapping)
    deadline = Deadline.after(100, clock=stack.clock.monotonic)

    result = runner.run("customers", "full", deadline=deadline)

    assert result.outcome is RunOutcome.PARTIAL_TIMEOUT, result.message
    assert "aborted" in (result.message or "")
    assert result.job_ids == []
    assert emulator.jobs() == []  # the truncated body was never accepted as a job
    assert emulator.catalog_rows("customers") == []
    assert stack.runs.get(result.run_id).outcome is RunOutcome.PARTIAL_TIMEOUT


def test_a_warehouse_stream_that_runs_out_of_time_is_aborted_although_other_warehouses_alternate(
    stack: Stack, emulator: Emulator
) -> None:
    generate(stack.root, products=30, customers=1, companies=1, supplier_products=1)
    rows = list(read_csv(next((stack.root / "onhand" / "full").glob("*.csv"))))
    assert rows[0]["warehouse_code"] != rows[1]["warehouse_code"]  # the export alternates warehouses
    assert len(rows) > 3 * 64
    sample = load_mapping("sample", entity="onhand")
    reads = {"n": 0}

    def slow_after_discovery(data: dict[str, Any]) -> Any:
        reads["n"] += 1
        if reads["n"] > len(rows):  # the per-warehouse streams: each record "takes" a second
            stack.clock.advance(1)
        return sample(data)

    config = integration_config(stack.root, onhand={"full_scope_split": "warehouse"})
    runner = stack.runner(config, mapping_factory=lambda entity: slow_after_discovery)
    deadline = Deadline.after(100, clock=stack.clock.monotonic)

    result = runner.run("onhand", "full", deadline=deadline)

    assert result.outcome is RunOutcome.PARTIAL_TIMEOUT, result.message
    assert "aborted" in (result.message or "")
    assert result.job_ids == []
    assert emulator.jobs() == []  # the first warehouse's truncated body never became a job


def test_a_full_import_whose_second_read_comes_back_short_sends_norce_no_payload(
    stack: Stack, emulator: Emulator
) -> None:
    export = generate(stack.root, products=12, customers=1, companies=1, supplier_products=1)
    runner = stack.runner()
    first = runner.run("products", "full", deadline=Deadline.after(600))
    assert settle_jobs(first.job_ids, stack.clients.jobs, stack.jobs, 10).all_succeeded
    sample = load_mapping("sample", entity="products")
    calls = {"n": 0}

    def flaky_second_read(data: dict[str, Any]) -> Any:
        calls["n"] += 1  # the survey maps every row; the payload's read "loses" all but two
        return sample(data) if calls["n"] <= export.counts.products + 2 else None

    stack.clock.advance(3600)
    second = stack.runner(mapping_factory=lambda entity: flaky_second_read).run(
        "products", "full", deadline=Deadline.after(600)
    )

    assert second.outcome is RunOutcome.FAILED, second.message
    assert "SourceChangedError: 2 item(s) read for the payload against 12 judged" in (second.message or "")
    assert [job["JobId"] for job in emulator.jobs()] == first.job_ids  # no second job
    assert all(row["IsActive"] for row in emulator.catalog_rows("skus"))  # nothing deactivated
