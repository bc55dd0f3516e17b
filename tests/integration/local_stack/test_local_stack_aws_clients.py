"""The local stack's moto clients come from the composition root's factory (one botocore Config)."""

from __future__ import annotations

import pytest

from norcekit_local.aws import MotoServer

pytestmark = pytest.mark.integration


def test_moto_server_clients_are_the_wirings_on_its_endpoint() -> None:
    server = MotoServer(region="eu-north-1").start()
    try:
        sqs = server.client("sqs")
        assert sqs.meta.endpoint_url == server.endpoint_url
        assert sqs is server.aws.sqs()  # one shared client per service, as in Lambda
        assert sqs.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
        assert (sqs.meta.config.connect_timeout, sqs.meta.config.read_timeout) == (2.0, 10.0)
        url = sqs.create_queue(QueueName="probe")["QueueUrl"]
        assert server.aws.sqs().get_queue_url(QueueName="probe")["QueueUrl"] == url
    finally:
        server.stop()
    with pytest.raises(RuntimeError, match="not started"):
        server.client("sqs")
