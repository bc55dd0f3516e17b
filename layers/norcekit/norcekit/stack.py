"""Find a norcekit deployment's resources and build the services an operator tool works with.

Used by the CLI (``norcekit``) and the local demo; nothing in the Lambda functions imports it.
Three ways to point at a stack, all ending in a :class:`StackResources` whose ``env`` block is
applied to the process environment *before* settings load, so every library factory that reads
settings (``StateTable.from_settings``, ``build_import_runner`` ...) targets the same stack:

* **deployed** — :func:`resolve_cloudformation`: CloudFormation ``DescribeStacks`` outputs
  ``TableName``, ``EventQueueUrl``, ``EventDLQUrl``, ``BucketName``, ``NorceCredentialsSecretArn``,
  ``WebhookSecretsSecretArn``. The Norce tenant (``NORCE_SLUG``, ``NORCE_ENVIRONMENT``,
  ``NORCE_APPLICATION_ID``, ``NORCE_ACCOUNT_ID``/``NORCE_ACCOUNT_IDS`` ...) and the integration
  configuration (``NORCEKIT_CONFIG``) come from the operator's environment (or an env file);
  credentials come from the stack's Secrets Manager secret unless ``NORCE_CLIENT_ID`` and
  ``NORCE_CLIENT_SECRET`` are set. AWS credentials/region: the usual boto3 chain.
* **local** — :func:`resolve_local`: ``<root>/stack.json`` written by the running local stack
  (``python -m norcekit_local``); its ``env`` block is the functions' environment, resolved locally.
* **environment** — :func:`resolve_environment`: whatever ``TABLE_NAME``, ``EVENT_QUEUE_URL``,
  ``EVENT_DLQ_URL``, ``QUARANTINE_BUCKET`` say (e.g. after ``set -a; . .local/stack.env``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from norcekit.imports.config import IntegrationConfig
    from norcekit.imports.runner import ImportRunner
    from norcekit.jobs import JobTracker
    from norcekit.norce.factory import NorceClients
    from norcekit.observability import MetricName
    from norcekit.quarantine import S3QuarantineStore
    from norcekit.state.jobs import JobStore
    from norcekit.state.runs import RunStore
    from norcekit.state.table import StateTable
    from norcekit.state.watermarks import WatermarkStore

StackOrigin = Literal["cloudformation", "local", "environment"]

DEFAULT_LOCAL_ROOT = ".local"
LOCAL_STACK_FILE = "stack.json"

#: CloudFormation output → environment variable read by :class:`~norcekit.settings.Settings`.
OUTPUT_ENV: dict[str, str] = {
    "TableName": "TABLE_NAME",
    "EventQueueUrl": "EVENT_QUEUE_URL",
    "BucketName": "QUARANTINE_BUCKET",
    "NorceCredentialsSecretArn": "NORCE_CREDENTIALS_SECRET_ARN",
    "WebhookSecretsSecretArn": "WEBHOOK_SECRETS_ARN",
}
#: The DLQ is not a function setting (no Lambda needs it), so the environment mode reads this.
DLQ_ENV = "EVENT_DLQ_URL"
#: Operator tools fail fast on a dead endpoint instead of botocore's default 5 legacy attempts;
#: applied only when the operator has not chosen otherwise.
AWS_RETRY_DEFAULTS = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3"}


class StackError(Exception):
    """The stack could not be resolved; ``unreachable`` tells a dead dependency from bad input."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class StackResources:
    """Where a stack's state lives, and the environment a norcekit process needs to use it."""

    origin: StackOrigin
    name: str | None
    region: str | None
    table: str | None
    queue_url: str | None
    dlq_url: str | None
    bucket: str | None
    #: Applied to ``os.environ`` (see :func:`applied_environment`) before settings are read.
    env: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """Non-secret summary (for ``status``)."""
        return {
            "origin": self.origin,
            "name": self.name,
            "region": self.region,
            "table": self.table,
            "queue_url": self.queue_url,
            "dlq_url": self.dlq_url,
            "bucket": self.bucket,
        }


# --- resolving ------------------------------------------------------------------------------------


