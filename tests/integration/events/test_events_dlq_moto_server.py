"""DLQ redrive against moto's *server* mode, whose missing StartMessageMoveTask answers a bare 500."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from norcekit.events.dlq import redrive

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs_on_server(aws_env: None) -> Iterator[object]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield boto3.client("sqs", endpoint_url=f"http://{host}:{port}", region_name="eu-north-1")
    finally:
        server.stop()


def test_redrive_falls_back_to_the_mover_when_the_move_task_api_errors(sqs_on_server: object) -> None:
    sqs = sqs_on_server
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]  # type: ignore[attr-defined]
    dlq = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]  # type: ignore[attr-defined]
    for i in range(3):
        sqs.send_message(  # type: ignore[attr-defined]
            QueueUrl=dlq,
            MessageBody=f'{{"n": {i}}}',
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": "SkuChangedNotification"}},
        )

    result = redrive(dlq, queue, sqs=sqs)

    assert result.moved == 3
    received = sqs.receive_message(  # type: ignore[attr-defined]
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert sorted(m["Body"] for m in received) == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert all(
        m["MessageAttributes"]["event_type"]["StringValue"] == "SkuChangedNotification" for m in received
    )
    left = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])  # type: ignore[attr-defined]
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "0"
