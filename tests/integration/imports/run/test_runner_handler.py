"""The import_runner Lambda handler: sample scheduler events, a fake context, EMF output."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET
from tests.integration.imports.run.runner_support import SAMPLE_KEY_FIELDS

from norce_emulator import Emulator
from norcekit.settings import reset_settings_cache
from norcekit.state.claims import FinishClaimStore
from norcekit.state.runs import RunOutcome, RunStore
from norcekit.state.table import StateTable
from norcekit.wiring import imports as wiring_imports
from norcekit_local.sample_data.generate import generate

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]
EVENTS = REPO / "events" / "import_runner"
ENTITIES = tuple(SAMPLE_KEY_FIELDS)


@dataclass
class FakeContext:
    remaining_ms: int = 600_000
    function_name: str = "norcekit-import-runner"
    memory_limit_in_mb: int = 1769
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:norcekit-import-runner"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_runner_app", REPO / "functions" / "import_runner" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the event model's annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app(
    emulator: Emulator,
    state_table: StateTable,
    quarantine_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ModuleType]:
    root = tmp_path / "drop"
    generate(root, products=2, customers=5, companies=1, supplier_products=1)
    config = {
        "sources": {
            "erp": {
                "type": "filedrop",
                "root": str(root),
                "entities": {name: {"key_fields": keys} for name, keys in SAMPLE_KEY_FIELDS.items()},
            }
        },
        "entities": {name: {"source": "erp", "mapping": "sample"} for name in ENTITIES},
    }
    config_path = tmp_path / "norcekit.json"
    config_path.write_text(json.dumps(config))
    for name, value in {
        "NORCE_BASE_URL": emulator.base_url,
        "NORCE_CLIENT_ID": CLIENT_ID,
        "NORCE_CLIENT_SECRET": CLIENT_SECRET,
        "NORCE_APPLICATION_ID": str(APPLICATION_ID),
        "NORCE_ACCOUNT_ID": "123",
        "NORCEKIT_CONFIG": str(config_path),
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    module = _load_handler()
    module.metrics.clear_metrics()
    try:
        yield module
    finally:
        module.components.reset()
        module.metrics.clear_metrics()


def _emf(output: str) -> list[dict[str, Any]]:
    blobs = []
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def _value(blob: dict[str, Any], name: str) -> float:
    value = blob[name]
    return float(sum(value) if isinstance(value, list) else value)


def test_every_entity_and_mode_has_a_sample_scheduler_event() -> None:
    names = {path.name for path in EVENTS.glob("*.json")}
    assert names == {f"{entity}-{mode}.json" for entity in ENTITIES for mode in ("full", "delta")}
    for path in EVENTS.glob("*.json"):
        event = json.loads(path.read_text())
        entity, mode = path.stem.rsplit("-", 1)
        assert event == {"entity": entity, "mode": mode}


def test_handler_runs_the_scheduled_import_and_emits_metrics(
    app: ModuleType, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    event = json.loads((EVENTS / "customers-full.json").read_text())

    summary = app.handler(event, FakeContext())

    assert summary["outcome"] == "submitted", summary
    assert summary["entity"] == "customers" and summary["mode"] == "full"
    assert summary["counts"]["submitted"] == 5
    assert len(summary["job_ids"]) == 1 and len(emulator.jobs()) == 1
    metrics = _emf(capsys.readouterr().out)
    assert metrics, "no EMF output"
    blob = metrics[-1]
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "NorcekitTest"
    assert any("entity" in dimensions for dimensions in directive["Dimensions"])
    assert blob["entity"] == "customers"
    assert _value(blob, "ImportRuns") == 1
    assert _value(blob, "ItemsRead") == _value(blob, "ItemsMapped") == _value(blob, "ItemsSubmitted") == 5
    assert _value(blob, "ItemsQuarantined") == 0
    assert _value(blob, "JobsSubmitted") == 1
    assert _value(blob, "ImportDurationSeconds") >= 0
    assert blob["outcome"] == "submitted"
    assert blob["run_id"] == summary["run_id"]


def test_handler_runs_an_import_by_name_with_the_import_dimension(
    app: ModuleType, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = app.handler({"import": "customers", "mode": "full"}, FakeContext())

    assert summary["outcome"] == "submitted", summary
    blob = _emf(capsys.readouterr().out)[-1]
    assert (blob["entity"], blob["import"]) == ("customers", "customers")
    assert [sorted(d) for d in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]] == [
        ["entity", "import", "service"]
    ]


def test_handler_builds_the_runner_once_per_container(
    app: ModuleType, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.set_job_processing(False)
    built = []
    real = wiring_imports.build_import_runner

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(wiring_imports, "build_import_runner", counting)
    app.components.reset()
    app.handler({"entity": "customers", "mode": "full"}, FakeContext())
    second = app.handler({"entity": "customers", "mode": "full"}, FakeContext())
    assert len(built) == 1
    assert second["outcome"] == "skipped_job_running"  # the first run's job is still queued


def test_a_job_the_ordering_check_sees_ending_gets_the_trackers_terminal_actions(
    app: ModuleType, emulator: Emulator, state_table: StateTable
) -> None:
    first = app.handler({"entity": "customers", "mode": "full"}, FakeContext())
    job_id = first["job_ids"][0]
    emulator.wait_for_job(job_id)

    second = app.handler({"entity": "customers", "mode": "full"}, FakeContext())

    assert second["outcome"] == "submitted"
    claim = FinishClaimStore(state_table, clock=lambda: datetime.now(UTC)).state(job_id)
    assert claim is not None and claim.done  # finished once, not left to the monitor's sweep
    assert RunStore(state_table).get(first["run_id"]).outcome is RunOutcome.SUCCEEDED


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"entity": "products"}, "mode"),
        ({"entity": "products", "mode": "weekly"}, "mode"),
        ({"entity": "pancakes", "mode": "full"}, "unknown entity 'pancakes'"),
        ({"entity": "products", "mode": "full", "entiy": "x"}, "entiy"),
        # Guardrail allowances are for an operator's single run (the CLI), never a schedule's.
        ({"entity": "products", "mode": "full", "allow": ["shrink"]}, "allow: Extra inputs"),
        ({"entity": "products", "import": "products", "mode": "full"}, 'one of "entity" and "import"'),
        ({"mode": "full"}, 'one of "entity" and "import"'),
        ({"import": "ERP products", "mode": "full"}, "import"),
        ("not an object", "invalid import event"),
    ],
)
def test_handler_rejects_a_bad_event_clearly(
    app: ModuleType, emulator: Emulator, event: Any, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(app.InvalidImportEventError, match=expected) as raised:
        app.handler(event, FakeContext())
    assert "invalid import event" in str(raised.value)
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert str(raised.value) in logged  # logged, not only raised
    assert emulator.jobs() == []
