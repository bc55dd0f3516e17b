"""``norcekit watermarks show|set``.

JSON shapes:

* ``watermarks show`` → array of ``{"entity": str, "value": str, "kind": "timestamp"|"cursor",
  "committed_at": iso, "run_id": str|null, "lag_s": float|null}`` (``lag_s``: now minus a timestamp
  watermark; ``run_id`` is ``manual:<who>`` after ``watermarks set``)
* ``watermarks set`` → ``{"entity": str, "value": str, "kind": str, "previous": {"value", "kind"}|null}``
"""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING, Any

from norcekit.cli.commands.jobs import import_names
from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ago, duration, table
from norcekit.cli.parsing import ConfirmationRequired, confirm

if TYPE_CHECKING:
    from datetime import datetime

    from norcekit.cli.context import CliContext
    from norcekit.state.watermarks import CommittedWatermark


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    marks = subparsers.add_parser("watermarks", help="committed watermarks (where delta imports resume)")
    sub = marks.add_subparsers(dest="watermarks_command", required=True, metavar="COMMAND")

    p = sub.add_parser("show", parents=[common], help="every committed watermark and its lag")
    p.set_defaults(handler=show_watermarks)

    p = sub.add_parser(
        "set",
        parents=[common],
        help="set an entity's watermark by hand (may move it backwards: the next delta re-reads)",
        description="Set the watermark unconditionally. Asks for confirmation on a terminal; "
        "scripts must pass --yes (without a terminal and without --yes: exit 2).",
    )
    p.add_argument("entity", metavar="ENTITY", help="an entity or a named import (imports: NAME)")
    p.add_argument(
        "value", metavar="VALUE", help="ISO-8601 time with offset (2025-06-02T10:00:00Z) or an integer cursor"
    )
    p.add_argument(
        "--kind", choices=["timestamp", "cursor"], help="default: cursor for digits, else timestamp"
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=set_watermark)


def watermark_row(record: CommittedWatermark, now: datetime) -> dict[str, Any]:
    lag = None
    if record.watermark.kind == "timestamp":
        lag = round(max(0.0, (now - record.watermark.as_datetime()).total_seconds()), 3)
    return {
        "entity": record.entity,
        "value": record.watermark.value,
        "kind": record.watermark.kind,
        "committed_at": record.committed_at,
        "run_id": record.run_id,
        "lag_s": lag,
    }


def show_watermarks(ctx: CliContext, args: argparse.Namespace) -> int:
    now = ctx.now()
    rows = [watermark_row(r, now) for r in ctx.services.watermark_store.list()]
    ctx.out.emit(
        rows,
        lambda console: console.print(
            table(
                "Watermarks",
                ["entity", "value", "kind", "lag", "committed", "by"],
                [
                    [
                        r["entity"],
                        r["value"],
                        r["kind"],
                        duration(r["lag_s"]),
                        ago(r["committed_at"]),
                        r["run_id"],
                    ]
                    for r in rows
                ]
                or [["(none)", None, None, None, None, None]],
            )
        ),
    )
    return ExitCode.OK


def set_watermark(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.state.watermarks import Watermark  # noqa: PLC0415 - CLI start-up (its command loads it)

    try:
        new = Watermark.parse(args.value, args.kind)
    except ValueError as exc:
        raise CliError(f"VALUE: {_first_error(exc)}", ExitCode.USAGE) from None
    names = import_names(ctx)  # watermarks are kept per import name (the kind for entities:)
    if args.entity not in names:
        valid = ", ".join(names)
        raise CliError(f"ENTITY: {args.entity!r} is not an import (valid: {valid})", ExitCode.USAGE)
    if not args.yes and not ctx.interactive:  # refuse before touching anything
        raise CliError(
            f"watermarks set {args.entity}: confirmation needed but stdin is not a terminal: pass --yes",
            ExitCode.USAGE,
        )
    store = ctx.services.watermark_store
    current = store.get(args.entity)
    question = (
        f"Set the {args.entity} watermark to {new.value} ({new.kind}); "
        f"it is {current.value + ' (' + current.kind + ')' if current else 'not set'}"
    )
    try:
        go_ahead = confirm(question, assume_yes=args.yes, interactive=ctx.interactive, ask=ctx.ask)
    except ConfirmationRequired as exc:
        raise CliError(f"watermarks set {args.entity}: {exc}", ExitCode.USAGE) from None
    if not go_ahead:
        raise CliError(f"{args.entity} watermark not changed", ExitCode.CONFLICT)
    previous = store.force_set(args.entity, new, actor=f"cli:{_user()}")
    data = {
        "entity": args.entity,
        "value": new.value,
        "kind": new.kind,
        "previous": None if previous is None else {"value": previous.value, "kind": previous.kind},
    }
    ctx.out.emit(
        data,
        lambda console: console.print(
            f"{args.entity} watermark set to {new.value} ({new.kind}); "
            f"was {previous.value if previous else 'not set'}"
        ),
    )
    return ExitCode.OK


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic ValidationError: its message without the model boilerplate
        try:
            return str(errors()[0]["msg"]).removeprefix("Value error, ")
        except (IndexError, KeyError, TypeError):
            pass
    return str(exc)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return "unknown"
