"""moto in server mode on loopback: the local stack's AWS, reachable by any process via AWS_ENDPOINT_URL."""

from __future__ import annotations

import logging
import socket
import urllib.request
from typing import Any

from moto.server import ThreadedMotoServer

from norcekit.wiring.aws import AwsClients

#: Fake credentials: moto accepts anything; these can never authenticate against real AWS.
FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto's documented dummy value, not a secret
LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """A moto server thread on ``127.0.0.1:<port>`` (port 0 = any free port)."""

    def __init__(self, port: int = 0, region: str = "eu-north-1") -> None:
        self.region = region
        self._requested_port = port
        self._server: ThreadedMotoServer | None = None
        self._port: int | None = None
        self._aws: AwsClients | None = None

    def start(self) -> MotoServer:
        if self._server is not None:
            return self
        # werkzeug logs every request to stderr; the local stack's console is for its summary.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=self._requested_port, verbose=False)
        server.start()
        self._server = server
        self._port = server.get_host_and_port()[1]
        # The composition root's client factory, pointed at this server with fake credentials.
        self._aws = AwsClients.from_environ(self.env(), region=self.region)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        # moto keeps its state in process-wide backends, not in the server: without a reset the next
        # local stack started in this process (tests, the demo) would find this one's resources.
        self.reset()
        server, self._server, self._aws = self._server, None, None
        server.stop()
        # werkzeug's shutdown() stops serving but leaves the listening socket open.
        inner = getattr(server, "_server", None)
        if inner is not None:
            inner.server_close()

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        # Our own loopback http:// URL, never user input.
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            answer.read()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("moto server not started")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment that points boto3 (in any process) at this server with fake credentials."""
        return aws_env(self.endpoint_url, self.region)

    @property
    def aws(self) -> AwsClients:
        """Every client on this server, from :class:`norcekit.wiring.AwsClients` (one botocore Config)."""
        if self._aws is None:
            raise RuntimeError("moto server not started")
        return self._aws

    def client(self, service: str) -> Any:
        return self.aws.client(service)


def aws_env(endpoint_url: str, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
