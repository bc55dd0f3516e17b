"""Norce Query 2.0 entity sets over the emulator catalog (PascalCase, like Query 2.0)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, urlencode

from .catalog import Catalog, Row
from .odata import (
    ODataError,
    compile_filter,
    parse_expand,
    parse_int_option,
    parse_orderby,
    parse_select,
    sort_rows,
    tokenize,
)
from .query_schema import ENTITY_SETS, EntitySet, NotFoundError

__all__ = ["ENTITY_SETS", "QUERY_PREFIX", "EntitySet", "NotFoundError", "resolve", "run_query"]

QUERY_PREFIX = "/commerce/query/2.0/"
SYSTEM_OPTIONS = {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$format"}


_SEGMENT = re.compile(r"^([A-Za-z]+)(?:\((?:'((?:[^']|'')*)'|(-?\d+))\))?$")


def resolve(path: str) -> tuple[EntitySet, Any, bool]:
    """Map ``/commerce/query/2.0/{ns}/{set}[('key')]`` to (entity set, key, has_key)."""
    rest = path[len(QUERY_PREFIX) :].strip("/")
    parts = rest.split("/")
    if len(parts) != 2:
        raise NotFoundError(f"Resource not found for the segment '{rest}'")
    m = _SEGMENT.match(parts[1])
    if m is None:
        raise NotFoundError(f"Resource not found for the segment '{parts[1]}'")
    entity = ENTITY_SETS.get((parts[0], m.group(1)))
    if entity is None:
        raise NotFoundError(f"Resource not found for the segment '{parts[0]}/{m.group(1)}'")
    if m.group(2) is not None:
        return entity, m.group(2).replace("''", "'"), True
    if m.group(3) is not None:
        return entity, int(m.group(3)), True
    if "(" in parts[1]:
        raise ODataError(f"Bad key segment {parts[1]!r}")
    return entity, None, False


@dataclass
class QueryOptions:
    filter: str | None = None
    select: list[str] | None = None
    expand: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False


def _uses_in(flt: str) -> bool:
    return any(t.kind == "ident" and t.value == "in" for t in tokenize(flt))


def parse_options(
    entity: EntitySet, params: list[tuple[str, str]], *, supports_in: bool = False
) -> QueryOptions:
    seen: set[str] = set()
    opts = QueryOptions()
    for name, value in params:
        if not name.startswith("$"):
            continue
        if name not in SYSTEM_OPTIONS:
            raise ODataError(f"The query parameter '{name}' is not supported.")
        if name in seen:
            raise ODataError(f"Query option '{name}' was specified more than once")
        seen.add(name)
        if name == "$filter":
            if not supports_in and _uses_in(value):
                # OData 4.01 `in` is not shown anywhere for Norce Query 2.0: refused unless switched on.
                raise ODataError("The query specified in the URI is not valid: 'in' is not supported.")
            compile_filter(value, entity.props)  # validate early
            opts.filter = value
        elif name == "$select":
            opts.select = parse_select(value, entity.props)
        elif name == "$expand":
            opts.expand = parse_expand(value)
            for nav, _ in opts.expand:
                if nav not in entity.navigations:
                    raise ODataError(f"Could not find a navigation property named '{nav}' on {entity.name}")
        elif name == "$orderby":
            opts.orderby = parse_orderby(value, entity.props)
        elif name == "$top":
            opts.top = parse_int_option(name, value)
        elif name == "$skip":
            opts.skip = parse_int_option(name, value)
        elif name == "$count":
            if value not in ("true", "false"):
                raise ODataError("$count must be true or false")
            opts.count = value == "true"
    return opts


def _shape(rows: list[Row], select: list[str] | None, navs: Iterable[str]) -> list[Row]:
    if not select or "*" in select:
        return rows
    keep = set(select) | set(navs)
    return [{k: v for k, v in r.items() if k in keep} for r in rows]


def _apply_expand(
    cat: Catalog, entity: EntitySet, rows: list[Row], expand: list[tuple[str, dict[str, str]]]
) -> None:
    for nav_name, nested in expand:
        nav = entity.navigations[nav_name]
        groups = nav.expander(cat, rows)
        flt = compile_filter(nested["$filter"], nav.props or _loose(groups)) if "$filter" in nested else None
        select = parse_select(nested["$select"], nav.props or _loose(groups)) if "$select" in nested else None
        orderby = parse_orderby(nested["$orderby"], nav.props) if "$orderby" in nested and nav.props else []
        top = parse_int_option("$top", nested["$top"]) if "$top" in nested else None
        for row in rows:
            children = groups.get(row.get(nav.parent_key), None if nav.single else [])
            if nav.single:
                row[nav_name] = None if children is None else _shape([cast(Row, children)], select, ())[0]
            elif isinstance(children, list):
                items = [c for c in children if isinstance(c, dict)]
                if flt is not None:
                    items = [c for c in items if flt(c)]
                if orderby:
                    items = sort_rows(items, orderby)
                if top is not None:
                    items = items[:top]
                row[nav_name] = _shape(items, select, ())
            else:
                row[nav_name] = children


def _loose(groups: dict[Any, list[Row]]) -> dict[str, str]:
    """Property list for navigations without a fixed schema (seeded order items etc.)."""
    props: dict[str, str] = {}
    for children in groups.values():
        for child in children if isinstance(children, list) else []:
            if isinstance(child, dict):
                props.update(dict.fromkeys(child, "any"))
    return props


def run_query(
    cat: Catalog,
    path: str,
    params: list[tuple[str, str]],
    *,
    base_url: str,
    page_size: int,
    max_top: int,
    supports_in: bool = False,
) -> Row:
    entity, key, has_key = resolve(path)
    opts = parse_options(entity, params, supports_in=supports_in)
    context = f"{base_url}{QUERY_PREFIX}{entity.namespace}/$metadata#{entity.name}"
    if has_key:
        if entity.key is None:
            raise ODataError(f"{entity.name} has no single key; use $filter")
        if (entity.props[entity.key] == "int") != isinstance(key, int):
            raise ODataError(f"The key value for {entity.name} must be of type {entity.props[entity.key]}")
        row = _find_by_key(cat, entity, key)
        if row is None:
            raise NotFoundError(f"{entity.name}({key!r}) was not found")
        rows = [row]
        _apply_expand(cat, entity, rows, opts.expand)
        shaped = _shape(rows, opts.select, (n for n, _ in opts.expand))[0]
        return {"@odata.context": context + "/$entity", **shaped}

    rows = entity.rows(cat)
    if opts.filter:
        predicate = compile_filter(opts.filter, entity.props)
        rows = [r for r in rows if predicate(r)]
    total = len(rows)
    if opts.orderby:
        rows = sort_rows(rows, opts.orderby)
    if opts.top is not None:
        # Client asked for a page size: clamp silently to the server cap and give no nextLink.
        page = rows[opts.skip : opts.skip + min(opts.top, max_top)]
        next_skip = None
    else:
        page = rows[opts.skip : opts.skip + page_size]
        next_skip = opts.skip + page_size if opts.skip + page_size < len(rows) else None
    _apply_expand(cat, entity, page, opts.expand)
    body: Row = {"@odata.context": context}
    if opts.count:
        body["@odata.count"] = total
    body["value"] = _shape(page, opts.select, (n for n, _ in opts.expand))
    if next_skip is not None:
        kept = [(k, v) for k, v in params if k != "$skip"] + [("$skip", str(next_skip))]
        body["@odata.nextLink"] = f"{base_url}{path}?{urlencode(kept, quote_via=quote, safe='$,()')}"
    return body


def _find_by_key(cat: Catalog, entity: EntitySet, key: Any) -> Row | None:
    if entity.table == "skus":
        raw = cat.tables["skus"].get(key)
        return entity.project(cat, raw) if raw is not None else None
    return next((row for row in entity.rows(cat) if row.get(entity.key or "") == key), None)
