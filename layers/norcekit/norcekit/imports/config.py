"""The integration configuration file: sources, per-entity import settings, event targets.

YAML or JSON, from ``NORCEKIT_CONFIG`` (``Settings.norcekit_config``) or passed explicitly::

    sources:
      erp_files:
        type: filedrop                     # filedrop | rest | business_central | a plug-in
        root: s3://${IMPORT_BUCKET}/erp    # ${VAR} / ${VAR:-default}: environment substitution
        account_source: erp                # NORCE_ACCOUNT_IDS key of the AccountId (default: source name)
        entities:
          onhand: {key_fields: [part_no, warehouse_code, location_code]}
    entities:
      onhand:
        source: erp_files
        mapping: sample                    # built-in bundle, or package.module:function
        fields_that_are_set: {SkuOnhandFieldsThatAreSet: [OnhandValue, IncomingValue]}
        delta: {batch_size: 1000, overlap_s: 300, safety_lag_s: 60}
        schedules: {full: "cron(0 3 * * ? *)", delta: "rate(15 minutes)"}
    imports:                               # named imports (several may write one kind): see README
      pim_products: {kind: products, source: pim_files, account_id: 101, mapping: sample,
                     fields_that_are_set: {ProductCultureFieldsThatAreSet: [Name]}, full: {full_file: false}}
    events: {}                             # owned by the events module
    orders: {}                             # owned by the orders module

An ``entities:`` entry is one import named after its kind (state keys, ``--import``, schedules);
field ownership between imports of one kind is checked on load (:mod:`norcekit.imports.ownership`).

Secrets are never written inline: a secret setting is a reference, ``{env: VAR_NAME}`` or
``{secret_arn: arn:aws:secretsmanager:..., key: client_secret}``. Every validation error names the
setting path, e.g. ``entities.products.fields_that_are_set.SkuFieldsThatAreSet[2]: 'Statuss' is not a
valid SkuField; valid: ...``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from norcekit.configfile import ConfigError, read_config_document, substitute_env
from norcekit.imports.entity_config import (
    EntityConfig,
    ImportConfig,
)
from norcekit.imports.mappings import MappingFunc, load_mapping
from norcekit.imports.ownership import check_import, ownership_problems
from norcekit.imports.sources.base import Source
from norcekit.imports.sources.business_central import BusinessCentralOptions, BusinessCentralSource
from norcekit.imports.sources.filedrop import FileDropOptions, FileDropSource, file_store_for
from norcekit.imports.sources.plugin import BUILTIN_SOURCE_TYPES, PluginSourceConfig, SourceContext
from norcekit.imports.sources.rest import RestOptions, RestSource
from norcekit.norce.contracts import IMPORT_KINDS, Header
from norcekit.plugins import plugin_tag

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from norcekit.deadline import Deadline
    from norcekit.imports.sources.auth import SecretFetcher
    from norcekit.norce.http import NorceHttp
    from norcekit.settings import Settings

ENTITY_NAMES: tuple[str, ...] = tuple(IMPORT_KINDS)
#: Import names end up in state keys, schedule names and metric dimensions.
_IMPORT_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,47}$")
#: Header names that carry credentials: configure ``auth`` with a secret reference instead.
_SECRET_HEADER = re.compile(r"(authorization|cookie|key|token|secret|password)", re.IGNORECASE)


# --- Sources ------------------------------------------------------------------------------------


class FileDropSourceConfig(FileDropOptions):
    type: Literal["filedrop"]
    account_source: str | None = None


class RestSourceConfig(RestOptions):
    type: Literal["rest"]
    account_source: str | None = None

    @field_validator("headers")
    @classmethod
    def _no_inline_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if _SECRET_HEADER.search(name):
                raise ValueError(
                    f"header {name!r} looks like a credential; use 'auth' with a secret reference"
                )
        return value


class BusinessCentralSourceConfig(BusinessCentralOptions):
    type: Literal["business_central"]
    account_source: str | None = None


SourceConfig = Annotated[
    Annotated[FileDropSourceConfig, Tag("filedrop")]
    | Annotated[RestSourceConfig, Tag("rest")]
    | Annotated[BusinessCentralSourceConfig, Tag("business_central")]
    | Annotated[PluginSourceConfig, Tag("plugin")],
    Discriminator(plugin_tag(BUILTIN_SOURCE_TYPES)),
]
_SOURCE_TAGS = {*BUILTIN_SOURCE_TYPES, "plugin"}
_AUTH_TAGS = {"none", "bearer", "basic", "oauth2_client_credentials"}


class IntegrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    entities: dict[str, EntityConfig] = Field(default_factory=dict)
    imports: dict[str, ImportConfig] = Field(default_factory=dict)
    events: dict[str, Any] = Field(default_factory=dict, description="Passed through to norcekit.events.")
    orders: dict[str, Any] = Field(default_factory=dict, description="Passed through to norcekit.orders.")

    _all: dict[str, EntityConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_references(self) -> IntegrationConfig:
        problems: list[str] = []
        for entity, cfg in self.entities.items():
            if cfg.kind and cfg.kind != entity:
                problems.append(f"entities.{entity}.kind: an entities entry is named after its kind")
            cfg.kind = entity
            problems.extend(check_import(self.sources, f"entities.{entity}", cfg))
        for name, cfg in self.imports.items():
            path = f"imports.{name}"
            if not _IMPORT_NAME.match(name):
                problems.append(
                    f"{path}: import names are 1-48 of a-z, 0-9, '_' and '-', starting alphanumeric"
                )
            if name in self.entities:
                problems.append(f"{path}: the name is taken by entities.{name} (one import per name)")
            problems.extend(check_import(self.sources, path, cfg))
        if problems:
            raise ValueError("\n".join(problems))
        self._all = {**self.entities, **self.imports}
        problems = ownership_problems(self._all, path_of=self.path_of)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- helpers for the runner (an import is named; the entities form names it after its kind) ---

    def all_imports(self) -> dict[str, EntityConfig]:
        """Every import by name: ``entities:`` entries (named after their kind) and ``imports:``."""
        return dict(self._all)

    def enabled_entities(self) -> list[str]:
        """Names of the enabled imports (the name is the kind for the ``entities:`` form)."""
        return [name for name, cfg in self._all.items() if cfg.enabled]

    def entity(self, name: str) -> EntityConfig:
        """The import called ``name``; :class:`ConfigError` when there is none."""
        try:
            return self._all[name]
        except KeyError:
            known = ", ".join(self._all) or "none"
            raise ConfigError(f"imports.{name}: not configured (imports: {known})") from None

    def kind_of(self, name: str) -> str:
        return self.entity(name).kind

    def path_of(self, name: str) -> str:
        """Where the import is written in the file: ``entities.<kind>`` or ``imports.<name>``."""
        return f"imports.{name}" if name in self.imports else f"entities.{name}"

    def account_source_for(self, entity: str) -> str:
        """The key for ``Settings.account_id_for``: import override, else the source's, else its name."""
        cfg = self.entity(entity)
        return cfg.account_source or self.sources[cfg.source].account_source or cfg.source

    def account_id_for(self, name: str, lookup: Callable[[str], int]) -> int:
        """The import's system account: its ``account_id``, else ``lookup(account_source)``."""
        cfg = self.entity(name)
        return cfg.account_id if cfg.account_id is not None else lookup(self.account_source_for(name))

    def mapping_for(self, entity: str) -> MappingFunc:
        cfg = self.entity(entity)
        return load_mapping(cfg.mapping, entity=cfg.kind, options=cfg.mapping_options)

    def build_header(self, entity: str, *, account_id: int, full_file: bool = False) -> Header:
        """The ``X-StormConnect-Header`` model of import ``entity``: AccountId, FieldsThatAreSet, FullFile.

        ``FullFile`` is true only for a full run of an import whose ``full.full_file`` is on.
        """
        cfg = self.entity(entity)
        kind = IMPORT_KINDS[cfg.kind]
        values: dict[str, Any] = {"AccountId": account_id, **cfg.fields_that_are_set}
        if cfg.header_supplier_id is not None:
            values["SupplierId"] = cfg.header_supplier_id
        if "FullFile" in kind.header_model.model_fields:
            values["FullFile"] = full_file and cfg.full.full_file
        return kind.header_model.model_validate(values)


