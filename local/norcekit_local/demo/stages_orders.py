"""Demo stage: an order from a Norce checkout to the ERP and the ERP's answers back to Norce.

The emulator's checkout posts the OrderRequest to the order receiver (basic auth, as Norce Admin's
ERP integration would) three times, as Norce does when an answer is lost; the ERP stand-in (the
HTTP sink) and the bucket get the order once; the ERP confirms with its order number, a delivery
note with a tracking number and an invoice (over HTTP and EventBridge), and the emulator shows them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from .core import Demo

BASKET_ID = 300001
ERP_ORDER_NO = "ERP-300001"


def _order(part_no: str) -> dict[str, Any]:
    return {
        "ClientOrderRef": str(BASKET_ID),
        "CurrencyCode": "SEK",
        "OrderType": 1,
        "Source": "WEB",
        "SellTo": {"Person": {"FirstName": "Anna", "LastName": "Andersson", "Email": "anna@example.com"}},
        "Payments": [{"PaymentCode": 5, "PaymentRef": "psp-300001", "Amount": 318.4}],
        "Items": [{"LineNo": 1, "PartNo": part_no, "Quantity": 2, "UnitPrice": 127.36, "VatRate": 25.0}],
    }


def stage_orders(demo: Demo) -> None:
    info, emulator = demo.stack.info, demo.stack.emulator
    front = info["services"]["webhook_front"]
    part_no = next((row["PartNo"] for row in emulator.catalog_rows("skus")), "DEMO-1")

    unauthenticated = httpx.post(front["order_receiver_url"], json=_order(part_no), timeout=10)
    demo.expect(
        unauthenticated.status_code == 401,
        "401 for an order without credentials",
        f"HTTP {unauthenticated.status_code}",
    )
    checkout = emulator.orders.checkout(_order(part_no), sends=3)
    answers = [a.get("response", {}).get("StatusCode") for a in checkout["attempts"]]
    demo.expect(answers == ["OK"] * 3, "three OK answers to the checkout's three posts", str(answers))

    def delivered() -> Any:
        order = demo.svc.order_store.get(str(BASKET_ID))
        return order if order is not None and order.status == "delivered" else None

    demo.wait(
        "the order delivered to the ERP sink and the bucket",
        delivered,
        lambda: str(demo.svc.order_store.get(str(BASKET_ID))),
    )
    at_erp = [d for d in demo.sink.accepted_docs(str(BASKET_ID)) if d.get("entity") == "order"]
    demo.expect(len(at_erp) == 1, "the order at the ERP sink once", f"{len(at_erp)} time(s)")

    erp = {"Authorization": "Basic " + _basic(info["order_answer_username"], info["order_answer_password"])}
    for answer in (
        {
            "kind": "status",
            "client_order_ref": str(BASKET_ID),
            "body": {"ClientOrderRef": BASKET_ID, "ErpOrderNo": ERP_ORDER_NO, "OrderStatus": "Confirmed"},
        },
        {
            "kind": "delivery_note",
            "client_order_ref": str(BASKET_ID),
            "body": {
                "OrderNo": ERP_ORDER_NO,
                "NoteNo": "DN-300001",
                "DeliveryDate": "2026-12-04T10:00:00",
                "DeliveryNotePackages": [{"ParcelNumber": "00370000000000300001", "StatusId": 1}],
            },
        },
    ):
        response = httpx.post(front["order_answer_url"], json=answer, headers=erp, timeout=10)
        demo.expect(response.status_code == 202, f"202 for the ERP's {answer['kind']}", response.text)
    invoice = {
        "kind": "invoice",
        "client_order_ref": str(BASKET_ID),
        "body": {
            "InvoiceNo": "INV-300001",
            "ClientOrderRef": BASKET_ID,
            "ErpOrderNo": ERP_ORDER_NO,
            "InvoiceDate": "2026-12-04T00:00:00",
            "CurrencyCode": "SEK",
            "TotalAmount": 318.4,
            "Vat": 63.68,
            "IsLastInvoiceForOrder": True,
        },
    }
    events = demo.svc.components.aws.events()  # the stack's own client (moto endpoint)
    events.put_events(
        Entries=[
            {
                "EventBusName": info["event_bus"],
                "Source": "erp",
                "DetailType": "norcekit.order.answer",
                "Detail": json.dumps(invoice),
            }
        ]
    )

    def in_norce() -> dict[str, Any] | None:
        order = next(o for o in emulator.orders.snapshot()["orders"] if o["ClientOrderRef"] == BASKET_ID)
        return (
            order
            if order["DeliveryNotes"] and order["Invoices"] and order["OrderNo"] == ERP_ORDER_NO
            else None
        )

    norce = demo.wait(
        "status, delivery note and invoice in Norce (the emulator)",
        in_norce,
        lambda: str(emulator.orders.snapshot()["orders"]),
    )
    demo.out.table(
        "The order in Norce after the ERP's answers",
        ["basket", "OrderNo", "status", "tracking", "invoice"],
        [
            [
                BASKET_ID,
                norce["OrderNo"],
                norce["OrderStatus"],
                norce["DeliveryNotes"][0]["DeliveryNotePackages"][0]["ParcelNumber"],
                norce["Invoices"][0]["InvoiceNo"],
            ]
        ],
    )
    demo.summary["orders"] = {
        "checkout_posts": len(checkout["attempts"]),
        "stored": 1,
        "at_erp": len(at_erp),
        "erp_order_no": norce["OrderNo"],
        "status": norce["OrderStatus"],
    }
    demo.out.ok(
        f"checkout posted 3 times → 1 order at the ERP → {norce['OrderStatus']} as {norce['OrderNo']}, "
        "delivery note and invoice in Norce"
    )


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()
