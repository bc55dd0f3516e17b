"""``norcekit orders list|show|redeliver``: the orders Norce posted to the Order Receiver Service.

JSON shapes:

* ``orders list`` → array of ``{"client_order_ref", "status": "received"|"queued"|"delivered"|
  "delivery_failed", "received_at", "erp_order_no", "deliveries": {target: outcome}, "answers": int}``
* ``orders show REF`` → ``{... as list, "deliveries": {target: {"outcome", "detail", "at", "attempts"}},
  "answers": [{"kind", "answer_id", "outcome", "detail", "at", "attempts"}], "order": <OrderRequest>}``
* ``orders redeliver REF...`` → array of ``{"client_order_ref", "outcome": "queued"|"not_found",
  "message_id": str|null}``
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import orjson

from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ago, key_values, table

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.state.orders import StoredOrder


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    orders = subparsers.add_parser("orders", help="orders received from Norce and their delivery to the ERP")
    sub = orders.add_subparsers(dest="orders_command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help="received orders, newest first")
    p.add_argument("--limit", type=int, default=50, help="at most N orders (default 50)")
    p.set_defaults(handler=list_orders)

    p = sub.add_parser("show", parents=[common], help="one order: body, deliveries, ERP answers")
    p.add_argument("client_order_ref", metavar="REF", help="the order's ClientOrderRef")
    p.set_defaults(handler=show_order)

    p = sub.add_parser(
        "redeliver",
        parents=[common],
        help="queue stored orders for delivery again (targets that have them are skipped unless --force)",
    )
    p.add_argument("refs", nargs="+", metavar="REF")
    p.add_argument("--force", action="store_true", help="deliver to every target, also those that have it")
    p.set_defaults(handler=redeliver_orders)


def order_row(order: StoredOrder) -> dict[str, Any]:
    return {
        "client_order_ref": order.client_order_ref,
        "status": order.status,
        "received_at": order.received_at,
        "erp_order_no": order.erp_order_no,
        "deliveries": {name: d.outcome for name, d in order.deliveries.items()},
        "answers": len(order.answers),
    }


def list_orders(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError("--limit: must be at least 1", ExitCode.USAGE)
    rows = [order_row(o) for o in ctx.services.order_store.list(limit=args.limit)]
    ctx.out.emit(
        rows,
        lambda console: console.print(
            table(
                "Orders",
                ["ref", "status", "received", "ERP order no.", "deliveries", "answers"],
                [
                    [
                        r["client_order_ref"],
                        r["status"],
                        ago(r["received_at"]),
                        r["erp_order_no"],
                        r["deliveries"],
                        r["answers"],
                    ]
                    for r in rows
                ]
                or [["(none)", None, None, None, None, None]],
            )
        ),
    )
    return ExitCode.OK


def show_order(ctx: CliContext, args: argparse.Namespace) -> int:
    order = ctx.services.order_store.get(args.client_order_ref)
    if order is None:
        raise CliError(f"order {args.client_order_ref!r}: not found", ExitCode.NOT_FOUND)
    data = {
        **order_row(order),
        "deliveries": {name: d.model_dump(exclude={"target"}) for name, d in order.deliveries.items()},
        "answers": [a.model_dump() for a in order.answers],
        "order": orjson.loads(order.body),
    }

    def render(console: Any) -> None:
        console.print(
            key_values(
                f"Order {order.client_order_ref}",
                [
                    ("status", order.status),
                    ("received", ago(order.received_at)),
                    ("ERP order no.", order.erp_order_no),
                    ("items", len(data["order"].get("Items") or [])),
                ],
            )
        )
        console.print(
            table(
                "Deliveries",
                ["target", "outcome", "detail", "attempts", "at"],
                [[n, d.outcome, d.detail, d.attempts, ago(d.at)] for n, d in order.deliveries.items()]
                or [["(none)", None, None, None, None]],
            )
        )
        console.print(
            table(
                "ERP answers sent to Norce",
                ["kind", "id", "outcome", "detail", "attempts", "at"],
                [[a.kind, a.answer_id, a.outcome, a.detail, a.attempts, ago(a.at)] for a in order.answers]
                or [["(none)", None, None, None, None, None]],
            )
        )

    ctx.out.emit(data, render)
    return ExitCode.OK


def redeliver_orders(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.orders.receiver import queue_for_delivery  # noqa: PLC0415 - CLI start-up

    store, results = ctx.services.order_store, []
    for ref in args.refs:
        if store.get(ref) is None:
            results.append({"client_order_ref": ref, "outcome": "not_found", "message_id": None})
            continue
        message_id = queue_for_delivery(ctx.services.order_queue, store, ref, force=args.force)
        results.append({"client_order_ref": ref, "outcome": "queued", "message_id": message_id})
    ctx.out.emit(
        results,
        lambda console: console.print(
            table(
                "Redelivery",
                ["ref", "outcome", "message id"],
                [[r["client_order_ref"], r["outcome"], r["message_id"]] for r in results],
            )
        ),
    )
    return ExitCode.OK if all(r["outcome"] == "queued" for r in results) else ExitCode.NOT_FOUND
