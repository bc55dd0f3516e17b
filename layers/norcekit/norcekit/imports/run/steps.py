"""Pipeline pieces a run plugs into its record stream: lease keeping, mapping, rejecting.

* :class:`LeaseKeeper` renews the entity lease while records flow (a lost lease ends the run).
* :class:`Mapping` is the entity's mapping function with its Query look-ups prefetched in batches.
* :class:`Rejector` quarantines a record that cannot be imported and keeps a report sample.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Mapping as MappingOf
from typing import Any

from aws_lambda_powertools import Logger

from norcekit.imports.lookups import KeysOf, LookupCache, LookupContext, LookupSpec, QueryLookup, prefetched
from norcekit.imports.pipeline import DUPLICATE_IN_FULL
from norcekit.imports.records import SourceRecord
from norcekit.imports.run.context import MappingFunc, RunContext
from norcekit.imports.run.outcome import Rejection
from norcekit.norce.contracts.wire import ContractItem
from norcekit.quarantine import QuarantineStore
from norcekit.state.interfaces import Lease

logger = Logger(service="norcekit", child=True)

#: Per-record log lines for rejected records stop here (the quarantine keeps them all).
MAX_LOGGED_REJECTIONS = 50


class LeaseKeeper:
    """Renews the run's leases every third of their length while work goes on (none: a dry run)."""

    def __init__(self, leases: Sequence[Lease], lease_s: float, monotonic: Callable[[], float]) -> None:
        self.leases = list(leases)
        self.every = lease_s / 3
        self.monotonic = monotonic
        self.last = monotonic()

    def tick(self) -> None:
        if not self.leases:
            return
        now = self.monotonic()
        if now - self.last >= self.every:
            for lease in self.leases:
                lease.renew()  # LockLostError ends the run: another run may now own the entity
            self.last = now

    def ticking(self, records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
        """``records`` with a :meth:`tick` per record: a long read renews (or learns it lost) the lease."""
        for record in records:
            self.tick()
            yield record


class Mapping:
    """The entity's mapping function applied to records, with its look-ups prefetched in batches."""

    def __init__(
        self,
        func: MappingFunc,
        keys_of: KeysOf | None = None,
        lookups: LookupContext | None = None,
        batch_size: int = 200,
    ) -> None:
        self.func = func
        self.keys_of = keys_of
        self.lookups = lookups
        self.batch_size = batch_size

    def __call__(self, record: SourceRecord) -> ContractItem | None:
        return self.func(record.data or {})

    def prefetch(self, records: Iterable[SourceRecord]) -> Iterable[SourceRecord]:
        if self.keys_of is None or self.lookups is None:
            return records
        return prefetched(records, self.keys_of, self.lookups, batch_size=self.batch_size)

    @classmethod
    def for_run(
        cls,
        run: RunContext,
        func: MappingFunc,
        *,
        specs: MappingOf[str, LookupSpec] | None,
        query: QueryLookup | None,
        batch_size: int,
    ) -> Mapping:
        """``func`` with the run's look-up cache when it declares ``lookup_keys`` and specs exist."""
        keys_of = getattr(func, "lookup_keys", None) or getattr(
            getattr(func, "func", None), "lookup_keys", None
        )
        if not specs or query is None or keys_of is None:
            return cls(func)
        if run.lookups is None:  # one cache per run: Norce data changes between runs
            run.lookups = LookupContext({name: LookupCache(query, spec) for name, spec in specs.items()})
        return cls(functools.partial(func, lookups=run.lookups), keys_of, run.lookups, batch_size)


class Rejector:
    """``reject(record, reason)`` for one run: quarantine (not in a dry run), count, report, log."""

    def __init__(
        self, run: RunContext, quarantine: QuarantineStore, *, max_reported: int, full_file: bool = False
    ) -> None:
        self.run = run
        self.quarantine = quarantine
        self.max_reported = max_reported
        #: A FullFile import: a rejected row's key is missing from the payload, so Norce deactivates it.
        self.full_file = full_file

    def __call__(self, record: SourceRecord, reason: str) -> None:
        run = self.run
        run.rejected += 1
        quarantine_key = None
        metadata = {
            "entity": run.entity,
            "kind": run.kind,
            "mode": run.mode,
            "run_id": run.run_id,
            "record_key": record.key,
            "origin": record.origin,
        }
        if self.full_file and reason != DUPLICATE_IN_FULL:  # a duplicate's key is sent (first row)
            run.deactivated.append(record.key)
            metadata["deactivates"] = "yes"
            reason = f"{reason} (not in the FullFile payload: Norce deactivates {record.key!r})"
        if not run.dry_run:
            payload: Any = record.data if record.data is not None else (record.raw or "")
            quarantine_key = self.quarantine.put("import_record", reason, payload, metadata=metadata)
        if len(run.rejections) < self.max_reported:
            run.rejections.append(
                Rejection(key=record.key, origin=record.origin, reason=reason, quarantine_key=quarantine_key)
            )
        if run.rejected <= MAX_LOGGED_REJECTIONS:
            logger.warning(
                "record not imported",
                extra={
                    **run.log_keys(),
                    "key": record.key,
                    "origin": record.origin,
                    "reason": reason,
                    "quarantine": quarantine_key,
                },
            )


def ignore_rejection(record: SourceRecord, reason: str) -> None:
    """The reject callback of a pass whose rejections another pass already reported."""
    return None
