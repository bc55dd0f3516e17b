"""An EventBridge target without bus_name publishes to the stack's bus, the one its role may use."""

from __future__ import annotations

import pytest

from norcekit.events.config import EventBridgeTargetConfig


def test_bus_defaults_to_the_stacks_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "norcekit-prod")
    assert EventBridgeTargetConfig(type="eventbridge").bus_name == "norcekit-prod"


def test_bus_falls_back_to_the_default_bus_outside_a_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    assert EventBridgeTargetConfig(type="eventbridge").bus_name == "default"


def test_an_explicit_bus_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "norcekit-prod")
    assert EventBridgeTargetConfig(type="eventbridge", bus_name="partners").bus_name == "partners"
