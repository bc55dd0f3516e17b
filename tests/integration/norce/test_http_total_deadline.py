"""Every HTTP call ends at a total time limit, however slowly a server trickles its answer.

The trickling server below sends one byte every 50 ms, far inside any per-read timeout, for at
most ~2 s; a per-read timeout alone would let each call finish successfully after those 2 s.
"""

from __future__ import annotations

import time

import httpx
import pytest
from tests.fixtures.local_http import Request, Responder, local_server, trickle

from norcekit.deadline import Deadline
from norcekit.imports.sources import SourceError
from norcekit.imports.sources.rest import RestOptions, RestSource
from norcekit.norce.http import DeadlineExceeded, NorceHttp, NorceUnavailable, RetryPolicy

pytestmark = pytest.mark.integration

BODY = b'{"value": [{"sku": "A"}], "padding": "' + b"x" * 14 + b'"}'
STEP_S = 0.05
trickle_body = trickle(BODY, STEP_S)


def trickle_headers(request: Request) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(f"X-Pad-{n}: {n}\r\n".encode() for n in range(10))
    for byte in head:
        time.sleep(STEP_S / 2)
        request.handler.wfile.write(bytes([byte]))
        request.handler.wfile.flush()
    request.handler.wfile.write(b"Content-Length: 2\r\n\r\n{}")
    request.handler.close_connection = True


def make_http(attempts: int = 1, attempt_timeout: float = 0.5) -> NorceHttp:
    # Per-phase timeouts are generous: only the total limit can stop a trickle.
    return NorceHttp(
        policy=RetryPolicy(max_attempts=attempts),
        timeout=httpx.Timeout(5.0),
        attempt_timeout=attempt_timeout,
        sleep=lambda _: None,
    )


@pytest.mark.parametrize("respond", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickled_answer_is_cut_at_the_attempt_limit(respond: Responder) -> None:
    with (
        local_server(respond) as server,
        make_http() as http,
        pytest.raises(NorceUnavailable, match="ReadTimeout"),
    ):
        http.request("GET", f"{server.url}/items", deadline=Deadline.none(), idempotent=True)


def test_a_trickled_answer_ends_at_the_callers_deadline() -> None:
    with local_server(trickle_body) as server, make_http(attempts=5, attempt_timeout=30.0) as http:
        with pytest.raises(DeadlineExceeded):
            http.request("GET", f"{server.url}/items", deadline=Deadline.after(0.5), idempotent=True)
        assert len(server.requests) == 1  # no retry started after the deadline


def test_a_rest_source_timeout_bounds_the_whole_request() -> None:
    with local_server(trickle_body) as server:
        options = RestOptions.model_validate(
            {"base_url": server.url, "entities": {"products": {"path": "items", "key_fields": ["sku"]}},
             "timeout_s": 0.5, "max_attempts": 1}
        )  # fmt: skip
        source = RestSource("erp", options)
        try:
            with pytest.raises(SourceError, match="ReadTimeout"):
                list(source.iter_all("products"))
        finally:
            source.close()


def test_a_prompt_answer_is_not_affected() -> None:
    def prompt(request: Request) -> None:
        request.send_json(200, {"ok": True})

    with local_server(prompt) as server, make_http(attempt_timeout=5.0) as http:
        for _ in range(3):  # the pooled connection is reused across requests
            response = http.request("GET", f"{server.url}/x", deadline=Deadline.none(), idempotent=True)
            assert response.json() == {"ok": True}
