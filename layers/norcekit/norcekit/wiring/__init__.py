"""The composition root: the only code that turns settings and the integration configuration into
Norce clients, boto3 clients, state stores, the import runner, the event processor, the webhook
receiver, the job tracker and the job monitor.

* :class:`Components` — one process's objects, each built once on first use (Lambda container,
  CLI invocation, local-stack service); :class:`ContainerComponents` is a handler module's holder.
* :class:`AwsClients` / :func:`aws_client_config` — every boto3 client, with one ``botocore`` Config.
* ``build_*`` — the builders :class:`Components` calls, for tests that assemble their own.

Names are imported lazily: the webhook receiver's cold start must not pay for httpx and the clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AwsClients": "aws",
    "BotoLambdaInvoker": "invoke",
    "InvokeError": "invoke",
    "LambdaInvoker": "invoke",
    "aws_client_config": "aws",
    "Components": "components",
    "ContainerComponents": "components",
    "build_norce_clients": "norce",
    "build_token_store": "norce",
    "build_job_tracker": "jobs",
    "build_job_monitor": "jobs",
    "build_import_runner": "imports",
    "load_integration_config": "imports",
    "build_event_processor": "events",
    "build_webhook_receiver": "receiver",
    "build_order_receiver": "orders",
    "build_order_delivery": "orders",
    "schedule_target": "schedules",
    "sync_configured_schedules": "schedules",
}

__all__ = [
    "AwsClients",
    "BotoLambdaInvoker",
    "Components",
    "ContainerComponents",
    "InvokeError",
    "LambdaInvoker",
    "aws_client_config",
    "build_event_processor",
    "build_import_runner",
    "build_job_monitor",
    "build_job_tracker",
    "build_norce_clients",
    "build_order_delivery",
    "build_order_receiver",
    "build_token_store",
    "build_webhook_receiver",
    "load_integration_config",
    "schedule_target",
    "sync_configured_schedules",
]

if TYPE_CHECKING:
    from norcekit.wiring.aws import AwsClients, aws_client_config
    from norcekit.wiring.components import Components, ContainerComponents
    from norcekit.wiring.events import build_event_processor
    from norcekit.wiring.imports import build_import_runner, load_integration_config
    from norcekit.wiring.invoke import BotoLambdaInvoker, InvokeError, LambdaInvoker
    from norcekit.wiring.jobs import build_job_monitor, build_job_tracker
    from norcekit.wiring.norce import build_norce_clients, build_token_store
    from norcekit.wiring.orders import build_order_delivery, build_order_receiver
    from norcekit.wiring.receiver import build_webhook_receiver
    from norcekit.wiring.schedules import schedule_target, sync_configured_schedules


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'norcekit.wiring' has no attribute {name!r}")
    return getattr(importlib.import_module(f"norcekit.wiring.{module}"), name)
