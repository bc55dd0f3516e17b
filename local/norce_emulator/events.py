"""Norce Event: webhook subscriptions and a background sender with Norce's retry schedule."""

from __future__ import annotations

import heapq
import itertools
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson

from .config import NORCE_RETRY_SCHEDULE_SECONDS, EmulatorConfig

EVENT_TYPES = (
    "CustomerChangedNotification",
    "CompanyChangedNotification",
    "InvoiceCaptureCompletedEvent",
    "OrderCancelledEvent",
    "OrderConfirmedEvent",
    "OrderDeliveredEvent",
    "OrderPartlyDeliveredEvent",
    "OrderReadyForPickupEvent",
    "OrderPaymentReceivedEvent",
    "OrderReceivedEvent",
    "SubscriptionFailedEvent",
    "SkuChangedNotification",
    "SkuPriceChangedNotification",
    "SkuOnHandBreakPointNotification",
    "TranslationRequestedNotification",
    "SupplierSkuChangedNotification",
    "SupplierSkuOnHandChangedNotification",
    "SupplierSkuPriceChangedNotification",
    "JobCompletedEvent",
    # Accepted by Norce's event compatibility kit (payloads unpublished).
    "ExportDeliveredEvent",
    "ExternalOrderReceivedEvent",
    "SkuStockChangedNotification",
)


class EventBus:
    def __init__(self, config: Callable[[], EmulatorConfig], now: Callable[[], datetime]) -> None:
        self._config = config
        self._now = now
        self._cond = threading.Condition()
        self._seq = itertools.count(1)
        self._generation = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._heap: list[tuple[float, int, int, int]] = []  # (due monotonic, seq, delivery id, generation)
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[int, dict[str, Any]] = {}
        self.emitted: list[dict[str, Any]] = []
        self._in_flight = 0

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._stopping = False
        for i in range(max(1, self._config().event_sender_threads)):
            t = threading.Thread(target=self._worker, name=f"norce-emulator-events-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()

    def reset(self) -> None:
        with self._cond:
            self._generation += 1  # in-flight deliveries of the old generation are discarded
            self._heap.clear()
            self.subscriptions.clear()
            self.deliveries.clear()
            self.emitted.clear()
            self._cond.notify_all()

    # ---------------------------------------------------------------- subscriptions
    def subscribe(
        self, event_type: str, url: str, headers: dict[str, str] | None = None, enabled: bool = True
    ) -> dict[str, Any]:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must be http(s)")
        sub = {"EventType": event_type, "Url": url, "Headers": dict(headers or {}), "Enabled": enabled}
        with self._cond:
            self.subscriptions[event_type] = sub
        return dict(sub)

    def unsubscribe(self, event_type: str | None = None) -> int:
        with self._cond:
            if event_type is None:
                n = len(self.subscriptions)
                self.subscriptions.clear()
                return n
            return 1 if self.subscriptions.pop(event_type, None) else 0

    # ---------------------------------------------------------------- publishing
    def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if not events:
            return
        with self._cond:
            for event_type, payload in events:
                sub = self.subscriptions.get(event_type)
                subscribed = bool(sub and sub["Enabled"])  # Norce tracks nothing while an event is OFF
                self.emitted.append(
                    {"EventType": event_type, "Payload": payload, "At": self._now(), "Subscribed": subscribed}
                )
                if not subscribed or sub is None:
                    continue
                did = next(self._seq)
                self.deliveries[did] = {
                    "Id": did,
                    "EventType": event_type,
                    "Url": sub["Url"],
                    "Headers": dict(sub["Headers"]),
                    "Payload": payload,
                    "State": "pending",
                    "Attempts": [],
                    "CreatedAt": self._now(),
                }
                heapq.heappush(self._heap, (time.monotonic(), did, did, self._generation))
            self._cond.notify_all()

    def pending_count(self) -> int:
        with self._cond:
            return sum(1 for d in self.deliveries.values() if d["State"] == "pending")

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def snapshot(self) -> list[dict[str, Any]]:
        with self._cond:
            return [{**d, "Attempts": list(d["Attempts"])} for d in self.deliveries.values()]

    # ---------------------------------------------------------------- sender
    _ssl: ssl.SSLContext | None = None
    _ssl_lock = threading.Lock()

    @classmethod
    def _ssl_context(cls) -> ssl.SSLContext:
        # One shared context: building one per httpx.Client (certifi bundle) costs ~0.1 s each.
        with cls._ssl_lock:
            if cls._ssl is None:
                cls._ssl = ssl.create_default_context()
            return cls._ssl

    def _worker(self) -> None:
        client = httpx.Client(follow_redirects=True, verify=self._ssl_context())  # Norce follows redirects
        try:
            while True:
                with self._cond:
                    while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                        self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                    if self._stopping:
                        return
                    _, _, did, gen = heapq.heappop(self._heap)
                    delivery = self.deliveries.get(did)
                    if gen != self._generation or delivery is None:
                        continue
                    url, headers, payload = delivery["Url"], delivery["Headers"], delivery["Payload"]
                    timeout = self._config().event_timeout_seconds
                status, error = self._post(client, url, headers, payload, timeout)
                self._record(did, gen, status, error)
        finally:
            client.close()

    @staticmethod
    def _post(
        client: httpx.Client, url: str, headers: dict[str, str], payload: dict[str, Any], timeout: float
    ) -> tuple[int | None, str | None]:
        try:
            resp = client.post(
                url,
                content=orjson.dumps(payload),
                headers={"Content-Type": "application/json", **headers},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return resp.status_code, None

    def _record(self, did: int, gen: int, status: int | None, error: str | None) -> None:
        with self._cond:
            delivery = self.deliveries.get(did)
            if gen != self._generation or delivery is None:
                return
            delivery["Attempts"].append({"At": self._now(), "Status": status, "Error": error})
            if status is not None and 200 <= status < 300:
                delivery["State"] = "delivered"
            else:
                retry = len(delivery["Attempts"]) - 1
                if retry < len(NORCE_RETRY_SCHEDULE_SECONDS):
                    delay = NORCE_RETRY_SCHEDULE_SECONDS[retry] * self._config().event_retry_scale
                    heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), did, gen))
                else:
                    delivery["State"] = "dead"  # Norce never resends a dead event
            self._cond.notify_all()
