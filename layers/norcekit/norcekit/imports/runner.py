"""One import run: source → mapping → Connect, with the state that makes it safe to repeat.

:class:`ImportRunner` knows the domain and nothing about Lambda: ``run(entity, mode, deadline=...)``
returns the run's record. :func:`build_import_runner` wires the real adapters from settings.

A run, in order:

1. **Lock** — a lease per entity (``LOCK#<entity>``, shared by full and delta, so the two never
   interleave jobs), owned by the run id plus a per-execution suffix (a duplicate trigger of the
   same run id is refused, never let in), lease ``import_lock_lease_s`` (>= the Lambda timeout +
   margin) and renewed while streaming. A second run finds it held and ends ``skipped_locked``.
2. **Ordering** (DESIGN rule 3) — :func:`~norcekit.jobs.completion.check_entity_order`: an
   earlier job of the entity still unfinished defers the run (``skipped_job_running``); a job past
   ``job_deadline_s`` is flagged stuck (``JobsStuck`` metric) and ``stuck_policy`` decides.
3. **Full** — one streamed ``FullFile=true`` request per scope (rule 1): the source's records flow
   through dedupe and mapping straight into the chunked request body; nothing is collected. On-hand
   with ``full_scope_split: warehouse`` sends one FullFile job per warehouse (Norce deactivates
   on-hand rows only for the warehouses present in the payload, so a warehouse is a documented
   scope); the source is read once to find the warehouses, then once per warehouse. Imports
   without FullFile (customers, companies, price lists) get a complete upsert: Norce has no
   deactivation there, so records missing from the source stay as they are in Norce.
4. **Delta** — window ``[watermark - overlap, upper)`` with ``upper`` fixed at run start (rule 5),
   deduped by key (latest version wins), submitted in jobs of ``delta.batch_size`` items.
5. **Time budget** — before each delta batch the remaining Lambda time must exceed
   ``import_min_remaining_s`` plus the longest batch so far, else the run stops
   (``partial_timeout``: jobs so far are kept, the watermark is not committable, the next run
   re-reads the window). A full import needs ``import_full_min_remaining_s`` to start, and its
   stream checks the deadline as it goes: when time runs out the body generator raises, httpx
   closes the connection before the closing chunk, and Norce discards the truncated JSON array
   (no job is created; nothing is deactivated by half a payload).
6. **Record** — the run record (RunStore) is created before reading and updated at the end (job
   ids as they are submitted); the same figures go out as EMF metrics with dimension ``entity``.

**Watermarks.** The candidate watermark of a run is ``upper`` — the source's clock at run start
minus ``safety_lag_s`` (for cursor feeds: the source's exclusive high-water mark) — *not* the
largest ``changed_at`` seen. ``max(changed_at)`` is wrong in both directions (reference-patterns
§3.4, erp-sources §5): a row committed late with an older stamp than the maximum, or a row sharing
the maximum's stamp but not yet visible, would fall behind the next run's lower bound and be lost;
and the read and the maximum come from different snapshots. ``upper`` is fixed before reading, so
everything below it that the source will ever show is either in this window or re-read by the
next run's overlap. The candidate is committed only when every job of the run has succeeded
(:func:`~norcekit.jobs.completion.commit_run_watermark_if_complete`, called by the job tracker,
and by the run itself once it is ``submitted``, for jobs that ended before that);
a failed or partial run never moves it. A delta with nothing to submit commits ``upper`` at once:
nothing in the window needs Norce, and no earlier job is unfinished (step 2).

A full import also carries ``upper`` as its candidate (reference-patterns §3.4 step 7), so the
first full import starts the delta chain; when the source can tell the position its full export
was taken at (an optional ``snapshot_position(entity)``, e.g. a file drop's export timestamp), the
candidate is the earlier of the two, so deltas written after the snapshot are not skipped.

**Dry run** — reads and maps everything, counts, and reports what would be quarantined (a sample
of ``max_reported_rejections`` in the result). It stores nothing (no run record, no quarantine
objects, no jobs, no watermark) and takes no lock: it writes nothing a real run could race, and
holding the lock would make a scheduled real run skip.
"""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

