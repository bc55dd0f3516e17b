"""Find a norcekit deployment's resources: the variables a norcekit process needs to use it.

Used by the CLI (``norcekit``) and the local demo; nothing in the Lambda functions imports it.
Three ways to point at a stack, all ending in a :class:`StackResources` whose ``env`` block is
merged into the variables that settings are read from (:func:`stack_environ`; ``os.environ`` itself
is never changed), so every object built by :mod:`norcekit.wiring` targets the same stack:

* **deployed** — :func:`resolve_cloudformation`: CloudFormation ``DescribeStacks`` outputs
  ``TableName``, ``EventQueueUrl``, ``EventDLQUrl``, ``BucketName``, ``NorceCredentialsSecretArn``,
  ``WebhookSecretsSecretArn``, and the import function's environment (Lambda
  ``GetFunctionConfiguration`` of output ``ImportRunnerFunctionName``): the Norce tenant
  (``NORCE_SLUG``, ``NORCE_APPLICATION_ID``, ``NORCE_ACCOUNT_ID``/``NORCE_ACCOUNT_IDS`` ...) and the
  integration configuration (``NORCEKIT_CONFIG``) as the deployed functions see them, over the
  operator's environment. Credentials come from the stack's Secrets Manager secret unless
  ``NORCE_CLIENT_ID`` and ``NORCE_CLIENT_SECRET`` are set. AWS credentials/region: the usual boto3 chain.
* **local** — :func:`resolve_local`: ``<root>/stack.json`` written by the running local stack
  (``python -m norcekit_local``); its ``env`` block is the functions' environment, resolved locally.
* **environment** — :func:`resolve_environment`: whatever ``TABLE_NAME``, ``EVENT_QUEUE_URL``,
  ``EVENT_DLQ_URL``, ``QUARANTINE_BUCKET`` say (e.g. after ``set -a; . .local/stack.env``).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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
    "OrderQueueUrl": "ORDER_QUEUE_URL",
    # Where `schedules sync` puts the configuration's import schedules.
    "ImportScheduleGroupName": "IMPORT_SCHEDULE_GROUP",
    "ImportRunnerFunctionArn": "IMPORT_RUNNER_ARN",
    "ImportSchedulerRoleArn": "IMPORT_SCHEDULER_ROLE_ARN",
    "SchedulerDLQArn": "SCHEDULER_DLQ_ARN",
    "ScheduleTimezone": "SCHEDULE_TIMEZONE",
}
#: The DLQ is not a function setting (no Lambda needs it), so the environment mode reads this.
DLQ_ENV = "EVENT_DLQ_URL"
#: The function whose environment is the stack's settings (every function shares the Globals block).
IMPORT_FUNCTION_OUTPUT = "ImportRunnerFunctionName"
#: Function variables that describe the Lambda runtime, not the stack: never copied to an operator.
_RUNTIME_PREFIXES = ("POWERTOOLS_", "AWS_LAMBDA_", "_X_AMZN", "_HANDLER", "LAMBDA_")


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
    #: Merged into the variables settings are read from (see :func:`stack_environ`).
    env: dict[str, str] = field(default_factory=dict)
    #: The deployed import function (``import run --stack`` invokes it).
    import_function: str | None = None
    #: Every CloudFormation output (``config validate --stack`` compares a configuration with them).
    outputs: dict[str, str] = field(default_factory=dict)
    #: What could not be read (e.g. no rights to GetFunctionConfiguration), said once to the operator.
    warnings: tuple[str, ...] = ()

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
    name: str,
    region: str | None = None,
    *,
    cloudformation: Any,
    lambda_client: Any = None,
    environ: Mapping[str, str] | None = None,
) -> StackResources:
    """A deployed stack, from its CloudFormation outputs (``cloudformation``: a boto3 client) and,
    with ``lambda_client``, its import function's environment (the tenant settings).

    ``environ``: the operator's variables (their own Norce credentials win over the stack's secret).
    """
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - only for --stack

    operator = os.environ if environ is None else environ
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
    function = outputs.get(IMPORT_FUNCTION_OUTPUT)
    env, warnings = _function_environment(lambda_client, function)
    env.update({var: outputs[key] for key, var in OUTPUT_ENV.items() if outputs.get(key)})
    if outputs.get("EventDLQUrl"):
        env[DLQ_ENV] = outputs["EventDLQUrl"]
    if operator.get("NORCE_CLIENT_ID") and operator.get("NORCE_CLIENT_SECRET"):
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
        import_function=function,
        outputs=outputs,
        warnings=warnings,
    )


def _function_environment(lambda_client: Any, function: str | None) -> tuple[dict[str, str], tuple[str, ...]]:
    """The deployed function's own variables (runtime ones left out), or why they could not be read."""
    if lambda_client is None or not function:
        return {}, ()
    from botocore.exceptions import ClientError  # noqa: PLC0415 - only for --stack

    try:
        configuration = lambda_client.get_function_configuration(FunctionName=function)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        return {}, (
            f"--stack: cannot read the settings of function {function} ({code}); tenant settings "
            "(NORCE_*) come from your environment or --env-file",
        )
    variables = (configuration.get("Environment") or {}).get("Variables") or {}
    env = {str(k): str(v) for k, v in variables.items() if not str(k).startswith(_RUNTIME_PREFIXES)}
    return env, ()


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


def stack_environ(
    base: Mapping[str, str], resources: StackResources, *, config: str | Path | None = None
) -> dict[str, str]:
    """The variables a norcekit process reads for ``resources``: ``base`` (the operator's environment
    and env file), then the stack's own block, then ``--config``."""
    environ = {**base, **resources.env}
    if config is not None:
        environ["NORCEKIT_CONFIG"] = str(Path(config).resolve())
    return environ


__all__ = [
    "DEFAULT_LOCAL_ROOT",
    "DLQ_ENV",
    "OUTPUT_ENV",
    "StackError",
    "StackResources",
    "read_env_file",
    "resolve_cloudformation",
    "resolve_environment",
    "resolve_local",
    "stack_environ",
]
