"""The ``events:`` section of the integration configuration file, as pydantic models.

```yaml
events:
  routes:                      # event type (or "*") -> target names; several allowed
    "*": [archive]
    SkuChangedNotification: [shop, bus]
  targets:
    shop: {type: http, url: "https://shop.example/norce", credentials_secret_arn: "arn:...",
           auth_header: Authorization, auth_scheme: Bearer}
    bus: {type: eventbridge, bus_name: norce-events}
    archive: {type: s3, bucket: my-bucket, prefix: targets/,
              lookups: {sku: {select: [PartNo, StatusId], expand: ""}}}   # this target's own selection
  lookups:                     # per entity: what Query returns to every target (defaults below)
    sku: {select: [PartNo, ProductId, EanCode], expand: "PriceLists"}
  mappings:                    # per entity: "module:function" replacing the identity mapping
    sku: my_package.mappings:sku_for_shop
  cache_ttl_s: {Products: 60, Customers: 60, Orders: 10, Application: 3600, Core: 3600}
```

Look-up defaults (:data:`norcekit.events.lookups.DEFAULT_ENTITIES`, from the published Query 2.0
schema): sku → ``Products/ProductSkus`` by PartNo, ``$expand=PriceLists``; customer →
``Customers/Customers`` by Id; order → ``Orders/Orders`` by Id or QuotationId, ``$expand=Items``;
supplier_sku → ``Products/SupplierProductSkus`` by PartNo + SupplierId; company → no look-up (the
2.0 company set is not published: set ``lookups.company.entity_set`` to the tenant's name). A
target's ``lookups`` override the section's per entity and field (``expand: ""`` = none); names the
published schema says are wrong are refused (:func:`norcekit.norce.query_schema.lookup_problems`).

A mapping function is ``func(data: dict, context: MappingContext) -> dict | None``; returning
``None`` skips the document for that target (see :mod:`norcekit.events.lookups`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    HttpUrl,
    Tag,
    ValidationError,
    model_validator,
)

from norcekit.events.lookups import LookupConfig, lookup_config_problems
from norcekit.plugins import PluginSection, plugin_tag
from norcekit.settings import Settings, SettingsError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Query namespaces and how long related look-ups may be cached (norce-api.md §4 caching advice).
DEFAULT_CACHE_TTL_S: dict[str, float] = {
    "Products": 60.0,
    "Customers": 60.0,
    "Orders": 10.0,
    "Application": 3600.0,
    "Core": 3600.0,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TargetBase(_Strict):
    #: Per-entity mapping overriding the section-wide ``mappings`` for this target.
    mappings: dict[str, str] = Field(default_factory=dict)
    #: Per-entity look-up overriding the section-wide ``lookups`` for this target.
    lookups: dict[str, LookupConfig] = Field(default_factory=dict)


class HttpTargetConfig(_TargetBase):
    type: Literal["http"]
    url: HttpUrl
    #: Secrets Manager secret, JSON ``{"token": "..."}`` (or a plain string): the auth header value.
    credentials_secret_arn: str | None = None
    credentials_key: str = "token"
    auth_header: str = "Authorization"
    #: Prefix for the header value ("Bearer" → "Bearer <token>"); empty = the token as is.
    auth_scheme: str = "Bearer"
    #: Total time of one delivery attempt, connect to last byte (not a per-read timeout).
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=0.2, ge=0)


class EventBridgeTargetConfig(_TargetBase):
    type: Literal["eventbridge"]
    #: Default: the stack's bus (``EVENT_BUS_NAME``, set by the template), the one it may publish to.
    bus_name: str = Field(default_factory=lambda: os.environ.get("EVENT_BUS_NAME") or "default", min_length=1)
    source: str = "norcekit"


class S3TargetConfig(_TargetBase):
    type: Literal["s3"]
    bucket: str
    prefix: str = "targets/"


BUILTIN_TARGET_TYPES = ("http", "eventbridge", "s3")


class PluginTargetConfig(PluginSection, _TargetBase):
    """A target whose ``type`` is a ``norcekit.targets`` plug-in (:mod:`norcekit.plugins`): an object
    with ``build(name, options, aws) -> Target`` and optionally ``options_model`` validating the
    section (without ``type`` and ``mappings``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    group = "norcekit.targets"
    what = "target"
    builtins = BUILTIN_TARGET_TYPES
    not_options = frozenset({"mappings"})


TargetConfig = Annotated[
    Annotated[HttpTargetConfig, Tag("http")]
    | Annotated[EventBridgeTargetConfig, Tag("eventbridge")]
    | Annotated[S3TargetConfig, Tag("s3")]
    | Annotated[PluginTargetConfig, Tag("plugin")],
    Discriminator(plugin_tag(BUILTIN_TARGET_TYPES)),
]


class EventsConfig(_Strict):
    routes: dict[str, list[str]] = Field(default_factory=dict)
    targets: dict[str, TargetConfig] = Field(default_factory=dict)
    lookups: dict[str, LookupConfig] = Field(default_factory=dict)
    mappings: dict[str, str] = Field(default_factory=dict)
    cache_ttl_s: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_CACHE_TTL_S))

    @model_validator(mode="after")
    def _routes_name_known_targets(self) -> EventsConfig:
        for event_type, names in self.routes.items():
            unknown = [n for n in names if n not in self.targets]
            if unknown:
                raise ValueError(f"routes.{event_type}: unknown target(s) {unknown}")
        return self

    @model_validator(mode="after")
    def _lookups_follow_the_published_schema(self) -> EventsConfig:
        problems = lookup_config_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def ttl_for(self, namespace: str) -> float:
        return self.cache_ttl_s.get(namespace, DEFAULT_CACHE_TTL_S.get(namespace, 0.0))

    def targets_for(self, event_types: list[str] | set[str]) -> list[str]:
        """Target names for a group of event types: their routes plus the ``*`` route, deduplicated."""
        names: list[str] = []
        for event_type in sorted(event_types):
            names += self.routes.get(event_type, [])
        names += self.routes.get("*", [])
        return list(dict.fromkeys(names))

    def mapping_for(self, target: str, entity: str) -> str | None:
        target_cfg = self.targets.get(target)
        if target_cfg is not None and entity in target_cfg.mappings:
            return target_cfg.mappings[entity]
        return self.mappings.get(entity)


