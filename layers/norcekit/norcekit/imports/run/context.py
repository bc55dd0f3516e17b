"""What one import run works with: its options, its collaborators (grouped) and its mutable record.

Nothing here does a step of a run; :mod:`.common` (shared steps), :mod:`.full` and :mod:`.delta`
do. The collaborators come in three small groups so a run's wiring reads as "where state lives,
how Norce is reached, what time it is" instead of a long argument list.
"""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from norcekit.deadline import Deadline
from norcekit.imports.pipeline import RunCounts
from norcekit.imports.records import WatermarkValue
from norcekit.jobs.completion import JobGetter, JobStatusSink
from norcekit.state.baselines import FullCountsStore, FullImportCounts, MemoryFullCounts
from norcekit.state.interfaces import JobRecords, Locks, RunRecords, Watermarks
from norcekit.state.jobs import JobStore
from norcekit.state.locks import LeaseLocks
from norcekit.state.runs import ImportMode, RunStore
from norcekit.state.table import StateTable
from norcekit.state.watermarks import Watermark, WatermarkStore

if TYPE_CHECKING:
    from norcekit.imports.lookups import LookupContext, QueryLookup
    from norcekit.imports.run.outcome import Rejection
    from norcekit.imports.sources.base import Source
    from norcekit.norce.connect import ImportResult
    from norcekit.norce.contracts.headers import Header
    from norcekit.norce.contracts.wire import ContractItem
    from norcekit.quarantine import QuarantineStore
    from norcekit.settings import Settings

MODES: tuple[ImportMode, ...] = ("full", "delta")
InitialDelta = Literal["full_required", "from_beginning"]

#: A mapping function (``norcekit.imports.mappings.MappingFunc``): source row → contract item (a model
#: or a WireItem) or None; one that uses look-ups also takes ``lookups=`` (a LookupContext) and has a
#: ``lookup_keys`` attribute.
MappingFunc = Callable[..., "ContractItem | None"]


class UnknownEntityError(ValueError):
    """The entity is not an import kind, not configured, or disabled."""


class Importer(Protocol):
    """The part of ``norcekit.norce.connect.ConnectClient`` a run uses."""

    def import_items(
        self,
        kind: Any,
        header: Header | str,
        items: Iterable[Any] | Callable[[], Iterable[Any]],
        *,
        deadline: Deadline | None = None,
        on_item: Callable[[Any], None] | None = None,
    ) -> ImportResult: ...


@dataclass
class RunStores:
    """Where a run's state lives: run and job records, watermarks, the entity locks, the quarantine."""

    runs: RunRecords
    jobs: JobRecords
    watermarks: Watermarks
    quarantine: QuarantineStore
    locks: Locks
    #: Item counts of full imports per scope (the shrink guardrail's baseline); in memory unless
    #: given: :meth:`on_table` keeps them in the state table.
    full_counts: FullImportCounts = field(default_factory=MemoryFullCounts)

    @classmethod
    def on_table(
        cls,
        table: StateTable,
        quarantine: QuarantineStore,
        *,
        lock_clock: Callable[[], float] = time.time,
    ) -> RunStores:
        """The DynamoDB stores of ``table`` (the production wiring and the integration tests)."""
        return cls(
            runs=RunStore(table),
            jobs=JobStore(table),
            watermarks=WatermarkStore(table),
            quarantine=quarantine,
            locks=LeaseLocks(table, clock=lock_clock),
            full_counts=FullCountsStore(table),
        )


@dataclass
class NorceSide:
    """How a run reaches Norce: Connect imports, Job/Get, Query look-ups and the job tracker."""

    connect: Importer
    jobs: JobGetter
    #: Source name (or None) → the Connect AccountId its field ownership is declared under.
    account_id_for: Callable[[str | None], int]
    query: QueryLookup | None = None
    #: Where the ordering check reports jobs it sees ending (the job tracker, for its claim).
    status_sink: JobStatusSink | None = None


@dataclass(frozen=True)
class Clocks:
    """Wall clock (aware UTC), a monotonic clock for budgets, and epoch seconds for leases."""

    now: Callable[[], datetime] = field(default=functools.partial(datetime.now, UTC))
    monotonic: Callable[[], float] = time.monotonic
    epoch: Callable[[], float] = time.time


