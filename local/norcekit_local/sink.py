"""A local HTTP target: records every document POSTed to it, and can be told to fail.

Use it as an ``http`` target (``url: <sink_url>/docs``) to watch deliveries and demo retries and the
DLQ: ``fail_next(3)`` answers the next three requests 503, ``fail_key("100011")`` always refuses
that document key (400 by default → permanent → the record ends in the DLQ). Received documents
are written to ``<out_dir>/http/<entity>/<key>.json`` (latest wins) and kept in :attr:`received`.

Control over HTTP, for the CLI/demo running in another process:
``GET /_sink/received``, ``POST /_sink/fail {"next": 3, "status": 503}``,
``POST /_sink/fail {"key": "100011", "status": 400}``, ``POST /_sink/reset``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote

from norcekit_local.http_server import BackgroundHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    status: int


class HttpSink(BackgroundHTTPServer):
    def __init__(self, out_dir: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self._fail_next: list[int] = []
        self._fail_keys: dict[str, int] = {}

    # --- control ---------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._fail_next.extend([status] * n)

    def fail_key(self, key: str, status: int = 400) -> None:
        """Refuse every document with this key until :meth:`reset`."""
        with self._lock:
            self._fail_keys[key] = status

    def reset(self, *, clear_received: bool = False) -> None:
        with self._lock:
            self._fail_next.clear()
            self._fail_keys.clear()
            if clear_received:
                self.received.clear()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def accepted_docs(self, key: str | None = None) -> list[dict[str, Any]]:
        return [r.body for r in self.accepted() if key is None or r.body.get("key") == key]

    # --- request handling ------------------------------------------------------------------------

    def _status_for(self, body: Any) -> int:
        with self._lock:
            key = body.get("key") if isinstance(body, dict) else None
            if key is not None and str(key) in self._fail_keys:
                return self._fail_keys[str(key)]
            if self._fail_next:
                return self._fail_next.pop(0)
            return 200

    def _store(self, body: dict[str, Any]) -> None:
        if self.out_dir is None or "entity" not in body or "key" not in body:
            return
        path = (
            self.out_dir
            / "http"
            / quote(str(body["entity"]), safe="")
            / f"{quote(str(body['key']), safe='')}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    def _control(self, path: str, body: Any) -> tuple[int, Any]:
        if path == "/_sink/received":
            with self._lock:
                return 200, [r.__dict__ for r in self.received]
        if path == "/_sink/reset":
            self.reset(clear_received=bool((body or {}).get("clear")))
            return 200, {"ok": True}
        if path == "/_sink/fail" and isinstance(body, dict):
            status = int(body.get("status", 503))
            if "key" in body:
                self.fail_key(str(body["key"]), status)
            else:
                self.fail_next(int(body.get("next", 1)), status)
            return 200, {"ok": True}
        return 404, {"message": "unknown control path"}

    def start(self) -> HttpSink:
        sink = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return raw.decode("utf-8", "replace")

            def do_GET(self) -> None:
                self._answer(*sink._control(self.path, None))

            def do_POST(self) -> None:
                body = self._body()
                if self.path.startswith("/_sink/"):
                    self._answer(*sink._control(self.path, body))
                    return
                status = sink._status_for(body)
                with sink._lock:
                    sink.received.append(Received(self.path, dict(self.headers.items()), body, status))
                if 200 <= status < 300 and isinstance(body, dict):
                    sink._store(body)
                self._answer(status, {"ok": 200 <= status < 300})

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._serve(_Handler, "http-sink")
        return self


#: Environment variable the local integration config uses for the sink target's URL.
SINK_URL_ENV = "NORCEKIT_SINK_URL"


class SinkService:
    """Local-stack service: the HTTP sink, writing to ``<root>/out/http/``.

    Adds ``sink_url`` to stack.json and ``NORCEKIT_SINK_URL`` to the stack's environment (for
    ``url: ${NORCEKIT_SINK_URL}/docs`` in the ``events:`` section of the local configuration). Start it
    before the consumer.
    """

    name = "http_sink"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.sink: HttpSink | None = None

    def start(self, stack: Any) -> dict[str, Any]:
        self.sink = HttpSink(Path(stack.root) / "out", port=self.port).start()
        stack.extra_env[SINK_URL_ENV] = self.sink.url
        details = {"sink_url": self.sink.url, "out_dir": str(Path(stack.root) / "out" / "http")}
        stack.info["sink_url"] = self.sink.url
        return details

    def stop(self) -> None:
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
