"""The Emulator: state, job worker, token store and the admin operations (also exposed over HTTP)."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .catalog import KINDS, Catalog, is_active_status, request_key_errors
from .config import EmulatorConfig, normalise_faults
from .contracts import CONNECT_IMPORTS, HeaderError, ParsedHeader, parse_header
from .events import EventBus
from .faults import FaultInjector
from .jobs import (
    FAILED,
    FINISHED,
    INITIALIZED,
    RESTARTABLE,
    SUCCEEDED,
    VALIDATION_FAILED,
    Job,
    job_response,
)
from .query import run_query

MAX_RECORDED_REQUESTS = 50_000


class ApiError(Exception):
    """An HTTP error answer produced by emulator logic."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


class Emulator:
    """A Norce Commerce fake on loopback. ``start()`` serves in background threads; ``stop()`` ends them."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        base = config or EmulatorConfig()
        self._base_config = base.replace(**overrides) if overrides else base
        self._base_config = self._base_config.replace(faults=self._base_config.faults)
        self.config = self._base_config
        self.lock = threading.RLock()
        self._clock_offset = timedelta()
        self.catalog = Catalog(self.now, self.config.norce_client_id, self.config.application_id)
        self.events = EventBus(lambda: self.config, self.now)
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

    # ================================================================ lifecycle
    def start(self) -> Emulator:
        from .server import make_server  # noqa: PLC0415 - server imports this module

        if self._server is not None:
            return self
        self._stopping = False
        self._server = make_server(self, self.config.host, self.config.port)
        self._server_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="norce-emulator-http",
            daemon=True,
        )
        self._server_thread.start()
        self._worker = threading.Thread(target=self._job_worker, name="norce-emulator-jobs", daemon=True)
        self._worker.start()
        self.events.start()
        return self

    def stop(self) -> None:
        with self._job_cond:
            self._stopping = True
            self._job_cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._server_thread is not None:
            self._server_thread.join(timeout=5)
        if self._worker is not None:
            self._worker.join(timeout=5)
        self.events.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

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

    # ================================================================ identity
    def _reset_bucket(self) -> None:
        self._bucket_tokens = float(self.config.token_burst)
        self._bucket_at = time.monotonic()

    def _take_rate_token(self) -> float | None:
        """Token bucket for the token endpoint; returns seconds to wait when empty."""
        per_minute = self.config.token_rate_limit_per_minute
        if per_minute is None:
            return None
        rate = per_minute / 60.0
        now = time.monotonic()
        self._bucket_tokens = min(
            float(self.config.token_burst), self._bucket_tokens + (now - self._bucket_at) * rate
        )
        self._bucket_at = now
        if self._bucket_tokens >= 1.0:
            self._bucket_tokens -= 1.0
            return None
        return (1.0 - self._bucket_tokens) / rate if rate > 0 else 60.0

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        cfg = self.config
        with self.lock:
            self._token_requests += 1
            wait = self._take_rate_token()
            if wait is not None:
                raise ApiError(
                    429, {"error": "too_many_requests"}, {"Retry-After": str(max(1, math.ceil(wait)))}
                )
            if form.get("grant_type") != "client_credentials":
                raise ApiError(400, {"error": "unsupported_grant_type"})
            if cfg.client_id is not None and (
                form.get("client_id") != cfg.client_id or form.get("client_secret") != cfg.client_secret
            ):
                raise ApiError(400, {"error": "invalid_client"})
            if cfg.require_scope and form.get("scope") not in cfg.allowed_scopes:
                raise ApiError(400, {"error": "invalid_scope"})
            token = secrets.token_urlsafe(32)
            self._tokens[token] = self.now() + timedelta(seconds=cfg.token_ttl_seconds)
            self._tokens_issued += 1
            return {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": cfg.token_ttl_seconds,
                "scope": form.get("scope"),
            }

    def check_bearer(self, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(
                401,
                {"error": "unauthorized", "message": "Missing bearer token"},
                {"WWW-Authenticate": "Bearer"},
            )
        token = authorization[len("Bearer ") :].strip()
        with self.lock:
            expires = self._tokens.get(token)
            if expires is None or expires <= self.now():
                raise ApiError(
                    401,
                    {"error": "invalid_token", "message": "Token is unknown or expired"},
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )

    @property
    def token_request_count(self) -> int:
        """Every POST to the token endpoint, including rejected and rate-limited ones."""
        with self.lock:
            return self._token_requests

    @property
    def tokens_issued(self) -> int:
        with self.lock:
            return self._tokens_issued

    def issued_tokens(self) -> list[str]:
        """The access token values handed out (tests check that none of them reaches a log line)."""
        with self.lock:
            return list(self._tokens)

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

    def _create_job(
        self, kind: str, path: str, header: ParsedHeader, items: list[Any], restart_of: int | None = None
    ) -> Job:
        with self._job_cond:
            job_id = self._next_job_id
            self._next_job_id += 1
            now = self.now()
            job = Job(
                id=job_id,
                kind=kind,
                path=path,
                header=header,
                items=items,
                created=now,
                last_updated=now,
                totals=len(items),
                restart_of=restart_of,
                storage_name=header.storage_name or f"imports/{now:%Y/%m/%d}/{job_id}.json",
            )
            self._jobs[job_id] = job
            self._job_queue.append(job_id)
            self._job_cond.notify_all()
            return job

    def _job_worker(self) -> None:
        # One worker: jobs of a tenant run one at a time, later ones stay Queued (Norce throttling).
        while True:
            with self._job_cond:
                while not self._stopping and (not self._job_queue or not self.config.job_processing):
                    self._job_cond.wait(0.5)
                if self._stopping:
                    return
                job = self._jobs.get(self._job_queue.popleft())
            if job is None:
                continue
            try:
                self._run_job(job)
            except Exception as exc:  # keep the worker alive; surface the bug in the job log
                with self.lock:
                    if not job.finished:
                        job.add_log(3, f"Emulator error: {type(exc).__name__}: {exc}", self.now())
                        self._finish(job, FAILED)

    def _sleep_step(self, job: Job) -> bool:
        """Wait one status step; False when the job was forced/reset meanwhile."""
        deadline = time.monotonic() + self.config.job_delay
        with self._job_cond:
            while True:
                if self._stopping or job.forced or self._jobs.get(job.id) is not job:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0 and self.config.job_processing:
                    return True
                self._job_cond.wait(max(remaining, 0.05))

    def _run_job(self, job: Job) -> None:
        if not self._sleep_step(job):
            return
        with self.lock:
            if job.forced:
                return
            job.status = INITIALIZED
            job.start = job.last_updated = self.now()
            job.add_log(1, "Starting import.", job.start)
        if not self._sleep_step(job):
            return
        with self.lock:
            if job.forced or self._jobs.get(job.id) is not job:
                return
            now = self.now()
            if self.config.job_failure_rate and self.faults.random() < self.config.job_failure_rate:
                job.add_log(3, "Import failed: an unexpected error occurred (injected by emulator).", now)
                self._finish(job, FAILED)
                return
            errors = [(request_key_errors(job.kind, it), it) for it in job.items]
            if job.items and all(errs for errs, _ in errors):
                for errs, item in errors:
                    job.add_log(3, "; ".join(errs), now, item)
                job.fails = len(job.items)
                self._finish(job, VALIDATION_FAILED)
                return
            result = self.catalog.apply_import(
                job.kind,
                job.header,
                job.items,
                absent_means_all=self.config.fields_absent_means_all,
                auto_create_price_lists=self.config.auto_create_price_lists,
            )
            for severity, message, item in result.log:
                job.add_log(severity, message, now, item)
            job.inserts, job.updates, job.fails = result.inserts, result.updates, result.fails
            self.events.publish(self.catalog.drain_events())  # change notifications before JobCompletedEvent
            self._finish(job, SUCCEEDED)

    def _finish(self, job: Job, status: int) -> None:
        now = self.now()
        job.status = status
        job.start = job.start or now
        job.stop = job.last_updated = now
        job.add_log(1, "Import finished.", now)
        self.events.publish(
            [
                (
                    "JobCompletedEvent",
                    {
                        "ClientId": self.config.norce_client_id,
                        "ApplicationId": self.config.application_id,
                        "JobId": job.id,
                        "StatusId": status,
                    },
                )
            ]
        )
        self._job_cond.notify_all()

    def _job_or_404(self, job_id: int) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, {"StatusCode": "Failed", "Description": f"Job {job_id} not found"})
        return job

    def get_job_dto(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            return self._job_or_404(job_id).dto(
                self.now(), insert_singular=self.config.job_emit_insert_singular
            )

    def get_job_log(self, job_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._job_or_404(job_id).log)

    def restart_job(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            job = self._job_or_404(job_id)
            if job.status not in RESTARTABLE:
                raise ApiError(
                    400,
                    {
                        "StatusCode": "Failed",
                        "Description": f"Job {job_id} has status {job.status}; only finished jobs "
                        "(2 Succeeded, 3 Failed) can be restarted",
                    },
                )
            if self.now() - job.created > timedelta(days=self.config.job_restart_window_days):
                raise ApiError(
                    400,
                    {
                        "StatusCode": "Failed",
                        "Description": f"Job {job_id} is older than "
                        f"{self.config.job_restart_window_days} days; payload expired",
                    },
                )
            new = self._create_job(job.kind, job.path, job.header, job.items, restart_of=job.id)
            return job_response(new.id, len(job.items))

    # ---------------------------------------------------------------- admin: jobs
    def jobs(self) -> list[dict[str, Any]]:
        with self.lock:
            now = self.now()
            return [{k: v for k, v in j.admin_view(now).items() if k != "Log"} for j in self._jobs.values()]

    def job(self, job_id: int) -> dict[str, Any]:
        with self.lock:
            return self._job_or_404(job_id).admin_view(self.now())

    def job_items(self, job_id: int) -> list[Any]:
        """The item array Connect received for a job, as parsed (what Norce stores for a restart)."""
        with self.lock:
            return list(self._job_or_404(job_id).items)

    def force_job_status(self, job_id: int, status: int) -> dict[str, Any]:
        """Force a status (e.g. keep a job Initialized forever). Finished statuses emit JobCompletedEvent."""
        if status not in (1, 2, 3, 4, 5, 6):
            raise ValueError("status must be 1..6")
        with self.lock:
            job = self._job_or_404(job_id)
            job.forced = True
            if status in FINISHED:
                self._finish(job, status)
            else:
                job.status = status
                job.stop = None
                if status == INITIALIZED and job.start is None:
                    job.start = self.now()
                job.last_updated = self.now()
            self._job_cond.notify_all()
            return job.admin_view(self.now())

    def set_job_processing(self, enabled: bool) -> None:
        """Pause (False) or resume the job worker; paused jobs stay Queued."""
        self.configure(job_processing=enabled)

    def wait_for_job(self, job_id: int | str, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the job is finished; returns the admin view."""
        deadline = time.monotonic() + timeout
        with self._job_cond:
            while True:
                job = self._job_or_404(int(job_id))
                if job.finished:
                    return job.admin_view(self.now())
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"job {job_id} still has status {job.status}")
                self._job_cond.wait(min(remaining, 0.05))

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


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS)
