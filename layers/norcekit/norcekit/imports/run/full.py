"""A full import: one streamed ``FullFile=true`` request per scope (DESIGN rule 1).

The source's records flow through dedupe and mapping straight into the chunked request body;
nothing is collected. On-hand with ``full_scope_split: warehouse`` sends one FullFile job per
warehouse (Norce deactivates on-hand rows only for the warehouses present in the payload, so a
warehouse is a documented scope); the survey finds the warehouses, then the source is read once per
warehouse. Imports without FullFile (customers, companies, price lists) get a complete upsert:
Norce has no deactivation there, so records missing from the source stay as they are in Norce.

A ``FullFile=true`` import is surveyed before anything is sent: the source is read and mapped once,
counted per scope and judged by the guardrails (:mod:`.guardrails`); a tripped rule ends the run
``refused`` with nothing submitted. Rejected rows are quarantined by the survey, and each one's key
is named (run message, ``deactivated_keys``, quarantine metadata ``deactivates``): its row is not in
the payload, so Norce deactivates it. The stream then reads the source a second time; a second read
shorter than the survey by more than ``max_shrink`` aborts the request before its closing bracket
(:class:`SourceChangedError`), so the payload Norce gets is never smaller than what was judged.

A full import needs ``import_full_min_remaining_s`` to start, and its stream checks the deadline
as it goes: when time runs out the body generator raises, httpx closes the connection before the
closing chunk, and Norce discards the truncated JSON array (no job is created; nothing is
deactivated by half a payload).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from norcekit.deadline import Deadline
from norcekit.imports.entity_config import EntityConfig
from norcekit.imports.pipeline import Reject, RunCounts, count_read, first_of_each_key, map_records
from norcekit.imports.run.common import RunPipeline, dry_run_message, submitted_message
from norcekit.imports.run.context import RunContext, to_watermark
from norcekit.imports.run.guardrails import Survey, judge
from norcekit.imports.run.outcome import Ended
from norcekit.imports.run.steps import LeaseKeeper, Mapping, ignore_rejection
from norcekit.imports.sources.base import Source
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.norce.contracts.headers import Header
from norcekit.norce.contracts.wire import ContractItem, item_field
from norcekit.norce.http import DeadlineExceeded
from norcekit.state.baselines import WHOLE_IMPORT, ScopeCounts
from norcekit.state.runs import RunNotFoundError, RunOutcome

logger = Logger(service="norcekit", child=True)

#: The full stream checks the deadline every this many items (a clock read per item is cheap too).
DEADLINE_CHECK_EVERY = 64
#: Keys of deactivated rows named in the run message (the run summary and the quarantine list all).
MAX_KEYS_IN_MESSAGE = 20


#: Norce deactivates FullFile rows per these scopes: on-hand per warehouse (its only scope), prices
#: per price list (also judged as a whole: a list missing from the export is a drop of the whole).
SCOPE_FIELDS: dict[str, tuple[str, str]] = {
    "onhand": ("WarehouseCode", ""),
    "sku_prices": ("PriceListCode", "price list "),
}
#: A products FullFile deactivates every SKU missing from it: its SKUs are judged besides its products.
SKUS = "SKUs"

Counted = tuple[tuple[str, int], ...]


def scopes_of(kind: str) -> Callable[[ContractItem], Counted]:
    """What an item of ``kind`` counts for in each guardrail scope (:data:`WHOLE_IMPORT` and others)."""
    if kind == "products":
        return lambda item: ((WHOLE_IMPORT, 1), (SKUS, _sku_count(item)))
    if kind not in SCOPE_FIELDS:
        return lambda item: ((WHOLE_IMPORT, 1),)
    name, prefix = SCOPE_FIELDS[kind]
    if kind == "onhand":
        return lambda item: ((f"{prefix}{item_field(item, name, '')}", 1),)
    return lambda item: ((WHOLE_IMPORT, 1), (f"{prefix}{item_field(item, name, '')}", 1))


def counted(items: Iterable[ContractItem], kind: str, into: dict[str, int]) -> Iterator[ContractItem]:
    """``items``, each added to ``into`` in the guardrail scopes of :func:`scopes_of` as it passes:
    one count for the survey and for the payload's second read, so both count alike."""
    keys = scopes_of(kind)
    for item in items:
        for scope, n in keys(item):
            into[scope] = into.get(scope, 0) + n
        yield item


def _sku_count(product: ContractItem) -> int:
    total = 0
    for variant in item_field(product, "Variants") or ():
        skus = variant.get("Skus") if isinstance(variant, dict) else getattr(variant, "Skus", None)
        total += len(skus or ())
    return total


