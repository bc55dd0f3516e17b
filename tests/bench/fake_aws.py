"""A loopback stand-in for the two AWS calls of the webhook receiver's first request.

The cold-start bench points a fresh handler process at it with ``AWS_ENDPOINT_URL`` (botocore reads
it), so the first request does everything it does in Lambda — builds its clients, signs and sends
real HTTP requests, parses the answers — without a network: Secrets Manager ``GetSecretValue``
answers the accepted-secrets list, SQS ``SendMessage`` answers a message id and the body's MD5.
Anything else is answered 400 and counted, so the bench can tell that the request took the path
it meant to measure.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GET_SECRET = "secretsmanager.GetSecretValue"
SEND_MESSAGE = "AmazonSQS.SendMessage"


class FakeAws:
    """Answers ``GetSecretValue`` with ``secrets`` (a JSON list) and ``SendMessage``; counts calls."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def answer(self, target: str, request: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            self.calls[target] += 1
        if target == GET_SECRET:
            return {
                "ARN": request["SecretId"],
                "Name": "bench-webhook",
                "VersionId": str(uuid.uuid4()),
                "SecretString": json.dumps(self.secrets),
            }
        if target == SEND_MESSAGE:
            body = request["MessageBody"].encode()
            return {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": hashlib.md5(body).hexdigest()}
        return None


@contextmanager
def fake_aws(secrets: list[str]) -> Iterator[tuple[str, FakeAws]]:
    """``(endpoint URL, fake)`` of a server on 127.0.0.1 in a thread, stopped on exit."""
    fake = FakeAws(secrets)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            answer = fake.answer(self.headers.get("X-Amz-Target", ""), request)
            data = json.dumps(answer if answer is not None else {"__type": "UnknownOperation"}).encode()
            self.send_response(200 if answer is not None else 400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
