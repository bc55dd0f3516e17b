"""The admin API over HTTP (``/_admin/...``): the same operations as :class:`EmulatorCore`'s methods."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

from .errors import ApiError
from .responses import Response, json_response

if TYPE_CHECKING:
    from .core import EmulatorCore


def admin_route(emu: EmulatorCore, method: str, route: str, params: dict[str, str], body: bytes) -> Response:
    """One ``/_admin/`` call (no auth: test plumbing); each route has a Python method on the emulator."""
    data: Any = orjson.loads(body) if body.strip() else {}
    parts = route.split("/")
    try:
        if route == "reset" and method == "POST":
            emu.reset(**(data or {}))
            return json_response(200, {"ok": True})
        if route == "config":
            if method == "POST":
                emu.configure(**data)
            return json_response(200, dataclasses.asdict(emu.config))
        if route == "seed" and method == "POST":
            emit = bool(data.pop("emit_events", False))
            return json_response(200, emu.seed(data, emit_events=emit))
        if route == "catalog" and method == "GET":
            if "kind" in params:
                return json_response(200, emu.catalog_rows(params["kind"]))
            return json_response(200, emu.catalog_snapshot())
        if route == "jobs" and method == "GET":
            return json_response(200, emu.jobs())
        if parts[0] == "jobs" and len(parts) >= 2:
            job_id = int(parts[1])
            if len(parts) == 2 and method == "GET":
                return json_response(200, emu.job(job_id))
            if len(parts) == 3 and parts[2] == "status" and method == "POST":
                status = data.get("StatusId", data.get("status"))
                return json_response(200, emu.force_job_status(job_id, int(status)))
        if route == "requests" and method == "GET":
            return json_response(200, emu.requests(params.get("group")))
        if route == "tokens" and method == "GET":
            return json_response(
                200, {"TokenRequests": emu.token_request_count, "TokensIssued": emu.tokens_issued}
            )
        if route == "faults" and method == "POST":
            emu.set_faults(data.get("faults"), data.get("seed"), data.get("job_failure_rate"))
            for spec in data.get("fail_next", []):
                emu.fail_next(
                    spec["group"],
                    int(spec.get("n", 1)),
                    spec.get("status", 503),
                    int(spec.get("retry_after", 1)),
                )
            return json_response(200, {"ok": True})
        if route == "subscriptions":
            if method == "GET":
                return json_response(200, emu.subscriptions())
            if method == "POST":
                return json_response(200, emu.subscribe(data["EventType"], data["Url"], data.get("Headers")))
            if method == "DELETE":
                return json_response(200, {"removed": emu.unsubscribe(params.get("event_type"))})
        if route == "deliveries" and method == "GET":
            return json_response(200, emu.deliveries(params.get("event_type")))
        if route == "events" and method == "GET":
            return json_response(200, emu.emitted_events(params.get("event_type")))
        if route == "mutate" and method == "POST":
            row = emu.mutate(data["kind"], data["key"], data.get("set"), bool(data.get("delete", False)))
            return json_response(200, {"row": row})
        if route == "checkout" and method == "POST":
            return json_response(200, emu.orders.checkout(data["order"], sends=int(data.get("sends", 1))))
        if route == "orders" and method == "GET":
            return json_response(200, emu.orders.snapshot())
        if route == "clock" and method == "POST":
            now = emu.set_clock(
                offset_seconds=data.get("offset_seconds"), advance_seconds=data.get("advance_seconds")
            )
            return json_response(200, {"now": now})
    except (KeyError, ValueError, TypeError) as exc:
        return json_response(400, {"error": f"{type(exc).__name__}: {exc}"})
    raise ApiError(404, {"error": "unknown admin route", "route": route, "method": method})