# --- Loading ------------------------------------------------------------------------------------


#: Top-level sections kept as written here (``norcekit.events.config``, ``norcekit.orders.config``).
_OTHER_LOADERS_SECTIONS = frozenset({"events", "orders"})


def load_config(
    source: str | Path | Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
    s3_client: S3Client | None = None,
) -> IntegrationConfig:
    """Read, substitute ``${VAR}`` and validate; :class:`ConfigError` lists every problem by path.

    ``source`` is a file path or ``s3://bucket/key`` (``.yaml``/``.yml``/``.json``), an
    already-parsed mapping, or ``None`` for the location in ``NORCEKIT_CONFIG``.
    """
    if source is None:
        if settings is None:
            from norcekit.settings import get_settings  # noqa: PLC0415 - avoid reading env at import

            settings = get_settings()
        if not settings.norcekit_config:
            raise ConfigError(
                "NORCEKIT_CONFIG: not set (path or s3:// URI of the integration configuration file)"
            )
        source = settings.norcekit_config
    if isinstance(source, str | Path):
        raw = read_config_document(source, s3_client=s3_client)
    else:
        raw = dict(source)
    env = os.environ if environ is None else environ
    # The events and orders sections are substituted by their own loaders: a variable only a target
    # uses need not be set where imports run (the import function, `norcekit import run`).
    data = {
        key: value if key in _OTHER_LOADERS_SECTIONS else substitute_env(value, env, str(key))
        for key, value in raw.items()
    }
    try:
        return IntegrationConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def describe_errors(error: ValidationError) -> str:
    """One line per problem: ``path: message`` (paths as in the file, union tags dropped)."""
    lines: list[str] = []
    for item in error.errors():
        loc = list(item["loc"])
        path = _path(loc)
        message = _clean(item["msg"])
        if not path:  # cross-reference checks already carry their own paths
            lines.extend(message.splitlines())
        else:
            lines.append(f"{path}: {message}")
    return "\n".join(lines)


