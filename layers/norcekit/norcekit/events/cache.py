"""A small per-container cache of Query rows with a time-to-live per Query namespace.

Why it exists and what it is *not* used for: an event says "this key changed", so the key an event
names is always read fresh (once per batch, thanks to coalescing) and never served from here — a
cached row would be exactly the stale state the event announces is gone. The cache serves
*related* look-ups (reference data a mapping needs: price lists, warehouses, currencies, the SKU
behind an order line), where being a TTL old is acceptable. Namespaces follow Norce's own advice
(norce-api.md §4): Core/Application rarely change (long TTL), Products/Customers "a while", Orders
barely (10 s). A TTL of 0 disables caching for that namespace.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

_MISSING = object()


def namespace_of(entity_set: str) -> str:
    """``"Products/ProductSkus"`` → ``"Products"``."""
    return entity_set.split("/", 1)[0]


class TtlCache:
    """Least-recently-used cache of look-up results, expiring per namespace TTL.

    Values may be ``None`` (the entity does not exist): a negative result is cached too.
    """

    def __init__(
        self,
        ttl_by_namespace: Mapping[str, float],
        *,
        max_items: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = dict(ttl_by_namespace)
        self._max_items = max_items
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def ttl(self, entity_set: str) -> float:
        return self._ttl.get(namespace_of(entity_set), 0.0)

    def get(self, entity_set: str, key: Hashable) -> Any:
        """The cached value, or :data:`MISSING` when absent or expired."""
        cache_key = (entity_set, key)
        entry = self._items.get(cache_key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                del self._items[cache_key]
            self.misses += 1
            return _MISSING
        self._items.move_to_end(cache_key)
        self.hits += 1
        return entry[1]

    def put(self, entity_set: str, key: Hashable, value: Any) -> None:
        ttl = self.ttl(entity_set)
        if ttl <= 0:
            return
        cache_key = (entity_set, key)
        self._items[cache_key] = (self._clock() + ttl, value)
        self._items.move_to_end(cache_key)
        while len(self._items) > self._max_items:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


MISSING: Any = _MISSING