def parse_events_config(section: dict[str, Any] | None, *, source: str = "events") -> EventsConfig:
    """Validate an ``events:`` section; errors name the field (``events.targets.shop.url: ...``)."""
    try:
        return EventsConfig.model_validate(section or {})
    except ValidationError as exc:
        parts = [f"{source}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("; ".join(parts)) from None


def load_events_config(
    settings: Settings, *, environ: Mapping[str, str] | None = None, s3_client: S3Client | None = None
) -> EventsConfig:
    """The ``events:`` section of ``NORCEKIT_CONFIG`` (a path or ``s3://bucket/key``, YAML or JSON);
    defaults (no routes, no targets) when none is set.

    ``${VAR}`` / ``${VAR:-default}`` are substituted as in the rest of the file (only within this
    section, so a variable an import source needs is not required by the event processor).
    """
    if not settings.norcekit_config:
        return EventsConfig()
    from norcekit.configfile import (  # noqa: PLC0415 - processor only
        ConfigError,
        read_config_document,
        substitute_env,
    )

    location = settings.norcekit_config
    try:
        document = read_config_document(location, s3_client=s3_client)
    except ConfigError as exc:
        raise SettingsError(f"NORCEKIT_CONFIG: {exc}") from None
    try:
        section = substitute_env(
            document.get("events") or {}, os.environ if environ is None else environ, "events"
        )
    except ConfigError as exc:
        raise SettingsError(f"{_display_name(location)}: {exc}") from None
    return parse_events_config(section, source=f"{_display_name(location)}: events")


def _display_name(location: str) -> str:
    """The file name in messages (a local path's or an S3 key's last part)."""
    return location.rstrip("/").rsplit("/", 1)[-1]
