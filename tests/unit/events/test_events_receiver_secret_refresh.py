"""The forced Secrets Manager re-read on a wrong secret is rate-limited and never turns a 401 into a 503."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from norcekit.events.receiver import SecretsManagerSecrets, WebhookReceiver
from norcekit.quarantine import LocalQuarantineStore

SECRET = "unit-webhook-secret"
NEW_SECRET = "unit-webhook-secret-rotated"
INTERVAL = 30.0
BODY = json.dumps({"ClientId": 1, "PartNo": "P1", "EntityChanged": "tClientProductSku"}).encode()


class FakeSecretsManager:
    """Powertools' SecretsProvider as the receiver sees it: a cached value, ``force_fetch`` re-reads."""

    def __init__(self, stored: list[str]) -> None:
        self.stored = stored
        self.cached: list[str] | None = None
        self.forced_fetches = 0
        self.down = False
        self.delay_s = 0.0

    def get(self, name: str, max_age: int, force_fetch: bool) -> str:
        if force_fetch:
            self.forced_fetches += 1
            time.sleep(self.delay_s)
        if force_fetch or self.cached is None:
            if self.down:
                raise RuntimeError("ThrottlingException")
            self.cached = list(self.stored)
        return json.dumps(self.cached)


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, body: str, attributes: Any) -> str:
        self.sent.append(body)
        return f"msg-{len(self.sent)}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def manager() -> FakeSecretsManager:
    return FakeSecretsManager([SECRET])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(manager: FakeSecretsManager, clock: Clock, tmp_path: Path) -> WebhookReceiver:
    return WebhookReceiver(
        secrets=SecretsManagerSecrets("arn:aws:secretsmanager:eu-north-1:1:secret:x", provider=manager),  # type: ignore[arg-type]
        queue=FakeQueue(),
        quarantine=LocalQuarantineStore(tmp_path / "q"),
        secret_refresh_interval_s=INTERVAL,
        monotonic=clock,
    )


def post(receiver: WebhookReceiver, secret: str | None) -> tuple[int, dict[str, Any]]:
    headers = {} if secret is None else {"X-Norce-Webhook-Secret": secret}
    response = receiver.receive("SkuChangedNotification", headers, BODY)
    return response.status, response.body


def test_hundred_wrong_guesses_cost_at_most_one_forced_fetch(
    receiver: WebhookReceiver, manager: FakeSecretsManager, clock: Clock
) -> None:
    for i in range(100):
        clock.now += 0.1  # 10 s in all: inside one interval
        assert post(receiver, f"guess-{i}") == (401, {"message": "Unauthorized"})
    assert manager.forced_fetches == 1


def test_wrong_guesses_again_cost_one_forced_fetch_per_interval(
    receiver: WebhookReceiver, manager: FakeSecretsManager, clock: Clock
) -> None:
    post(receiver, "guess")
    clock.now += INTERVAL + 1
    post(receiver, "guess")
    post(receiver, "guess")
    assert manager.forced_fetches == 2


def test_rotated_secret_is_accepted_once_the_interval_has_passed(
    receiver: WebhookReceiver, manager: FakeSecretsManager, clock: Clock
) -> None:
    assert post(receiver, "guess")[0] == 401  # spends this interval's forced re-read
    manager.stored = [NEW_SECRET, SECRET]  # rotation: new secret added in Secrets Manager

    clock.now += INTERVAL - 1
    assert post(receiver, NEW_SECRET)[0] == 401  # still rate-limited: Norce retries
    clock.now += 2
    assert post(receiver, NEW_SECRET)[0] == 200
    assert post(receiver, SECRET)[0] == 200  # the old one overlaps during the rotation
    assert manager.forced_fetches == 2


def test_first_miss_after_start_rereads_at_once(
    receiver: WebhookReceiver, manager: FakeSecretsManager
) -> None:
    assert post(receiver, SECRET)[0] == 200
    manager.stored = [NEW_SECRET]
    assert post(receiver, NEW_SECRET)[0] == 200
    assert manager.forced_fetches == 1


def test_failed_refresh_with_a_loaded_list_is_401_like_no_header(
    receiver: WebhookReceiver, manager: FakeSecretsManager, caplog: pytest.LogCaptureFixture
) -> None:
    assert post(receiver, SECRET)[0] == 200  # list loaded
    manager.down = True

    assert post(receiver, "guess") == post(receiver, None) == (401, {"message": "Unauthorized"})
    assert manager.forced_fetches == 1
    assert post(receiver, SECRET)[0] == 200  # the cached list still serves Norce
    assert "webhook secret refresh failed" in caplog.text


def test_secrets_manager_down_after_the_cache_expired_answers_from_the_last_list(
    receiver: WebhookReceiver, manager: FakeSecretsManager, caplog: pytest.LogCaptureFixture
) -> None:
    assert post(receiver, SECRET)[0] == 200  # list loaded
    manager.cached = None  # Powertools' max_age passed: the next plain read goes to Secrets Manager
    manager.down = True

    assert post(receiver, SECRET)[0] == 200
    assert post(receiver, "guess") == post(receiver, None) == (401, {"message": "Unauthorized"})
    assert "webhook secrets unavailable, using the last list read" in caplog.text


def test_cold_start_with_secrets_manager_down_is_503(
    receiver: WebhookReceiver, manager: FakeSecretsManager
) -> None:
    manager.down = True
    assert post(receiver, SECRET)[0] == 503
    assert post(receiver, "guess")[0] == 503
    assert post(receiver, None)[0] == 401  # no header: nothing to check


def test_concurrent_wrong_guesses_refresh_one_at_a_time(
    receiver: WebhookReceiver, manager: FakeSecretsManager
) -> None:
    post(receiver, SECRET)  # warm the cache
    manager.delay_s = 0.05  # a slow GetSecretValue, so the guesses overlap
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: statuses.append(post(receiver, f"guess-{i}")[0]))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [401] * 20
    assert manager.forced_fetches == 1
