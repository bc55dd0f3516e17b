"""A full import: one streamed ``FullFile=true`` request per scope (DESIGN rule 1).

The source's records flow through dedupe and mapping straight into the chunked request body;
nothing is collected. On-hand with ``full_scope_split: warehouse`` sends one FullFile job per
warehouse (Norce deactivates on-hand rows only for the warehouses present in the payload, so a
warehouse is a documented scope); the source is read once to find the warehouses, then once per
warehouse. Imports without FullFile (customers, companies, price lists) get a complete upsert:
Norce has no deactivation there, so records missing from the source stay as they are in Norce.

A full import needs ``import_full_min_remaining_s`` to start, and its stream checks the deadline
as it goes: when time runs out the body generator raises, httpx closes the connection before the
closing chunk, and Norce discards the truncated JSON array (no job is created; nothing is
deactivated by half a payload).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from norcekit.deadline import Deadline
from norcekit.imports.config import EntityConfig
from norcekit.imports.pipeline import Reject, RunCounts, count_read, first_of_each_key, map_records
from norcekit.imports.run.common import RunPipeline, dry_run_message, submitted_message
from norcekit.imports.run.context import RunContext, to_watermark
from norcekit.imports.run.outcome import Ended
from norcekit.imports.run.steps import LeaseKeeper, Mapping, ignore_rejection
from norcekit.imports.sources.base import Source
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.norce.contracts.headers import Header
from norcekit.norce.http import DeadlineExceeded
from norcekit.state.runs import RunOutcome

logger = Logger(service="norcekit", child=True)

#: The full stream checks the deadline every this many items (a clock read per item is cheap too).
DEADLINE_CHECK_EVERY = 64


@dataclass
class FullRun:
    """One full import of ``run.entity``: :meth:`execute` returns how it ended."""

    pipeline: RunPipeline
    run: RunContext
    config: EntityConfig
    source: Source
    deadline: Deadline
    keeper: LeaseKeeper

    def execute(self) -> Ended:
        run, pipeline = self.run, self.pipeline
        self._set_candidate()
        pipeline.create(run)
        if (not_started := self._time_to_start()) is not None:
            return not_started
        mapping = pipeline.mapping(run)
        if run.dry_run:
            for _ in self.items(mapping, reject=pipeline.rejector(run)):
                pass
            return Ended(RunOutcome.SUCCEEDED, dry_run_message(run, jobs=1))
        header = pipeline.header(run.entity, full_file=True)
        split = self.config.full_scope_split if run.entity == "onhand" else None
        if split == "warehouse":
            stopped = self._by_warehouse(header, mapping)
            if stopped is not None:
                return stopped
        else:
            self._one_scope(header, mapping)
        return Ended(RunOutcome.SUBMITTED, submitted_message(run))

    # --- steps ------------------------------------------------------------------------------------

    def _set_candidate(self) -> None:
        """The first full import starts the delta chain: its candidate is ``upper`` (or the snapshot)."""
        run, source = self.run, self.source
        if not source.capabilities.delta_supported:
            return
        upper = self.pipeline.upper(source, run.entity, self.config)
        snapshot = getattr(source, "snapshot_position", None)
        position = snapshot(run.entity) if callable(snapshot) else None
        run.window_until = run.candidate = to_watermark(upper)
        if position is not None and to_watermark(position) < run.candidate:
            run.candidate = to_watermark(position)

    def _time_to_start(self) -> Ended | None:
        needed = self.pipeline.options.full_min_remaining_s
        if self.deadline.remaining() >= needed:
            return None
        return Ended(
            RunOutcome.PARTIAL_TIMEOUT,
            f"not started: {self.deadline.remaining():.0f}s left, a full import needs {needed:.0f}s to start",
        )

    def _one_scope(self, header: Header, mapping: Mapping) -> None:
        run, pipeline = self.run, self.pipeline
        attempts = 0
        reject = pipeline.rejector(run)

        def stream() -> Iterator[Any]:
            # Called once per attempt: a resent request re-reads the source from the start,
            # counts afresh and does not quarantine the same records twice.
            nonlocal attempts
            attempts += 1
            run.counts = RunCounts()
            yield from self.items(mapping, reject=reject if attempts == 1 else ignore_rejection)

        kind = IMPORT_KINDS[run.entity]
        result = pipeline.norce.connect.import_items(kind.name, header, stream, deadline=self.deadline)
        pipeline.record_job(run, result)

    def _by_warehouse(self, header: Header, mapping: Mapping) -> Ended | None:
        """On-hand split by warehouse: one FullFile job per warehouse found in the export."""
        run, pipeline = self.run, self.pipeline
        warehouses: dict[str, None] = {}
        for item in self.items(mapping, reject=pipeline.rejector(run)):
            warehouses.setdefault(str(getattr(item, "WarehouseCode", "")), None)
        logger.info(
            "full on-hand import split by warehouse", extra={**run.log_keys(), "warehouses": list(warehouses)}
        )
        kind = IMPORT_KINDS[run.entity]
        for n, warehouse in enumerate(warehouses):
            if n and self.deadline.remaining() < pipeline.options.full_min_remaining_s:
                return Ended(
                    RunOutcome.PARTIAL_TIMEOUT,
                    f"stopped after {n} of {len(warehouses)} warehouses: "
                    f"{self.deadline.remaining():.0f}s left",
                )

            def in_scope(item: BaseModel, code: str = warehouse) -> bool:
                return str(getattr(item, "WarehouseCode", "")) == code

            def stream(scope: Callable[[BaseModel], bool] = in_scope) -> Iterator[Any]:
                yield from self.items(mapping, reject=ignore_rejection, counts=RunCounts(), scope=scope)

            result = pipeline.norce.connect.import_items(kind.name, header, stream, deadline=self.deadline)
            run.counts.submitted += result.items_sent
            pipeline.record_job(run, result, count_submitted=False)
        return None

    # --- the item stream --------------------------------------------------------------------------

    def items(
        self,
        mapping: Mapping,
        *,
        reject: Reject,
        counts: RunCounts | None = None,
        scope: Callable[[BaseModel], bool] | None = None,
    ) -> Iterator[BaseModel]:
        """The full import's item stream: read → first of each key → map (→ scope filter)."""
        run = self.run
        counts = counts if counts is not None else run.counts
        records = count_read(self.source.iter_all(run.entity), counts)
        records = first_of_each_key(records, counts, reject)
        items = map_records(mapping.prefetch(records), mapping, counts, reject)
        for n, item in enumerate(items, 1):
            # Before the scope filter: a stream of one warehouse skips most records, and must still
            # notice its deadline and keep its lease.
            if n % DEADLINE_CHECK_EVERY == 0 and self.deadline.expired:
                raise DeadlineExceeded(
                    f"deadline reached after reading {n} items of a full {run.entity} import; "
                    "the request was aborted and Norce discards the truncated body"
                )
            self.keeper.tick()
            if scope is not None and not scope(item):
                continue
            yield item
