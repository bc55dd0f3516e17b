"""A loopback HTTP server standing in for API Gateway in front of the webhook receiver Lambda.

Each request becomes an API Gateway REST proxy event (v1: ``resource`` ``/events/{EventType}``,
``pathParameters``, ``headers``/``multiValueHeaders``, ``isBase64Encoded`` for non-UTF-8 bodies,
``requestContext``) and is passed to the real ``functions/webhook_receiver/app.handler`` in-process
with a fake Lambda context; its ``statusCode``/``headers``/``body`` are sent back.

The Norce emulator's event subscriptions post to ``{webhook_url}/{EventType}``.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from norce_emulator.events import EVENT_TYPES
from norcekit.events.receiver import DEFAULT_SECRET_HEADER
from norcekit_local.handlers import FakeLambdaContext, Handler, load_handler, load_handler_with
from norcekit_local.http_server import BackgroundHTTPServer

EVENTS_RESOURCE = "/events/{EventType}"
ORDERS_PREFIX = "/orders"
_EVENTS_PATH = re.compile(r"^/events/(?P<EventType>[^/]+)$")


def apigw_rest_event(
    method: str,
    path: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | None,
    *,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event as Lambda receives it (``sam local generate-event
    apigateway aws-proxy`` shape)."""
    split = urlsplit(path)
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value
        multi.setdefault(name, []).append(value)
    query = parse_qsl(split.query, keep_blank_values=True)
    match = _EVENTS_PATH.match(split.path)
    resource = EVENTS_RESOURCE if match else split.path
    path_parameters = {"EventType": match.group("EventType")} if match else None
    is_base64 = False
    text: str | None = None
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    return {
        "body": text,
        "resource": resource,
        "path": split.path,
        "httpMethod": method,
        "isBase64Encoded": is_base64,
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": ({k: [v for kk, v in query if kk == k] for k, _ in query} or None),
        "pathParameters": path_parameters,
        "stageVariables": None,
        "headers": single,
        "multiValueHeaders": multi,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": stage,
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "accessKey": None,
                "sourceIp": source_ip,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": single.get("User-Agent") or single.get("user-agent"),
                "user": None,
            },
            "path": f"/{stage}{split.path}",
            "resourcePath": resource,
            "httpMethod": method,
            "apiId": "local000000",
            "protocol": "HTTP/1.1",
        },
    }


class WebhookFront(BackgroundHTTPServer):
    """``start()`` → serving on ``base_url``; events go to ``webhook_url`` + ``/<EventType>``."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function_timeout_s: float = 30.0,
        order_handler: Handler | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        self._handler = handler
        #: ``/orders`` and ``/orders/answers``: the order receiver function (same API in the template).
        self.order_handler = order_handler
        self.function_timeout_s = function_timeout_s
        # One invocation at a time, like one Lambda container (the resolver keeps per-request state).
        self._invoke_lock = threading.Lock()
        self.invocations = 0
        self.responses: list[int] = []

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            # A fresh module per front/consumer, like a new Lambda container: its cached clients
            # are built from this stack's settings, not from a stack that ran earlier in the process.
            self._handler = load_handler("webhook_receiver", fresh=True)
        return self._handler

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/events"

    def invoke(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
        event = apigw_rest_event(method, path, headers, body)
        orders = self.order_handler is not None and urlsplit(path).path.startswith(ORDERS_PREFIX)
        handler, name = (
            (self.order_handler, "order_receiver") if orders else (self.handler, "webhook_receiver")
        )
        assert handler is not None
        with self._invoke_lock:
            self.invocations += 1
            result: dict[str, Any] = handler(event, FakeLambdaContext(name, self.function_timeout_s))
        self.responses.append(int(result.get("statusCode", 502)))
        return result

    def start(self) -> WebhookFront:
        front = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    result = front.invoke(self.command, self.path, list(self.headers.items()), body)
                except Exception as exc:  # the Lambda crashed: API Gateway answers 502
                    result = {
                        "statusCode": 502,
                        "body": f'{{"message":"Internal server error ({type(exc).__name__})"}}',
                    }
                payload = result.get("body") or ""
                data = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode()
                self.send_response(int(result.get("statusCode", 502)))
                # API Gateway sends both maps (Powertools answers in multiValueHeaders).
                multi = {
                    k.lower(): ", ".join(map(str, v))
                    for k, v in (result.get("multiValueHeaders") or {}).items()
                }
                headers = {**multi, **{k.lower(): v for k, v in (result.get("headers") or {}).items()}}
                headers.setdefault("content-type", "application/json")
                for name, value in headers.items():
                    if name not in ("content-length", "connection"):
                        self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._serve(_Handler, "webhook-front")
        return self


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class WebhookFrontService:
    """Local-stack service: the webhook front, with every emulator event type subscribed to it.

    Adds ``webhook_url``, ``webhook_secret_header`` and ``webhook_secret`` to stack.json; events are
    POSTed to ``{webhook_url}/{EventType}`` with the secret in that header.
    """

    name = "webhook_front"

    def __init__(self, port: int = 0, *, subscribe: bool = True) -> None:
        self.port = port
        self.subscribe = subscribe
        self.front: WebhookFront | None = None

    def start(self, stack: Any) -> dict[str, Any]:
        handler = load_handler_with("webhook_receiver", stack.components)
        orders = load_handler_with("order_receiver", stack.components)
        self.front = WebhookFront(handler, port=self.port, order_handler=orders).start()
        header = stack.info.get("webhook_secret_header") or DEFAULT_SECRET_HEADER
        secret = stack.info["webhook_secret"]
        # A real tenant's events are configured in Norce Admin (see the README), not subscribed here.
        if self.subscribe and stack.uses_emulator:
            for event_type in EVENT_TYPES:
                stack.emulator.subscribe(
                    event_type, f"{self.front.webhook_url}/{event_type}", {header: secret}
                )
        order_url = f"{self.front.base_url}{ORDERS_PREFIX}"
        # Norce Admin > ERP integration: the emulator's checkout posts here with these credentials.
        if stack.uses_emulator:
            stack.emulator.configure(
                order_receiver_url=order_url,
                order_receiver_username=stack.info["order_receiver_username"],
                order_receiver_password=stack.info["order_receiver_password"],
            )
        details = {
            "webhook_url": self.front.webhook_url,
            "webhook_secret_header": header,
            "webhook_secret": secret,
            "order_receiver_url": order_url,
            "order_answer_url": f"{order_url}/answers",
        }
        stack.info.update(details)
        return details

    def stop(self) -> None:
        if self.front is not None:
            self.front.stop()
            self.front = None
