"""``norcekit jobs list|show|log|restart``.

JSON shapes:

* ``jobs list`` → array of *job summaries*: ``{"job_id": int, "entity": str (the import's name),
  "import": str, "kind": str (the Norce entity), "mode": "full"|"delta",
  "run_id": str|null, "status": int, "status_name": str, "submitted_at": iso, "finished_at": iso|null,
  "item_count": int, "counters": {"totals", "inserts", "updates", "fail"}|null, "restart_count": int,
  "restarted_from": int|null, "restarted_as": int|null, "superseded": bool, "stuck": bool}``
* ``jobs show ID`` → ``{"job": <the stored job record>|null, "live": <Norce Job/Get JobDto with
  "StatusName">|null, "live_error": str|null}``
* ``jobs log ID`` → array of ``{"severity": int, "severity_name": str, "message": str|null,
  "timestamp": iso|null, "imported_row": str|null}``
* ``jobs restart ID`` → ``{"job_id": int, "new_job_id": int, "attempt": int, "trigger": "manual"}``
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console

from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ago, duration, key_values, table, to_jsonable
from norcekit.cli.parsing import OPEN, parse_job_status, parse_since
from norcekit.deadline import Deadline
from norcekit.norce.http import NorceAuthError, NorceHTTPError, NorceUnavailable
from norcekit.norce.jobs import JobStatus

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.state.jobs import JobRecord

#: Norce calls of an operator command give up after this long.
CALL_TIMEOUT_S = 120.0


def job_summary(job: JobRecord) -> dict[str, Any]:
    summary: dict[str, Any] = to_jsonable(
        {
            "job_id": job.job_id,
            "entity": job.entity,
            "import": job.entity,
            "kind": job.kind_name,
            "mode": job.mode,
            "run_id": job.run_id,
            "status": int(job.status),
            "status_name": job.status.name.lower(),
            "submitted_at": job.submitted_at,
            "finished_at": job.finished_at,
            "item_count": job.item_count,
            "counters": job.counters,
            "restart_count": job.restart_count,
            "restarted_from": job.restarted_from,
            "restarted_as": job.restarts[-1].new_job_id if job.restarts else None,
            "superseded": job.superseded,
            "stuck": job.stuck,
        }
    )
    return summary


def import_names(ctx: CliContext) -> list[str]:
    """Every configured import's name, and every kind (state of imports no longer configured)."""
    from norcekit.norce.contracts import IMPORT_KINDS  # noqa: PLC0415 - CLI start-up (its command loads it)

    try:
        configured = list(ctx.services.config.all_imports())
    except Exception:  # a broken configuration must not hide the jobs
        configured = []
    return list(dict.fromkeys([*configured, *IMPORT_KINDS]))


def jobs_table(rows: list[dict[str, Any]], title: str | None = "Jobs") -> Any:
    return table(
        title,
        ["job", "import", "mode", "status", "submitted", "items", "ins/upd/fail", "notes"],
        [
            [
                j["job_id"],
                j["entity"],
                j["mode"],
                j["status_name"],
                ago(j["submitted_at"]),
                j["item_count"],
                _counters(j["counters"]),
                _notes(j),
            ]
            for j in rows
        ],
    )


def _counters(counters: dict[str, Any] | None) -> str:
    if not counters:
        return "-"
    return "/".join(
        "-" if counters.get(k) is None else str(counters[k]) for k in ("inserts", "updates", "fail")
    )


def _notes(job: dict[str, Any]) -> str:
    notes = []
    if job.get("restarted_as"):
        notes.append(f"restarted as {job['restarted_as']}")
    if job.get("restarted_from"):
        notes.append(f"restart of {job['restarted_from']}")
    if job.get("superseded"):
        notes.append("superseded")
    if job.get("stuck"):
        notes.append("STUCK")
    return ", ".join(notes)


# --- parser ---------------------------------------------------------------------------------------


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    jobs = subparsers.add_parser("jobs", help="Connect import jobs: list, show, log, restart")
    sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help="jobs norcekit submitted, newest first")
    p.add_argument(
        "--entity", "--import", dest="entity", metavar="NAME", help="only this import (default: all)"
    )
    p.add_argument(
        "--status",
        type=_status_arg,
        help="status name or number (1 initialized, 2 succeeded, 3 failed, 4 validation_failed, "
        "5 validating, 6 queued) or 'open' for every unfinished job",
    )
    p.add_argument("--since", type=_since_arg, help="submitted at or after: 2h, 3d, 1w or ISO-8601 (UTC)")
    p.add_argument("--limit", type=_positive, default=20, help="at most N jobs (default 20)")
    p.set_defaults(handler=list_jobs)

    p = sub.add_parser("show", parents=[common], help="a job's record and its live Norce status (Job/Get)")
    p.add_argument("job_id", type=int, metavar="ID")
    p.set_defaults(handler=show_job)

    p = sub.add_parser("log", parents=[common], help="a job's Norce log (Job/GetLog)")
    p.add_argument("job_id", type=int, metavar="ID")
    p.add_argument("--errors", action="store_true", help="only warnings and errors")
    p.set_defaults(handler=job_log)

    p = sub.add_parser(
        "restart",
        parents=[common],
        help="restart a Failed job (Job/Restart); refused for validation-failed, superseded, "
        "already restarted, expired, or when a newer job of the entity exists",
    )
    p.add_argument("job_id", type=int, metavar="ID")
    p.add_argument("--force", action="store_true", help="lift the automatic restart count limit (only that)")
    p.set_defaults(handler=restart_job)