@dataclass(frozen=True)
class RunnerOptions:
    """Run-wide knobs (from ``IMPORT_*`` settings); see :class:`~norcekit.settings.Settings`."""

    lock_lease_s: float = 960.0
    min_remaining_s: float = 30.0
    full_min_remaining_s: float = 120.0
    delta_max_buffered: int = 200_000
    initial_delta: InitialDelta = "full_required"
    lookup_batch_size: int = 200
    max_reported_rejections: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerOptions:
        return cls(
            lock_lease_s=settings.import_lock_lease_s,
            min_remaining_s=settings.import_min_remaining_s,
            full_min_remaining_s=settings.import_full_min_remaining_s,
            delta_max_buffered=settings.import_delta_max_buffered,
            initial_delta=settings.import_initial_delta,
            lookup_batch_size=settings.import_lookup_batch_size,
        )


@dataclass
class RunContext:
    """Mutable state of one run while it executes (what ends up in its record)."""

    run_id: str
    #: The import's name: the key of its lock, watermark, run and job records.
    entity: str
    mode: ImportMode
    dry_run: bool
    started_at: datetime
    #: The Norce entity written (``IMPORT_KINDS``); empty: the import is named after it.
    kind: str = ""
    counts: RunCounts = field(default_factory=RunCounts)
    job_ids: list[int] = field(default_factory=list)
    window_since: Watermark | None = None
    window_until: Watermark | None = None
    candidate: Watermark | None = None
    created: bool = False
    rejections: list[Rejection] = field(default_factory=list)
    rejected: int = 0
    stuck_job_ids: list[int] = field(default_factory=list)
    lookups: LookupContext | None = None
    #: Guardrails the operator allowed this run past (full imports).
    allow: frozenset[str] = frozenset()
    #: Keys of rejected rows a full import deactivates (their row is not in the FullFile payload).
    deactivated: list[str] = field(default_factory=list)
    #: Sentences appended to the run's message (guardrails the operator allowed).
    notes: list[str] = field(default_factory=list)

    def log_keys(self) -> dict[str, str]:
        """Correlation keys for library log lines (a child logger cannot append keys itself)."""
        return {"run_id": self.run_id, "entity": self.kind, "import": self.entity, "mode": self.mode}

    def __post_init__(self) -> None:
        self.kind = self.kind or self.entity


# --- small helpers shared by the run units ---------------------------------------------------------


def new_run_id(entity: str, mode: str, now: datetime) -> str:
    """``<entity>-<mode>-<UTC yyyymmddThhmmss>-<8 hex>``: sortable, unique, readable in logs."""
    return f"{entity}-{mode}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def lock_owner(run_id: str) -> str:
    """The entity lock's owner for one execution of ``run_id``: unique even for a duplicate trigger."""
    return f"{run_id}#{uuid.uuid4().hex[:12]}"


def run_of_lock_owner(owner: str) -> str:
    """The run id in a :func:`lock_owner` (other holders' owners are returned as they are)."""
    run_id, sep, _ = owner.rpartition("#")
    return run_id if sep else owner


def to_watermark(value: WatermarkValue) -> Watermark:
    if isinstance(value, datetime):
        return Watermark.timestamp(value)
    return Watermark.cursor(value)


def lower_bound(committed: Watermark, overlap_s: float) -> WatermarkValue:
    """``watermark - overlap``; cursor feeds are strictly increasing and need no overlap."""
    if committed.kind == "timestamp":
        return committed.as_datetime() - timedelta(seconds=overlap_s)
    return committed.as_int()


def source_now(source: Source, entity: str) -> WatermarkValue:
    """``source.now()``, passing the entity when the source takes one (cursor feeds are per entity)."""
    now: Callable[..., WatermarkValue] = source.now
    try:
        parameters = inspect.signature(now).parameters
    except (TypeError, ValueError):  # builtins / C callables: call without
        parameters = {}  # type: ignore[assignment]
    return now(entity) if parameters else now()
