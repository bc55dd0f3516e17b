"""HTTP front end: routing, chunked bodies, auth, fault injection, request recording, admin API."""

from __future__ import annotations

import contextlib
import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from .admin_api import admin_route
from .config import GROUPS
from .contracts import CONNECT_IMPORTS
from .errors import ApiError
from .odata import ODataError
from .orders import ORDER_WRITEBACKS
from .query import QUERY_PREFIX, NotFoundError
from .responses import ODATA_JSON, Response, json_response, odata_error

if TYPE_CHECKING:
    from .core import EmulatorCore

TOKEN_PATH = "/identity/1.0/connect/token"  # noqa: S105 - a URL path
CONNECT_PREFIX = "/commerce/connect/4.0/"
JOB_PREFIXES = ("/commerce/connect/4.0/Job/", "/commerce/connect/4.0/api/Job/")  # both seen in the wild
ADMIN_PREFIX = "/_admin/"


def group_of(path: str) -> str:
    if path == TOKEN_PATH:
        return "token"
    if path.startswith(JOB_PREFIXES):
        return "job"
    if path.startswith(CONNECT_PREFIX):
        return "connect"
    if path.startswith(QUERY_PREFIX):
        return "query"
    if path.startswith(ADMIN_PREFIX):
        return "admin"
    return "other"


