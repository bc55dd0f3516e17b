"""Delivery targets (HTTP, EventBridge, S3, ``norcekit.targets`` plug-ins) behind the
:class:`~.base.Target` protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from norcekit.events.config import (
    EventBridgeTargetConfig,
    EventsConfig,
    HttpTargetConfig,
    PluginTargetConfig,
)
from norcekit.events.targets.base import DeliveryResult, Outcome, Target, TargetDocument

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client


class TargetAwsClients(Protocol):
    """Where targets get their AWS clients (``norcekit.wiring.AwsClients``)."""

    def s3(self) -> S3Client: ...

    def events(self) -> EventBridgeClient: ...

    def secrets_provider(self) -> SecretsProvider: ...


def build_targets(config: EventsConfig, aws: TargetAwsClients) -> dict[str, Target]:
    """One target per configured name; HTTP clients are created on first delivery, AWS clients
    come from ``aws`` (the composition root's)."""
    targets: dict[str, Target] = {}
    for name, target_config in config.targets.items():
        if isinstance(target_config, HttpTargetConfig):
            from norcekit.events.targets.http import HttpTarget, secret_auth  # noqa: PLC0415 - httpx only when an HTTP target is configured

            auth = None
            if target_config.credentials_secret_arn:
                auth = secret_auth(target_config, provider=aws.secrets_provider())
            targets[name] = HttpTarget(name, target_config, auth=auth)
        elif isinstance(target_config, EventBridgeTargetConfig):
            from norcekit.events.targets.eventbridge import EventBridgeTarget  # noqa: PLC0415 - only when configured

            targets[name] = EventBridgeTarget(name, target_config, client=aws.events())
        elif isinstance(target_config, PluginTargetConfig):
            # The plug-in takes its AWS clients (if any) from ``aws``, the process's composition root.
            targets[name] = target_config.plugin.build(name, target_config.options, aws)
        else:
            from norcekit.events.targets.s3 import S3Target  # noqa: PLC0415 - only when configured

            targets[name] = S3Target(name, target_config, client=aws.s3())
    return targets


__all__ = ["DeliveryResult", "Outcome", "Target", "TargetAwsClients", "TargetDocument", "build_targets"]
