"""Sources from other packages: a ``norcekit.sources`` entry point names one (:mod:`norcekit.plugins`).

A source plug-in is an object with ``build(name, options, context) -> Source`` and optionally
``options_model``, a pydantic model of its configuration section (``entities``, ``account_source``
and its own settings; ``type`` removed)::

    class PimOptions(BaseModel):
        base_url: str
        token: SecretRef
        entities: dict[str, dict[str, Any]]

    class PimPlugin:
        options_model = PimOptions

        def build(self, name: str, options: PimOptions, context: SourceContext) -> Source:
            return PimSource(name, options, token=context.secret(options.token))

    plugin = PimPlugin()      # [project.entry-points."norcekit.sources"] acme_pim = "acme.pim:plugin"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field

from norcekit.imports.sources.auth import SecretFetcher, SecretRef, resolve_secret
from norcekit.plugins import PluginSection

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from norcekit.deadline import Deadline
    from norcekit.norce.http import NorceHttp

BUILTIN_SOURCE_TYPES = ("filedrop", "rest", "business_central")


@dataclass(frozen=True)
class SourceContext:
    """What a plug-in source gets from the process: the shared HTTP client, the run's deadline, the
    process's S3 client, and its secret reader."""

    http: NorceHttp | None = None
    deadline: Deadline | None = None
    s3_client: S3Client | None = None
    fetch_secret: SecretFetcher | None = None

    def secret(self, ref: SecretRef) -> str:
        """The value of a secret reference (``{env: ...}`` or ``{secret_arn: ..., key: ...}``)."""
        return resolve_secret(ref, fetch=self.fetch_secret)


class PluginSourceConfig(PluginSection):
    """A source whose ``type`` is a ``norcekit.sources`` plug-in (:mod:`norcekit.plugins`).

    ``entities`` and ``account_source`` mean what they mean for built-in sources; the section
    (without ``type`` and ``account_source``) is validated by the plug-in's ``options_model``.
    """

    group = "norcekit.sources"
    what = "source"
    builtins = BUILTIN_SOURCE_TYPES
    not_options = frozenset({"account_source"})

    account_source: str | None = None
    entities: dict[str, dict[str, Any]] = Field(default_factory=dict)


__all__ = ["BUILTIN_SOURCE_TYPES", "PluginSourceConfig", "SourceContext"]
