"""Orders stored but never queued for delivery (the queue refused them): queued again, unattended.

The order receiver answers Norce OK once an order is durable, even when the delivery queue then
refuses it (``OrdersNotQueued``): Norce does not post that order again, so without this sweep it
would wait for an operator's ``norcekit orders redeliver``. The job monitor runs
:meth:`OrderSweeper.sweep` on its schedule (every minute): orders received between ``lookback``
and ``settle`` ago with no queue message are queued (the same message the receiver sends, so the
delivery consumer cannot tell them apart, and its per-target records keep a delivery single).
``settle`` leaves a receiver that is between storing and queueing an order to finish first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from norcekit.events.queue import EventQueue
from norcekit.observability import MetricName, MetricsSink, NoMetrics
from norcekit.orders.receiver import queue_for_delivery
from norcekit.state.orders import OrderStore

logger = Logger(service="norcekit", child=True)

#: An order younger than this may still be queued by the receiver that stored it.
DEFAULT_SETTLE = timedelta(minutes=2)
#: How far back a sweep looks; older unqueued orders are left to ``orders redeliver`` (and alarmed).
DEFAULT_LOOKBACK = timedelta(days=1)
#: Orders queued per sweep at most (the next sweep takes the rest).
DEFAULT_BATCH = 100


@dataclass
class SweepSummary:
    queued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"orders_requeued": self.queued, "orders_requeue_failed": self.failed}


class OrderSweeper:
    def __init__(
        self,
        store: OrderStore,
        queue: EventQueue,
        *,
        metrics: MetricsSink | None = None,
        clock: Callable[[], datetime] | None = None,
        settle: timedelta = DEFAULT_SETTLE,
        lookback: timedelta = DEFAULT_LOOKBACK,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.store = store
        self.queue = queue
        self.metrics: MetricsSink = metrics or NoMetrics()
        self._now = clock or (lambda: datetime.now(UTC))
        self.settle = settle
        self.lookback = lookback
        self.batch = batch

    def sweep(self) -> SweepSummary:
        """Queue every settled, unqueued order of the lookback window (at most ``batch``)."""
        now = self._now()
        summary = SweepSummary()
        for ref in self.store.unqueued(now - self.lookback, now - self.settle, limit=self.batch):
            try:
                queue_for_delivery(self.queue, self.store, ref)
            except Exception as exc:  # the queue is still down: the next sweep tries again
                summary.failed.append(ref)
                self.metrics.add_metric(name=MetricName.ORDERS_NOT_QUEUED.value, unit="Count", value=1)
                logger.error(
                    "stored order still not queued",
                    extra={"client_order_ref": ref, "error": type(exc).__name__},
                )
                continue
            summary.queued.append(ref)
            self.metrics.add_metric(name=MetricName.ORDERS_REQUEUED.value, unit="Count", value=1)
            logger.warning("stored order queued by the sweep", extra={"client_order_ref": ref})
        return summary