def _status_arg(text: str) -> JobStatus | str:
    try:
        return parse_job_status(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _since_arg(text: str) -> datetime:
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# --- commands -------------------------------------------------------------------------------------


def list_jobs(ctx: CliContext, args: argparse.Namespace) -> int:
    store = ctx.services.job_store
    since: datetime | None = args.since
    entities = [args.entity] if args.entity else import_names(ctx)
    found: list[JobRecord]
    if args.status == OPEN:
        found = [
            j
            for j in store.list_open()
            if j.entity in entities and (since is None or j.submitted_at >= since)
        ]
    else:
        found = []
        for entity in entities:
            found += store.list_by_entity(entity, since=since, status=args.status, limit=args.limit)
    found.sort(key=lambda j: (j.submitted_at, j.job_id), reverse=True)
    rows = [job_summary(j) for j in found[: args.limit]]
    ctx.out.emit(rows, lambda console: console.print(jobs_table(rows)))
    return ExitCode.OK


def show_job(ctx: CliContext, args: argparse.Namespace) -> int:
    record = ctx.services.job_store.find(args.job_id)
    live: dict[str, Any] | None = None
    live_error: str | None = None
    try:
        dto = ctx.services.norce.jobs.get(args.job_id, deadline=Deadline.after(CALL_TIMEOUT_S))
        live = {**dto.model_dump(mode="python"), "StatusName": dto.StatusId.name.lower()}
    except NorceAuthError:
        raise
    except NorceHTTPError as exc:
        if exc.status != 404:
            raise
        live_error = "Norce does not know this job (404)"
    except NorceUnavailable as exc:
        if record is None:
            raise
        live_error = f"Norce unreachable: {exc}"
        ctx.out.warn(f"live status not available: {live_error}")
    if record is None and live is None:
        raise CliError(
            f"job {args.job_id} not found (neither in the state table nor in Norce)", ExitCode.NOT_FOUND
        )
    data = {"job": record, "live": live, "live_error": live_error}

    def render(console: Console) -> None:
        if record is not None:
            summary = job_summary(record)
            console.print(
                key_values(
                    f"Job {record.job_id} (norcekit record)",
                    [
                        ("entity / mode", f"{record.entity} / {record.mode}"),
                        ("run", record.run_id),
                        ("status", summary["status_name"]),
                        ("submitted", ago(record.submitted_at)),
                        ("finished", ago(record.finished_at)),
                        ("lead time", duration(record.lead_time_s)),
                        ("items sent", record.item_count),
                        ("inserts/updates/fail", _counters(to_jsonable(record.counters))),
                        ("notes", _notes(summary)),
                        (
                            "history",
                            ", ".join(f"{h.status.name.lower()} ({h.source})" for h in record.status_history),
                        ),
                    ],
                )
            )
            if record.log_summary and record.log_summary.first_errors:
                console.print(
                    table(
                        "First log errors",
                        ["message", "row"],
                        [[e.message, e.imported_row] for e in record.log_summary.first_errors],
                    )
                )
        else:
            console.print(f"Job {args.job_id} is not in norcekit's state table (not submitted by norcekit).")
        if live is not None:
            console.print(
                key_values(
                    "Norce (Job/Get)",
                    [
                        ("status", live["StatusName"]),
                        ("finished", live.get("IsFinished")),
                        (
                            "totals / inserts / updates / fail",
                            "/".join(
                                cell_or_dash(live.get(k)) for k in ("Totals", "Inserts", "Updates", "Fail")
                            ),
                        ),
                        ("start", ago(live.get("Start"))),
                        ("stop", ago(live.get("Stop"))),
                        (
                            "run time",
                            duration(live["RunTime"].total_seconds()) if live.get("RunTime") else "-",
                        ),
                    ],
                )
            )
        elif live_error:
            console.print(f"Norce: {live_error}")

    ctx.out.emit(data, render)
    return ExitCode.OK


def cell_or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def job_log(ctx: CliContext, args: argparse.Namespace) -> int:
    entries = ctx.services.norce.jobs.get_log(args.job_id, deadline=Deadline.after(CALL_TIMEOUT_S))
    rows: list[dict[str, Any]] = [
        {
            "severity": int(e.SeverityId),
            "severity_name": e.SeverityId.name.lower(),
            "message": e.Message,
            "timestamp": to_jsonable(e.TimeStamp),
            "imported_row": e.ImportedRow,
        }
        for e in entries
        if not args.errors or int(e.SeverityId) >= 2
    ]
    ctx.out.emit(
        rows,
        lambda console: console.print(
            table(
                f"Log of job {args.job_id}",
                ["time", "severity", "message", "row"],
                [[ago(r["timestamp"]), r["severity_name"], r["message"], r["imported_row"]] for r in rows],
            )
        ),
    )
    return ExitCode.OK


def restart_job(ctx: CliContext, args: argparse.Namespace) -> int:
    tracker = ctx.services.tracker
    try:
        result = tracker.restart(args.job_id, force=args.force, deadline=Deadline.after(CALL_TIMEOUT_S))
    except NorceAuthError:
        raise
    except NorceHTTPError as exc:
        if exc.status == 404:
            raise
        raise CliError(f"Norce refused the restart of job {args.job_id}: {exc}", ExitCode.CONFLICT) from None
    data = {
        "job_id": result.job_id,
        "new_job_id": result.new_job_id,
        "attempt": result.attempt,
        "trigger": result.trigger,
    }
    ctx.out.emit(
        data,
        lambda console: console.print(
            f"Job {result.job_id} restarted as job {result.new_job_id} (restart {result.attempt}). "
            f"Follow it with: norcekit jobs show {result.new_job_id}"
        ),
    )
    return ExitCode.OK