from norcekit.deadline import Deadline
from norcekit.imports.config import EntityConfig, IntegrationConfig, build_source
from norcekit.imports.lookups import KeysOf, LookupCache, LookupContext, LookupSpec, QueryLookup, prefetched
from norcekit.imports.pipeline import (
    RunCounts,
    chunks,
    count_read,
    describe_error,
    first_of_each_key,
    latest_of_each_key,
    map_records,
)
from norcekit.imports.records import SourceRecord, WatermarkValue
from norcekit.imports.sources.base import Source
from norcekit.jobs.completion import (
    CommitResult,
    JobGetter,
    JobStatusSink,
    check_entity_order,
    commit_run_watermark_if_complete,
)
from norcekit.norce.contracts import IMPORT_KINDS, ImportKind
from norcekit.norce.contracts.headers import Header
from norcekit.norce.http import DeadlineExceeded
from norcekit.observability import MetricName
from norcekit.state import runs as runs_module
from norcekit.state.jobs import JobRecord, JobStore
from norcekit.state.locks import LeaseLock, LockLostError
from norcekit.state.runs import ImportMode, RunOutcome, RunRecord, RunStore
from norcekit.state.table import ConditionFailed, StateTable
from norcekit.state.watermarks import Watermark, WatermarkStore

if TYPE_CHECKING:
    from norcekit.norce.connect import ImportResult
    from norcekit.quarantine import QuarantineStore
    from norcekit.settings import Settings

logger = Logger(service="norcekit", child=True)

MODES: tuple[ImportMode, ...] = ("full", "delta")
InitialDelta = Literal["full_required", "from_beginning"]

#: Per-outcome run counters (alarm on ImportRunsFailed / ImportRunsPartial / ImportRunsDeferred).
OUTCOME_METRICS: dict[RunOutcome, str] = {
    RunOutcome.FAILED: MetricName.IMPORT_RUNS_FAILED,
    RunOutcome.PARTIAL_TIMEOUT: MetricName.IMPORT_RUNS_PARTIAL,
    RunOutcome.SKIPPED_LOCKED: MetricName.IMPORT_RUNS_SKIPPED_LOCKED,
    RunOutcome.SKIPPED_JOB_RUNNING: MetricName.IMPORT_RUNS_DEFERRED,
}
#: Per-record log lines for rejected records stop here (the quarantine keeps them all).
MAX_LOGGED_REJECTIONS = 50
#: The full stream checks the deadline every this many items (a clock read per item is cheap too).
DEADLINE_CHECK_EVERY = 64


# --- What the runner needs from its collaborators --------------------------------------------------


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


#: A mapping function (``norcekit.imports.mappings.MappingFunc``): source row → contract model or None;
#: one that uses look-ups also takes ``lookups=`` (a LookupContext) and has a ``lookup_keys`` attribute.
MappingFunc = Callable[..., BaseModel | None]


class UnknownEntityError(ValueError):
    """The entity is not an import kind, not configured, or disabled."""


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


# --- What a run returns ------------------------------------------------------------------------------


class Rejection(BaseModel):
    """A record that was not imported: its key, where it came from and why."""

    key: str
    origin: str
    reason: str
    quarantine_key: str | None = None


class RunResult(RunRecord):
    """The run record plus what is only reported, never stored (dry runs, rejection sample)."""

    dry_run: bool = False
    #: False when nothing was written to the run store (dry run, duplicate trigger).
    stored: bool = True
    #: The first ``max_reported_rejections`` rejected records (all are in the quarantine).
    rejections: list[Rejection] = Field(default_factory=list)
    stuck_job_ids: list[int] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary for the Lambda response and the CLI."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass
class _Run:
    """Mutable state of one run while it executes."""

    run_id: str
    entity: str
    mode: ImportMode
    dry_run: bool
    started_at: datetime
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

    def log_keys(self) -> dict[str, str]:
        """Correlation keys for library log lines (a child logger cannot append keys itself)."""
        return {"run_id": self.run_id, "entity": self.entity, "mode": self.mode}


