"""``norcekit schedules sync [--dry-run]``: the configuration's import schedules in the stack's group.

JSON shape: ``{"dry_run": bool, "in_sync": bool, "changes": [{"action": "create"|"update"|"delete",
"name": str, "expression": str|null, "differences": [str]}]}``; exit 0 (``--dry-run`` changes nothing).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.console import Console

from norcekit.cli.errors import ExitCode
from norcekit.cli.output import table

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.imports.schedules import ScheduleChange


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    schedules = subparsers.add_parser("schedules", help="import schedules from the configuration")
    sub = schedules.add_subparsers(dest="schedules_command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "sync",
        parents=[common],
        help="create/update/delete the stack's import schedules to match the configuration",
        description="One EventBridge Scheduler schedule per import and configured expression "
        "(import-<name>-<mode>), in the stack's schedule group; other schedules are left alone.",
    )
    p.add_argument("--dry-run", action="store_true", help="show the changes, make none")
    p.set_defaults(handler=sync_schedules_command)


def changes_json(changes: list[ScheduleChange]) -> list[dict[str, Any]]:
    return [
        {"action": c.action, "name": c.name, "expression": c.expression, "differences": list(c.differences)}
        for c in changes
    ]


def sync_schedules_command(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.wiring import sync_configured_schedules  # noqa: PLC0415 - only this command needs it

    services = ctx.services
    changes = sync_configured_schedules(
        services.settings, services.config, services.components.aws, dry_run=args.dry_run
    )
    data = {"dry_run": args.dry_run, "in_sync": not changes, "changes": changes_json(changes)}

    def render(console: Console) -> None:
        if not changes:
            console.print("schedules match the configuration")
            return
        verb = "would change" if args.dry_run else "changed"
        console.print(
            table(
                f"Schedules ({verb})",
                ["action", "schedule", "expression", "differs in"],
                [[c.action, c.name, c.expression, ", ".join(c.differences)] for c in changes],
            )
        )

    ctx.out.emit(data, render)
    return ExitCode.OK
