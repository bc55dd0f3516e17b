"""Optional Norce Query look-ups during mapping, batched and cached.

Norce's import pattern allows "look up item identifiers in Query (optional)" before calling
Connect. One Query call per record would be slow and would hammer Query, so look-ups go through a
:class:`LookupCache`: the pipeline reads records ``batch_size`` at a time, asks the mapping which
keys those records need (the mapping's ``lookup_keys``), resolves every key not yet cached in **one**
``QueryClient.get_many`` call per look-up and batch, and only then maps the records; the mapping
reads the answers from the cache through a :class:`LookupContext`. Keys Norce does not know are
cached as misses, so they are not asked for again in the same run.

The cache lives for one run (a container is reused across runs, and Norce data changes between
them); ``max_entries`` bounds it, evicting the oldest entries first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from norcekit.deadline import Deadline
from norcekit.imports.pipeline import chunks
from norcekit.imports.records import SourceRecord
from norcekit.norce.query_schema import lookup_problems

Row = dict[str, Any]


class QueryLookup(Protocol):
    """The part of ``norcekit.norce.query.QueryClient`` a look-up needs."""

    def get_many(
        self,
        entity_set: str,
        key_field: str,
        values: Iterable[str | int],
        *,
        filter: str | None = None,
        select: str | Sequence[str] | None = None,
        expand: str | None = None,
        use_in: bool = True,
        deadline: Deadline | None = None,
    ) -> dict[str | int, dict[str, Any]]: ...


@dataclass(frozen=True)
class LookupSpec:
    """What to look up, e.g. ``LookupSpec("Products/ProductSkus", "PartNo", select=("PartNo", "ProductId"))``;
    names the published Query 2.0 schema refuses raise ``ValueError``."""

    entity_set: str
    key_field: str
    select: tuple[str, ...] | None = None
    filter: str | None = None

    def __post_init__(self) -> None:
        problems = lookup_problems(self.entity_set, [self.key_field], self.select)
        if problems:  # a name the published Query 2.0 schema says is wrong: refused before any run
            raise ValueError("; ".join(problems))


class LookupCache:
    """Cached, batched resolution of keys to Query rows for one look-up."""

    def __init__(
        self,
        query: QueryLookup,
        spec: LookupSpec,
        *,
        deadline: Deadline | None = None,
        max_entries: int = 200_000,
    ) -> None:
        self.query = query
        self.spec = spec
        self.deadline = deadline or Deadline.none()
        self.max_entries = max_entries
        # key -> row, or None for "Norce does not have it" (negative cache).
        self._rows: OrderedDict[str, Row | None] = OrderedDict()
        #: Query calls made (get_many invocations) and keys they asked for, for tests and metrics.
        self.calls = 0
        self.keys_requested = 0

    def prefetch(self, keys: Iterable[str]) -> None:
        """Resolve every key not cached yet with one ``get_many`` call."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._rows]
        if not missing:
            return
        self.calls += 1
        self.keys_requested += len(missing)
        found = self.query.get_many(
            self.spec.entity_set,
            self.spec.key_field,
            missing,
            filter=self.spec.filter,
            select=self.spec.select,
            deadline=self.deadline,
        )
        by_text = {str(key): row for key, row in found.items()}
        for key in missing:
            self._store(key, by_text.get(key))

    def get(self, key: str) -> Row | None:
        """The row for ``key`` (``None`` when Norce has none); resolves a key not prefetched alone."""
        if key not in self._rows:
            self.prefetch([key])
        return self._rows.get(key)

    def __len__(self) -> int:
        return len(self._rows)

    def _store(self, key: str, row: Row | None) -> None:
        self._rows[key] = row
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)


@dataclass
class LookupContext:
    """Handed to mappings that use look-ups: ``context.get("skus", part_no)``."""

    caches: dict[str, LookupCache] = field(default_factory=dict)

    def get(self, lookup: str, key: str) -> Row | None:
        try:
            cache = self.caches[lookup]
        except KeyError:
            raise KeyError(f"no look-up named {lookup!r}; configured: {sorted(self.caches)}") from None
        return cache.get(key)


#: Which keys a source row needs, per look-up name: ``{"skus": ["P-1", "P-2"]}``. A mapping
#: function that uses look-ups carries it as its ``lookup_keys`` attribute and takes the
#: :class:`LookupContext` as its ``lookups`` keyword argument.
KeysOf = Callable[[dict[str, Any]], Mapping[str, Iterable[str]]]


def prefetched(
    records: Iterable[SourceRecord],
    keys_of: KeysOf,
    context: LookupContext,
    *,
    batch_size: int = 200,
) -> Iterator[SourceRecord]:
    """Pass ``records`` through unchanged, resolving their look-ups ``batch_size`` records at a time.

    Holds at most ``batch_size`` records, so streaming (and bounded memory) is preserved.
    """
    for batch in chunks(records, batch_size):
        wanted: dict[str, list[str]] = {}
        for record in batch:
            if record.data is None:
                continue
            for name, keys in keys_of(record.data).items():
                wanted.setdefault(name, []).extend(keys)
        for name, keys in wanted.items():
            cache = context.caches.get(name)
            if cache is None:
                raise KeyError(f"mapping asked for look-up {name!r}; configured: {sorted(context.caches)}")
            cache.prefetch(keys)
        yield from batch
