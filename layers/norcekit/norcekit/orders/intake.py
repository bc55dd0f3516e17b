"""``POST /orders/answers``: the ERP's answers over HTTP (basic auth, the ERP's own credentials).

A valid answer (:class:`~norcekit.orders.answers.ErpAnswer` with a contract body) is queued and
answered ``202 {"status": "queued"}``; an invalid one ``400`` with the fields at fault (the ERP
can fix and resend it); ``401`` without accepted credentials; ``503`` when the queue refused it.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from aws_lambda_powertools import Logger

from norcekit.events.queue import EventQueue
from norcekit.events.webhook_auth import SecretSource, SecretsUnavailable
from norcekit.orders.answers import parse_answer
from norcekit.orders.auth import BasicAuthenticator
from norcekit.orders.receiver import UNAUTHORIZED, OrderAnswer

logger = Logger(service="norcekit", child=True)

UNAVAILABLE = OrderAnswer(503, {"message": "Service unavailable, retry later"})


class AnswerIntake:
    def __init__(
        self, *, credentials: SecretSource, queue: EventQueue, auth: BasicAuthenticator | None = None
    ) -> None:
        self.auth = auth or BasicAuthenticator(credentials)
        self.queue = queue

    def receive(self, headers: Mapping[str, str] | None, body: bytes) -> OrderAnswer:
        try:
            if not self.auth.authenticate(headers):
                return UNAUTHORIZED
        except SecretsUnavailable:
            return UNAVAILABLE
        try:
            answer, _ = parse_answer(body)
        except ValueError as exc:
            return OrderAnswer(400, {"message": str(exc)})
        try:
            message_id = self.queue.send(
                orjson.dumps(answer.model_dump()).decode(), {"client_order_ref": answer.client_order_ref}
            )
        except Exception as exc:
            logger.error("ERP answer not queued", extra={"error": type(exc).__name__})
            return UNAVAILABLE
        return OrderAnswer(202, {"status": "queued", "message_id": message_id})


__all__ = ["AnswerIntake"]
