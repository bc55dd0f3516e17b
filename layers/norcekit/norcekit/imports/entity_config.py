"""One import's settings in the integration configuration: source, mapping, headers, delta window,
full-import guardrails and scope, schedules (the ``entities:`` / ``imports:`` entries)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from norcekit.norce.contracts.wire import ContractItem, item_field

_SCHEDULE = re.compile(
    r"^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\((.+)\)|at\((.+)\))$"
)


class DeltaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="Items per Connect job.")
    overlap_s: float = Field(default=300, ge=0, description="Re-read this far behind the watermark.")
    safety_lag_s: float = Field(default=60, ge=0, description="Upper bound = source now() minus this.")


class Guardrails(BaseModel):
    """Limits a ``FullFile=true`` import must meet before a byte goes to Connect (DESIGN rule 10).

    Norce deactivates whatever in scope is missing from a full payload, so an empty, truncated or
    mostly-rejected export would deactivate the catalogue. A run over a limit is ``refused``.
    """

    model_config = ConfigDict(extra="forbid")

    min_items: int = Field(default=1, ge=0, description="Fewer mapped items than this: refused.")
    max_shrink: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Largest drop per scope against the last successful full import (0.10 = 10 %).",
    )
    max_rejected: float = Field(
        default=0.005, ge=0, le=1, description="Largest share of source rows the mapping may reject."
    )


class FullConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: ``false``: a full run is a complete upsert (``FullFile=false``) that deactivates nothing: for
    #: a second system (a PIM) owning fields of an entity whose full scope another import owns.
    full_file: bool = True
    guardrails: Guardrails = Field(default_factory=Guardrails)


class Schedules(BaseModel):
    """EventBridge Scheduler expressions: ``rate(15 minutes)``, ``cron(0 3 * * ? *)``, ``at(...)``."""

    model_config = ConfigDict(extra="forbid")

    full: str | None = None
    delta: str | None = None

    @field_validator("full", "delta")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _SCHEDULE.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a schedule expression (rate(15 minutes), cron(0 3 * * ? *))")
        if match.group(3) is not None and len(match.group(3).split()) != 6:
            raise ValueError(f"{value!r}: a cron expression has 6 fields (min hour day month weekday year)")
        return value.strip()


class ImportScope(BaseModel):
    """The part of its kind an import's FullFile covers (``None``: all); FullFile scopes are disjoint."""

    model_config = ConfigDict(extra="forbid")

    warehouses: list[str] | None = Field(default=None, min_length=1, description="onhand: warehouse codes.")
    supplier_id: int | None = Field(default=None, gt=0, description="supplier_products: SupplierId header.")
    price_lists: list[str] | None = Field(default=None, min_length=1, description="sku_prices: codes.")

    def keeps(self, kind: str) -> Callable[[ContractItem], bool] | None:
        """Whether a mapped item of ``kind`` is this import's (``None``: every item is).

        A source may export every warehouse or price list while this import owns only some: the
        others are not sent, or a FullFile job for them would deactivate another import's rows.
        """
        for scope_field, (scope_kind, item_key) in _ROW_SCOPES.items():
            codes = getattr(self, scope_field)
            if codes is not None and kind == scope_kind:
                kept = frozenset(codes)
                return lambda item: item_field(item, item_key) in kept
        return None


#: Scope fields that select rows: the field → (the kind it applies to, the item's property).
_ROW_SCOPES: dict[str, tuple[str, str]] = {
    "warehouses": ("onhand", "WarehouseCode"),
    "price_lists": ("sku_prices", "PriceListCode"),
}


class EntityConfig(BaseModel):
    """One import's settings (the ``entities:`` form: the import is named after its kind)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    source: str = Field(min_length=1)
    mapping: str = Field(min_length=1, description="Built-in bundle name or 'package.module:function'.")
    mapping_options: dict[str, Any] = Field(default_factory=dict)
    account_source: str | None = Field(default=None, description="Overrides the source's account_source.")
    account_id: int | None = Field(
        default=None, gt=0, description="The import's system account: AccountId in X-StormConnect-Header."
    )
    fields_that_are_set: dict[str, list[str | int]] = Field(default_factory=dict)
    #: Fields another import of the same kind may set too (``Name``, or with its list:
    #: ``ProductCultureFieldsThatAreSet.Name``); every import that sets the field must list it.
    shared_fields: list[str] = Field(default_factory=list)
    supplier_id: int | None = Field(default=None, gt=0, description="SupplierId header (supplier_products).")
    scope: ImportScope = Field(default_factory=ImportScope)
    delta: DeltaConfig = Field(default_factory=DeltaConfig)
    full: FullConfig = Field(default_factory=FullConfig)
    schedules: Schedules = Field(default_factory=Schedules)
    job_deadline_s: int = Field(default=3600, ge=60, description="A job running longer is 'stuck'.")
    stuck_policy: Literal["defer", "proceed"] = "defer"
    full_scope_split: Literal["warehouse"] | None = None
    #: The Norce entity written (an ``IMPORT_KINDS`` name); the ``entities:`` form fills it from the key.
    kind: str = ""

    @property
    def header_supplier_id(self) -> int | None:
        return self.scope.supplier_id if self.scope.supplier_id is not None else self.supplier_id


class ImportConfig(EntityConfig):
    """A named import (``imports:``): its kind is explicit, so several may write one entity."""

    kind: str = Field(min_length=1)


__all__ = [
    "DeltaConfig",
    "EntityConfig",
    "FullConfig",
    "Guardrails",
    "ImportConfig",
    "ImportScope",
    "Schedules",
]