def _path(loc: list[int | str]) -> str:
    parts: list[int | str] = []
    for index, part in enumerate(loc):
        previous = loc[index - 1] if index else None
        if index == 2 and loc[0] == "sources" and part in _SOURCE_TAGS:
            continue
        if previous == "auth" and part in _AUTH_TAGS:
            continue
        parts.append(part)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


# --- Building sources ---------------------------------------------------------------------------


def build_source(
    config: IntegrationConfig,
    name: str,
    *,
    http: NorceHttp | None = None,
    deadline: Deadline | None = None,
    s3_client: S3Client | None = None,
    fetch_secret: SecretFetcher | None = None,
) -> Source:
    """The configured source ``name``, ready to read (secrets resolved now)."""
    from norcekit.imports.sources.auth import build_authenticator  # noqa: PLC0415 - keeps config import light

    try:
        options = config.sources[name]
    except KeyError:
        raise ConfigError(
            f"sources.{name}: not configured (sources: {', '.join(sorted(config.sources))})"
        ) from None
    if isinstance(options, FileDropSourceConfig):
        return FileDropSource(name, options, file_store_for(options.root, s3_client=s3_client))
    if isinstance(options, BusinessCentralSourceConfig):
        return BusinessCentralSource(name, options, http=http, deadline=deadline, fetch_secret=fetch_secret)
    if isinstance(options, PluginSourceConfig):
        context = SourceContext(http=http, deadline=deadline, s3_client=s3_client, fetch_secret=fetch_secret)
        source: Source = options.plugin.build(name, options.options, context)
        return source
    auth = build_authenticator(options.auth, fetch_secret=fetch_secret)
    return RestSource(name, options, http=http, authenticator=auth, deadline=deadline)


__all__ = [
    "ENTITY_NAMES",
    "BusinessCentralSourceConfig",
    "FileDropSourceConfig",
    "IntegrationConfig",
    "RestSourceConfig",
    "SourceConfig",
    "build_source",
    "describe_errors",
    "load_config",
]
