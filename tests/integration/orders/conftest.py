"""Order receiver fixtures on moto: the credentials secret, the order queue (+DLQ), the answers queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from norcekit.settings import reset_settings_cache

REGION = "eu-north-1"
USER, PASSWORD = "norce", "it-order-password"
ERP_USER, ERP_PASSWORD = "erp", "it-erp-password"


@dataclass(frozen=True)
class OrderQueues:
    orders: str
    orders_dlq: str
    answers: str


@pytest.fixture
def order_aws(state_table: Any, quarantine_bucket: str, monkeypatch: pytest.MonkeyPatch) -> OrderQueues:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name="norcekit/order-receiver", SecretString=json.dumps({"username": USER, "password": PASSWORD})
    )["ARN"]
    erp_arn = secrets.create_secret(
        Name="norcekit/order-answers",
        SecretString=json.dumps([{"username": ERP_USER, "password": ERP_PASSWORD}]),
    )["ARN"]
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    orders = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    answers = sqs.create_queue(QueueName="order-answers")["QueueUrl"]
    for name, value in {
        "ORDER_RECEIVER_SECRET_ARN": arn,
        "ORDER_ANSWER_SECRET_ARN": erp_arn,
        "ORDER_QUEUE_URL": orders,
        "ORDER_ANSWER_QUEUE_URL": answers,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    return OrderQueues(orders=orders, orders_dlq=dlq, answers=answers)


def api_event(path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    raw = body if isinstance(body, str) else json.dumps(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", **headers},
        "multiValueHeaders": {k: [v] for k, v in {"Content-Type": "application/json", **headers}.items()},
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "requestId": "it-1", "stage": "v1"},
        "body": raw,
        "isBase64Encoded": False,
    }


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )


def as_sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-north-1:123456789012:orders",
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }
