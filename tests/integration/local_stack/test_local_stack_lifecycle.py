"""Local stack lifecycle: services plug in, stop() frees everything, `python -m norcekit_local`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from norcekit_local import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
STACK_KEYS = {"norce_url", "aws_endpoint_url", "table", "queue_url", "dlq_url", "bucket", "env", "pid"}


def port_is_free(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        # Like a server restarting on the port: closed connections in TIME_WAIT do not count,
        # a socket still listening does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, int(port)))
        except OSError:
            return False
        return True


class RecordingService:
    """A stand-in for the webhook front / consumer services that plug into the stack."""

    def __init__(self, events: list[str], name: str = "recorder", fail: bool = False) -> None:
        self.name = name
        self.events = events
        self.fail = fail

    def start(self, stack: LocalStack) -> dict[str, Any]:
        self.events.append(f"start {self.name} queue={bool(stack.info['queue_url'])}")
        if self.fail:
            raise RuntimeError("service could not start")
        return {"url": "http://127.0.0.1:1/"}

    def stop(self) -> None:
        self.events.append(f"stop {self.name}")


def test_stop_frees_ports_runs_services_and_removes_stack_json(tmp_path: Path) -> None:
    events: list[str] = []
    stack = LocalStack(tmp_path, services=[RecordingService(events, "a"), RecordingService(events, "b")])
    stack.start()
    info = json.loads(stack.stack_file.read_text())
    assert info["services"] == {"a": {"url": "http://127.0.0.1:1/"}, "b": {"url": "http://127.0.0.1:1/"}}
    assert not port_is_free(info["aws_endpoint_url"])
    assert not port_is_free(info["norce_url"])
    stack.stop()
    assert events == ["start a queue=True", "start b queue=True", "stop b", "stop a"]
    assert port_is_free(info["aws_endpoint_url"])
    assert port_is_free(info["norce_url"])
    assert not stack.stack_file.exists()  # no stale file pointing at closed ports


def test_a_failing_service_stops_everything_started_before_it(tmp_path: Path) -> None:
    events: list[str] = []
    stack = LocalStack(
        tmp_path,
        sample_data=False,
        services=[RecordingService(events, "a"), RecordingService(events, "broken", fail=True)],
    )
    with pytest.raises(RuntimeError, match="could not start"):
        stack.start()
    assert events == ["start a queue=True", "start broken queue=True", "stop broken", "stop a"]
    assert not stack.running
    assert not stack.stack_file.exists()


def test_module_runs_in_the_foreground_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "norcekit_local", "--root", str(tmp_path), "--no-sample-data"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stack_file = tmp_path / "stack.json"
        deadline = time.monotonic() + 60
        while not stack_file.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "stack.json not written within 60 s"
            time.sleep(0.1)
        info = json.loads(stack_file.read_text())
        assert info["pid"] == process.pid
        assert set(info) >= STACK_KEYS
        assert httpx.get(f"{info['norce_url']}/_admin/jobs", timeout=60).status_code == 200

        process.send_signal(signal.SIGTERM)
        stdout, _stderr = process.communicate(timeout=120)  # a loaded machine stops slowly
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert info["norce_url"] in stdout  # the human summary
    assert port_is_free(info["aws_endpoint_url"])
    assert not stack_file.exists()