class SourceChangedError(RuntimeError):
    """The source's second read (the payload) fell short of its first (the survey the guardrails judged)."""


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
        full_file = IMPORT_KINDS[run.kind].has_full_file and self.config.full.full_file
        survey = self._survey(mapping, full_file=full_file) if full_file or run.dry_run else None
        baseline = self._baseline() if full_file and survey is not None else None
        if full_file and survey is not None and (refused := self._judge(survey, baseline)) is not None:
            return refused
        split = self.config.full_scope_split if run.kind == "onhand" else None
        if run.dry_run:
            jobs = len(survey.scopes) if survey is not None and split == "warehouse" else 1
            return Ended(RunOutcome.SUCCEEDED, self._with_notes(dry_run_message(run, jobs=jobs)))
        header = pipeline.header(run.entity, full_file=True)
        if split == "warehouse" and survey is not None:
            stopped = self._by_warehouse(header, mapping, survey.scopes)
            if stopped is not None:
                return stopped
        else:
            self._one_scope(header, mapping, surveyed=survey)
        if survey is not None:
            # A warehouse absent from this export was not sent: its last count stays its baseline.
            counts = {**(baseline.counts if baseline is not None else {}), **survey.scopes}
            pipeline.stores.full_counts.record_submitted(
                run.entity,
                ScopeCounts(run_id=run.run_id, counts=counts, recorded_at=pipeline.clocks.now()),
            )
        return Ended(RunOutcome.SUBMITTED, self._with_notes(submitted_message(run)))

    # --- guardrails (FullFile imports) --------------------------------------------------------------

    def _survey(self, mapping: Mapping, *, full_file: bool) -> Survey:
        """Read and map everything once, nothing sent: the figures the guardrails judge.

        Rejected rows are quarantined here (once per run); the stream that follows re-reads the
        source and reports nothing.
        """
        run = self.run
        # An export with nothing in scope still counts its whole-import scope: 0 items, not absent.
        scopes: dict[str, int] = {} if run.kind == "onhand" else {WHOLE_IMPORT: 0}
        items = self.items(mapping, reject=self.pipeline.rejector(run, full_file=full_file))
        in_scope = sum(1 for _ in counted(items, run.kind, scopes))
        counts = run.counts
        return Survey(
            read=counts.read,
            mapped=counts.mapped,
            quarantined=counts.quarantined,
            scopes=scopes,
            in_scope=in_scope,
        )

    def _baseline(self) -> ScopeCounts | None:
        """The last successful full import's counts; a pending one is settled by its run's outcome."""
        run, stores = self.run, self.pipeline.stores
        counts = stores.full_counts.get(run.entity)
        pending = counts.pending
        if pending is None or pending.run_id == run.run_id:
            return counts.confirmed
        try:
            outcome = stores.runs.get(pending.run_id).outcome
        except RunNotFoundError:  # expired: it can no longer tell
            outcome = RunOutcome.FAILED
        if outcome in (RunOutcome.RUNNING, RunOutcome.SUBMITTED):
            return counts.confirmed  # its jobs have not ended (the ordering check defers a real run)
        succeeded = outcome in (RunOutcome.SUCCEEDED, RunOutcome.SUCCEEDED_WITH_FAILURES)
        if run.dry_run:  # a dry run writes nothing
            return pending if succeeded else counts.confirmed
        return stores.full_counts.settle(run.entity, pending.run_id, succeeded=succeeded).confirmed

    def _judge(self, survey: Survey, baseline: ScopeCounts | None) -> Ended | None:
        """``refused`` naming every tripped rule and its figures, unless the operator allowed them."""
        run = self.run
        trips = judge(survey, self.config.full.guardrails, baseline)
        blocking = [trip for trip in trips if trip.rule not in run.allow]
        for trip in trips:
            if trip.rule in run.allow:
                run.notes.append(f"guardrail allowed by the operator: {trip.message}")
                logger.warning(
                    "guardrail allowed by the operator", extra={**run.log_keys(), "rule": trip.rule}
                )
        if not blocking:
            return None
        verdict = "dry run: would be refused" if run.dry_run else "refused"
        return Ended(
            RunOutcome.REFUSED,
            f"{verdict}: {'; '.join(trip.message for trip in blocking)}; nothing was submitted "
            f"(to send it anyway for one run: --allow {','.join(trip.rule for trip in blocking)})",
        )

    def _with_notes(self, message: str) -> str:
        """``message`` and the run's notes (kept on the run record: its jobs' ending keeps them)."""
        run = self.run
        if run.deactivated:
            shown = ", ".join(run.deactivated[:MAX_KEYS_IN_MESSAGE])
            more = (
                f" and {len(run.deactivated) - MAX_KEYS_IN_MESSAGE} more"
                if len(run.deactivated) > MAX_KEYS_IN_MESSAGE
                else ""
            )
            run.notes.append(
                f"{len(run.deactivated)} rejected row(s) not in the FullFile payload: Norce deactivates "
                f"{shown}{more} (see the quarantine)"
            )
        return "; ".join([message, *run.notes])

    # --- steps ------------------------------------------------------------------------------------

    def _set_candidate(self) -> None:
        """The first full import starts the delta chain: its candidate is ``upper`` (or the snapshot)."""
        run, source = self.run, self.source
        if not source.capabilities.delta_supported:
            return
        upper = self.pipeline.upper(source, run.kind, self.config)
        snapshot = getattr(source, "snapshot_position", None)
        position = snapshot(run.kind) if callable(snapshot) else None
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

    def _one_scope(self, header: Header, mapping: Mapping, *, surveyed: Survey | None) -> None:
        run, pipeline = self.run, self.pipeline
        attempts = 0
        reject = ignore_rejection if surveyed is not None else pipeline.rejector(run)

        def stream() -> Iterator[Any]:
            # Called once per attempt: a resent request re-reads the source from the start,
            # counts afresh and does not quarantine the same records twice.
            nonlocal attempts
            attempts += 1
            run.counts = RunCounts()
            items = self.items(mapping, reject=reject if attempts == 1 else ignore_rejection)
            yield from items if surveyed is None else self._as_surveyed(items, surveyed.scopes)

        kind = IMPORT_KINDS[run.kind]
        result = pipeline.norce.connect.import_items(kind.name, header, stream, deadline=self.deadline)
        pipeline.record_job(run, result)

    def _by_warehouse(self, header: Header, mapping: Mapping, surveyed: dict[str, int]) -> Ended | None:
        """On-hand split by warehouse: one FullFile job per warehouse found by the survey."""
        run, pipeline = self.run, self.pipeline
        warehouses = list(surveyed)
        logger.info(
            "full on-hand import split by warehouse", extra={**run.log_keys(), "warehouses": warehouses}
        )
        kind = IMPORT_KINDS[run.kind]
        for n, warehouse in enumerate(warehouses):
            if n and self.deadline.remaining() < pipeline.options.full_min_remaining_s:
                return Ended(
                    RunOutcome.PARTIAL_TIMEOUT,
                    f"stopped after {n} of {len(warehouses)} warehouses: "
                    f"{self.deadline.remaining():.0f}s left",
                )

            def in_scope(item: ContractItem, code: str = warehouse) -> bool:
                return str(item_field(item, "WarehouseCode", "")) == code

            def stream(
                scope: Callable[[ContractItem], bool] = in_scope, code: str = warehouse
            ) -> Iterator[Any]:
                items = self.items(mapping, reject=ignore_rejection, counts=RunCounts(), scope=scope)
                yield from self._as_surveyed(items, {code: surveyed[code]})

            result = pipeline.norce.connect.import_items(kind.name, header, stream, deadline=self.deadline)
            run.counts.submitted += result.items_sent
            pipeline.record_job(run, result, count_submitted=False)
        return None

    def _as_surveyed(self, items: Iterator[ContractItem], judged: dict[str, int]) -> Iterator[ContractItem]:
        """``items``, aborted before the closing bracket when the source's second read came back
        shorter than what the guardrails judged in a scope (by more than ``max_shrink``): Norce
        discards the truncated body, so a flaky re-read never becomes a FullFile payload that
        deactivates. Counted in the scopes of :func:`scopes_of`."""
        sent: dict[str, int] = {}
        yield from counted(items, self.run.kind, sent)
        limit = self.config.full.guardrails.max_shrink
        for scope, before in sorted(judged.items(), key=lambda kv: (kv[0] != WHOLE_IMPORT, kv[0])):
            now = sent.get(scope, 0)
            if before > 0 and (before - now) / before > limit:
                where = "" if scope == WHOLE_IMPORT else f" in {scope}"
                raise SourceChangedError(
                    f"{now} item(s){where} read for the payload against {before} judged by the "
                    f"guardrails (a drop over max_shrink {limit:.1%} between the two reads of the "
                    "source); the request was aborted and Norce discards the truncated body"
                )

    # --- the item stream --------------------------------------------------------------------------

    def items(
        self,
        mapping: Mapping,
        *,
        reject: Reject,
        counts: RunCounts | None = None,
        scope: Callable[[ContractItem], bool] | None = None,
    ) -> Iterator[ContractItem]:
        """The full import's item stream: read → first of each key → map → the import's scope
        (``scope`` narrows it further: one warehouse of a split on-hand import)."""
        run = self.run
        counts = counts if counts is not None else run.counts
        keep = self.config.scope.keeps(run.kind)
        records = count_read(self.source.iter_all(run.kind), counts)
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
            if keep is not None and not keep(item):  # another import's warehouse or price list
                counts.out_of_scope += 1
                continue
            if scope is not None and not scope(item):
                continue
            yield item
