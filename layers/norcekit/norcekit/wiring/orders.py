"""The order receiver (Secrets Manager, state table, SQS, quarantine) and the order delivery
consumer (targets) wired from settings.

Like the webhook receiver's wiring, nothing here imports httpx or the Norce clients at import time
(targets import it on first use): Norce waits synchronously for the OrderResponse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from norcekit.events.claims import S3ClaimStore
from norcekit.events.queue import SqsEventQueue
from norcekit.events.targets import TargetAwsClients, build_targets
from norcekit.orders.answers import AnswerForwarder
from norcekit.orders.auth import SecretsManagerCredentials
from norcekit.orders.config import OrdersConfig
from norcekit.orders.delivery import OrderDelivery
from norcekit.orders.intake import AnswerIntake
from norcekit.orders.receiver import OrderReceiver
from norcekit.orders.sweep import OrderSweeper
from norcekit.state.orders import DynamoOrderStore

if TYPE_CHECKING:
    from norcekit.norce.factory import NorceClients
    from norcekit.observability import MetricsSink
    from norcekit.quarantine import QuarantineStore
    from norcekit.settings import Settings
    from norcekit.state.orders import OrderStore
    from norcekit.state.table import StateTable
    from norcekit.wiring.aws import AwsClients

#: Where order bodies too large for their item are kept (the stack keeps them 400 days; orders: 365).
ORDER_BODY_PREFIX = "orders/bodies/"


def build_order_store(settings: Settings, table: StateTable, *, aws: AwsClients) -> DynamoOrderStore:
    """The state table's orders, with large bodies in the data bucket (when the stack has one)."""
    bucket = settings.quarantine_bucket
    # Most orders fit their item: the S3 client (a costly one to create) waits for a large one.
    bodies = S3ClaimStore(bucket, ORDER_BODY_PREFIX, client=aws.s3_on_first_use()) if bucket else None
    return DynamoOrderStore(table, bodies=bodies)


def build_order_receiver(
    settings: Settings,
    *,
    aws: AwsClients,
    store: OrderStore,
    quarantine: QuarantineStore,
    metrics: MetricsSink | None = None,
) -> OrderReceiver:
    settings.require("order_receiver_secret_arn", "order_queue_url")
    assert settings.order_receiver_secret_arn and settings.order_queue_url
    return OrderReceiver(
        credentials=SecretsManagerCredentials(
            settings.order_receiver_secret_arn, provider=aws.secrets_provider()
        ),
        store=store,
        queue=SqsEventQueue(settings.order_queue_url, client=aws.sqs()),
        quarantine=quarantine,
        max_body_bytes=settings.order_max_body_bytes,
        metrics=metrics,
    )


def build_order_sweeper(
    settings: Settings, *, aws: AwsClients, store: OrderStore, metrics: MetricsSink | None = None
) -> OrderSweeper:
    """The receiver's queue and store: a swept order is queued exactly as the receiver queues it."""
    assert settings.order_queue_url
    return OrderSweeper(store, SqsEventQueue(settings.order_queue_url, client=aws.sqs()), metrics=metrics)


def build_order_delivery(
    config: OrdersConfig, *, store: OrderStore, aws: TargetAwsClients, metrics: MetricsSink | None = None
) -> OrderDelivery:
    """The configured targets (the events target builder) around the order store."""
    return OrderDelivery(
        config, store=store, targets=build_targets(config.as_events_config(), aws), metrics=metrics
    )


def build_answer_intake(settings: Settings, *, aws: AwsClients) -> AnswerIntake:
    settings.require("order_answer_secret_arn", "order_answer_queue_url")
    assert settings.order_answer_secret_arn and settings.order_answer_queue_url
    return AnswerIntake(
        credentials=SecretsManagerCredentials(
            settings.order_answer_secret_arn, provider=aws.secrets_provider()
        ),
        queue=SqsEventQueue(settings.order_answer_queue_url, client=aws.sqs()),
    )


def build_answer_forwarder(
    settings: Settings, *, clients: NorceClients, store: OrderStore, metrics: MetricsSink | None = None
) -> AnswerForwarder:
    """The Connect order client shares the process's Norce pool and token."""
    from norcekit.norce.orders import OrderConnectClient  # noqa: PLC0415 - httpx: not on the receiver's path

    assert settings.norce_application_id is not None  # checked when the Norce clients were built
    connect = OrderConnectClient(
        clients.http,
        clients.tokens,
        connect_base_url=settings.connect_base_url,
        application_id=settings.norce_application_id,
    )
    return AnswerForwarder(store=store, send=connect.send, metrics=metrics)


__all__ = ["build_answer_forwarder", "build_answer_intake", "build_order_delivery", "build_order_receiver"]
