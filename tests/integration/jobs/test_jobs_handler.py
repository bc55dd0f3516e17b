"""The job_monitor Lambda handler with the sample scheduler event, a fake context and the emulator."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.fixtures.emulator import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET, post_import, product

from norce_emulator import Emulator
from norcekit.settings import reset_settings_cache
from norcekit.state.jobs import JobRecord, JobStore
from norcekit.state.table import StateTable

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class FakeLambdaContext:
    function_name: str = "job-monitor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:job-monitor"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("job_monitor_app", ROOT / "functions/job_monitor/app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scheduled_tick_finishes_open_jobs_and_answers_a_summary(
    emulator: Emulator,
    state_table: StateTable,
    emulator_http: Any,
    emulator_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "NORCE_BASE_URL": emulator.base_url,
        "NORCE_APPLICATION_ID": str(APPLICATION_ID),
        "NORCE_CLIENT_ID": CLIENT_ID,
        "NORCE_CLIENT_SECRET": CLIENT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NORCEKIT_CONFIG", raising=False)
    reset_settings_cache()
    resp = post_import(
        emulator_http, emulator_headers, "Product/ImportProducts", [product("P1", "S1")], FullFile=False
    )
    job_id = int(resp.json()["JobId"])
    JobStore(state_table).create(
        JobRecord(job_id=job_id, entity="products", mode="delta", submitted_at=datetime.now(UTC))
    )
    emulator.wait_for_job(job_id)
    event = json.loads((ROOT / "events/job_monitor/scheduled.json").read_text())

    summary = load_handler().handler(event, FakeLambdaContext())

    assert summary["open_jobs"] == 1 and summary["polled"] == 1
    assert summary["finished"] == {"succeeded": 1}
    assert JobStore(state_table).get(job_id).status.name == "SUCCEEDED"
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(line.get("JobsSucceeded") == [1.0] and line.get("entity") == "products" for line in out)
