"""One import run: source → mapping → Connect, with the state that makes it safe to repeat.

:class:`ImportRunner` knows the domain and nothing about Lambda: ``run(entity, mode, deadline=...)``
returns the run's record. It is the façade over :mod:`norcekit.imports.run`: the lock and the
duplicate-trigger checks live here; the run itself is a :class:`~norcekit.imports.run.full.FullRun`
or a :class:`~norcekit.imports.run.delta.DeltaRun` over the shared steps of
:class:`~norcekit.imports.run.common.RunPipeline`, each step returning a typed outcome
(:class:`~norcekit.imports.run.outcome.Ended`). Only a real failure raises, and :meth:`ImportRunner.run`
turns it into a ``failed`` run (a deadline into ``partial_timeout``). The composition root
(:func:`norcekit.wiring.build_import_runner`) wires the real adapters.

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
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

from norcekit.deadline import Deadline
from norcekit.imports.config import IntegrationConfig, build_source
from norcekit.imports.lookups import LookupSpec
from norcekit.imports.pipeline import describe_error
from norcekit.imports.run.common import RunPipeline
from norcekit.imports.run.context import (
    MODES,
    Clocks,
    MappingFunc,
    NorceSide,
    RunContext,
    RunnerOptions,
    RunStores,
    UnknownEntityError,
    lock_owner,
    lower_bound,
    new_run_id,
    run_of_lock_owner,
    source_now,
    to_watermark,
)
from norcekit.imports.run.delta import DeltaRun
from norcekit.imports.run.full import FullRun
from norcekit.imports.run.guardrails import RULES, check_allow
from norcekit.imports.run.outcome import Ended, Rejection, RunResult
from norcekit.imports.run.replay import REPLAYABLE_KINDS, ItemReplay, ReplayRun
from norcekit.imports.run.steps import LeaseKeeper
from norcekit.imports.sources.base import Source
from norcekit.norce.http import DeadlineExceeded
from norcekit.quarantine import QuarantineItem
from norcekit.state.interfaces import Lease
from norcekit.state.locks import LeaseInfo, LockLostError, writer_lock_name
from norcekit.state.runs import ImportMode, RunOutcome

if TYPE_CHECKING:
    from norcekit.imports.entity_config import EntityConfig

logger = Logger(service="norcekit", child=True)


class ImportRunner:
    """Runs imports for configured entities; every collaborator is passed in (tests use fakes)."""

    def __init__(
        self,
        config: IntegrationConfig,
        *,
        stores: RunStores,
        norce: NorceSide,
        metrics: Metrics,
        options: RunnerOptions | None = None,
        clocks: Clocks | None = None,
        source_factory: Callable[[str], Source] | None = None,
        mapping_factory: Callable[[str], MappingFunc] | None = None,
        lookups: Mapping[str, Mapping[str, LookupSpec]] | None = None,
    ) -> None:
        self.config = config
        self.stores = stores
        self.norce = norce
        self.metrics = metrics
        self.options = options or RunnerOptions()
        self.clocks = clocks or Clocks()
        self.source_factory = source_factory or functools.partial(build_source, config)
        self.mapping_factory: Callable[[str], MappingFunc] = mapping_factory or config.mapping_for
        self.lookups = lookups or {}

    def run(
        self,
        entity: str,
        mode: ImportMode,
        *,
        deadline: Deadline,
        run_id: str | None = None,
        dry_run: bool = False,
        allow: Collection[str] = (),
    ) -> RunResult:
        """Run one import; returns the run record (never raises for a failed run: see ``outcome``).

        ``allow`` names full-import guardrails (``min_items``, ``shrink``, ``rejected``) this one run
        may pass; the run record keeps them. Raises :class:`UnknownEntityError` (or ``ValueError``)
        for an entity/mode that cannot run or an unknown guardrail.
        """
        pipeline = self._pipeline()
        config = pipeline.entity_config(entity, mode)
        allowed = check_allow(allow)
        if allowed and mode != "full":
            raise ValueError("guardrails guard full imports: --allow applies to --mode full only")
        now = self.clocks.now()
        run = RunContext(
            run_id=run_id or new_run_id(entity, mode, now),
            entity=entity,
            kind=config.kind,
            mode=mode,
            dry_run=dry_run,
            started_at=self.clocks.now(),
            allow=allowed,
        )
        if dry_run:  # takes no lock and writes nothing a real run could race
            return pipeline.finish(run, self._execute(pipeline, run, config, deadline, None))
        if run_id is not None and (existing := pipeline.existing(run_id)) is not None:
            return existing
        lock = self.stores.locks.lease(entity, lock_owner(run.run_id), self.options.lock_lease_s)
        if not lock.acquire():
            held = lock.blocked_by
            if held is not None and run_of_lock_owner(held.owner) == run.run_id:
                return pipeline.duplicate(run, f"run {run.run_id} is already in progress")
            return pipeline.finish(
                run, Ended(RunOutcome.SKIPPED_LOCKED, f"skipped: {entity} is locked by {_holder(held)}")
            )
        try:
            # The first holder of this run id may have finished between our check and the lock.
            if run_id is not None and (existing := pipeline.existing(run_id)) is not None:
                return existing
            writer = self._writer_lease(run)
            if not writer.acquire():
                why = f"skipped: {run.kind} is being written to Norce by {_holder(writer.blocked_by)}"
                return pipeline.finish(run, Ended(RunOutcome.SKIPPED_LOCKED, why))
            try:
                return pipeline.finish(run, self._execute(pipeline, run, config, deadline, [lock, writer]))
            finally:
                writer.release()
        finally:
            lock.release()

    def replay(self, keys: Sequence[str], *, deadline: Deadline) -> list[ItemReplay]:
        """Send quarantined import items (``norce_item``, ``import_record``) again, per entity.

        Each entity's items are one replay run under the entity's lock and ordering check
        (:mod:`norcekit.imports.run.replay`); returns one result per key. ``ValueError`` for a key
        of another kind; ``QuarantineItemNotFoundError`` for an unknown one.
        """
        items = [self.stores.quarantine.get(key) for key in dict.fromkeys(keys)]
        wrong = [f"{item.key} ({item.kind})" for item in items if item.kind not in REPLAYABLE_KINDS]
        if wrong:
            raise ValueError(f"not import items: {', '.join(wrong)}")
        by_entity: dict[str, list[QuarantineItem]] = {}
        for item in items:
            by_entity.setdefault(str(item.metadata.get("entity", "")), []).append(item)
        pipeline = self._pipeline()
        results: list[ItemReplay] = []
        for entity, group in by_entity.items():
            config = pipeline.entity_config(entity, None)
            run = RunContext(
                run_id=new_run_id(entity, "replay", self.clocks.now()),
                entity=entity,
                kind=config.kind,
                mode="delta",
                dry_run=False,
                started_at=self.clocks.now(),
            )
            unit = ReplayRun(pipeline, run, config, group, deadline)
            lock = self.stores.locks.lease(entity, lock_owner(run.run_id), self.options.lock_lease_s)
            writer = self._writer_lease(run)
            if not lock.acquire():
                results += [ItemReplay(item.key, "error", f"{entity} is locked: try again") for item in group]
                continue
            try:
                if not writer.acquire():
                    busy = f"{run.kind} is being written by {_holder(writer.blocked_by)}: try again"
                    results += [ItemReplay(item.key, "error", busy) for item in group]
                    continue
                try:
                    ended = self._execute(pipeline, run, config, deadline, [lock, writer], replay=unit)
                    end = pipeline.finish(run, ended)
                finally:
                    writer.release()
            finally:
                lock.release()
            done = {result.key for result in unit.results}
            results += unit.results
            results += [ItemReplay(i.key, "error", end.message or "") for i in group if i.key not in done]
        return results

    def _writer_lease(self, run: RunContext) -> Lease:
        """The Norce entity's writer lease: one import at a time submits jobs of a kind (rule 3)."""
        return self.stores.locks.lease(
            writer_lock_name(run.kind), lock_owner(run.run_id), self.options.lock_lease_s
        )

    def _pipeline(self) -> RunPipeline:
        # Built per run from the current attributes: an operator tool may swap one between runs.
        return RunPipeline(
            config=self.config,
            stores=self.stores,
            norce=self.norce,
            metrics=self.metrics,
            options=self.options,
            clocks=self.clocks,
            source_factory=self.source_factory,
            mapping_factory=self.mapping_factory,
            lookups=self.lookups,
        )

    def _execute(
        self,
        pipeline: RunPipeline,
        run: RunContext,
        config: EntityConfig,
        deadline: Deadline,
        leases: list[Lease] | None,
        *,
        replay: ReplayRun | None = None,
    ) -> Ended:
        """The run's steps; a real failure becomes ``failed`` (a deadline ``partial_timeout``)."""
        keeper = LeaseKeeper(leases or [], self.options.lock_lease_s, self.clocks.monotonic)
        try:
            if not run.dry_run and (deferred := pipeline.check_order(run, config, deadline)) is not None:
                return deferred
            if replay is not None:
                return replay.execute()
            source = self.source_factory(config.source)
            try:
                unit = FullRun if run.mode == "full" else DeltaRun
                return unit(pipeline, run, config, source, deadline, keeper).execute()
            finally:
                source.close()
        except DeadlineExceeded as exc:
            return Ended(RunOutcome.PARTIAL_TIMEOUT, f"stopped: deadline reached ({exc})")
        except LockLostError as exc:
            return Ended(RunOutcome.FAILED, f"lost the {run.entity} lock mid-run: {exc}")
        except Exception as exc:
            logger.exception("import run failed", extra=run.log_keys())
            return Ended(RunOutcome.FAILED, f"failed: {describe_error(exc)}")


def _holder(held: LeaseInfo | None) -> str:
    return f"run {held.owner} until {held.until_datetime.isoformat()}" if held else "another run"


__all__ = [
    "MODES",
    "RULES",
    "Clocks",
    "ImportRunner",
    "ItemReplay",
    "NorceSide",
    "Rejection",
    "RunResult",
    "RunStores",
    "RunnerOptions",
    "UnknownEntityError",
    "lock_owner",
    "lower_bound",
    "new_run_id",
    "run_of_lock_owner",
    "source_now",
    "to_watermark",
    "writer_lock_name",
]