class _RunStopped(Exception):  # noqa: N818 - control flow, not an error
    """Ends a run early with an outcome (not an error: the outcome explains)."""

    def __init__(self, outcome: RunOutcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


class _LeaseKeeper:
    """Renews the run's lease every third of its length while work goes on."""

    def __init__(self, lock: LeaseLock | None, lease_s: float, monotonic: Callable[[], float]) -> None:
        self.lock = lock
        self.every = lease_s / 3
        self.monotonic = monotonic
        self.last = monotonic()

    def tick(self) -> None:
        if self.lock is None:
            return
        now = self.monotonic()
        if now - self.last >= self.every:
            self.lock.renew()  # LockLostError ends the run: another run may now own the entity
            self.last = now

    def ticking(self, records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
        """``records`` with a :meth:`tick` per record: a long read renews (or learns it lost) the lease."""
        for record in records:
            self.tick()
            yield record


class _Mapping:
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

    def __call__(self, record: SourceRecord) -> BaseModel | None:
        return self.func(record.data or {})

    def prefetch(self, records: Iterable[SourceRecord]) -> Iterable[SourceRecord]:
        if self.keys_of is None or self.lookups is None:
            return records
        return prefetched(records, self.keys_of, self.lookups, batch_size=self.batch_size)


# --- The runner ----------------------------------------------------------------------------------


class ImportRunner:
    """Runs imports for configured entities; every collaborator is passed in (tests use fakes)."""

    def __init__(
        self,
        config: IntegrationConfig,
        *,
        account_id_for: Callable[[str | None], int],
        connect: Importer,
        jobs_client: JobGetter,
        table: StateTable,
        watermarks: WatermarkStore,
        runs: RunStore,
        job_store: JobStore,
        quarantine: QuarantineStore,
        metrics: Metrics,
        options: RunnerOptions | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        lock_clock: Callable[[], float] = time.time,
        query: QueryLookup | None = None,
        lookups: Mapping[str, Mapping[str, LookupSpec]] | None = None,
        source_factory: Callable[[str], Source] | None = None,
        mapping_factory: Callable[[str], MappingFunc] | None = None,
        job_status_sink: JobStatusSink | None = None,
    ) -> None:
        self.config = config
        self.source_factory = source_factory or functools.partial(build_source, config)
        self.mapping_factory: Callable[[str], MappingFunc] = mapping_factory or config.mapping_for
        self.account_id_for = account_id_for
        self.connect = connect
        self.jobs_client = jobs_client
        self.table = table
        self.watermarks = watermarks
        self.runs = runs
        self.job_store = job_store
        self.quarantine = quarantine
        self.metrics = metrics
        self.options = options or RunnerOptions()
        self.clock = clock
        self.monotonic = monotonic
        self.lock_clock = lock_clock
        self.query = query
        self.lookups = lookups or {}
        #: Where the ordering check reports jobs it sees ending (the job tracker, for its claim).
        self.job_status_sink = job_status_sink

    # --- public -----------------------------------------------------------------------------------

    def run(
        self,
        entity: str,
        mode: ImportMode,
        *,
        deadline: Deadline,
        run_id: str | None = None,
        dry_run: bool = False,
    ) -> RunResult:
        """Run one import; returns the run record (never raises for a failed run: see ``outcome``).

        Raises :class:`UnknownEntityError` (or ``ValueError``) for an entity/mode that cannot run.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        config = self._config(entity, mode)
        run = _Run(
            run_id=run_id or new_run_id(entity, mode, self.clock()),
            entity=entity,
            mode=mode,
            dry_run=dry_run,
            started_at=self.clock(),
        )
        if not dry_run and run_id is not None:
            existing = self._existing(run_id)
            if existing is not None:
                return existing
        if dry_run:
            return self._execute(run, config, deadline, None)
        lock = LeaseLock(
            self.table, entity, lock_owner(run.run_id), self.options.lock_lease_s, clock=self.lock_clock
        )
        if not lock.acquire():
            held = lock.blocked_by
            if held is not None and run_of_lock_owner(held.owner) == run.run_id:
                return self._duplicate(run, f"run {run.run_id} is already in progress")
            holder = f"run {held.owner} until {held.until_datetime.isoformat()}" if held else "another run"
            return self._finish(run, RunOutcome.SKIPPED_LOCKED, f"skipped: {entity} is locked by {holder}")
        try:
            if run_id is not None:
                # The first holder of this run id may have finished between our check and the lock.
                existing = self._existing(run_id)
                if existing is not None:
                    return existing
            return self._execute(run, config, deadline, lock)
        finally:
            lock.release()

    # --- the run ----------------------------------------------------------------------------------

    def _execute(
        self, run: _Run, config: EntityConfig, deadline: Deadline, lock: LeaseLock | None
    ) -> RunResult:
        keeper = _LeaseKeeper(lock, self.options.lock_lease_s, self.monotonic)
        try:
            if not run.dry_run:
                self._check_order(run, config, deadline)
            source = self.source_factory(config.source)
            try:
                if run.mode == "full":
                    self._full(run, config, source, deadline, keeper)
                else:
                    self._delta(run, config, source, deadline, keeper)
            finally:
                source.close()
        except _RunStopped as stop:
            return self._finish(run, stop.outcome, stop.message)
        except DeadlineExceeded as exc:
            return self._finish(run, RunOutcome.PARTIAL_TIMEOUT, f"stopped: deadline reached ({exc})")
        except LockLostError as exc:
            return self._finish(run, RunOutcome.FAILED, f"lost the {run.entity} lock mid-run: {exc}")
        except Exception as exc:
            logger.exception("import run failed", extra=run.log_keys())
            return self._finish(run, RunOutcome.FAILED, f"failed: {describe_error(exc)}")
        raise AssertionError("a run ends through _RunStopped")  # pragma: no cover

    def _check_order(self, run: _Run, config: EntityConfig, deadline: Deadline) -> None:
        decision = check_entity_order(
            run.entity,
            job_store=self.job_store,
            jobs_client=self.jobs_client,
            job_deadline_s=config.job_deadline_s,
            stuck_policy=config.stuck_policy,
            run_store=self.runs,
            watermark_store=self.watermarks,
            clock=self.clock,
            deadline=deadline,
            status_sink=self.job_status_sink,
        )
        run.stuck_job_ids = [job.job_id for job in decision.stuck]
        if not decision.proceed:
            raise _RunStopped(RunOutcome.SKIPPED_JOB_RUNNING, decision.message)

    def _full(
        self, run: _Run, config: EntityConfig, source: Source, deadline: Deadline, keeper: _LeaseKeeper
    ) -> None:
        kind = IMPORT_KINDS[run.entity]
        if source.capabilities.delta_supported:
            upper = self._upper(source, run.entity, config)
            snapshot = getattr(source, "snapshot_position", None)
            position = snapshot(run.entity) if callable(snapshot) else None
            run.window_until = run.candidate = to_watermark(upper)
            if position is not None and to_watermark(position) < run.candidate:
                run.candidate = to_watermark(position)
        self._create(run)
        if deadline.remaining() < self.options.full_min_remaining_s:
            raise _RunStopped(
                RunOutcome.PARTIAL_TIMEOUT,
                f"not started: {deadline.remaining():.0f}s left, a full import needs "
                f"{self.options.full_min_remaining_s:.0f}s to start",
            )
        mapping = self._mapping(run)
        header = self._header(run.entity, full_file=True)
        split = config.full_scope_split if run.entity == "onhand" else None
        if run.dry_run:
            for _ in self._full_items(run, source, mapping, deadline, keeper, report=True):
                pass
            raise _RunStopped(RunOutcome.SUCCEEDED, self._dry_run_message(run, jobs=1))
        if split == "warehouse":
            self._full_by_warehouse(
                run,
                kind=kind,
                header=header,
                source=source,
                mapping=mapping,
                deadline=deadline,
                keeper=keeper,
            )
        else:
            attempts = 0

            def stream() -> Iterator[Any]:
                # Called once per attempt: a resent request re-reads the source from the start,
                # counts afresh and does not quarantine the same records twice.
                nonlocal attempts
                attempts += 1
                run.counts = RunCounts()
                yield from self._full_items(run, source, mapping, deadline, keeper, report=attempts == 1)

            result = self.connect.import_items(kind.name, header, stream, deadline=deadline)
            self._record_job(run, result)
        raise _RunStopped(RunOutcome.SUBMITTED, self._submitted_message(run))

    def _full_items(
        self,
        run: _Run,
        source: Source,
        mapping: _Mapping,
        deadline: Deadline,
        keeper: _LeaseKeeper,
        *,
        report: bool,
        counts: RunCounts | None = None,
        scope: Callable[[BaseModel], bool] | None = None,
    ) -> Iterator[BaseModel]:
        """The full import's item stream: read → first of each key → map (→ scope filter)."""
        counts = counts if counts is not None else run.counts
        reject = self._reject(run) if report else _ignore
        records = count_read(source.iter_all(run.entity), counts)
        records = first_of_each_key(records, counts, reject)
        items = map_records(mapping.prefetch(records), mapping, counts, reject)
        for n, item in enumerate(items, 1):
            # Before the scope filter: a stream of one warehouse skips most records, and must still
            # notice its deadline and keep its lease.
            if n % DEADLINE_CHECK_EVERY == 0 and deadline.expired:
                raise DeadlineExceeded(
                    f"deadline reached after reading {n} items of a full {run.entity} import; "
                    "the request was aborted and Norce discards the truncated body"
                )
            keeper.tick()
            if scope is not None and not scope(item):
                continue
            yield item

    def _full_by_warehouse(
        self,
        run: _Run,
        *,
        kind: ImportKind[Any],
        header: Header,
        source: Source,
        mapping: _Mapping,
        deadline: Deadline,
        keeper: _LeaseKeeper,
    ) -> None:
        """On-hand split by warehouse: one FullFile job per warehouse found in the export."""
        warehouses: dict[str, None] = {}
        for item in self._full_items(run, source, mapping, deadline, keeper, report=True):
            warehouses.setdefault(str(getattr(item, "WarehouseCode", "")), None)
        logger.info(
            "full on-hand import split by warehouse", extra={**run.log_keys(), "warehouses": list(warehouses)}
        )
        for n, warehouse in enumerate(warehouses):
            if n and deadline.remaining() < self.options.full_min_remaining_s:
                raise _RunStopped(
                    RunOutcome.PARTIAL_TIMEOUT,
                    f"stopped after {n} of {len(warehouses)} warehouses: {deadline.remaining():.0f}s left",
                )

            def in_scope(item: BaseModel, code: str = warehouse) -> bool:
                return str(getattr(item, "WarehouseCode", "")) == code

            def stream(scope: Callable[[BaseModel], bool] = in_scope) -> Iterator[Any]:
                yield from self._full_items(
                    run, source, mapping, deadline, keeper, report=False, counts=RunCounts(), scope=scope
                )

            result = self.connect.import_items(kind.name, header, stream, deadline=deadline)
            run.counts.submitted += result.items_sent
            self._record_job(run, result, count_submitted=False)

    def _delta(
        self, run: _Run, config: EntityConfig, source: Source, deadline: Deadline, keeper: _LeaseKeeper
    ) -> None:
        kind = IMPORT_KINDS[run.entity]
        capabilities = source.capabilities
        if not capabilities.delta_supported:
            raise _RunStopped(
                RunOutcome.FAILED,
                f"source {config.source!r} has no delta for {run.entity}: schedule full imports only",
            )
        committed = self.watermarks.get(run.entity)
        if committed is not None and committed.kind != capabilities.watermark_kind:
            raise _RunStopped(
                RunOutcome.FAILED,
                f"stored watermark of {run.entity} is a {committed.kind}, the source gives "
                f"{capabilities.watermark_kind}s: set it with `norcekit watermarks set`",
            )
        upper = self._upper(source, run.entity, config)
        run.window_until = run.candidate = to_watermark(upper)
        since: WatermarkValue | None = None
        if committed is None:
            if self.options.initial_delta == "full_required":
                self._create(run)
                raise _RunStopped(
                    RunOutcome.FAILED,
                    f"no watermark for {run.entity} yet: run a full import first (its success sets the "
                    "watermark), or set IMPORT_INITIAL_DELTA=from_beginning",
                )
        else:
            since = lower_bound(committed, config.delta.overlap_s)
            run.window_since = to_watermark(since)
        self._create(run)
        if committed is not None and run.candidate is not None and run.candidate <= committed:
            raise _RunStopped(RunOutcome.SUCCEEDED, f"nothing to read: upper {upper} is not past {committed}")

        records = latest_of_each_key(
            lambda: keeper.ticking(source.iter_changed(run.entity, since, upper)),
            run.counts,
            max_buffered=self.options.delta_max_buffered,
        )
        mapping = self._mapping(run)
        items = map_records(mapping.prefetch(records), mapping, run.counts, self._reject(run))
        batches = chunks(items, config.delta.batch_size)
        if run.dry_run:
            planned = sum(1 for _ in batches)
            raise _RunStopped(RunOutcome.SUCCEEDED, self._dry_run_message(run, jobs=planned))

        header = self._header(run.entity, full_file=False)
        longest_batch_s = 0.0
        batch_started = self.monotonic()
        for number, batch in enumerate(batches, 1):
            needed = self.options.min_remaining_s + longest_batch_s
            if deadline.remaining() < needed:
                raise _RunStopped(
                    RunOutcome.PARTIAL_TIMEOUT,
                    f"stopped before batch {number}: {deadline.remaining():.0f}s left, {needed:.0f}s "
                    f"needed; {len(run.job_ids)} job(s) submitted, watermark not moved",
                )
            # Reading and mapping the batch may have outlived the lease: never submit without it.
            keeper.tick()
            result = self.connect.import_items(kind.name, header, batch, deadline=deadline)
            self._record_job(run, result)
            keeper.tick()
            now = self.monotonic()
            longest_batch_s = max(longest_batch_s, now - batch_started)
            batch_started = now
        if not run.job_ids:
            # Nothing to send (no changes, or every record quarantined/skipped): no job can
            # complete this run, and nothing earlier is unfinished (ordering check), so commit now.
            moved = run.candidate is not None and self.watermarks.commit(
                run.entity, run.candidate, run_id=run.run_id
            )
            state = f"watermark committed at {run.candidate}" if moved else "watermark unchanged"
            raise _RunStopped(RunOutcome.SUCCEEDED, f"no items to submit ({run.counts.read} read); {state}")
        raise _RunStopped(RunOutcome.SUBMITTED, self._submitted_message(run))

    # --- pieces -----------------------------------------------------------------------------------

    def _config(self, entity: str, mode: ImportMode) -> EntityConfig:
        if entity not in IMPORT_KINDS:
            raise UnknownEntityError(f"unknown entity {entity!r}; import kinds: {', '.join(IMPORT_KINDS)}")
        config = self.config.entities.get(entity)
        if config is None:
            raise UnknownEntityError(f"entity {entity!r} is not configured (entities.{entity})")
        if not config.enabled:
            raise UnknownEntityError(f"entity {entity!r} is disabled in the configuration")
        mode_enabled = config.full.enabled if mode == "full" else config.delta.enabled
        if not mode_enabled:
            raise UnknownEntityError(f"{mode} imports of {entity!r} are disabled (entities.{entity}.{mode})")
        return config

    def _existing(self, run_id: str) -> RunResult | None:
        try:
            record = self.runs.get(run_id)
        except runs_module.RunNotFoundError:
            return None
        logger.info(
            "run id already used (a duplicate trigger): nothing done",
            extra={"run_id": run_id, "outcome": record.outcome},
        )
        return RunResult(**record.model_dump(), stored=False)

    @staticmethod
    def _duplicate(run: _Run, why: str) -> RunResult:
        """A second trigger of a run id whose first holder is still running: nothing is written."""
        logger.info("duplicate trigger of a running run: nothing done", extra=run.log_keys())
        return RunResult(
            run_id=run.run_id,
            entity=run.entity,
            mode=run.mode,
            started_at=run.started_at,
            outcome=RunOutcome.SKIPPED_LOCKED,
            message=f"skipped: duplicate trigger; {why}",
            stored=False,
        )

    def _upper(self, source: Source, entity: str, config: EntityConfig) -> WatermarkValue:
        now = source_now(source, entity)
        if isinstance(now, datetime):
            return now - timedelta(seconds=config.delta.safety_lag_s)
        return now  # a cursor feed's high-water mark is exclusive and final: no lag

    def _header(self, entity: str, *, full_file: bool) -> Header:
        account_id = self.account_id_for(self.config.account_source_for(entity))
        return self.config.build_header(entity, account_id=account_id, full_file=full_file)

    def _mapping(self, run: _Run) -> _Mapping:
        func = self.mapping_factory(run.entity)
        keys_of = getattr(func, "lookup_keys", None) or getattr(
            getattr(func, "func", None), "lookup_keys", None
        )
        specs = self.lookups.get(run.entity)
        if not specs or self.query is None or keys_of is None:
            return _Mapping(func)
        if run.lookups is None:  # one cache per run: Norce data changes between runs
            run.lookups = LookupContext({name: LookupCache(self.query, spec) for name, spec in specs.items()})
        return _Mapping(
            functools.partial(func, lookups=run.lookups), keys_of, run.lookups, self.options.lookup_batch_size
        )

    def _reject(self, run: _Run) -> Callable[[SourceRecord, str], None]:
        def reject(record: SourceRecord, reason: str) -> None:
            run.rejected += 1
            quarantine_key = None
            if not run.dry_run:
                payload: Any = record.data if record.data is not None else (record.raw or "")
                quarantine_key = self.quarantine.put(
                    "import_record",
                    reason,
                    payload,
                    metadata={
                        "entity": run.entity,
                        "mode": run.mode,
                        "run_id": run.run_id,
                        "record_key": record.key,
                        "origin": record.origin,
                    },
                )
            if len(run.rejections) < self.options.max_reported_rejections:
                run.rejections.append(
                    Rejection(
                        key=record.key, origin=record.origin, reason=reason, quarantine_key=quarantine_key
                    )
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

        return reject

    def _record_job(self, run: _Run, result: ImportResult, *, count_submitted: bool = True) -> None:
        job_id = result.job_id
        if job_id is None:
            raise RuntimeError(
                f"Connect accepted the {run.entity} import but returned no JobId "
                f"(StatusCode {result.job.StatusCode!r}: {result.job.Description!r})"
            )
        if count_submitted:
            run.counts.submitted += result.items_sent
        run.job_ids.append(job_id)
        self.job_store.create(
            JobRecord(
                job_id=job_id,
                entity=run.entity,
                mode=run.mode,
                run_id=run.run_id,
                item_count=result.items_sent,
                submitted_at=self.clock(),
            )
        )
        # Persist run → job before anything else can fail, so the tracker can always find the run.
        self.runs.update(run.run_id, add_job_ids=[job_id], counts=self._counts(run))
        logger.info(
            "import job submitted", extra={**run.log_keys(), "job_id": job_id, "items": result.items_sent}
        )

    def _create(self, run: _Run) -> None:
        if run.created or run.dry_run:
            return
        self.runs.create(
            RunRecord(
                run_id=run.run_id,
                entity=run.entity,
                mode=run.mode,
                started_at=run.started_at,
                window_since=run.window_since,
                window_until=run.window_until,
                candidate_watermark=run.candidate,
            )
        )
        run.created = True

    def _finish(self, run: _Run, outcome: RunOutcome, message: str) -> RunResult:
        finished = self.clock()
        duration = round((finished - run.started_at).total_seconds(), 3)
        committable = outcome in (RunOutcome.SUBMITTED, RunOutcome.SUCCEEDED)
        candidate = run.candidate if committable else None
        record: RunRecord
        stored = not run.dry_run
        base = RunRecord(
            run_id=run.run_id,
            entity=run.entity,
            mode=run.mode,
            started_at=run.started_at,
            finished_at=finished,
            window_since=run.window_since,
            window_until=run.window_until,
            candidate_watermark=candidate,
            counts=self._counts(run),
            job_ids=run.job_ids,
            outcome=outcome,
            message=message,
            duration_s=duration,
        )
        if run.dry_run:
            record = base
        elif run.created:
            if not committable and run.candidate is not None:
                # The stored candidate stays for the operator; the commit refuses it by outcome.
                message = f"{message} (candidate {run.candidate} not committable)"
            record = self.runs.update(
                run.run_id, counts=self._counts(run), outcome=outcome, message=message, finished_at=finished
            )
            if outcome is RunOutcome.SUBMITTED:
                record = self._commit_if_complete(run) or record
        else:
            try:
                record = self.runs.create(base)
            except ConditionFailed:  # a duplicate trigger raced us to this run id
                record, stored = base, False
        log = logger.warning if outcome in OUTCOME_METRICS else logger.info
        log(
            "import run finished",
            extra={**run.log_keys(), "outcome": outcome.value, "detail": message, **run.counts.as_dict()},
        )
        if not run.dry_run:
            self._emit_metrics(run, outcome, duration)
        return RunResult(
            **record.model_dump(),
            dry_run=run.dry_run,
            stored=stored,
            rejections=run.rejections,
            stuck_job_ids=run.stuck_job_ids,
        )

    def _commit_if_complete(self, run: _Run) -> RunRecord | None:
        """Jobs that ended before ``submitted`` was written found the run still running: commit now."""
        sink = self.job_status_sink

        def undecided(job: JobRecord) -> bool:  # a failed job whose restart is not decided yet
            return sink is not None and not sink.decided(job.job_id)

        try:
            result = commit_run_watermark_if_complete(
                run.run_id,
                run_store=self.runs,
                job_store=self.job_store,
                watermark_store=self.watermarks,
                undecided=undecided,
            )
            return None if result is CommitResult.PENDING else self.runs.get(run.run_id)
        except Exception:  # best effort: the run stays submitted, its watermark unmoved (safe)
            logger.exception("watermark commit after submitting failed", extra=run.log_keys())
            return None

    def _emit_metrics(self, run: _Run, outcome: RunOutcome, duration_s: float) -> None:
        """One run's figures with dimension ``entity`` (the caller flushes: ``@log_metrics``)."""
        m = self.metrics
        m.add_dimension(name="entity", value=run.entity)
        m.add_metadata(key="run_id", value=run.run_id)
        m.add_metadata(key="outcome", value=outcome.value)
        m.add_metric(name=MetricName.IMPORT_RUNS, unit=MetricUnit.Count, value=1)
        m.add_metric(name=MetricName.ITEMS_READ, unit=MetricUnit.Count, value=run.counts.read)
        m.add_metric(name=MetricName.ITEMS_MAPPED, unit=MetricUnit.Count, value=run.counts.mapped)
        m.add_metric(name=MetricName.ITEMS_QUARANTINED, unit=MetricUnit.Count, value=run.counts.quarantined)
        m.add_metric(name=MetricName.ITEMS_SUBMITTED, unit=MetricUnit.Count, value=run.counts.submitted)
        m.add_metric(name=MetricName.JOBS_SUBMITTED, unit=MetricUnit.Count, value=len(run.job_ids))
        m.add_metric(name=MetricName.IMPORT_DURATION_SECONDS, unit=MetricUnit.Seconds, value=duration_s)
        if run.stuck_job_ids:
            m.add_metric(name=MetricName.JOBS_STUCK, unit=MetricUnit.Count, value=len(run.stuck_job_ids))
        if outcome in OUTCOME_METRICS:
            m.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)

    @staticmethod
    def _counts(run: _Run) -> runs_module.RunCounts:
        return runs_module.RunCounts(**run.counts.as_dict())

    @staticmethod
    def _submitted_message(run: _Run) -> str:
        message = (
            f"{len(run.job_ids)} job(s) submitted ({run.counts.submitted} items); the watermark is "
            "committed when all of them succeed"
        )
        if run.mode == "full" and not IMPORT_KINDS[run.entity].has_full_file:
            message += f"; {run.entity} has no FullFile: a complete upsert, nothing is deactivated"
        return message

    @staticmethod
    def _dry_run_message(run: _Run, *, jobs: int) -> str:
        return (
            f"dry run: {run.counts.mapped} item(s) would be submitted in {jobs} job(s); "
            f"{run.counts.quarantined} record(s) would be quarantined; nothing was stored"
        )


# --- helpers -------------------------------------------------------------------------------------


def _ignore(record: SourceRecord, reason: str) -> None:
    return None


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


# --- wiring --------------------------------------------------------------------------------------


def build_import_runner(
    settings: Settings, config: IntegrationConfig, *, metrics: Metrics | None = None
) -> ImportRunner:
    """An :class:`ImportRunner` wired to the real adapters (Norce, DynamoDB, S3, sources).

    Build it once per container: the Norce clients keep a connection pool and a token.
    """
    from norcekit.jobs import build_job_tracker  # noqa: PLC0415 - heavy imports at wiring only
    from norcekit.norce.auth import token_cache_key  # noqa: PLC0415
    from norcekit.norce.factory import build_norce_clients, resolve_credentials  # noqa: PLC0415
    from norcekit.observability import get_metrics  # noqa: PLC0415
    from norcekit.quarantine import quarantine_store_from_settings  # noqa: PLC0415
    from norcekit.state.token_store import DynamoTokenStore  # noqa: PLC0415

    table = StateTable.from_settings(settings)
    client_id, _ = resolve_credentials(settings)
    token_store = DynamoTokenStore(table, token_cache_key(settings.token_url, client_id))
    clients = build_norce_clients(settings, token_store=token_store)
    return ImportRunner(
        config,
        account_id_for=settings.account_id_for,
        connect=clients.connect,
        jobs_client=clients.jobs,
        table=table,
        watermarks=WatermarkStore(table),
        runs=RunStore(table),
        job_store=JobStore(table),
        quarantine=quarantine_store_from_settings(settings),
        metrics=metrics or get_metrics(),
        options=RunnerOptions.from_settings(settings),
        query=clients.query,
        job_status_sink=build_job_tracker(settings, table=table, clients=clients),
    )


__all__ = [
    "MODES",
    "ImportRunner",
    "Rejection",
    "RunResult",
    "RunnerOptions",
    "UnknownEntityError",
    "build_import_runner",
    "lock_owner",
    "lower_bound",
    "new_run_id",
    "run_of_lock_owner",
    "source_now",
    "to_watermark",
]
