"""The integration configuration document: read from a path or ``s3://``, ``${VAR}`` substituted.

One reader for every section (imports, events, orders), so ``NORCEKIT_CONFIG`` means the same to
each function; the sections' own models live with the code that uses them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """The integration configuration is invalid; the message lists each problem with its path."""


def substitute_env(value: Any, environ: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string; a missing variable is an error."""
    if isinstance(value, dict):
        return {k: substitute_env(v, environ, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, environ, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{path}: environment variable {name} is not set (referenced as ${{{name}}})")

    return _ENV_REF.sub(replace, value)


def required_variables(value: Any, path: str = "") -> dict[str, str]:
    """Every ``${VAR}`` without a default in ``value``, with the first setting path that uses it."""
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            for name, where in required_variables(item, f"{path}.{key}" if path else str(key)).items():
                found.setdefault(name, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for name, where in required_variables(item, f"{path}[{index}]").items():
                found.setdefault(name, where)
    elif isinstance(value, str):
        for match in _ENV_REF.finditer(value):
            if match.group(2) is None:
                found.setdefault(match.group(1), path)
    return found


def read_config_document(location: str | Path, *, s3_client: S3Client | None = None) -> dict[str, Any]:
    """The configuration document at ``location``: a local path or ``s3://bucket/key``.

    YAML, or JSON when the name ends in ``.json``. One reader for every loader (imports, events),
    so ``NORCEKIT_CONFIG`` means the same to each function; :class:`ConfigError` names the location.
    An ``s3://`` location is read with ``s3_client``, the process's own (from ``norcekit.wiring``).
    """
    text = str(location)
    if text.startswith("s3://"):
        name, content = text, _read_s3(text, s3_client)
    else:
        path = Path(location)
        name = str(path)
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    document = _parse_document(name, content)
    if not isinstance(document, dict):
        raise ConfigError(f"{name}: expected a mapping at the top level")
    return document


def _read_s3(uri: str, s3_client: S3Client | None) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise ConfigError(f"{uri}: expected s3://<bucket>/<key>")
    if s3_client is None:
        raise ConfigError(f"{uri}: reading an s3:// configuration needs an S3 client (norcekit.wiring)")
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - only for S3 locations

    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigError(f"cannot read configuration file {uri}: {code}") from exc
    except BotoCoreError as exc:
        raise ConfigError(f"cannot read configuration file {uri}: {type(exc).__name__}") from exc
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{uri}: not UTF-8 text") from exc


def _parse_document(name: str, text: str) -> Any:
    if name.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    try:
        import yaml  # noqa: PLC0415 - only YAML configurations need PyYAML
    except ImportError:  # pragma: no cover - depends on the deployment
        raise ConfigError(f"{name}: reading YAML needs PyYAML (or use a .json configuration)") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: invalid YAML: {exc}") from exc
