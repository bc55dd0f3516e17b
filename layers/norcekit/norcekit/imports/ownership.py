"""Checks of one import's settings and of field ownership between imports (DESIGN rule 6).

Norce's integration patterns ask for one import per source, each under its own system account, with
the ``X-StormConnect-Header``'s ``...FieldsThatAreSet`` lists saying what each may write. Two
imports of one kind that both set a field would overwrite each other's values in whatever order
their jobs run, and two ``FullFile`` imports of one scope would deactivate each other's items. So:

* a field (compared by its base name: ``NameCreateOnly`` writes ``Name`` too) may be set by one
  import of a kind, unless *every* import that sets it lists it in ``shared_fields``
  (``Name`` or ``ProductCultureFieldsThatAreSet.Name``);
* an import of a kind that another import also writes must list its fields: no lists at all may
  mean "every field" to Norce;
* two imports whose full runs send ``FullFile=true`` for one kind need disjoint scopes
  (warehouses, supplier, price lists); ``full.full_file: false`` makes a full run a plain upsert.

Containers that only carry nested values (``Variants``, ``Cultures``, ``Skus``, ``CultureCode``) are
required by Norce whenever a nested list is set, so every import of a kind may set them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from norcekit.imports.mappings import MappingLoadError, load_mapping
from norcekit.norce.contracts import IMPORT_KINDS, Header

if TYPE_CHECKING:
    from norcekit.imports.entity_config import EntityConfig

#: Fields whose value is only the nesting (Norce requires them when a nested list is set).
STRUCTURAL_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("ProductFieldsThatAreSet", "Variants"),
        ("ProductFieldsThatAreSet", "Cultures"),
        ("VariantFieldsThatAreSet", "Cultures"),
        ("VariantFieldsThatAreSet", "Skus"),
        ("VariantCultureFieldsThatAreSet", "CultureCode"),
        ("RelationFieldsThatAreSet", "Cultures"),
    }
)
#: Write modes of one value: the field they write is the name without the suffix.
_MODE_SUFFIXES = ("CreateOnly", "LimitedUpdate", "CreateWhenMissing")
#: Which kinds each scope setting applies to.
SCOPE_KINDS: dict[str, tuple[str, ...]] = {
    "warehouses": ("onhand",),
    "supplier_id": ("supplier_products",),
    "price_lists": ("sku_prices",),
}


def check_import(sources: Mapping[str, Any], path: str, cfg: EntityConfig) -> list[str]:
    """One import's own settings: its kind, source, scope, mapping and field lists."""
    entity = cfg.kind
    if entity not in IMPORT_KINDS:
        where = path if path.startswith("entities.") else f"{path}.kind"
        return [f"{where}: unknown entity {entity!r} (valid: {', '.join(IMPORT_KINDS)})"]
    problems: list[str] = []
    source = sources.get(cfg.source)
    if source is None:
        known = ", ".join(sorted(sources)) or "none defined"
        problems.append(f"{path}.source: {cfg.source!r} is not a configured source (sources: {known})")
    elif entity not in source.entities:
        problems.append(
            f"{path}.source: source {cfg.source!r} has no settings for {entity!r} "
            f"(add sources.{cfg.source}.entities.{entity})"
        )
    elif cfg.enabled and cfg.delta.enabled and source.type == "rest" and source.delta is None:
        problems.append(f"{path}.delta.enabled: source {cfg.source!r} has no 'delta' settings; disable delta")
    if cfg.full_scope_split is not None and entity != "onhand":
        problems.append(f"{path}.full_scope_split: only onhand may split a full import (by warehouse)")
    if cfg.supplier_id is not None and entity != "supplier_products":
        problems.append(f"{path}.supplier_id: only supplier_products has a SupplierId header")
    if cfg.supplier_id is not None and cfg.scope.supplier_id is not None:
        problems.append(f"{path}.supplier_id: give the supplier once, as scope.supplier_id")
    for field_name, kinds in SCOPE_KINDS.items():
        if getattr(cfg.scope, field_name) is not None and entity not in kinds:
            problems.append(f"{path}.scope.{field_name}: applies to {' and '.join(kinds)} imports only")
    try:
        load_mapping(cfg.mapping, entity=entity, options=cfg.mapping_options)
    except MappingLoadError as exc:
        problems.append(f"{path}.mapping: {exc}")
    problems.extend(check_fields(entity, cfg.fields_that_are_set, f"{path}.fields_that_are_set"))
    return problems


def field_lists(entity: str) -> list[str]:
    """The header's field lists for ``entity`` (``...FieldsThatAreSet`` and the ignore list)."""
    header_model: type[Header] = IMPORT_KINDS[entity].header_model
    return [
        name
        for name in header_model.model_fields
        if name.endswith("FieldsThatAreSet") or name == "IgnoreSkuPriceListFieldsWhenEmpty"
    ]


