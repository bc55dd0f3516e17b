"""``norcekit import run``: one import now, with the scheduled run's safeguards: in this process,
or with ``--stack`` by the deployed import function (:mod:`norcekit.cli.commands.imports_stack`).

JSON shape: ``{"run": <run record: run_id, entity, mode, outcome, message, started_at, finished_at,
duration_s, counts {read, mapped, quarantined, submitted, deduplicated, out_of_scope}, job_ids, window_since,
window_until, candidate_watermark, dry_run, stored, rejections [{key, origin, reason,
quarantine_key}], stuck_job_ids, allowed [guardrail], deactivated_keys>, "jobs": [<job summary>, ...],
"waited": bool, "watermark": {"value", "kind", "committed_at", "run_id"}|null}``. With ``--stack``
and no ``--wait``, ``run`` is ``{run_id, entity, mode, outcome: "invoked"}``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.console import Console

from norcekit.cli.commands.imports_stack import run_deployed, runs_deployed
from norcekit.cli.commands.jobs import job_summary, jobs_table
from norcekit.cli.commands.run_wait import wait_for_run
from norcekit.cli.errors import ExitCode
from norcekit.cli.output import ago, duration, key_values, table, to_jsonable
from norcekit.deadline import Deadline

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext

#: An operator's import is not bound by a Lambda timeout; this only stops a hung source.
DEFAULT_RUN_TIMEOUT_S = 6 * 3600.0
DEFAULT_WAIT_TIMEOUT_S = 3600.0


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    imports = subparsers.add_parser("import", help="run imports by hand")
    sub = imports.add_subparsers(dest="import_command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "run",
        parents=[common],
        help="run one import now (same lock, ordering and watermark rules as the scheduled run)",
        description="Run one import: with --stack the deployed import function runs it (the "
        "schedule's event; --wait follows its run record until it ends), otherwise this process "
        "does. Exit 0 when submitted (or, with --wait, when "
        "every job succeeded), 1 when the run or a job failed, 4 when skipped (entity locked, an "
        "earlier job still running) or still running after --wait-timeout, 6 when a full-import "
        "guardrail refused it (nothing sent), 7 when the jobs succeeded but Norce rejected items.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--entity", dest="entity", choices=entities, help="the entities: import named after this kind"
    )
    which.add_argument("--import", dest="entity", metavar="NAME", help="a named import (imports: NAME)")
    p.add_argument("--mode", required=True, choices=["full", "delta"])
    p.add_argument(
        "--wait", action="store_true", help="follow the run's jobs until they end (commits the watermark)"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="read and map only: counts and a quarantine report; nothing submitted or stored",
    )
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        choices=["min_items", "shrink", "rejected"],
        metavar="RULE",
        help="let this one full import past a guardrail (min_items, shrink, rejected; repeatable); "
        "the run record keeps it",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="with --stack: run the import in this process instead of invoking the deployed function",
    )
    p.add_argument("--timeout", type=float, default=DEFAULT_RUN_TIMEOUT_S, help="seconds the run may take")
    p.add_argument(
        "--wait-timeout", type=float, default=DEFAULT_WAIT_TIMEOUT_S, help="seconds --wait waits for the jobs"
    )
    p.set_defaults(handler=run_import)


def run_import(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415 - CLI start-up (its command loads it)

    if runs_deployed(ctx, args):
        deployed, followed = run_deployed(ctx, args)
        if deployed["outcome"] != "invoked":
            return _report(ctx, args, deployed, followed)
        pairs = [("entity / mode", f"{deployed['entity']} / {deployed['mode']}"), ("outcome", "invoked")]
        ctx.out.emit(
            {"run": deployed, "jobs": [], "waited": False, "watermark": None},
            lambda console: console.print(key_values(f"Import run {deployed['run_id']}", pairs)),
        )
        return ExitCode.OK
    services = ctx.services
    runner = services.runner
    label = f"{args.mode} import of {args.entity}" + (" (dry run)" if args.dry_run else "")
    with ctx.out.progress(f"running {label}") as progress:
        result = runner.run(
            args.entity,
            args.mode,
            deadline=Deadline.after(args.timeout),
            dry_run=args.dry_run,
            allow=args.allow,
        )
        run: dict[str, Any] = to_jsonable(result)
        waited = False
        if args.wait and not args.dry_run and result.outcome is RunOutcome.SUBMITTED:
            progress.update(f"waiting for {len(result.job_ids)} job(s) of the {label}")
            settled = wait_for_run(services, result.run_id, timeout_s=args.wait_timeout, progress=progress)
            run.update(to_jsonable(settled))
            waited = True
    return _report(ctx, args, run, waited)


def _report(ctx: CliContext, args: argparse.Namespace, run: dict[str, Any], waited: bool) -> int:
    """The run, its jobs and the entity's watermark: one JSON document or tables."""
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415 - CLI start-up (its command loads it)

    services = ctx.services
    outcome = RunOutcome(run["outcome"])
    jobs = []
    if not args.dry_run:
        for job_id in dict.fromkeys(run["job_ids"]):
            record = services.job_store.find(job_id)
            if record is not None:
                jobs.append(job_summary(record))
    committed = None if args.dry_run else services.watermark_store.get_record(args.entity)
    watermark = (
        None
        if committed is None
        else {
            "value": committed.watermark.value,
            "kind": committed.watermark.kind,
            "committed_at": committed.committed_at,
            "run_id": committed.run_id,
        }
    )
    data = {"run": run, "jobs": jobs, "waited": waited, "watermark": watermark}

    def render(console: Console) -> None:
        counts = run["counts"]
        console.print(
            key_values(
                f"Import run {run['run_id']}",
                [
                    (
                        "entity / mode",
                        f"{run['entity']} / {run['mode']}" + (" (dry run)" if args.dry_run else ""),
                    ),
                    ("outcome", run["outcome"]),
                    ("message", run.get("message")),
                    ("started", ago(run["started_at"])),
                    ("duration", duration(run.get("duration_s"))),
                    (
                        "read / mapped / quarantined / submitted",
                        " / ".join(str(counts[k]) for k in ("read", "mapped", "quarantined", "submitted")),
                    ),
                    ("window", f"{_wm(run.get('window_since'))} .. {_wm(run.get('window_until'))}"),
                    ("watermark", f"{watermark['value']} ({watermark['kind']})" if watermark else "-"),
                ],
            )
        )
        if jobs:
            console.print(jobs_table(jobs, title="Jobs"))
        rejections = run.get("rejections") or []
        if rejections:
            console.print(
                table(
                    f"Rejected records (first {len(rejections)} of {counts['quarantined']})",
                    ["key", "origin", "reason", "quarantine key"],
                    [[r["key"], r["origin"], r["reason"], r.get("quarantine_key")] for r in rejections],
                )
            )
        deactivated = run.get("deactivated_keys") or []
        if deactivated:
            console.print(
                table(
                    f"Deactivated in Norce: {len(deactivated)} key(s) whose row was rejected",
                    ["key"],
                    [[key] for key in deactivated],
                )
            )

    ctx.out.emit(data, render)
    return _exit_code(outcome)


def _wm(value: dict[str, Any] | None) -> str:
    return "-" if not value else str(value.get("value"))


def _exit_code(outcome: Any) -> int:
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415 - CLI start-up (its command loads it)

    if outcome in (RunOutcome.SUCCEEDED, RunOutcome.SUBMITTED, RunOutcome.RUNNING):
        return ExitCode.OK
    if outcome in (RunOutcome.SKIPPED_LOCKED, RunOutcome.SKIPPED_JOB_RUNNING):
        return ExitCode.CONFLICT
    if outcome is RunOutcome.REFUSED:
        return ExitCode.REFUSED
    if outcome is RunOutcome.SUCCEEDED_WITH_FAILURES:
        return ExitCode.SUCCEEDED_WITH_FAILURES
    return ExitCode.FAILED  # failed, partial_timeout
