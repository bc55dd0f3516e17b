"""A minimal Norce stand-in for throughput legs: issues a token, drains import bodies, answers a JobId.

The emulator parses and keeps every imported item (and applies it to its catalog), which would
make the receiving side the bottleneck and its memory the story. This sink only reads the chunked
body off the socket and discards it, so a streaming benchmark measures the sender. Run it in its own
process (``python -m tests.bench.sink``): it prints ``PORT <n>`` and serves until stdin closes.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_job_ids = itertools.count(1)
READ_BLOCK = 1 << 16


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rbufsize = READ_BLOCK

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _drain(self) -> int:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            total = 0
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return total
                remaining = size
                while remaining:
                    remaining -= len(self.rfile.read(min(remaining, READ_BLOCK)))
                self.rfile.readline(3)
                total += size
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        return length

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        size = self._drain()
        if self.path.startswith("/identity/"):
            self._json(200, {"access_token": "bench-token", "expires_in": 3600, "token_type": "Bearer"})
        elif self.path.startswith("/commerce/connect/"):
            self._json(
                200,
                {"StatusCode": "OK", "Description": f"drained {size} bytes", "JobId": str(next(_job_ids))},
            )
        else:
            self._json(404, {"error": "not_found"})

    def do_GET(self) -> None:
        self._json(404, {"error": "not_found"})


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # the parent closes our stdin (or exits) to stop us
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
