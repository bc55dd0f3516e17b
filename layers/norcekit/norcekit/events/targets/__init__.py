"""Delivery targets (HTTP, EventBridge, S3) behind the :class:`~.base.Target` protocol."""

from __future__ import annotations

from norcekit.events.config import EventBridgeTargetConfig, EventsConfig, HttpTargetConfig
from norcekit.events.targets.base import DeliveryResult, Outcome, Target, TargetDocument


def build_targets(config: EventsConfig) -> dict[str, Target]:
    """One target per configured name; AWS/HTTP clients are created on first delivery."""
    targets: dict[str, Target] = {}
    for name, target_config in config.targets.items():
        if isinstance(target_config, HttpTargetConfig):
            from norcekit.events.targets.http import HttpTarget  # noqa: PLC0415 - httpx only when an HTTP target is configured

            targets[name] = HttpTarget(name, target_config)
        elif isinstance(target_config, EventBridgeTargetConfig):
            from norcekit.events.targets.eventbridge import EventBridgeTarget  # noqa: PLC0415 - only when configured

            targets[name] = EventBridgeTarget(name, target_config)
        else:
            from norcekit.events.targets.s3 import S3Target  # noqa: PLC0415 - only when configured

            targets[name] = S3Target(name, target_config)
    return targets


__all__ = ["DeliveryResult", "Outcome", "Target", "TargetDocument", "build_targets"]
