"""LeaseLock: one holder per entity, expiry takeover, owner-only release."""

from __future__ import annotations

import pytest

from norcekit.state.locks import LeaseLock, LockHeld, LockLostError
from norcekit.state.table import StateTable

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def lock(table: StateTable, owner: str, clock: Clock, lease_s: float = 60) -> LeaseLock:
    return LeaseLock(table, "products#delta", owner, lease_s, clock=clock)


def test_second_owner_is_refused_while_the_lease_runs(state_table: StateTable, clock: Clock) -> None:
    first, second = lock(state_table, "run-1", clock), lock(state_table, "run-2", clock)
    assert first.acquire()
    clock.now += 59
    assert not second.acquire()
    assert second.blocked_by is not None
    assert second.blocked_by.owner == "run-1"
    assert second.blocked_by.until == pytest.approx(clock.now + 1)


def test_the_same_owner_may_acquire_again(state_table: StateTable, clock: Clock) -> None:
    first = lock(state_table, "run-1", clock)
    assert first.acquire()
    assert lock(state_table, "run-1", clock).acquire()


def test_an_expired_lease_is_taken_over(state_table: StateTable, clock: Clock) -> None:
    crashed, successor = lock(state_table, "run-1", clock), lock(state_table, "run-2", clock)
    assert crashed.acquire()
    clock.now += 61
    assert successor.acquire()
    assert successor.holder() is not None and successor.holder().owner == "run-2"  # type: ignore[union-attr]
    # The old holder finds out at its next renewal or fencing check.
    with pytest.raises(LockLostError):
        crashed.renew()
    with pytest.raises(LockLostError):
        crashed.assert_held()


def test_release_by_a_non_owner_is_refused(state_table: StateTable, clock: Clock) -> None:
    holder, intruder = lock(state_table, "run-1", clock), lock(state_table, "run-2", clock)
    assert holder.acquire()
    assert not intruder.release()
    assert not intruder.acquire()  # still held by run-1
    assert holder.release()
    assert intruder.acquire()


def test_renew_extends_the_lease(state_table: StateTable, clock: Clock) -> None:
    holder, other = lock(state_table, "run-1", clock), lock(state_table, "run-2", clock)
    assert holder.acquire()
    clock.now += 50
    holder.renew()
    clock.now += 50  # 100 s after acquiring: only alive thanks to the renewal
    assert not other.acquire()
    holder.assert_held()


def test_renew_after_release_is_lost(state_table: StateTable, clock: Clock) -> None:
    holder = lock(state_table, "run-1", clock)
    assert holder.acquire()
    holder.release()
    with pytest.raises(LockLostError):
        holder.renew()


def test_context_manager_raises_lock_held_with_holder_and_until(
    state_table: StateTable, clock: Clock
) -> None:
    with lock(state_table, "run-1", clock):
        with pytest.raises(LockHeld) as caught, lock(state_table, "run-2", clock):
            pass
        assert caught.value.holder == "run-1"
        assert caught.value.until == pytest.approx(clock.now + 60)
        assert "run-1" in str(caught.value)
    # released on exit
    assert lock(state_table, "run-2", clock).acquire()


def test_locks_are_per_name(state_table: StateTable, clock: Clock) -> None:
    assert LeaseLock(state_table, "products#delta", "a", 60, clock=clock).acquire()
    assert LeaseLock(state_table, "customers#delta", "b", 60, clock=clock).acquire()


def test_lock_item_expires_for_garbage_collection(state_table: StateTable, clock: Clock) -> None:
    holder = lock(state_table, "run-1", clock)
    holder.acquire()
    item = state_table.get({"PK": "LOCK#products#delta", "SK": "LOCK"})
    assert item is not None
    assert item["expires_at"] > clock.now + 60
    assert isinstance(item["expires_at"], int)
