"""``norcekit dlq show|redrive`` and ``norcekit quarantine list|show|replay``.

JSON shapes:

* ``dlq show`` → array of ``{"message_id": str, "receive_count": int, "event_type": str|null,
  "entity_key": str|null, "body": any}`` (messages stay on the DLQ)
* ``dlq redrive`` → ``{"method": "move_task"|"fallback", "moved": int (-1: an SQS move task was
  started and moves them in the background), "failed": int, "task_handle": str|null}``
* ``quarantine list`` → array of ``{"key", "kind", "reason", "received_at", "replayed_at", "metadata"}``
* ``quarantine show KEY`` → that plus ``"version"``, ``"payload_encoding"``, ``"payload"``
* ``quarantine replay`` → array of ``{"key", "outcome": "queued"|"submitted"|"invalid"|"skipped"|"error",
  "detail", "message_id", "replayed_key"}`` (+ ``"job_id"`` for import items, which are sent again as a
  delta batch per entity); exit 1 when any item was not queued or submitted
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.console import Console
from rich.syntax import Syntax

from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ago, cell, key_values, table, to_jsonable
from norcekit.deadline import Deadline
from norcekit.quarantine import KINDS

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.quarantine import QuarantineItem

#: ``dlq --queue``: the DLQ's name in titles.
DLQ_NAMES = {"events": "Event", "orders": "Order", "answers": "ERP answer"}

#: An operator's replay of import items is bounded only against a hung Norce.
REPLAY_TIMEOUT_S = 900.0


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    dlq = subparsers.add_parser("dlq", help="the dead-letter queues (events, orders, ERP answers)")
    sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="COMMAND")
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument(
        "--queue",
        choices=list(DLQ_NAMES),
        default="events",
        help="whose DLQ: events (default), orders (delivery to the targets), answers (ERP answers to Norce)",
    )
    p = sub.add_parser("show", parents=[common, which], help="look at DLQ messages without removing them")
    p.add_argument("--limit", type=int, default=10, help="at most N messages (default 10)")
    p.set_defaults(handler=dlq_show)
    p = sub.add_parser("redrive", parents=[common, which], help="move DLQ messages back to their queue")
    p.add_argument(
        "--max",
        type=int,
        dest="max_messages",
        help="move at most N (moved one by one); default: all, by an SQS move task where available",
    )
    p.set_defaults(handler=dlq_redrive)

    quarantine = subparsers.add_parser("quarantine", help="payloads kept for inspection and replay")
    sub = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="COMMAND")
    p = sub.add_parser("list", parents=[common], help="quarantined items, newest first")
    p.add_argument("--kind", choices=list(KINDS))
    p.add_argument("--limit", type=int, default=50, help="at most N items (default 50)")
    p.add_argument("--replayed", action="store_true", help="list items already replayed instead")
    p.set_defaults(handler=quarantine_list)
    p = sub.add_parser("show", parents=[common], help="one item with its payload")
    p.add_argument("key", metavar="KEY")
    p.set_defaults(handler=quarantine_show)
    p = sub.add_parser(
        "replay",
        parents=[common],
        help="validate quarantined webhooks and orders again and queue the valid ones (orders are "
        "stored first); send quarantined import items (norce_item, import_record) again as a delta "
        "batch (moved under replayed/)",
    )
    p.add_argument("keys", nargs="*", default=[], metavar="KEY")
    p.add_argument("--all", action="store_true", help="every pending item of --kind, oldest first")
    p.add_argument(
        "--kind",
        choices=["webhook", "import_record", "norce_item", "order"],
        default="webhook",
        help="with --all: which items (default webhook)",
    )
    p.add_argument("--limit", type=int, default=1000, help="with --all: at most N items")
    p.set_defaults(handler=quarantine_replay)


# --- DLQ -------------------------------------------------------------------------------------------


def dlq_show(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.events.dlq import peek  # noqa: PLC0415 - CLI start-up (its command loads it)

    services = ctx.services
    dlq_url, _ = services.dlq_and_queue(args.queue)
    messages = peek(dlq_url, args.limit, sqs=services.sqs)
    rows = to_jsonable(messages)

    def render(console: Console) -> None:
        depth = services.queue_depth(dlq_url)
        console.print(
            table(
                f"{DLQ_NAMES[args.queue]} DLQ ({depth['visible']} visible, {depth['in_flight']} in flight)",
                ["message id", "receives", "event type", "entity key", "body"],
                [
                    [r["message_id"], r["receive_count"], r["event_type"], r["entity_key"], _short(r["body"])]
                    for r in rows
                ]
                or [["(empty)", None, None, None, None]],
            )
        )

    ctx.out.emit(rows, render)
    return ExitCode.OK


def dlq_redrive(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.events.dlq import redrive  # noqa: PLC0415 - CLI start-up (its command loads it)

    services = ctx.services
    if args.max_messages is not None and args.max_messages < 1:
        raise CliError("--max: must be at least 1", ExitCode.USAGE)
    dlq_url, queue_url = services.dlq_and_queue(args.queue)
    with ctx.out.progress(f"moving DLQ messages back to the {args.queue} queue"):
        result = redrive(
            dlq_url,
            queue_url,
            sqs=services.sqs,
            limit=args.max_messages or 10_000,
            # A move task cannot stop after N messages: with --max move them ourselves. The local
            # stack's moto has no StartMessageMoveTask.
            prefer_move_task=args.max_messages is None and ctx.resources.origin != "local",
        )
    data = to_jsonable(result)

    def render(console: Console) -> None:
        if result.method == "move_task":
            console.print(f"SQS move task started ({result.task_handle}); messages move in the background.")
        else:
            console.print(
                f"{result.moved} message(s) moved back to the {args.queue} queue, {result.failed} failed."
            )

    ctx.out.emit(data, render)
    return ExitCode.FAILED if result.failed else ExitCode.OK


# --- quarantine ------------------------------------------------------------------------------------


def _summary(item: QuarantineItem) -> dict[str, Any]:
    return {
        "key": item.key,
        "kind": item.kind,
        "reason": item.reason,
        "received_at": item.received_at,
        "replayed_at": item.replayed_at,
        "metadata": item.metadata,
    }


def quarantine_list(ctx: CliContext, args: argparse.Namespace) -> int:
    items = ctx.services.quarantine.list(args.kind, args.limit, replayed=args.replayed)
    rows = to_jsonable([_summary(i) for i in items])
    ctx.out.emit(
        rows,
        lambda console: console.print(
            table(
                "Quarantine" + (" (replayed)" if args.replayed else ""),
                ["received", "kind", "reason", "key"],
                [[ago(r["received_at"]), r["kind"], r["reason"], r["key"]] for r in rows]
                or [["(empty)", None, None, None]],
            )
        ),
    )
    return ExitCode.OK


def quarantine_show(ctx: CliContext, args: argparse.Namespace) -> int:
    item = _get(ctx, args.key)
    data = to_jsonable(
        {
            **_summary(item),
            "version": item.version,
            "payload_encoding": item.payload_encoding,
            "payload": item.payload,
        }
    )

    def render(console: Console) -> None:
        console.print(
            key_values(
                "Quarantined item",
                [
                    ("key", item.key),
                    ("kind", item.kind),
                    ("reason", item.reason),
                    ("received", ago(item.received_at)),
                    ("replayed", ago(item.replayed_at)),
                    ("metadata", item.metadata),
                    ("payload encoding", item.payload_encoding),
                ],
            )
        )
        if item.payload_encoding == "json":
            console.print(Syntax(_pretty(data["payload"]), "json"))
        else:
            console.print(str(item.payload))

    ctx.out.emit(data, render)
    return ExitCode.OK


def quarantine_replay(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.events.queue import SqsEventQueue  # noqa: PLC0415 - CLI start-up (its command loads it)
    from norcekit.events.replay import replay_one  # noqa: PLC0415 - CLI start-up (its command loads it)

    if bool(args.all) == bool(args.keys):
        raise CliError("quarantine replay: give KEY(s) or --all (not both)", ExitCode.USAGE)
    services = ctx.services
    store = services.quarantine
    if args.all:
        keys = [item.key for item in reversed(store.list(args.kind, limit=args.limit))]
        kinds = dict.fromkeys(keys, args.kind)
    else:
        keys = list(dict.fromkeys(args.keys))
        kinds = {key: _get(ctx, key).kind for key in keys}  # all keys exist before anything is replayed
    webhooks = [key for key in keys if kinds[key] == "webhook"]
    orders = [key for key in keys if kinds[key] == "order"]
    imports = [key for key in keys if key not in set(webhooks) | set(orders)]
    results: list[Any] = []
    if imports:  # items Norce rejected / rows the mapping rejected: one delta batch per entity
        with ctx.out.progress(f"sending {len(imports)} quarantined import item(s) again"):
            results.extend(services.runner.replay(imports, deadline=Deadline.after(REPLAY_TIMEOUT_S)))
    if webhooks:
        queue = SqsEventQueue(services.queue_url, client=services.sqs)
        settings = services.settings
        with ctx.out.progress("replaying quarantined webhooks", total=len(webhooks)) as progress:
            for key in webhooks:
                result = replay_one(
                    store,
                    queue,
                    key,
                    max_body_bytes=settings.webhook_max_body_bytes,
                    claims=services.event_claims,  # a payload too large for the queue, as the receiver does
                    max_message_bytes=settings.event_queue_max_message_bytes,
                )
                results.append(result)
                progress.update(advance=1)
    if orders:  # refused by the receiver: validated again, stored and queued once valid
        from norcekit.orders.replay import replay_order  # noqa: PLC0415 - CLI start-up (its command loads it)

        max_order = services.settings.order_max_body_bytes
        for key in orders:
            results.append(
                replay_order(store, services.order_store, services.order_queue, key, max_body_bytes=max_order)
            )
    rows = to_jsonable(results)
    ctx.out.emit(
        rows,
        lambda console: console.print(
            table(
                "Replay",
                ["key", "outcome", "detail", "message id"],
                [[r["key"], r["outcome"], r["detail"], r["message_id"]] for r in rows]
                or [["(nothing to replay)", None, None, None]],
            )
        ),
    )
    return ExitCode.FAILED if any(r.outcome not in ("queued", "submitted") for r in results) else ExitCode.OK


def _get(ctx: CliContext, key: str) -> QuarantineItem:

    try:
        return ctx.services.quarantine.get(key)
    except ValidationError:
        raise
    except ValueError as exc:  # not a quarantine key at all (wrong prefix, "..")
        raise CliError(f"KEY: {exc}", ExitCode.USAGE) from None


def _short(body: Any, limit: int = 80) -> str:
    text = cell(body)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pretty(value: Any) -> str:

    return json.dumps(value, indent=2, ensure_ascii=False)
