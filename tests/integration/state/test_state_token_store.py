"""DynamoTokenStore: one shared token, one refresher at a time."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from norcekit.norce.tokens import CachedToken, TokenStore, token_cache_key
from norcekit.state.table import StateTable
from norcekit.state.token_store import DynamoTokenStore

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(state_table: StateTable, clock: Clock) -> DynamoTokenStore:
    return DynamoTokenStore(
        state_table, token_cache_key("https://x.example/identity/1.0/connect/token", "c1"), clock=clock
    )


def test_implements_the_token_store_protocol(store: DynamoTokenStore) -> None:
    assert isinstance(store, TokenStore)


def test_empty_store_has_no_token(store: DynamoTokenStore) -> None:
    assert store.load() is None


def test_two_owners_compete_for_the_refresh_lease_and_one_wins(store: DynamoTokenStore) -> None:
    assert store.try_acquire_refresh("a", 30)
    assert not store.try_acquire_refresh("b", 30)
    assert store.try_acquire_refresh("a", 30)  # re-entrant for the holder


def test_saved_token_is_shared_and_frees_the_lease(
    state_table: StateTable, store: DynamoTokenStore, clock: Clock
) -> None:
    assert store.try_acquire_refresh("a", 30)
    store.save(CachedToken(SecretStr("tok-1"), clock.now + 3600), "a")
    other_container = DynamoTokenStore(state_table, store._key["PK"].removeprefix("TOKEN#"), clock=clock)
    loaded = other_container.load()
    assert loaded is not None
    assert loaded.access_token.get_secret_value() == "tok-1"
    assert loaded.expires_at == pytest.approx(clock.now + 3600)
    assert other_container.try_acquire_refresh("b", 30)


def test_an_expired_lease_is_taken_over(store: DynamoTokenStore, clock: Clock) -> None:
    assert store.try_acquire_refresh("a", 30)
    clock.now += 31
    assert store.try_acquire_refresh("b", 30)
    assert not store.try_acquire_refresh("a", 30)


def test_release_only_frees_the_owners_lease(store: DynamoTokenStore) -> None:
    assert store.try_acquire_refresh("a", 30)
    store.release("b")
    assert not store.try_acquire_refresh("b", 30)
    store.release("a")
    assert store.try_acquire_refresh("b", 30)


def test_late_save_keeps_the_token_but_not_another_owners_lease(
    store: DynamoTokenStore, clock: Clock
) -> None:
    assert store.try_acquire_refresh("a", 30)
    clock.now += 31
    assert store.try_acquire_refresh("b", 30)  # a was too slow
    store.save(CachedToken(SecretStr("tok-a"), clock.now + 3600), "a")
    assert store.load().access_token.get_secret_value() == "tok-a"  # type: ignore[union-attr]
    assert not store.try_acquire_refresh("c", 30)  # b still refreshing


def test_an_older_token_never_replaces_a_newer_one(store: DynamoTokenStore, clock: Clock) -> None:
    store.save(CachedToken(SecretStr("new"), clock.now + 3600), "a")
    store.save(CachedToken(SecretStr("old"), clock.now + 60), "b")
    assert store.load().access_token.get_secret_value() == "new"  # type: ignore[union-attr]


def test_token_value_is_not_in_the_repr(store: DynamoTokenStore, clock: Clock) -> None:
    store.save(CachedToken(SecretStr("tok-hidden"), clock.now + 3600), "a")
    assert "tok-hidden" not in repr(store.load())
