"""An HTTP target's delivery ends at a total time limit, however slowly the target trickles its answer.

The trickling target sends a 2xx body one byte every 50 ms (~12 s in all), every read far inside
httpx's per-read timeout: with per-read timeouts alone each delivery would succeed after ~2 s and
hold the event processor that long per document. The limits (3 s) leave a loaded machine time to
connect; only the trickle can use them up.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.fixtures.local_http import Request, local_server, trickle

from norcekit.deadline import Deadline
from norcekit.events.config import HttpTargetConfig
from norcekit.events.targets.base import Outcome, TargetDocument
from norcekit.events.targets.http import HttpTarget

pytestmark = pytest.mark.integration

SLOW_OK = trickle(b'{"received": true, "padding": "' + b"x" * 200 + b'"}')


def target(url: str, **overrides: Any) -> HttpTarget:
    config = HttpTargetConfig.model_validate(
        {"type": "http", "url": f"{url}/docs", "backoff_s": 0.0, "max_attempts": 1, **overrides}
    )
    return HttpTarget("shop", config, auth=lambda refresh: None, sleep=lambda _: None)


def doc() -> TargetDocument:
    return TargetDocument.build("sku", "100011", ["SkuChangedNotification"], {"PartNo": "100011"})


@pytest.mark.parametrize(
    ("limits", "deadline_s"),
    [
        ({"timeout_s": 3.0}, None),  # the target's timeout_s is a total per attempt
        ({"timeout_s": 60.0, "max_attempts": 5}, 3.0),  # the Lambda's deadline; no retry starts after it
    ],
    ids=["timeout_s", "deadline"],
)
def test_a_trickled_answer_is_cut_and_left_for_redelivery(
    limits: dict[str, Any], deadline_s: float | None
) -> None:
    with local_server(SLOW_OK) as server:
        shop = target(server.url, **limits)
        try:
            (result,) = shop.deliver(
                [doc()], deadline=Deadline.after(deadline_s) if deadline_s else Deadline.none()
            )
        finally:
            shop.close()

    assert result.outcome is Outcome.RETRYABLE_ERROR
    assert "ReadTimeout after 1 attempt(s)" in result.detail
    assert len(server.requests) == 1


def test_a_prompt_target_is_delivered_to_with_its_idempotency_keys() -> None:
    def prompt(request: Request) -> None:
        request.send_json(202, {"received": True})

    with local_server(prompt) as server:
        shop = target(server.url, timeout_s=5.0)
        try:
            docs = [doc(), doc()]
            results = shop.deliver(docs, deadline=Deadline.none())
        finally:
            shop.close()

    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK]
    assert [(method, headers["idempotency-key"]) for method, _, headers in server.requests] == [
        ("POST", d.idempotency_key) for d in docs
    ]
