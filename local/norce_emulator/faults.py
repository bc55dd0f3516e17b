"""Fault injection per endpoint group: random rates from a seedable RNG plus deterministic "next N"."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

from .config import GROUPS, FaultSpec

DROP = "drop"  # close the socket before doing anything
DROP_AFTER = "drop_after"  # process the request (e.g. create the job), then close without answering
FIVE_XX = (500, 502, 503, 504)


@dataclass(frozen=True)
class Fault:
    status: int | None  # HTTP status to answer with, or None when dropping
    drop: bool = False
    drop_after: bool = False
    retry_after: int | None = None
    latency_ms: float = 0.0


class FaultInjector:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._next: dict[str, deque[tuple[int | str, int]]] = {g: deque() for g in GROUPS}

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            for q in self._next.values():
                q.clear()

    def fail_next(self, group: str, n: int, status: int | str, retry_after: int = 1) -> None:
        if group not in GROUPS:
            raise ValueError(f"unknown group {group!r}; expected one of {GROUPS}")
        if not (isinstance(status, int) or status in (DROP, DROP_AFTER)):
            raise ValueError("status must be an HTTP status code, 'drop' or 'drop_after'")
        with self._lock:
            self._next[group].extend([(status, retry_after)] * n)

    def random(self) -> float:
        with self._lock:
            return self._rng.random()

    def decide(self, group: str, spec: FaultSpec | None) -> Fault | None:
        latency = spec.latency_ms if spec else 0.0
        with self._lock:
            if self._next[group]:
                status, retry_after = self._next[group].popleft()
                if status == DROP:
                    return Fault(None, drop=True, latency_ms=latency)
                if status == DROP_AFTER:
                    return Fault(None, drop_after=True, latency_ms=latency)
                assert isinstance(status, int)
                return Fault(
                    status, retry_after=retry_after if status in (429, 503) else None, latency_ms=latency
                )
            if spec is None:
                return None
            # One draw decides among drop / 429 / 5xx so the rates are independent slices of [0, 1).
            r = self._rng.random()
            if r < spec.drop_rate:
                return Fault(None, drop=True, latency_ms=latency)
            r -= spec.drop_rate
            if r < spec.rate_429:
                return Fault(429, retry_after=spec.retry_after_seconds, latency_ms=latency)
            r -= spec.rate_429
            if r < spec.rate_5xx:
                status = self._rng.choice(FIVE_XX)
                return Fault(
                    status,
                    retry_after=spec.retry_after_seconds if status == 503 else None,
                    latency_ms=latency,
                )
        return Fault(None, latency_ms=latency) if latency else None
