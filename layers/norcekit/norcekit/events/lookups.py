"""Which Query row an event names, and reading those rows back in as few calls as possible.

Events are *hints* (DESIGN rule 8): the payload says "SKU 100011 changed", the processor re-reads
SKU 100011 from Query and delivers what Query says now. This module knows, per event type, which
entity and key an event names and where that entity lives in Query
(:data:`DEFAULT_ENTITIES`, overridable per entity in the ``events.lookups`` configuration) and
reads a batch of keys with :meth:`QueryClient.get_many` — one call per entity set (per URL-sized
chunk), whatever the number of events.

Caching: the key an event names is always read fresh (see :mod:`norcekit.events.cache`); rows
read here are put in the cache for *related* look-ups that mappings make via :meth:`Lookups.related`.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from norcekit.events.cache import MISSING, TtlCache

if TYPE_CHECKING:
    from norcekit.deadline import Deadline
    from norcekit.norce.query import QueryClient


class LookupConfig(BaseModel):
    """How the entity named by an event is read back from Query (the ``lookups`` settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity_set: str | None = Field(default=None, description="e.g. 'Products/ProductSkus'.")
    select: list[str] | None = Field(default=None, description="$select; None = every field.")
    expand: str | None = Field(default=None, description="$expand, e.g. 'PriceLists'; '' = none.")


# What this module reads of the events configuration: the section and each target have ``lookups``.
# Protocols, so that the configuration module depends on this one and not the other way round.
class HasLookups(Protocol):
    @property
    def lookups(self) -> Mapping[str, LookupConfig]: ...


class LookupSettings(HasLookups, Protocol):
    @property
    def targets(self) -> Mapping[str, HasLookups]: ...


@dataclass(frozen=True)
class EntitySpec:
    """Where an entity lives in Query. ``entity_set=None``: no look-up, the payload is delivered."""

    entity: str
    entity_set: str | None
    #: (payload field, Query field) pairs naming the entity, in order of preference; the first
    #: Query field is the entity set's primary key (see :func:`document_key`).
    keys: tuple[tuple[str, str], ...] = ()
    select: tuple[str, ...] | None = None
    expand: str | None = None
    #: (payload field, Query field) within which keys are unique (supplier SKUs: per supplier).
    scope: tuple[str, str] | None = None
    #: Query key fields typed integer in the schema: event text is converted ("10001" -> 10001); a
    #: value that is not an integer cannot name a row by that field.
    int_keys: frozenset[str] = frozenset()


#: Orders/Orders has no ClientOrderRef; an event's ClientOrderRef is the basket id, the order's
#: ``QuotationId`` (int32). The order id (``Id``) is a 64-bit id.
_ORDER_KEYS = (("OrderId", "Id"), ("ClientOrderRef", "QuotationId"))

# Entity names are those of norcekit.norce.events (each payload model's ``entity`` ClassVar). Sets,
# keys, key types and expand names follow the published Query 2.0 schema; each is configurable
# per entity (``events.lookups``) and per target (``events.targets.<name>.lookups``).
DEFAULT_ENTITIES: dict[str, EntitySpec] = {
    spec.entity: spec
    for spec in (
        # Sku*Notification: the SKU with its prices (PriceLists is the documented expand; the 2.0
        # name of client on-hand is not published: add it via configuration once known).
        EntitySpec("sku", "Products/ProductSkus", (("PartNo", "PartNo"),), expand="PriceLists"),
        EntitySpec("customer", "Customers/Customers", (("CustomerId", "Id"),), int_keys=frozenset({"Id"})),
        # The 2.0 company set name is not published (known gap): no look-up, the payload is the
        # document, until ``events.lookups.company.entity_set`` names the tenant's set.
        EntitySpec("company", None, (("CompanyId", "Id"),), int_keys=frozenset({"Id"})),
        # OrderReceived/PaymentReceived carry only ClientOrderRef; the others also OrderId.
        EntitySpec(
            "order", "Orders/Orders", _ORDER_KEYS, expand="Items", int_keys=frozenset({"Id", "QuotationId"})
        ),
        # Supplier PartNo is the supplier's part number, unique per supplier.
        EntitySpec(
            "supplier_sku",
            "Products/SupplierProductSkus",
            (("PartNo", "PartNo"),),
            scope=("SupplierId", "SupplierId"),
        ),
        # Not looked up (no documented Query set): the event payload itself is the document.
        EntitySpec("invoice", None),
        EntitySpec("subscription", None),
        EntitySpec("translation", None),
        EntitySpec("export", None),
        # Recorded in the job store (JobStore.record_status), never delivered to targets.
        EntitySpec("job", None),
    )
}


@dataclass(frozen=True)
class EntityKey:
    """One entity named by one or more events: what is coalesced and looked up."""

    entity: str
    key_field: str
    value: str | int
    scope_field: str | None = None
    scope: str | int | None = None

    @property
    def text(self) -> str:
        """The key as the event named it, equal to the payload model's ``entity_key()``: ``"100011"``,
        or ``"<scope>:<value>"`` for scoped entities (``"7:SUP-1"``). Documents are keyed by
        :func:`document_key`, which differs for entities named by a secondary field (orders)."""
        return f"{self.scope}:{self.value}" if self.scope_field else str(self.value)


def document_key(spec: EntitySpec, key: EntityKey, row: Mapping[str, Any] | None) -> str:
    """The key a document is delivered under: one per entity, whichever field the event named it by.

    Keyed by the primary key (``key.text``) when the event named it by that; otherwise by the found
    row's primary key (an order named by ClientOrderRef → its ``Id``), or, when Query has no row,
    by ``"<field>:<value>"`` (``"ClientOrderRef:123"``) so it cannot collide with a primary key."""
    primary = spec.keys[0][1] if spec.keys else key.key_field
    if key.key_field == primary:
        return key.text
    found = row.get(primary) if row is not None else None
    value = str(found) if found not in (None, "") else f"{key.key_field}:{key.value}"
    return f"{key.scope}:{value}" if key.scope_field else value


class UnknownKey(ValueError):  # noqa: N818
    """The payload lacks every field its entity is keyed by (it cannot be looked up)."""


class InvalidKey(ValueError):  # noqa: N818
    """A key field holds something no Query key can be (a list, an object, a bool, a float)."""


def _key_value(entity: str, payload_field: str, value: Any) -> str | int:
    # Extras are kept as any JSON (e.g. an undeclared OrderId): only text and integers are keys.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidKey(f"{entity}: {payload_field} must be text or an integer, not {type(value).__name__}")
    return value


def _typed(value: str | int, is_int: bool) -> str | int | None:
    """The value as the Query key type; ``None`` when text cannot be that integer."""
    if not is_int or isinstance(value, int):
        return value
    text = value.strip()
    if text.lstrip("-").isdigit() and len(text) <= 20:
        return int(text)
    return None


def key_for(spec: EntitySpec, payload: Mapping[str, Any]) -> EntityKey:
    """The Query key an event names, from its validated payload (PascalCase fields).

    Raises :class:`UnknownKey` when no key field is set, :class:`InvalidKey` when one holds a value
    that is neither text nor an integer."""
    scope_field = scope = None
    if spec.scope is not None:
        scope = payload.get(spec.scope[0])
        scope_field = spec.scope[1]
        if scope in (None, ""):
            raise UnknownKey(f"{spec.entity}: {spec.scope[0]} is missing")
        scope = _key_value(spec.entity, spec.scope[0], scope)
    for payload_field, query_field in spec.keys:
        value = payload.get(payload_field)
        if value not in (None, ""):
            typed = _typed(_key_value(spec.entity, payload_field, value), query_field in spec.int_keys)
            if typed is None:  # e.g. an external order's non-numeric ClientOrderRef
                continue
            return EntityKey(spec.entity, query_field, typed, scope_field, scope)
    names = " or ".join(f for f, _ in spec.keys) or "a key field"
    raise UnknownKey(f"{spec.entity}: {names} is missing")


def with_lookups(
    specs: Mapping[str, EntitySpec], overrides: Mapping[str, LookupConfig]
) -> dict[str, EntitySpec]:
    """``specs`` with configured look-ups applied per entity and field (``expand: ""`` = none)."""
    result = dict(specs)
    for entity, override in overrides.items():
        base = result.get(entity, EntitySpec(entity, None))
        result[entity] = replace(
            base,
            entity_set=override.entity_set or base.entity_set,
            select=tuple(override.select) if override.select is not None else base.select,
            expand=(override.expand or None) if override.expand is not None else base.expand,
        )
    return result


def entity_specs(config: LookupSettings | None = None, target: str | None = None) -> dict[str, EntitySpec]:
    """Default entity specs with the configuration's ``lookups`` applied, then ``target``'s own."""
    specs = with_lookups(DEFAULT_ENTITIES, config.lookups if config else {})
    target_cfg = config.targets.get(target) if config and target else None
    return with_lookups(specs, target_cfg.lookups) if target_cfg is not None else specs


def lookup_config_problems(config: LookupSettings) -> list[str]:
    """Look-up settings the configuration cannot have: an unknown entity, a target giving an
    entity set to an entity not looked up section-wide (that decides how its events are grouped),
    or names the published Query 2.0 schema says are wrong (:mod:`norcekit.norce.query_schema`)."""
    from norcekit.norce.query_schema import lookup_problems  # noqa: PLC0415 - config validation only

    section = entity_specs(config)
    problems: list[str] = []
    places: list[tuple[str, str | None, Mapping[str, LookupConfig]]] = [("lookups", None, config.lookups)]
    places += [(f"targets.{name}.lookups", name, t.lookups) for name, t in config.targets.items()]
    for where, target, overrides in places:
        specs = entity_specs(config, target) if target else section
        for entity in overrides:
            if entity not in DEFAULT_ENTITIES:
                known = ", ".join(sorted(DEFAULT_ENTITIES))
                problems.append(f"{where}.{entity}: unknown entity (one of {known})")
                continue
            if target and section[entity].entity_set is None:
                hint = f"set lookups.{entity}.entity_set"
                problems.append(f"{where}.{entity}: {entity} is not looked up section-wide; {hint}")
                continue
            spec = specs[entity]
            if spec.entity_set is None:
                continue
            fields = [query_field for _, query_field in spec.keys]
            fields += [spec.scope[1]] if spec.scope else []
            problems += [
                f"{where}.{entity}: {problem}"
                for problem in lookup_problems(spec.entity_set, fields, spec.select, spec.expand)
            ]
    return problems


def row_cache_key(
    key_field: str, scope: Any, value: Any, select: Sequence[str] | None, expand: str | None
) -> tuple[Any, ...]:
    """Cache key of one row *as read*: a row read with a narrower $select or without an $expand
    must not answer a look-up that asks for more."""
    selected = tuple(sorted(set(select))) if select else None
    expanded = expand.strip() if expand and expand.strip() else None
    return (key_field, scope, str(value), selected, expanded)


class Lookups:
    """Reads current rows for event keys (fresh) and related rows (cached) from Query."""

    def __init__(self, query: QueryClient, cache: TtlCache, specs: Mapping[str, EntitySpec]) -> None:
        self.query = query
        self.cache = cache
        self.specs = dict(specs)

    def current(
        self,
        keys: Iterable[EntityKey],
        *,
        deadline: Deadline | None = None,
        unusable: set[EntityKey] | None = None,
        specs: Mapping[str, EntitySpec] | None = None,
    ) -> dict[EntityKey, dict[str, Any] | None]:
        """Current row per key (``None``: Query no longer has it), one ``get_many`` per entity set,
        key field and scope, read as ``specs`` say (default: the section-wide specs; a target's own
        selection passes its specs). A key no request can carry (too long for a URL) is left out
        of the result and added to ``unusable``. Raises what the Query client raises when Norce
        stays unavailable."""
        specs = self.specs if specs is None else specs
        groups: dict[tuple[str, str, str | None, Any], list[EntityKey]] = defaultdict(list)
        for key in keys:
            spec = specs[key.entity]
            if spec.entity_set is None:
                raise ValueError(f"entity {key.entity!r} has no Query entity set")
            groups[(spec.entity_set, key.key_field, key.scope_field, key.scope)].append(key)
        result: dict[EntityKey, dict[str, Any] | None] = {}
        for (entity_set, key_field, scope_field, scope), group in groups.items():
            spec = specs[group[0].entity]
            scope_filter = None
            if scope_field is not None:
                from norcekit.norce.query import odata_literal  # noqa: PLC0415 - keeps httpx off the import path of lookups

                scope_filter = f"{scope_field} eq {odata_literal(scope)}"
            unfit: set[str | int] = set()
            select = list(spec.select) if spec.select else None
            primary = spec.keys[0][1] if spec.keys else key_field
            if select is not None and primary not in select:
                select.append(primary)  # the document key (document_key), whichever field named the row
            rows = self.query.get_many(
                entity_set,
                key_field,
                [k.value for k in group],
                filter=scope_filter,
                select=select,
                expand=spec.expand,
                deadline=deadline,
                unfit=unfit,
            )
            # Payload keys and row keys may differ in type (CustomerId 42 vs "42" in a message).
            by_text = {str(k): row for k, row in rows.items()}
            for key in group:
                if key.value in unfit:
                    if unusable is not None:
                        unusable.add(key)
                    continue
                row = by_text.get(str(key.value))
                result[key] = row
                self.cache.put(
                    entity_set, row_cache_key(key_field, scope, key.value, spec.select, spec.expand), row
                )
        return result

    def related(
        self,
        entity_set: str,
        key: str | int,
        *,
        key_field: str = "Id",
        select: Sequence[str] | None = None,
        expand: str | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any] | None:
        """A row a mapping needs besides the event's own entity; served from the cache within its TTL."""
        cache_key = row_cache_key(key_field, None, key, select, expand)
        cached = self.cache.get(entity_set, cache_key)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        rows = self.query.get_many(
            entity_set,
            key_field,
            [key],
            select=list(select) if select else None,
            expand=expand,
            deadline=deadline,
        )
        row = next(iter(rows.values()), None)
        self.cache.put(entity_set, cache_key, row)
        return row


@dataclass(frozen=True)
class MappingContext:
    """What a mapping function gets besides the data."""

    entity: str
    key: str
    event_types: list[str]
    target: str
    lookups: Lookups | None = None
    deadline: Deadline | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Mapping_ = Callable[[dict[str, Any], MappingContext], "dict[str, Any] | None"]


@lru_cache(maxsize=64)
def load_mapping(path: str) -> Mapping_:
    """``"package.module:function"`` → the function (imported once per container)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"mapping {path!r}: expected 'module:function'")
    func = getattr(importlib.import_module(module_name), attr, None)
    if not callable(func):
        raise ValueError(f"mapping {path!r}: {attr} is not a function in {module_name}")
    return func  # type: ignore[no-any-return]


def identity(data: dict[str, Any], context: MappingContext) -> dict[str, Any] | None:
    """The default mapping: deliver the Query row as it is."""
    return data
