"""Quarantined import items sent again as a delta batch, once their cause is fixed.

Two kinds of quarantined items can be replayed (``norcekit quarantine replay KEY ...``):

* ``norce_item`` — an item Norce rejected inside a Succeeded job (:mod:`norcekit.jobs.failed_items`):
  its payload, as sent, is validated against the contract and sent again. A payload Norce
  truncated in its log cannot be sent again: it is reported ``invalid`` (re-run an import instead).
* ``import_record`` — a source row the mapping rejected: the stored row is mapped again with the
  entity's current mapping (after a mapping or data fix) and sent.

A replay takes the entity's lock and passes the ordering check like any run (DESIGN rule 3), is
recorded as a ``delta`` run of its own (``<entity>-replay-...``) whose jobs the job tracker follows,
never carries a watermark candidate (it reads no window), and sends ``FullFile=false`` batches of
``delta.batch_size`` items (rule 2). Each item sent is moved under ``replayed/`` once Connect has
accepted its job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from norcekit.deadline import Deadline
from norcekit.imports.entity_config import EntityConfig
from norcekit.imports.pipeline import RECORD_ERRORS, chunks, describe_error
from norcekit.imports.records import SourceRecord
from norcekit.imports.run.common import RunPipeline
from norcekit.imports.run.context import RunContext
from norcekit.imports.run.outcome import Ended
from norcekit.imports.run.steps import Mapping
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.norce.contracts.wire import ContractItem
from norcekit.quarantine import QuarantineItem
from norcekit.state.runs import RunOutcome

#: Quarantine kinds an import replay takes.
REPLAYABLE_KINDS = ("norce_item", "import_record")


@dataclass
class ItemReplay:
    """What happened to one quarantined item."""

    key: str
    outcome: Literal["submitted", "invalid", "skipped", "error"]
    detail: str
    job_id: int | None = None
    replayed_key: str | None = None
    #: Shown in the CLI's replay table beside webhook replays (their SQS message id).
    message_id: str | None = None


@dataclass
class ReplayRun:
    """One entity's quarantined items re-sent: :meth:`execute` returns how the run ended."""

    pipeline: RunPipeline
    run: RunContext
    config: EntityConfig
    items: list[QuarantineItem]
    deadline: Deadline
    results: list[ItemReplay] = field(default_factory=list)
    mapping: Mapping | None = None

    def execute(self) -> Ended:
        run, pipeline = self.run, self.pipeline
        pipeline.create(run)
        self.mapping = pipeline.mapping(run)
        ready = [(item, model) for item in self.items if (model := self._item(item)) is not None]
        run.counts.read = len(self.items)
        run.counts.mapped = len(ready)
        run.counts.quarantined = sum(1 for r in self.results if r.outcome == "invalid")
        if not ready:
            return Ended(
                RunOutcome.SUCCEEDED, f"replay: nothing to send ({len(self.items)} item(s) not sendable)"
            )
        kind = IMPORT_KINDS[run.kind]
        header = pipeline.header(run.entity, full_file=False)
        for batch in chunks(ready, self.config.delta.batch_size):
            result = pipeline.norce.connect.import_items(
                kind.name, header, [model for _, model in batch], deadline=self.deadline
            )
            pipeline.record_job(run, result)
            for item, _ in batch:
                replayed = pipeline.stores.quarantine.mark_replayed(item.key)
                self.results.append(
                    ItemReplay(item.key, "submitted", f"job {result.job_id}", result.job_id, replayed)
                )
        return Ended(
            RunOutcome.SUBMITTED,
            f"replay: {run.counts.submitted} quarantined item(s) sent again in {len(run.job_ids)} job(s); "
            f"{len(self.items) - len(ready)} not sendable",
        )

    def _item(self, item: QuarantineItem) -> ContractItem | None:
        """The contract item to send for ``item``, or None (the reason is in :attr:`results`)."""
        kind = IMPORT_KINDS[self.run.kind]
        try:
            if item.kind == "norce_item":
                if item.metadata.get("complete") != "yes" or not isinstance(item.payload, dict):
                    self._report(item, "invalid", "Norce truncated the row in its log: run an import instead")
                    return None
                parsed: BaseModel = kind.parse_item(item.payload)
                return parsed
            record = SourceRecord(
                key=str(item.metadata.get("record_key", item.key)),
                data=item.payload if isinstance(item.payload, dict) else None,
                origin=item.key,
                error=None if isinstance(item.payload, dict) else "the stored row was never readable",
            )
            if not record.ok:
                self._report(item, "invalid", record.error or "unreadable")
                return None
            mapping = self.mapping or self.pipeline.mapping(self.run)
            model = mapping(record)
        except RECORD_ERRORS as exc:
            self._report(item, "invalid", describe_error(exc))
            return None
        if model is None:
            self._report(item, "skipped", "the mapping skips this row")
        return model

    def _report(self, item: QuarantineItem, outcome: Any, detail: str) -> None:
        self.results.append(ItemReplay(item.key, outcome, detail))
