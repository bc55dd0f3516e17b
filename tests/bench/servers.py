"""Start the sink or the emulator in their own process, so their CPU time and memory are not ours."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.bench.harness import PYTHON, REPO

#: The credentials the emulator process accepts (fake, local only).
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
APPLICATION_ID = 1042


@contextmanager
def _process(args: list[str], ready_prefix: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [PYTHON, *args], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith(ready_prefix):
            raise RuntimeError(f"{' '.join(args)} did not start: {line!r}")
        yield line[len(ready_prefix) :].strip()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def sink_process() -> Iterator[str]:
    """Base URL of a draining sink (token + Connect endpoints) in another process."""
    with _process(["-m", "tests.bench.sink"], "PORT") as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def emulator_process(**config: Any) -> Iterator[str]:
    """Base URL of a Norce emulator in another process, configured with ``config``."""
    with _process(["-m", "tests.bench.servers", json.dumps(config)], "URL") as url:
        yield url


def admin(base_url: str, route: str, body: Any = None, *, method: str | None = None) -> Any:
    """Call the emulator's admin API (``/_admin/<route>``)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base_url}/_admin/{route}",
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


def _serve_emulator(config_json: str) -> int:
    from norce_emulator import Emulator, EmulatorConfig  # noqa: PLC0415 - only in the child

    config = EmulatorConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        application_id=APPLICATION_ID,
        **json.loads(config_json),
    )
    emulator = Emulator(config).start()
    print(f"URL {emulator.base_url}", flush=True)
    sys.stdin.read()
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve_emulator(sys.argv[1]))
