"""A delta import: the window ``[watermark - overlap, upper)`` in batches (DESIGN rules 2 and 5).

``upper`` is fixed at run start; the window's records are deduped by key (latest version wins)
and submitted in jobs of ``delta.batch_size`` items. Before each batch the remaining Lambda time
must exceed ``import_min_remaining_s`` plus the longest batch so far, else the run stops
(``partial_timeout``: jobs so far are kept, the watermark is not committable, the next run
re-reads the window). A delta with nothing to submit commits ``upper`` at once: nothing in the
window needs Norce, and no earlier job is unfinished (the ordering check ran first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from norcekit.deadline import Deadline
from norcekit.imports.entity_config import EntityConfig
from norcekit.imports.pipeline import chunks, latest_of_each_key, map_records, within_scope
from norcekit.imports.records import WatermarkValue
from norcekit.imports.run.common import RunPipeline, dry_run_message, submitted_message
from norcekit.imports.run.context import RunContext, lower_bound, to_watermark
from norcekit.imports.run.outcome import Ended
from norcekit.imports.run.steps import LeaseKeeper
from norcekit.imports.sources.base import Source
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.norce.contracts.wire import ContractItem
from norcekit.state.runs import RunOutcome
from norcekit.state.watermarks import Watermark


@dataclass(frozen=True)
class Window:
    """The part of the change feed a delta reads: ``[since, upper)`` (``since`` None: from the start)."""

    since: WatermarkValue | None
    upper: WatermarkValue
    committed: Watermark | None


@dataclass
class DeltaRun:
    """One delta import of ``run.entity``: :meth:`execute` returns how it ended."""

    pipeline: RunPipeline
    run: RunContext
    config: EntityConfig
    source: Source
    deadline: Deadline
    keeper: LeaseKeeper

    def execute(self) -> Ended:
        window = self._window()
        if isinstance(window, Ended):
            return window
        run = self.run
        self.pipeline.create(run)
        if window.committed is not None and run.candidate is not None and run.candidate <= window.committed:
            return Ended(
                RunOutcome.SUCCEEDED, f"nothing to read: upper {window.upper} is not past {window.committed}"
            )
        batches = chunks(self._items(window), self.config.delta.batch_size)
        if run.dry_run:
            planned = sum(1 for _ in batches)
            return Ended(RunOutcome.SUCCEEDED, dry_run_message(run, jobs=planned))
        stopped = self._submit(batches)
        if stopped is not None:
            return stopped
        if not run.job_ids:
            return self._commit_empty()
        return Ended(RunOutcome.SUBMITTED, submitted_message(run))

    # --- steps ------------------------------------------------------------------------------------

    def _window(self) -> Window | Ended:
        """The window to read, or why there is none (no delta, a watermark of another kind, no start)."""
        run, config, source = self.run, self.config, self.source
        capabilities = source.capabilities
        if not capabilities.delta_supported:
            return Ended(
                RunOutcome.FAILED,
                f"source {config.source!r} has no delta for {run.entity}: schedule full imports only",
            )
        committed = self.pipeline.stores.watermarks.get(run.entity)
        if committed is not None and committed.kind != capabilities.watermark_kind:
            return Ended(
                RunOutcome.FAILED,
                f"stored watermark of {run.entity} is a {committed.kind}, the source gives "
                f"{capabilities.watermark_kind}s: set it with `norcekit watermarks set`",
            )
        upper = self.pipeline.upper(source, run.kind, config)
        run.window_until = run.candidate = to_watermark(upper)
        if committed is None:
            if self.pipeline.options.initial_delta == "full_required":
                self.pipeline.create(run)
                return Ended(
                    RunOutcome.FAILED,
                    f"no watermark for {run.entity} yet: run a full import first (its success sets the "
                    "watermark), or set IMPORT_INITIAL_DELTA=from_beginning",
                )
            return Window(since=None, upper=upper, committed=None)
        since = lower_bound(committed, config.delta.overlap_s)
        run.window_since = to_watermark(since)
        return Window(since=since, upper=upper, committed=committed)

    def _items(self, window: Window) -> Iterator[ContractItem]:
        """The window's latest version of each key, mapped (rejections quarantined)."""
        run, pipeline, keeper = self.run, self.pipeline, self.keeper
        records = latest_of_each_key(
            lambda: keeper.ticking(self.source.iter_changed(run.kind, window.since, window.upper)),
            run.counts,
            max_buffered=pipeline.options.delta_max_buffered,
        )
        mapping = pipeline.mapping(run)
        items = map_records(mapping.prefetch(records), mapping, run.counts, pipeline.rejector(run))
        return within_scope(items, self.config.scope.keeps(run.kind), run.counts)

    def _submit(self, batches: Iterator[list[ContractItem]]) -> Ended | None:
        """One job per batch while the time budget allows; ``partial_timeout`` when it does not."""
        run, pipeline, deadline = self.run, self.pipeline, self.deadline
        kind = IMPORT_KINDS[run.kind]
        header = pipeline.header(run.entity, full_file=False)
        monotonic = pipeline.clocks.monotonic
        longest_batch_s = 0.0
        batch_started = monotonic()
        for number, batch in enumerate(batches, 1):
            needed = pipeline.options.min_remaining_s + longest_batch_s
            if deadline.remaining() < needed:
                return Ended(
                    RunOutcome.PARTIAL_TIMEOUT,
                    f"stopped before batch {number}: {deadline.remaining():.0f}s left, {needed:.0f}s "
                    f"needed; {len(run.job_ids)} job(s) submitted, watermark not moved",
                )
            # Reading and mapping the batch may have outlived the lease: never submit without it.
            self.keeper.tick()
            result = pipeline.norce.connect.import_items(kind.name, header, batch, deadline=deadline)
            pipeline.record_job(run, result)
            self.keeper.tick()
            now = monotonic()
            longest_batch_s = max(longest_batch_s, now - batch_started)
            batch_started = now
        return None

    def _commit_empty(self) -> Ended:
        """Nothing to send (no changes, or every record quarantined/skipped): commit ``upper`` now.

        No job can complete this run, and nothing earlier is unfinished (the ordering check).
        """
        run = self.run
        moved = run.candidate is not None and self.pipeline.stores.watermarks.commit(
            run.entity, run.candidate, run_id=run.run_id
        )
        state = f"watermark committed at {run.candidate}" if moved else "watermark unchanged"
        return Ended(RunOutcome.SUCCEEDED, f"no items to submit ({run.counts.read} read); {state}")
