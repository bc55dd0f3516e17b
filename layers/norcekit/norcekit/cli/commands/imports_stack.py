"""``norcekit --stack NAME import run``: the deployed import function runs the import.

The CLI sends the event the schedule sends (``{"import", "mode"}``, plus the ``run_id`` it will
follow) as an asynchronous invocation, so the import runs with the function's network, role and
settings. ``--wait`` follows the run record in the stack's table, one progress line per change,
until the run ends (the stack's job monitor settles its jobs); ``--dry-run`` waits for the
function's answer instead (a dry run stores no record).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import to_jsonable
from norcekit.deadline import Deadline

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.state.runs import RunRecord, RunStore
    from norcekit.state.table import StateTable

#: How often --wait reads the run record (DynamoDB GetItem: cheap, but not in a tight loop).
FOLLOW_INTERVAL_S = 2.0
#: A run not recorded this long after the invocation was never started (refused event, crash).
START_TIMEOUT_S = 300.0


def pause(seconds: float) -> None:
    """Between two reads of the run record (a module function, so tests can step time)."""
    time.sleep(seconds)


def runs_deployed(ctx: CliContext, args: argparse.Namespace) -> bool:
    """Whether this ``import run`` goes to a deployed function (``--stack``, not ``--in-process``)."""
    return ctx.resources.origin == "cloudformation" and not args.in_process


def run_deployed(ctx: CliContext, args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    """Invoke the stack's import function; the run (as far as known) and whether it was followed."""
    from norcekit.imports.runner import new_run_id  # noqa: PLC0415 - CLI start-up

    function = ctx.resources.import_function
    if not function:
        raise CliError(
            f"--stack {ctx.resources.name}: no ImportRunnerFunctionName output (redeploy the stack, "
            "or run here with --in-process)",
            ExitCode.USAGE,
        )
    if args.allow:
        raise CliError(
            "--allow: the deployed function takes no guardrail overrides; use --in-process", ExitCode.USAGE
        )
    _check_runnable(ctx, args)
    run_id = new_run_id(args.entity, args.mode, ctx.now())
    # The schedules' event ({import, mode}; an entities: import is named after its kind).
    event: dict[str, Any] = {"import": args.entity, "mode": args.mode, "run_id": run_id}
    invoker = ctx.services.invoker
    if args.dry_run:
        event["dry_run"] = True
        with ctx.out.progress(f"dry run of {args.entity} in {function}"):
            summary = invoker.call(function, event)
        return dict(summary), False
    invoker.start(function, event)
    ctx.out.info(f"invoked {function}: {args.mode} import of {args.entity}, run {run_id}")
    if not args.wait:
        return {"run_id": run_id, "entity": args.entity, "mode": args.mode, "outcome": "invoked"}, False
    table = ctx.services.table
    record = follow_run(
        ctx.services.run_store,
        run_id,
        timeout_s=args.wait_timeout,
        say=ctx.out.info,
        alive=lambda running: holds_its_lock(table, running),
    )
    return to_jsonable(record), True


def _check_runnable(ctx: CliContext, args: argparse.Namespace) -> None:
    """Refuse here an import the deployed configuration cannot run (unknown, disabled): the
    function raises it where an asynchronous invocation tells nobody."""
    from norcekit.imports.run.common import runnable_config  # noqa: PLC0415 - CLI start-up

    try:
        config = ctx.services.config
    except Exception:  # unreadable here (S3 rights, a plug-in not installed locally): the function decides
        return
    runnable_config(config, args.entity, args.mode)  # UnknownEntityError: exit 2 naming the imports


def holds_its_lock(table: StateTable, record: RunRecord) -> bool:
    """Whether the run's import lock is leased to the run: a runner holds it, renewed, from before
    it records the run until after it ends it, so a ``running`` record without it is a dead run."""
    from norcekit.imports.run.context import run_of_lock_owner  # noqa: PLC0415 - CLI start-up
    from norcekit.state.locks import LeaseLock  # noqa: PLC0415 - CLI start-up

    holder = LeaseLock(table, record.entity, owner="norcekit-cli", lease_s=1.0).holder()
    return holder is not None and run_of_lock_owner(holder.owner) == record.run_id


def follow_run(
    runs: RunStore,
    run_id: str,
    *,
    timeout_s: float,
    say: Callable[[str], None],
    start_timeout_s: float | None = None,
    interval_s: float | None = None,
    sleep: Callable[[float], None] | None = None,
    alive: Callable[[RunRecord], bool] | None = None,
) -> RunRecord:
    """Read the run record until the run has ended; one line through ``say`` per change.

    ``alive(record)``: whether a ``running`` run's function still runs it; a run that is not is
    an error at once (a killed function leaves its record ``running`` for good)."""
    from norcekit.state.runs import RunNotFoundError, RunOutcome  # noqa: PLC0415 - CLI start-up

    deadline = Deadline.after(timeout_s)
    start_budget = START_TIMEOUT_S if start_timeout_s is None else start_timeout_s
    start_by = Deadline.after(start_budget)
    interval = FOLLOW_INTERVAL_S if interval_s is None else interval_s
    said = ""
    while True:
        try:
            record: RunRecord | None = runs.get(run_id)
        except RunNotFoundError:
            record = None
        if record is not None:
            line = _progress_line(record)
            if line != said:
                say(f"{datetime.now(UTC):%H:%M:%S} {line}")
                said = line
            if record.outcome not in (RunOutcome.RUNNING, RunOutcome.SUBMITTED):
                return record
            # Read again after the check: the run may have ended and let its lock go meanwhile.
            if record.outcome is RunOutcome.RUNNING and alive is not None and not alive(record):
                if runs.get(run_id).outcome is RunOutcome.RUNNING:
                    raise CliError(
                        f"run {run_id}: the import function stopped without ending the run (still "
                        f"running, but the {record.entity} import lock is no longer its own: killed "
                        "by a timeout or out of memory?); see its log group",
                        ExitCode.FAILED,
                    )
                continue
        elif start_by.expired:
            raise CliError(
                f"run {run_id}: not started {start_budget:.0f}s after the invocation (the function "
                "refused the event or failed before starting; see its log group)",
                ExitCode.FAILED,
            )
        if deadline.expired:
            state = record.outcome.value if record is not None else "not started"
            raise CliError(
                f"run {run_id}: still {state} after {timeout_s:.0f}s; follow it with "
                "`norcekit --stack NAME status`",
                ExitCode.CONFLICT,
            )
        (sleep or pause)(min(interval, max(0.0, deadline.remaining())))


def _progress_line(record: RunRecord) -> str:
    counts = record.counts
    line = (
        f"{record.outcome.value}: read {counts.read}, mapped {counts.mapped}, "
        f"quarantined {counts.quarantined}, submitted {counts.submitted}"
    )
    if record.job_ids:
        line += f"; job(s) {', '.join(str(j) for j in dict.fromkeys(record.job_ids))}"
    if record.message and record.outcome.value not in ("running", "submitted"):
        line += f" ({record.message})"
    return line


__all__ = ["FOLLOW_INTERVAL_S", "START_TIMEOUT_S", "follow_run", "run_deployed", "runs_deployed"]
