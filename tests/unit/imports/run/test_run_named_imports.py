"""Named imports: two systems write one Norce entity, each with its own account, fields and state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.unit.imports.run.run_fakes import T0, World

from norcekit.deadline import Deadline
from norcekit.imports.config import IntegrationConfig, load_config
from norcekit.imports.runner import writer_lock_name
from norcekit.norce.contracts.enums import SkuOnhandField
from norcekit.norce.jobs import JobStatus
from norcekit.state.locks import LeaseInfo
from norcekit.state.runs import RunOutcome
from norcekit.state.watermarks import Watermark

WMS_FIELDS = {"SkuOnhandFieldsThatAreSet": ["OnhandValue"]}
ERP_FIELDS = {"SkuOnhandFieldsThatAreSet": ["IncomingValue", "NextDeliveryDate"]}


def two_onhand_imports(**extra: Any) -> IntegrationConfig:
    """A WMS owning on-hand of warehouse W1 and an ERP owning incoming stock everywhere."""
    source = {"entities": {"onhand": {"key_fields": ["part_no", "warehouse_code", "location_code"]}}}
    common = {"mapping": "sample", "delta": {"batch_size": 10, "overlap_s": 0, "safety_lag_s": 0}}
    return load_config(
        {
            "sources": {
                "wms": {"type": "filedrop", "root": "/nonexistent", **source},
                "erp": {"type": "filedrop", "root": "/nonexistent", **source},
            },
            "imports": {
                "wms_onhand": {
                    "kind": "onhand",
                    "source": "wms",
                    "account_id": 301,
                    "fields_that_are_set": WMS_FIELDS,
                    "scope": {"warehouses": ["W1"]},
                    **common,
                },
                "erp_incoming": {
                    "kind": "onhand",
                    "source": "erp",
                    "account_id": 302,
                    "fields_that_are_set": ERP_FIELDS,
                    "full": {"full_file": False},
                    **common,
                    **extra,
                },
            },
        },
        environ={},
    )


def row(part_no: str) -> dict[str, Any]:
    return {"part_no": part_no, "warehouse_code": "W1", "location_code": "A", "onhand_value": 3}


def _long() -> Deadline:
    return Deadline.after(600)


def test_each_import_sends_its_own_account_and_field_list_and_only_one_fullfile() -> None:
    world = World()
    world.source.add("onhand", "A|W1|A", row("A"))
    runner = world.runner(two_onhand_imports())

    wms = runner.run("wms_onhand", "full", deadline=_long())
    world.job_client.statuses[101] = JobStatus.SUCCEEDED
    erp = runner.run("erp_incoming", "full", deadline=_long())

    assert (wms.outcome, erp.outcome) == (RunOutcome.SUBMITTED, RunOutcome.SUBMITTED), erp.message
    wms_header, erp_header = (request.header for request in world.connect.requests)
    assert (wms_header.AccountId, erp_header.AccountId) == (301, 302)
    assert wms_header.SkuOnhandFieldsThatAreSet == [SkuOnhandField.OnhandValue]
    assert erp_header.SkuOnhandFieldsThatAreSet == [
        SkuOnhandField.IncomingValue,
        SkuOnhandField.NextDeliveryDate,
    ]
    # Only the import that owns the scope deactivates what is missing; the other is an upsert.
    assert (wms_header.FullFile, erp_header.FullFile) == (True, False)


def test_runs_jobs_and_watermarks_are_kept_per_import_with_the_kind_alongside() -> None:
    world = World()
    world.source.add("onhand", "A|W1|A", row("A"), T0 - timedelta(minutes=5))
    world.watermarks.values["wms_onhand"] = Watermark.timestamp(T0 - timedelta(hours=1))
    runner = world.runner(two_onhand_imports())

    result = runner.run("wms_onhand", "delta", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert result.run_id.startswith("wms_onhand-delta-")
    stored = world.runs.get(result.run_id)
    assert (stored.entity, stored.kind) == ("wms_onhand", "onhand")
    job = world.jobs.get(result.job_ids[0])
    assert (job.entity, job.kind_name) == ("wms_onhand", "onhand")
    # The other import has no watermark of its own: its delta needs its own start.
    assert world.watermarks.get("erp_incoming") is None
    # Both dimensions: the kind (entity) and the import, so dashboards can split by system.
    assert ("ImportRuns", 1, {"entity": "onhand", "import": "wms_onhand"}) in world.metrics.metrics


def test_an_unfinished_job_of_one_import_defers_the_other_import_of_the_same_kind() -> None:
    world = World()
    world.source.add("onhand", "A|W1|A", row("A"))
    runner = world.runner(two_onhand_imports())
    first = runner.run("wms_onhand", "full", deadline=_long())
    world.job_client.statuses[first.job_ids[0]] = JobStatus.INITIALIZED  # Norce is still on it

    second = runner.run("erp_incoming", "full", deadline=_long())

    assert second.outcome is RunOutcome.SKIPPED_JOB_RUNNING
    assert f"job {first.job_ids[0]} of wms_onhand still running" in (second.message or "")
    assert len(world.connect.requests) == 1

    world.job_client.statuses[first.job_ids[0]] = JobStatus.SUCCEEDED
    third = runner.run("erp_incoming", "full", deadline=_long())
    assert third.outcome is RunOutcome.SUBMITTED, third.message


def test_a_run_of_another_import_writing_the_kind_holds_the_writer_lease_so_this_one_skips() -> None:
    world = World()
    world.source.add("onhand", "A|W1|A", row("A"))
    # A run of erp_incoming (on another container) is between its ordering check and its submit.
    world.locks.held[writer_lock_name("onhand")] = LeaseInfo(
        "erp_incoming-full-x#1", world.clock.epoch() + 60
    )

    result = world.runner(two_onhand_imports()).run("wms_onhand", "full", deadline=_long())

    assert result.outcome is RunOutcome.SKIPPED_LOCKED
    assert "onhand is being written to Norce by run erp_incoming-full-x#1" in (result.message or "")
    assert world.connect.requests == []
    assert "wms_onhand" not in world.locks.held  # its own lock was given back


def test_the_entities_form_keeps_its_state_keys_named_after_the_kind() -> None:
    world = World()
    world.source.add(
        "customers", "C1", {"code": "C1", "first_name": "A", "last_name": "B", "email": "a@b.se"}
    )

    result = world.runner().run("customers", "full", deadline=_long())

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    stored = world.runs.get(result.run_id)
    assert (stored.entity, stored.kind_name) == ("customers", "customers")
    assert world.jobs.get(result.job_ids[0]).entity == "customers"
    assert world.connect.requests[0].header.AccountId == 7  # account_source, as before
