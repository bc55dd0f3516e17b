"""Items Norce rejected inside a job that Succeeded (DESIGN rule 11): kept, counted, replayable.

A Connect job can end ``Succeeded`` with ``Fail > 0``: most items were imported, some were not (a
price or on-hand row for a PartNo Norce does not know, a value Norce refuses). ``Job/Get`` only
counts them; ``Job/GetLog`` lists each one as an Error entry (``SeverityId`` 3) with Norce's
message and the row as sent (``ImportedRow``, which Norce may truncate).

:class:`FailedItemKeeper` turns each of those entries into a quarantine record of kind
``norce_item`` (the item's key, Norce's message, the payload sent) and counts the failures in
``ItemsFailedInNorce`` (alarm). At most :data:`MAX_KEPT_PER_JOB` are kept per job (all are
counted; the rest stay readable in Norce's job log). Each record is stored under a key derived
from the job id and the entry's position, so running the keeper again (a resumed finish claim)
never duplicates one.
``norcekit quarantine replay`` re-sends the complete payloads as one delta batch once the cause is
fixed; a payload Norce truncated cannot be re-sent and says so (``complete: no``).

The run still succeeds (``succeeded_with_failures``) and its watermark is committed: the rejected
items are not lost (the quarantine keeps them), and holding the watermark back would re-send the
same window, and fail the same way, on every delta until someone fixed the cause.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from norcekit.deadline import Deadline
from norcekit.jobs.metrics import JobMetrics
from norcekit.norce.jobs import JobLogEntry, JobSeverity, JobStatus
from norcekit.observability import MetricName
from norcekit.quarantine import QuarantineKind, QuarantineStore
from norcekit.state.jobs import JobRecord

logger = Logger(service="norcekit", child=True)

#: Quarantine kind of an item Norce rejected.
NORCE_ITEM: QuarantineKind = "norce_item"
#: Contract fields that name an item of each import kind (its key in the quarantine).
ITEM_KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "products": ("Code",),
    "sku_prices": ("PartNo", "PriceListCode"),
    "price_lists": ("Code",),
    "onhand": ("PartNo", "WarehouseCode", "LocationCode"),
    "customers": ("Code",),
    "companies": ("Code",),
    "supplier_products": ("SupplierPartNo",),
}


#: Items kept per job: a job that failed thousands of items has a cause to fix, not items to replay
#: one by one, and the finish step must end within one job-monitor tick. The rest stay in Norce's log.
MAX_KEPT_PER_JOB = 500


class JobLogReader(Protocol):
    def get_log(self, job_id: int | str, *, deadline: Deadline | None = None) -> list[JobLogEntry]: ...


def has_failed_items(record: JobRecord) -> bool:
    """A Succeeded job whose counters say Norce rejected some of its items."""
    fail = record.counters.fail if record.counters is not None else None
    return record.status is JobStatus.SUCCEEDED and bool(fail)


def item_key(entity: str, payload: Any) -> str | None:
    """``PartNo|PriceListCode`` ... of a sent item, or None when the payload does not name it."""
    if not isinstance(payload, dict):
        return None
    values = [payload.get(name) for name in ITEM_KEY_FIELDS.get(entity, ())]
    if not values or values[0] in (None, ""):
        return None
    return "|".join("" if value is None else str(value) for value in values)


class FailedItemKeeper:
    """Reads a job's log and quarantines each item Norce rejected (once), counting them."""

    def __init__(
        self,
        quarantine: QuarantineStore,
        jobs_client: JobLogReader,
        metrics: JobMetrics,
        *,
        max_kept: int = MAX_KEPT_PER_JOB,
    ) -> None:
        self.quarantine = quarantine
        self.jobs_client = jobs_client
        self.metrics = metrics
        self.max_kept = max_kept

    def keep(self, record: JobRecord, *, deadline: Deadline | None = None, count: bool = True) -> int:
        """Quarantine the job's rejected items; returns how many log entries named one.

        ``count`` False: the caller has counted them already (from Norce's ``Fail``).
        """
        entries = self.jobs_client.get_log(record.job_id, deadline=deadline)
        errors = [entry for entry in entries if entry.SeverityId is JobSeverity.ERROR]
        keys: list[str] = []
        for number, entry in enumerate(errors[: self.max_kept], 1):
            payload, complete = _payload(entry.ImportedRow)
            key = item_key(record.kind_name, payload) or f"job {record.job_id} item {number}"
            keys.append(key)
            self.quarantine.put(
                NORCE_ITEM,
                entry.Message or "rejected by Norce (no message)",
                payload,
                metadata={
                    "entity": record.entity,
                    "kind": record.kind_name,
                    "mode": record.mode,
                    "job_id": str(record.job_id),
                    "run_id": record.run_id or "",
                    "record_key": key,
                    "complete": "yes" if complete else "no",
                },
                content_key=f"job-{record.job_id}-{number:06d}",
            )
        failed = (record.counters.fail if record.counters is not None else None) or len(errors)
        if count:
            count_failed_items(self.metrics, record, failed)
        logger.error(
            "Norce rejected items of a succeeded job; kept in the quarantine for replay",
            extra={
                "job_id": record.job_id,
                "entity": record.entity,
                "run_id": record.run_id,
                "failed": failed,
                "kept": len(keys),
                "not_kept": len(errors) - len(keys),
                "keys": keys[:20],
            },
        )
        return len(errors)


def count_failed_items(metrics: JobMetrics, record: JobRecord, failed: int) -> None:
    """``ItemsFailedInNorce`` (alarm) for ``failed`` items of ``record``."""
    metrics.emit(
        MetricName.ITEMS_FAILED_IN_NORCE,
        failed,
        MetricUnit.Count,
        entity=record.kind_name,
        import_name=record.entity,
    )


def _payload(row: str | None) -> tuple[Any, bool]:
    """The sent item as JSON when Norce's copy is complete, else its text (``complete`` False)."""
    if not row:
        return "", False
    try:
        parsed = orjson.loads(row)
    except orjson.JSONDecodeError:  # truncated by Norce
        return row, False
    return parsed, isinstance(parsed, dict)


__all__ = [
    "ITEM_KEY_FIELDS",
    "NORCE_ITEM",
    "FailedItemKeeper",
    "count_failed_items",
    "has_failed_items",
    "item_key",
]
