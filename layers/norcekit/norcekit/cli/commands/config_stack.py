"""``config validate --stack NAME``: does this configuration run under the deployed stack?

Checked before upload, against what the stack gives its functions:

* every ``${VAR}`` and ``{env: VAR}`` is a variable of the deployed import function (its
  environment, read with GetFunctionConfiguration), not one the operator happens to have;
* every ``s3://`` file-drop root lies under the stack's ``FileDropRoot`` (the bucket and prefix
  the import runner may read and list);
* every Secrets Manager reference exists (DescribeSecret) and is the stack's source secret (for
  sources) or target secret (for HTTP targets), the only ones the functions may read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from norcekit.configfile import required_variables
from norcekit.imports.sources.auth import SecretRef

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.events.config import EventsConfig
    from norcekit.imports.config import IntegrationConfig

#: The prefix the template's IAM allowed before FileDropRoot was an output.
LEGACY_FILE_DROP_PREFIX = "incoming/"


def stack_problems(
    ctx: CliContext, document: Mapping[str, Any], config: IntegrationConfig, events: EventsConfig | None
) -> tuple[list[str], dict[str, Any]]:
    """Problems (one line each, naming the setting) and what was checked (for the JSON answer)."""
    resources = ctx.resources
    environment = resources.env
    problems = [
        f"{where}: ${{{name}}} is not set in the deployed functions' environment"
        for name, where in sorted(required_variables(dict(document)).items(), key=lambda item: item[1])
        if name not in environment
    ]
    root = resources.outputs.get("FileDropRoot") or (
        f"s3://{resources.bucket}/{LEGACY_FILE_DROP_PREFIX}" if resources.bucket else None
    )
    for name, source in config.sources.items():
        location = getattr(source, "root", None)
        if source.type != "filedrop" or not isinstance(location, str):
            continue
        if not location.startswith("s3://"):
            problems.append(
                f"sources.{name}.root: {location!r} is a local folder; the deployed function reads s3://"
            )
        elif root and not location.rstrip("/").startswith(root.rstrip("/")):
            problems.append(
                f"sources.{name}.root: {location} is outside {root}, where the import runner may read"
            )
    secrets: list[dict[str, Any]] = []
    allowed = {
        "sources": resources.outputs.get("SourceCredentialsSecretArn"),
        "events": resources.outputs.get("TargetCredentialsSecretArn"),
    }
    references = list(_secret_refs(config.sources, "sources"))
    if events is not None:
        for name, target in events.targets.items():
            arn = getattr(target, "credentials_secret_arn", None)
            if arn:
                references.append(
                    (f"events.targets.{name}.credentials_secret_arn", SecretRef(secret_arn=arn))
                )
    for path, ref in references:
        if ref.env:
            if ref.env not in environment:
                problems.append(
                    f"{path}: {{env: {ref.env}}} is not set in the deployed functions' environment"
                )
            continue
        assert ref.secret_arn is not None
        exists = _secret_exists(ctx, ref.secret_arn)
        secrets.append({"path": path, "arn": ref.secret_arn, "key": ref.key, "exists": exists})
        if not exists:
            problems.append(f"{path}: secret {ref.secret_arn} does not exist")
        stack_secret = allowed["events" if path.startswith("events.") else "sources"]
        if stack_secret and not _same_secret(ref.secret_arn, stack_secret):
            problems.append(
                f"{path}: {ref.secret_arn} is not the stack's secret {stack_secret}, the only one it may read"
            )
    return problems, {"name": resources.name, "file_drop_root": root, "secrets": secrets}


def _secret_refs(value: Any, path: str) -> Iterator[tuple[str, SecretRef]]:
    """Every :class:`SecretRef` in the configuration models, with its setting path."""
    if isinstance(value, SecretRef):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_refs(getattr(value, name), f"{path}.{name}")
        options = getattr(value, "options", None)  # a plug-in's own validated options
        if isinstance(options, BaseModel):
            yield from _secret_refs(options, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _secret_refs(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _secret_refs(item, f"{path}[{index}]")


def _secret_exists(ctx: CliContext, arn: str) -> bool:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - --stack only

    try:
        ctx.services.components.aws.secretsmanager().describe_secret(SecretId=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def _same_secret(reference: str, stack_secret: str) -> bool:
    """Full ARNs end in a random ``-xxxxxx``; a reference may name the secret without it."""
    return reference == stack_secret or stack_secret.startswith(reference + "-")


__all__ = ["stack_problems"]
