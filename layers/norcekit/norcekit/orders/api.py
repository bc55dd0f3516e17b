"""The order receiver's HTTP face: ``POST /orders`` on API Gateway (REST proxy events)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from norcekit.events.webhook_api import request_body

if TYPE_CHECKING:
    from norcekit.orders.intake import AnswerIntake
    from norcekit.orders.receiver import OrderAnswer, OrderReceiver

ROUTE = "/orders"
ANSWERS_ROUTE = "/orders/answers"


def _response(answer: OrderAnswer) -> Response[Any]:
    return Response(
        status_code=answer.status,
        content_type="application/json",
        body=json.dumps(answer.body),
        headers=dict(answer.headers),
    )


def build_order_resolver(
    receiver: Callable[[], OrderReceiver], intake: Callable[[], AnswerIntake] | None = None
) -> APIGatewayRestResolver:
    """``POST /orders`` (Norce) and, with ``intake``, ``POST /orders/answers`` (the ERP); the
    factories are called per request (their objects are built lazily, on the first one)."""
    app = APIGatewayRestResolver()

    @app.post(ROUTE)
    def receive() -> Response[Any]:
        raw = app.current_event.raw_event
        return _response(receiver().receive(raw.get("headers") or {}, request_body(raw)))

    if intake is not None:
        answers = intake

        @app.post(ANSWERS_ROUTE)
        def receive_answer() -> Response[Any]:
            raw = app.current_event.raw_event
            return _response(answers().receive(raw.get("headers") or {}, request_body(raw)))

    return app


__all__ = ["ANSWERS_ROUTE", "ROUTE", "build_order_resolver"]
