"""The emulator's core: configuration, Connect intake, Query, and the admin operations (also
exposed over HTTP). Tokens live in ``identity``, jobs in ``job_worker``."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .body_types import BodyTypeError, check_body
from .catalog import KINDS, Catalog, is_active_status, request_key_errors
from .config import EmulatorConfig, normalise_faults
from .contracts import CONNECT_IMPORTS, HeaderError, parse_header
from .errors import ApiError
from .events import EventBus
from .faults import FaultInjector
from .identity import TokenIssuer
from .job_worker import JobWorker
from .jobs import Job, job_response
from .orders import OrderBook
from .query import run_query
from .responses import dumps

__all__ = ["ApiError", "EmulatorCore", "dumps"]

MAX_RECORDED_REQUESTS = 50_000


class EmulatorCore(TokenIssuer, JobWorker):
    """The Norce Commerce fake's state and operations; :class:`~norce_emulator.emulator.Emulator` serves
    them on loopback (kept apart so that the HTTP server can depend on this without a loop)."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        base = config or EmulatorConfig()
        self._base_config = base.replace(**overrides) if overrides else base
        self._base_config = self._base_config.replace(faults=self._base_config.faults)
        self.config = self._base_config
        self.lock = threading.RLock()
        self._clock_offset = timedelta()
        self.catalog = Catalog(self.now, self.config.norce_client_id, self.config.application_id)
        self.events = EventBus(lambda: self.config, self.now)
        self.orders = OrderBook(lambda: self.config)
        self.faults = FaultInjector(self.config.seed)
        self._jobs: dict[int, Job] = {}
        self._job_queue: deque[int] = deque()
        self._job_cond = threading.Condition(self.lock)
        self._next_job_id = 1000
        self._tokens: dict[str, datetime] = {}
        self._token_requests = 0
        self._tokens_issued = 0
        self._bucket_tokens = 0.0
        self._bucket_at = time.monotonic()
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED_REQUESTS)
        self._request_seq = 0
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._reset_bucket()

    # ================================================================ config, reset, clock
    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change settings of a running emulator (host/port cannot change)."""
        if {"host", "port"} & set(changes):
            raise ValueError("host/port cannot change while running")
        with self.lock:
            self.config = self.config.replace(**changes)
            self.catalog.norce_client_id = self.config.norce_client_id
            self.catalog.application_id = self.config.application_id
            if "seed" in changes:
                self.faults.reseed(self.config.seed)
            if "token_rate_limit_per_minute" in changes or "token_burst" in changes:
                self._reset_bucket()
            self._job_cond.notify_all()
            return self.config

    def reset(self, **overrides: Any) -> None:
        """Forget all state (catalog, jobs, tokens, requests, subscriptions, faults, clock).

        Config goes back to the constructor's, plus ``overrides``.
        """
        with self.lock:
            host_port = {"host": self.config.host, "port": self.config.port}
            self.config = self._base_config.replace(**host_port, **overrides)
            self._clock_offset = timedelta()
            self.catalog = Catalog(self.now, self.config.norce_client_id, self.config.application_id)
            self._jobs.clear()
            self._job_queue.clear()
            self._tokens.clear()
            self._token_requests = 0
            self._tokens_issued = 0
            self._requests.clear()
            self._reset_bucket()
            self.faults.clear()
            self.faults.reseed(self.config.seed)
            self._job_cond.notify_all()
        self.events.reset()
        self.orders.reset()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._clock_offset

    def set_clock(
        self, *, offset_seconds: float | None = None, advance_seconds: float | None = None
    ) -> datetime:
        """Shift "now" (token expiry, restart window, timestamps); job delays stay real time."""
        with self.lock:
            if offset_seconds is not None:
                self._clock_offset = timedelta(seconds=offset_seconds)
            if advance_seconds is not None:
                self._clock_offset += timedelta(seconds=advance_seconds)
            return self.now()

    def advance_clock(self, seconds: float) -> datetime:
        return self.set_clock(advance_seconds=seconds)

    # ================================================================ connect
    def accept_import(self, rel_path: str, header_value: str | None, items: Any) -> dict[str, Any]:
        spec = CONNECT_IMPORTS[rel_path]
        cfg = self.config
        try:
            header = parse_header(
                header_value, spec, strict=cfg.strict_headers, require_full_file=cfg.require_full_file
            )
        except HeaderError as exc:
            raise ApiError(400, {"StatusCode": "Failed", "Description": str(exc)}) from None
        if not isinstance(items, list):
            raise ApiError(
                400, {"StatusCode": "Failed", "Description": "Body must be a JSON array of entities"}
            )
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ApiError(
                    400, {"StatusCode": "Failed", "Description": f"Body item {index} is not a JSON object"}
                )
        if cfg.check_body_types:
            try:
                items = check_body(spec.kind, items)
            except BodyTypeError as exc:  # Json.NET could not deserialize the body: Norce answers 400
                raise ApiError(400, {"StatusCode": "Failed", "Description": str(exc)}) from None
        if cfg.reject_items_missing_keys:
            problems = [
                f"item {i}: {e}" for i, it in enumerate(items) for e in request_key_errors(spec.kind, it)
            ]
            if problems:
                raise ApiError(
                    400,
                    {
                        "StatusCode": "Failed",
                        "Description": "Validation failed",
                        "ValidationSummary": {
                            "NrOfItemsInTotal": len(items),
                            "NrOfValidationFailures": len(problems),
                            "Messages": problems[:100],
                        },
                    },
                )
        job = self._create_job(spec.kind, rel_path, header, items)
        return job_response(job.id, len(items))

    # ================================================================ query
    def query(self, path: str, params: list[tuple[str, str]], base_url: str) -> dict[str, Any]:
        with self.lock:
            return run_query(
                self.catalog,
                path,
                params,
                base_url=base_url,
                page_size=self.config.query_page_size,
                max_top=self.config.query_max_top,
                supports_in=self.config.query_supports_in,
            )

    # ================================================================ admin: catalog
    def seed(
        self,
        data: dict[str, list[dict[str, Any]]] | None = None,
        *,
        emit_events: bool = False,
        **kinds: list[dict[str, Any]],
    ) -> dict[str, int]:
        """Insert rows directly: ``seed(skus=[{"PartNo": "A", "Status": 1}], price_lists=[{"Code": "B2C"}])``.

        ``products`` take the Connect Product shape (Variants/Skus); other kinds are flat rows keyed as in
        ``catalog.KEY_FIELDS``. Seeding is silent unless ``emit_events``.
        """
        merged = {**(data or {}), **kinds}
        counts: dict[str, int] = {}
        with self.lock:
            for kind in [k for k in KINDS if k in merged]:  # price lists before prices etc.
                counts[kind] = self.catalog.seed(kind, merged[kind])
            unknown = set(merged) - set(KINDS)
            if unknown:
                raise ValueError(f"unknown kinds {sorted(unknown)}")
            events = self.catalog.drain_events()
            if emit_events:
                self.events.publish(events)
        return counts

    def mutate(
        self,
        kind: str,
        key: dict[str, Any],
        set: dict[str, Any] | None = None,
        delete: bool = False,
    ) -> dict[str, Any] | None:
        """Change one catalog row as if edited in Norce Admin, emitting the notifications."""
        with self.lock:
            row = self.catalog.mutate(kind, key, set_values=set, delete=delete)
            self.events.publish(self.catalog.drain_events())
            return dict(row) if row is not None else None

    def catalog_rows(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return self.catalog.dump(kind)

    def catalog_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return {k: self.catalog.dump(k) for k in KINDS}

    def sku(self, part_no: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.catalog.tables["skus"].get(part_no)
            return None if row is None else {**row, "IsActive": is_active_status(row.get("Status"))}

    # ================================================================ admin: requests, faults, events
    def record_request(self, record: dict[str, Any]) -> None:
        with self.lock:
            self._request_seq += 1
            record["Seq"] = self._request_seq
            self._requests.append(record)

    def requests(self, group: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self._requests if group is None or r["Group"] == group]

    def set_faults(
        self,
        faults: dict[str, Any] | None = None,
        seed: int | None = None,
        job_failure_rate: float | None = None,
    ) -> None:
        """Replace random faults, e.g. ``set_faults({"query": {"rate_429": 0.1}}, seed=7)``."""
        changes: dict[str, Any] = {"faults": normalise_faults(faults)}
        if seed is not None:
            changes["seed"] = seed
        if job_failure_rate is not None:
            changes["job_failure_rate"] = job_failure_rate
        self.configure(**changes)

    def fail_next(self, group: str, n: int = 1, status: int | str = 503, retry_after: int = 1) -> None:
        """Answer the next ``n`` requests of ``group`` with ``status`` (or 'drop' / 'drop_after')."""
        self.faults.fail_next(group, n, status, retry_after)

    def subscribe(self, event_type: str, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return self.events.subscribe(event_type, url, headers)

    def unsubscribe(self, event_type: str | None = None) -> int:
        return self.events.unsubscribe(event_type)

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.events._cond:
            return [dict(s) for s in self.events.subscriptions.values()]

    def deliveries(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [d for d in self.events.snapshot() if event_type is None or d["EventType"] == event_type]

    def emitted_events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Every event the catalog/jobs raised, subscribed or not (for tests without a receiver)."""
        with self.events._cond:
            return [
                dict(e) for e in self.events.emitted if event_type is None or e["EventType"] == event_type
            ]

    def wait_for_deliveries(
        self,
        count: int,
        *,
        state: str | Iterable[str] = ("delivered", "dead"),
        event_type: str | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        states = {state} if isinstance(state, str) else set(state)

        def done() -> bool:
            return (
                sum(
                    1
                    for d in self.events.deliveries.values()
                    if d["State"] in states and (event_type is None or d["EventType"] == event_type)
                )
                >= count
            )

        if not self.events.wait(done, timeout):
            raise TimeoutError(f"fewer than {count} deliveries reached {sorted(states)}: {self.deliveries()}")
        return self.deliveries(event_type)