def check_fields(entity: str, fields: Mapping[str, list[str | int]], path: str) -> list[str]:
    header_model: type[Header] = IMPORT_KINDS[entity].header_model
    lists = field_lists(entity)
    problems: list[str] = []
    for name, values in fields.items():
        if name not in lists:
            problems.append(
                f"{path}.{name}: not a field list of {header_model.__name__} (valid: {', '.join(lists)})"
            )
            continue
        for index, value in enumerate(values):
            try:
                header_model.model_validate({"AccountId": 1, name: [value]})
            except ValidationError as exc:
                problems.append(
                    f"{path}.{name}[{index}]: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
                )
    return problems


# --- between imports ------------------------------------------------------------------------------


def ownership_problems(imports: Mapping[str, EntityConfig], *, path_of: Callable[[str], str]) -> list[str]:
    """Fields set by two imports of a kind, and FullFile imports of one kind with overlapping scopes."""
    by_kind: dict[str, list[str]] = {}
    for name, cfg in imports.items():
        if cfg.enabled:
            by_kind.setdefault(cfg.kind, []).append(name)
    problems: list[str] = []
    for kind, names in by_kind.items():
        for first, second in combinations(names, 2):
            a, b = imports[first], imports[second]
            problems.extend(_shared_field_problems(kind, (first, a), (second, b), path_of))
            if _full_file(a) and _full_file(b) and _scopes_overlap(a, b):
                problems.append(
                    f"{path_of(second)}.scope: imports {first!r} and {second!r} both send FullFile {kind} "
                    f"imports of the same scope ({_describe_scope(a)} / {_describe_scope(b)}); each would "
                    "deactivate the other's items: give them disjoint scopes, or set full.full_file: false "
                    "on one"
                )
    return problems


def owned_fields(entity: str, cfg: EntityConfig) -> dict[tuple[str, str], str]:
    """``(list, base field) -> field as configured`` for every non-structural field ``cfg`` sets."""
    header_model: type[Header] = IMPORT_KINDS[entity].header_model
    owned: dict[tuple[str, str], str] = {}
    for list_name, values in cfg.fields_that_are_set.items():
        if list_name == "IgnoreSkuPriceListFieldsWhenEmpty":
            continue  # not a write: it skips rows
        members = getattr(header_model.model_validate({"AccountId": 1, list_name: values}), list_name) or []
        for member in members:
            if (list_name, member.name) in STRUCTURAL_FIELDS:
                continue
            owned[(list_name, _base(member.name))] = member.name
    return owned


def _shared_field_problems(
    kind: str,
    first: tuple[str, EntityConfig],
    second: tuple[str, EntityConfig],
    path_of: Callable[[str], str],
) -> list[str]:
    (name_a, a), (name_b, b) = first, second
    for name, cfg, other in ((name_a, a, name_b), (name_b, b, name_a)):
        if not cfg.fields_that_are_set:
            return [
                f"{path_of(name)}.fields_that_are_set: import {name!r} lists no fields, so it may write "
                f"every {kind} field, and import {other!r} writes {kind} too: list the fields each owns"
            ]
    fields_a, fields_b = owned_fields(kind, a), owned_fields(kind, b)
    problems = []
    for key in sorted(fields_a.keys() & fields_b.keys()):
        list_name, base = key
        if _shared(a, key) and _shared(b, key):
            continue
        problems.append(
            f"{path_of(name_b)}.fields_that_are_set.{list_name}: {fields_b[key]} is set by both imports "
            f"{name_a!r} and {name_b!r} ({kind}); give each field one owner, or list {base!r} in "
            "shared_fields of both imports"
        )
    return problems


def _shared(cfg: EntityConfig, key: tuple[str, str]) -> bool:
    list_name, base = key
    for entry in cfg.shared_fields:
        prefix, _, field = entry.rpartition(".")
        if (not prefix or prefix == list_name) and _base(field) == base:
            return True
    return False


def _base(field: str) -> str:
    for suffix in _MODE_SUFFIXES:
        if field.endswith(suffix) and field != suffix:
            return field.removesuffix(suffix)
    return field


def _full_file(cfg: EntityConfig) -> bool:
    return cfg.full.enabled and cfg.full.full_file and IMPORT_KINDS[cfg.kind].has_full_file


def _scopes_overlap(a: EntityConfig, b: EntityConfig) -> bool:
    """``None`` covers everything; two lists overlap when they share a code."""
    left_supplier, right_supplier = a.header_supplier_id, b.header_supplier_id
    if left_supplier is not None and right_supplier is not None and left_supplier != right_supplier:
        return False
    for field in ("warehouses", "price_lists"):
        left, right = getattr(a.scope, field), getattr(b.scope, field)
        if left is not None and right is not None and not set(left) & set(right):
            return False
    return True


def _describe_scope(cfg: EntityConfig) -> str:
    parts = [f"supplier {cfg.header_supplier_id}"] if cfg.header_supplier_id is not None else []
    parts += [
        f"{field} {', '.join(values)}"
        for field in ("warehouses", "price_lists")
        if (values := getattr(cfg.scope, field)) is not None
    ]
    return "; ".join(parts) or "everything"