def resolve_local(root: str | Path = DEFAULT_LOCAL_ROOT) -> StackResources:
    """The running local stack described by ``<root>/stack.json``."""
    path = Path(root) / LOCAL_STACK_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackError(
            f"no local stack running: {path} not found (start one with `python -m norcekit_local "
            f"--root {root}`)",
            unreachable=True,
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StackError(f"{path}: unreadable ({exc})") from None
    if not isinstance(info, dict) or not isinstance(info.get("env"), dict):
        raise StackError(f"{path}: not a local stack file (no 'env' block)")
    env = {str(k): str(v) for k, v in info["env"].items()}
    # Direct credentials (the emulator's, not real): no Secrets Manager round trip needed locally.
    for key, var in (("norce_client_id", "NORCE_CLIENT_ID"), ("norce_client_secret", "NORCE_CLIENT_SECRET")):
        if info.get(key):
            env[var] = str(info[key])
    if info.get("norce_url"):
        env.setdefault("NORCE_BASE_URL", str(info["norce_url"]))
    if info.get("dlq_url"):
        env.setdefault(DLQ_ENV, str(info["dlq_url"]))
    return StackResources(
        origin="local",
        name=str(info.get("stack_name") or "local"),
        region=info.get("region"),
        table=info.get("table") or env.get("TABLE_NAME"),
        queue_url=info.get("queue_url") or env.get("EVENT_QUEUE_URL"),
        dlq_url=info.get("dlq_url"),
        bucket=info.get("bucket") or env.get("QUARANTINE_BUCKET"),
        env=env,
    )


def resolve_cloudformation(
    name: str, region: str | None = None, *, cloudformation: Any = None
) -> StackResources:
    """A deployed stack, from its CloudFormation outputs (``cloudformation`` client for tests)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    if cloudformation is None:
        import boto3  # noqa: PLC0415

        cloudformation = boto3.client("cloudformation", region_name=region)
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if "does not exist" in message:
            where = f" in {region}" if region else ""
            raise StackError(f"--stack: CloudFormation stack {name!r} does not exist{where}") from None
        raise
    except BotoCoreError:
        raise  # connection/credential problems are mapped by the caller
    if not stacks:
        raise StackError(f"--stack: CloudFormation stack {name!r} does not exist")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "TableName" not in outputs:
        raise StackError(f"--stack: stack {name!r} has no TableName output (not a norcekit stack?)")
    env = {var: outputs[key] for key, var in OUTPUT_ENV.items() if outputs.get(key)}
    if outputs.get("EventDLQUrl"):
        env[DLQ_ENV] = outputs["EventDLQUrl"]
    if os.environ.get("NORCE_CLIENT_ID") and os.environ.get("NORCE_CLIENT_SECRET"):
        env.pop("NORCE_CREDENTIALS_SECRET_ARN", None)  # the operator's own credentials win
    if region:
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    return StackResources(
        origin="cloudformation",
        name=name,
        region=region or getattr(getattr(cloudformation, "meta", None), "region_name", None),
        table=outputs.get("TableName"),
        queue_url=outputs.get("EventQueueUrl"),
        dlq_url=outputs.get("EventDLQUrl"),
        bucket=outputs.get("BucketName"),
        env=env,
    )


def resolve_environment(environ: Mapping[str, str] | None = None) -> StackResources:
    """Resources named by the environment itself (no lookup)."""
    env = os.environ if environ is None else environ

    def get(*names: str) -> str | None:
        return next((env[n] for n in names if env.get(n)), None)

    return StackResources(
        origin="environment",
        name=None,
        region=get("AWS_REGION", "AWS_DEFAULT_REGION"),
        table=get("TABLE_NAME", "NORCEKIT_TABLE"),
        queue_url=get("EVENT_QUEUE_URL"),
        dlq_url=get(DLQ_ENV),
        bucket=get("QUARANTINE_BUCKET"),
    )


def read_env_file(path: str | Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, shell quoting, optional ``export``), e.g. stack.env."""
    values: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StackError(f"--env-file: cannot read {path}: {exc.strerror}") from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise StackError(f"--env-file: {path}:{number}: expected NAME=VALUE")
        try:
            parts = shlex.split(value, comments=True)
        except ValueError as exc:
            raise StackError(f"--env-file: {path}:{number}: {exc}") from None
        values[name.strip()] = " ".join(parts)
    return values


@contextlib.contextmanager
def applied_environment(overlay: Mapping[str, str]) -> Iterator[None]:
    """``overlay`` in ``os.environ`` (plus retry defaults) and a fresh boto3 default session; undone after.

    The fresh session matters: boto3 caches its default session, which would keep an earlier
    endpoint or region.
    """
    import boto3  # noqa: PLC0415

    changes = {**{k: v for k, v in AWS_RETRY_DEFAULTS.items() if k not in os.environ}, **overlay}
    saved = {name: os.environ.get(name) for name in changes}
    saved_session = boto3.DEFAULT_SESSION
    os.environ.update(changes)
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.DEFAULT_SESSION = saved_session


# --- services -------------------------------------------------------------------------------------


class QuietMetrics(Metrics):
    """Drops every metric: EMF lines printed by an operator's process would reach no dashboard
    (EMF is ingested from Lambda logs) and would garble ``--json`` output on stdout."""

    def add_metric(self, name: str, unit: MetricUnit | str, value: float, resolution: Any = 60) -> None:
        return None

    def add_dimension(self, name: str, value: str) -> None:
        return None

    def add_metadata(self, key: str, value: Any) -> None:
        return None


class QuietJobMetrics:
    """:class:`norcekit.jobs.JobMetrics` that drops every data point (see :class:`QuietMetrics`)."""

    def emit(self, name: MetricName, value: float, unit: MetricUnit, *, entity: str) -> None:
        return None


class Services:
    """The stores and clients of one stack, built on first use. Close it when done.

    Build it inside :func:`applied_environment` (the settings and boto3 clients read the
    environment when they are created).
    """

    def __init__(self, resources: StackResources, settings: Settings | None = None) -> None:
        self.resources = resources
        self._settings = settings
        self._closers: list[Any] = []

    @cached_property
    def settings(self) -> Settings:
        return self._settings or load_settings()

    # --- AWS ---

    @cached_property
    def table(self) -> StateTable:
        from norcekit.state.table import StateTable  # noqa: PLC0415

        name = self.resources.table or self.settings.table_name
        if not name:
            raise SettingsError("TABLE_NAME: required but not set (or use --stack / --local)")
        return StateTable(name)

    @cached_property
    def job_store(self) -> JobStore:
        from norcekit.state.jobs import JobStore  # noqa: PLC0415

        return JobStore(self.table)

    @cached_property
    def run_store(self) -> RunStore:
        from norcekit.state.runs import RunStore  # noqa: PLC0415

        return RunStore(self.table)

    @cached_property
    def watermark_store(self) -> WatermarkStore:
        from norcekit.state.watermarks import WatermarkStore  # noqa: PLC0415

        return WatermarkStore(self.table)

    @cached_property
    def quarantine(self) -> S3QuarantineStore:
        from norcekit.quarantine import S3QuarantineStore  # noqa: PLC0415

        bucket = self.resources.bucket or self.settings.quarantine_bucket
        if not bucket:
            raise SettingsError("QUARANTINE_BUCKET: required but not set (or use --stack / --local)")
        return S3QuarantineStore(bucket)

    @cached_property
    def sqs(self) -> SQSClient:
        import boto3  # noqa: PLC0415

        return boto3.client("sqs")

    @property
    def queue_url(self) -> str:
        url = self.resources.queue_url or self.settings.event_queue_url
        if not url:
            raise SettingsError("EVENT_QUEUE_URL: required but not set (or use --stack / --local)")
        return url

    @property
    def dlq_url(self) -> str:
        url = self.resources.dlq_url or os.environ.get(DLQ_ENV)
        if not url:
            raise SettingsError(f"{DLQ_ENV}: required but not set (or use --stack / --local)")
        return url

    def queue_depth(self, url: str) -> dict[str, int]:
        """Approximate message counts of a queue (SQS attributes)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }

    def quarantine_count(self, kind: str, *, cap: int = 10_000) -> int:
        """Pending quarantined items of ``kind`` (keys counted, objects not read), at most ``cap``."""
        store = self.quarantine
        count = 0
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix=f"{store.prefix}{kind}/"
        )
        for page in pages:
            count += sum(1 for obj in page.get("Contents", []) if obj.get("Key", "").endswith(".json"))
            if count >= cap:
                return cap
        return count

    # --- Norce and the domain ---

    @cached_property
    def config(self) -> IntegrationConfig:
        from norcekit.imports.config import load_config  # noqa: PLC0415

        return load_config(settings=self.settings)

    @cached_property
    def norce(self) -> NorceClients:
        from norcekit.norce.auth import token_cache_key  # noqa: PLC0415
        from norcekit.norce.factory import build_norce_clients, resolve_credentials  # noqa: PLC0415
        from norcekit.state.token_store import DynamoTokenStore  # noqa: PLC0415

        settings = self.settings
        settings.require_norce()
        client_id, _ = resolve_credentials(settings)
        # The token lives in the stack's table: the CLI shares the functions' token (rate limit).
        store = DynamoTokenStore(self.table, token_cache_key(settings.token_url, client_id))
        clients = build_norce_clients(settings, token_store=store)
        self._closers.append(clients)
        return clients

    @cached_property
    def tracker(self) -> JobTracker:
        from norcekit.jobs import build_job_tracker  # noqa: PLC0415

        return build_job_tracker(
            self.settings, table=self.table, clients=self.norce, metrics=QuietJobMetrics()
        )

    @cached_property
    def runner(self) -> ImportRunner:
        from norcekit.imports.runner import build_import_runner  # noqa: PLC0415

        return build_import_runner(self.settings, self.config, metrics=QuietMetrics())

    def close(self) -> None:
        while self._closers:
            with contextlib.suppress(Exception):
                self._closers.pop().close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "DEFAULT_LOCAL_ROOT",
    "DLQ_ENV",
    "OUTPUT_ENV",
    "QuietJobMetrics",
    "QuietMetrics",
    "Services",
    "StackError",
    "StackResources",
    "applied_environment",
    "read_env_file",
    "resolve_cloudformation",
    "resolve_environment",
    "resolve_local",
]