def read_chunked(rfile: BinaryIO, limit: int) -> bytes:
    """Decode a chunked request body. Chunks are collected and joined once: linear in the body size."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ApiError(400, {"error": "truncated chunked body"})
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ApiError(400, {"error": f"bad chunk size line {line[:40]!r}"}) from None
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # skip trailers
                pass
            return b"".join(parts)
        total += size
        if total > limit:
            raise ApiError(413, {"error": f"body larger than {limit} bytes"})
        data = rfile.read(size)
        if len(data) != size:
            raise ApiError(400, {"error": "truncated chunk"})
        parts.append(data)
        rfile.readline(3)  # CRLF after the chunk data


def _int_param(params: dict[str, str], name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, ValueError):
        raise ApiError(
            400, {"StatusCode": "Failed", "Description": f"query parameter '{name}' must be an integer"}
        ) from None


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, emulator: EmulatorCore, address: tuple[str, int]) -> None:
        self.emulator = emulator
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or was killed hung up mid-answer: Norce would not log that either.
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return
        super().handle_error(request, client_address)


def make_server(emulator: EmulatorCore, host: str, port: int) -> EmulatorHTTPServer:
    return EmulatorHTTPServer(emulator, (host, port))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API gateway
    server_version = "NorceEmulator/1.0"
    timeout = 300  # idle keep-alive connections eventually go away
    rbufsize = 1 << 16  # big streamed bodies arrive in many small chunks
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.config.verbose:
            sys.stderr.write(f"[norce-emulator] {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # ---------------------------------------------------------------- plumbing
    def _read_body(self) -> bytes:
        limit = self.server.emulator.config.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return read_chunked(self.rfile, limit)  # type: ignore[arg-type]
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n > limit:
            self.close_connection = True  # the body stays unread
            raise ApiError(413, {"error": f"body larger than {limit} bytes"})
        return self.rfile.read(n)

    def _send(self, response: Response) -> None:
        status, body, headers = response
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without any response bytes (the client sees a disconnect)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        cfg = emu.config
        url = urlsplit(self.path)
        path = unquote(url.path)  # keys like ProductSkus(%27A-1%27) arrive percent-encoded
        group = group_of(path)
        record: dict[str, Any] = {
            "Time": emu.now(),
            "Method": method,
            "Path": path,
            "Query": url.query,
            "Params": parse_qsl(url.query, keep_blank_values=True),
            "Group": group,
            "Headers": {
                k.lower(): ("<redacted>" if k.lower() == "authorization" else v)
                for k, v in self.headers.items()
            },
            "HasAuthorization": "authorization" in {k.lower() for k in self.headers},
            "HasApplicationId": self._application_id_raw() is not None,
            "BodySize": 0,
            "Status": None,
            "Fault": None,
        }
        started = time.monotonic()
        drop = False
        response: Response
        try:
            body = self._read_body()
            record["BodySize"] = len(body)
            if len(self.path) > cfg.max_url_length:
                raise ApiError(414, {"error": f"Request-URI longer than {cfg.max_url_length} bytes"})
            fault = emu.faults.decide(group, cfg.faults.get(group)) if group in GROUPS else None
            if fault is not None and fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault is not None and fault.drop:
                record["Fault"], drop = "drop", True
                response = (0, b"", {})
            elif fault is not None and fault.status is not None:
                record["Fault"] = fault.status
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                response = self._fault_response(fault.status, headers)
            else:
                response = self._route(method, path, url.query, body, group)
                if fault is not None and fault.drop_after:
                    record["Fault"], drop = "drop_after", True
        except ApiError as exc:
            response = json_response(exc.status, exc.body, exc.headers)
        except Exception as exc:
            traceback.print_exc()
            response = json_response(
                500, {"error": "emulator_error", "message": f"{type(exc).__name__}: {exc}"}
            )
        record["Status"] = None if drop and record["Fault"] == "drop" else response[0]
        record["DurationMs"] = round((time.monotonic() - started) * 1000, 2)
        if group != "admin":  # admin calls are test plumbing, keep them out of the counts
            emu.record_request(record)  # before answering, so a client that got its answer sees the record
        if drop:
            self._drop()
        else:
            self._send(response)

    def _fault_response(self, status: int, headers: dict[str, str]) -> Response:
        if status == 429:
            return json_response(429, {"error": "too_many_requests", "message": "Too many requests"}, headers)
        if status in (502, 504):  # gateways answer with text, not JSON
            text = b"Bad Gateway" if status == 502 else b"Gateway Timeout"
            return status, text, {"Content-Type": "text/plain", **headers}
        return json_response(status, {"error": "injected_fault", "status": status}, headers)

    def _application_id_raw(self) -> str | None:
        return self.headers.get("applicationId") or self.headers.get("application-id")

    def _base_url(self) -> str:
        host = (
            self.headers.get("Host") or f"{self.server.emulator.config.host}:{self.server.server_address[1]}"
        )
        return f"http://{host}"

    # ---------------------------------------------------------------- routing
    def _order_write_back(self, emu: EmulatorCore, method: str, rel: str, body: bytes) -> Response:
        """A synchronous Connect order call: 200 with an empty body, or 400 (no job, no header)."""
        if method != "POST":
            raise ApiError(405, {"error": "method_not_allowed"})
        if emu.config.connect_requires_application_id and self._application_id_raw() is None:
            raise ApiError(400, {"StatusCode": "Failed", "Description": "application-id header is required"})
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError as exc:
            raise ApiError(
                400, {"StatusCode": "Failed", "Description": f"Body is not valid JSON: {exc}"}
            ) from None
        return json_response(200, emu.orders.write_back(rel, data))

    def _route(self, method: str, path: str, query: str, body: bytes, group: str) -> Response:
        emu = self.server.emulator
        params = dict(parse_qsl(query, keep_blank_values=True))
        if group == "admin":
            return admin_route(emu, method, path[len(ADMIN_PREFIX) :].strip("/"), params, body)
        if group == "token":
            if method != "POST":
                raise ApiError(405, {"error": "method_not_allowed"})
            ctype = self.headers.get("Content-Type", "")
            if "application/x-www-form-urlencoded" not in ctype:
                raise ApiError(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "use application/x-www-form-urlencoded",
                    },
                )
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return json_response(200, emu.issue_token(form), {"Cache-Control": "no-store"})
        if group == "other":
            raise ApiError(404, {"error": "not_found", "path": path})

        emu.check_bearer(self.headers.get("Authorization"))

        if group == "job":
            op = path.rsplit("/", 1)[-1]
            if op == "Ping" and method == "GET":
                return json_response(200, "OK")
            allowed = {"Get": "GET", "GetLog": "GET", "Restart": "POST"}
            if op not in allowed:
                raise ApiError(404, {"error": "not_found", "path": path})
            if method != allowed[op]:
                raise ApiError(405, {"error": "method_not_allowed"})
            job_id = _int_param(params, "id")
            if op == "Get":
                return json_response(200, emu.get_job_dto(job_id))
            if op == "GetLog":
                return json_response(200, emu.get_job_log(job_id))
            return json_response(200, emu.restart_job(job_id))

        if group == "connect":
            rel = path[len(CONNECT_PREFIX) :]
            if rel in ORDER_WRITEBACKS:
                return self._order_write_back(emu, method, rel, body)
            if rel not in CONNECT_IMPORTS:
                raise ApiError(
                    404, {"StatusCode": "Failed", "Description": f"Unknown Connect operation {rel}"}
                )
            if method != "POST":
                raise ApiError(405, {"error": "method_not_allowed"})
            if emu.config.connect_requires_application_id and self._application_id_raw() is None:
                raise ApiError(
                    400, {"StatusCode": "Failed", "Description": "application-id header is required"}
                )
            if not body:
                raise ApiError(
                    400, {"StatusCode": "Failed", "Description": "Empty body; expected a JSON array"}
                )
            try:
                items = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise ApiError(
                    400, {"StatusCode": "Failed", "Description": f"Body is not valid JSON: {exc}"}
                ) from None
            return json_response(
                200, emu.accept_import(rel, self.headers.get("X-StormConnect-Header"), items)
            )

        # query
        if method != "GET":
            return odata_error(405, "MethodNotAllowed", "Query is read-only")
        app_id = self._application_id_raw()
        if app_id is None or not app_id.strip().lstrip("-").isdigit():
            return odata_error(
                400, "BadRequest", "The 'applicationId' header is required and must be an integer"
            )
        try:
            result = emu.query(path, parse_qsl(query, keep_blank_values=True), self._base_url())
        except ODataError as exc:
            return odata_error(400, "BadRequest", str(exc))
        except NotFoundError as exc:
            return odata_error(404, "NotFound", str(exc))
        return json_response(200, result, content_type=ODATA_JSON)
