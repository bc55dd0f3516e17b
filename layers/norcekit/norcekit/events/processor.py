"""The event processor: an SQS batch of queued webhooks → Query look-ups → targets.

Why not a plain per-record ``BatchProcessor`` handler: coalescing needs the whole batch. Ten events
for one SKU should cost one look-up and one delivery, and a batch of SKUs one ``get_many`` call, so
the work is done batch-wide first:

1. parse every record (an unparsable one is a poison message: only it fails);
2. group by the entity each event names (:mod:`norcekit.events.coalesce`);
3. one ``get_many`` per entity set for all keys (:class:`~norcekit.events.lookups.Lookups`);
4. one ``deliver`` call per target with every document routed to it;
5. every record behind a key whose look-up or delivery failed is failed.

Powertools still does what it is good at: step 5 runs through ``BatchProcessor(EventType.SQS)`` +
``process_partial_response`` with a record handler that only replays the verdict of steps 1-4, so
the response is exactly Powertools' ``{"batchItemFailures": [{"itemIdentifier": ...}]}`` (and its
record data classes, logging of failures and FIFO-free semantics apply). ``raise_on_entire_batch_failure``
is off: an all-failed batch is reported item by item like any other, instead of failing the
invocation (which would also retry the batch, but hides *which* records failed).

Failure → SQS redelivers the record after its visibility timeout; after ``maxReceiveCount`` it goes
to the DLQ (:mod:`norcekit.events.dlq` redrives it). A record whose key was delivered to target A
but not to B fails as a whole; A then receives it again with the same ``Idempotency-Key``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from norcekit.deadline import Deadline
from norcekit.events.claims import ClaimStore
from norcekit.events.coalesce import Groups, QueuedEvent, group_events, parse_message
from norcekit.events.config import EventsConfig
from norcekit.events.lookups import (
    DEFAULT_ENTITIES,
    EntityKey,
    EntitySpec,
    Lookups,
    MappingContext,
    document_key,
    load_mapping,
    with_lookups,
)
from norcekit.events.targets.base import DeliveryResult, Target, TargetDocument
from norcekit.observability import MetricName, MetricsSink, NoMetrics

if TYPE_CHECKING:
    from norcekit.state.deliveries import DeliveryLedger


class JobStatusSink(Protocol):
    """Where JobCompletedEvent statuses go: the job tracker (:meth:`JobTracker.on_status`), which
    records the status idempotently and runs the terminal actions once, whether poll or event
    arrives first."""

    def on_status(self, job_id: int, status: int, source: Literal["event"]) -> object: ...


logger = Logger(service="norcekit", child=True)

# Metric names (EMF, namespace from POWERTOOLS_METRICS_NAMESPACE).
EVENTS_RECEIVED = MetricName.EVENTS_PROCESSED.value
EVENTS_COALESCED = MetricName.EVENTS_COALESCED.value
NOT_FOUND_RECORDS = MetricName.NOT_FOUND_RECORDS.value
DOCUMENTS_DELIVERED = MetricName.TARGET_DELIVERIES.value
DELIVERY_FAILURES = MetricName.TARGET_FAILURES.value
EVENTS_POISON = MetricName.EVENTS_POISON.value
LOOKUP_FAILURES = MetricName.LOOKUP_FAILURES.value
DELIVERIES_STALE = MetricName.DELIVERIES_STALE.value
JOB_EVENTS_RECORDED = MetricName.JOB_EVENTS_RECORDED.value
JOB_EVENTS_UNKNOWN = MetricName.JOB_EVENTS_UNKNOWN_JOB.value

#: A JobCompletedEvent for a job we don't know yet is retried this many receives (the import
#: runner may not have stored it yet), then acknowledged with a warning: not our job.
UNKNOWN_JOB_RECEIVES = 3
#: Succeeded, Failed, Validation failed (JobDto StatusId).
TERMINAL_JOB_STATUSES = frozenset({2, 3, 4})


class RecordFailedError(Exception):
    """Raised by the verdict handler so Powertools reports the record in ``batchItemFailures``."""


@dataclass
class BatchOutcome:
    """What happened to one batch (returned for tests, logs and the local consumer)."""

    failures: dict[str, str] = field(default_factory=dict)  # message id -> reason
    documents: list[TargetDocument] = field(default_factory=list)
    deliveries: dict[str, list[DeliveryResult]] = field(default_factory=dict)  # target -> results
    coalesced: int = 0

    def fail(self, events: Sequence[QueuedEvent], reason: str) -> None:
        for queued in events:
            self.failures.setdefault(queued.message_id, reason)


class EventProcessor:
    def __init__(
        self,
        config: EventsConfig,
        *,
        lookups: Lookups | None,
        targets: Mapping[str, Target],
        jobs: JobStatusSink | None = None,
        metrics: MetricsSink | None = None,
        specs: Mapping[str, EntitySpec] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        claims: ClaimStore | None = None,
        confirm_job: Callable[[int], int] | None = None,
        ledger: DeliveryLedger | None = None,
    ) -> None:
        self.config = config
        self.lookups = lookups
        self.targets = dict(targets)
        self.jobs = jobs
        self.metrics: MetricsSink = metrics or NoMetrics()
        self.specs = dict(specs or (lookups.specs if lookups else DEFAULT_ENTITIES))
        #: Each target's own selection (``events.targets.<name>.lookups``) over the section's.
        self.target_specs = {
            name: with_lookups(self.specs, target.lookups) if target.lookups else self.specs
            for name, target in config.targets.items()
        }
        self._now = clock
        #: Where claim-checked payloads are read from (envelopes with ``body_ref``).
        self.claims = claims
        #: ``Job/Get``'s StatusId for a job id: a JobCompletedEvent's terminal status is acted on
        #: only as Job/Get reports it (anyone holding the webhook secret can post an event).
        self.confirm_job = confirm_job
        #: Last delivered version per target and key (``None``: targets' own checks only).
        self.ledger = ledger

    # --- Lambda entry ---------------------------------------------------------------------------

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """SQS event → ``{"batchItemFailures": [...]}`` (ReportBatchItemFailures)."""
        deadline = Deadline.none()
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            deadline = Deadline.from_remaining_ms(context.get_remaining_time_in_millis())
        records = [SQSRecord(r) for r in event.get("Records", [])]
        outcome = self.process_records(records, deadline=deadline)

        def verdict(record: SQSRecord) -> None:
            reason = outcome.failures.get(record.message_id)
            if reason is not None:
                raise RecordFailedError(reason)

        batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response: dict[str, Any] = dict(
            process_partial_response(event=event, record_handler=verdict, processor=batch, context=context)
        )
        return response

    # --- domain ---------------------------------------------------------------------------------

    def process_records(
        self, records: Sequence[SQSRecord], *, deadline: Deadline | None = None
    ) -> BatchOutcome:
        deadline = deadline or Deadline.none()
        outcome = BatchOutcome()
        parsed: list[QueuedEvent] = []
        for record in records:
            try:
                receive_count = int(record.attributes.approximate_receive_count or 1)
                parsed.append(
                    parse_message(record.message_id, record.body, receive_count, claims=self.claims)
                )
            except Exception as exc:  # PoisonMessage, or a record we did not foresee: it alone fails
                self._poison(outcome, record.message_id, str(exc))
        self.metrics.add_metric(name=EVENTS_RECEIVED, unit="Count", value=len(parsed))

        groups = group_events(parsed, self.specs)
        for queued, reason in groups.rejected:
            self._poison(outcome, queued.message_id, reason)
        outcome.coalesced = groups.coalesced
        if groups.coalesced:
            self.metrics.add_metric(name=EVENTS_COALESCED, unit="Count", value=groups.coalesced)

        self._record_jobs(groups.jobs, outcome)
        docs = self._look_up(groups, outcome, deadline) + self._from_payload(groups)
        self._deliver(docs, outcome, deadline)
        return outcome

    def _poison(self, outcome: BatchOutcome, message_id: str, reason: str) -> None:
        logger.warning("poison message", extra={"sqs_message_id": message_id, "reason": reason})
        outcome.failures[message_id] = f"poison: {reason}"
        self.metrics.add_metric(name=EVENTS_POISON, unit="Count", value=1)

    def _poison_all(self, outcome: BatchOutcome, events: Sequence[QueuedEvent], reason: str) -> None:
        for queued in events:
            self._poison(outcome, queued.message_id, reason)

    def _record_jobs(self, events: list[QueuedEvent], outcome: BatchOutcome) -> None:
        """JobCompletedEvent → the job record (idempotent; a terminal status is sticky)."""
        if not events:
            return
        if self.jobs is None:
            logger.warning("JobCompletedEvent received but no job store is configured")
            return
        from norcekit.state.jobs import JobNotFoundError  # noqa: PLC0415 - DynamoDB code only when job events arrive

        for queued in events:
            payload = queued.payload
            job_id, reported = int(payload["JobId"]), int(payload["StatusId"])
            try:
                status = self._confirmed_status(job_id, reported)
                if status is None:
                    continue
                self.jobs.on_status(job_id, status, "event")
                self.metrics.add_metric(name=JOB_EVENTS_RECORDED, unit="Count", value=1)
            except JobNotFoundError:
                if queued.receive_count < UNKNOWN_JOB_RECEIVES:
                    outcome.fail([queued], "job not known yet")
                else:
                    logger.warning(
                        "JobCompletedEvent for a job norcekit did not submit",
                        extra={"job_id": payload["JobId"]},
                    )
                    self.metrics.add_metric(name=JOB_EVENTS_UNKNOWN, unit="Count", value=1)
            except Exception as exc:  # DynamoDB unavailable: retry later via SQS
                logger.exception("recording job status failed", extra={"job_id": payload.get("JobId")})
                outcome.fail([queued], f"job store: {type(exc).__name__}")

    def _confirmed_status(self, job_id: int, reported: int) -> int | None:
        """The status to record: a terminal one only as ``Job/Get`` reports it (``None``: nothing
        to record, the job monitor's poll will find the end). Raises when Job/Get fails (retry)."""
        if reported not in TERMINAL_JOB_STATUSES:
            return reported
        if self.confirm_job is None:
            logger.warning("JobCompletedEvent not confirmed: no Job/Get configured", extra={"job_id": job_id})
            return None
        confirmed = self.confirm_job(job_id)
        if confirmed != reported:
            logger.warning(
                "JobCompletedEvent status not confirmed by Job/Get",
                extra={"job_id": job_id, "event_status": reported, "job_get_status": confirmed},
            )
        return confirmed

    def _look_up(self, groups: Groups, outcome: BatchOutcome, deadline: Deadline) -> list[_Pending]:
        """One read per entity and selection: targets sharing a selection share the read, a target
        with its own ``$select``/``$expand`` gets its own (keys without a route: the section's)."""
        plans: dict[tuple[str, EntitySpec], dict[EntityKey, list[str]]] = defaultdict(dict)
        for key, events in groups.looked_up.items():
            names = self.config.targets_for({e.event_type for e in events})
            if not names:
                plans[(key.entity, self.specs[key.entity])][key] = []
            for name in names:
                spec = self.target_specs.get(name, self.specs)[key.entity]
                plans[(key.entity, spec)].setdefault(key, []).append(name)
        pending: dict[tuple[EntitySpec, str, str], _Pending] = {}
        poisoned: set[EntityKey] = set()
        fetched_at = self._now()
        for (entity, spec), targets_of in plans.items():
            if self.lookups is None:
                raise RuntimeError("a Query look-up is needed but no Lookups was configured")
            unusable: set[EntityKey] = set()
            try:
                rows = self.lookups.current(
                    list(targets_of), deadline=deadline, unusable=unusable, specs={entity: spec}
                )
            except Exception as exc:  # Norce unavailable after retries: these records retry via SQS
                logger.warning("look-up failed", extra={"entity": entity, "error": type(exc).__name__})
                self.metrics.add_metric(name=LOOKUP_FAILURES, unit="Count", value=1)
                for key in targets_of:
                    outcome.fail(groups.looked_up[key], f"look-up {entity}: {type(exc).__name__}")
                continue
            for key, names in targets_of.items():
                if key in unusable:  # fails alone; its batch neighbours go on
                    if key not in poisoned:
                        poisoned.add(key)
                        self._poison_all(
                            outcome, groups.looked_up[key], f"{entity}: key too long for a Query URL"
                        )
                    continue
                events, targets = list(groups.looked_up[key]), tuple(names)
                row = rows.get(key)
                doc_key = document_key(spec, key, row)
                earlier = pending.get((spec, entity, doc_key))
                if earlier is not None:
                    # Named by another field in the same batch (OrderId and ClientOrderRef):
                    # one document, delivered once, for all of its events.
                    events = earlier.events + events
                    targets = tuple(dict.fromkeys((earlier.targets or ()) + targets))
                    row = earlier.doc.data
                elif row is None:
                    self.metrics.add_metric(name=NOT_FOUND_RECORDS, unit="Count", value=1)
                doc = TargetDocument.build(
                    entity, doc_key, [e.event_type for e in events], row, fetched_at=fetched_at
                )
                pending[(spec, entity, doc_key)] = _Pending(doc, events, targets)
        return list(pending.values())

    def _from_payload(self, groups: Groups) -> list[_Pending]:
        # A payload is the state as Norce sent it: versioned by when it was received, so an older
        # payload retried (SQS, DLQ redrive, quarantine replay) never lands after a newer one.
        now = self._now()
        return [
            _Pending(
                TargetDocument.build(
                    pk.entity,
                    pk.key,
                    [e.event_type for e in events],
                    events[0].payload,
                    fetched_at=max(
                        datetime.fromisoformat(e.received_at) if e.received_at else now for e in events
                    ),
                ),
                events,
            )
            for pk, events in groups.from_payload.items()
        ]

    def _deliver(self, pending: list[_Pending], outcome: BatchOutcome, deadline: Deadline) -> None:
        per_target: dict[str, list[tuple[TargetDocument, _Pending]]] = defaultdict(list)
        for item in pending:
            outcome.documents.append(item.doc)
            names = item.targets
            if names is None:
                names = tuple(self.config.targets_for({e.event_type for e in item.events}))
            for target_name in names:
                try:
                    mapped = self._map(target_name, item.doc, deadline)
                except Exception as exc:
                    logger.exception("mapping failed", extra={"entity": item.doc.entity, "key": item.doc.key})
                    outcome.fail(item.events, f"mapping for {target_name}: {type(exc).__name__}: {exc}")
                    continue
                if mapped is None:
                    continue
                if self.ledger is not None:
                    try:
                        version = self.ledger.advance(
                            target_name, mapped.entity, mapped.key, mapped.version, mapped.content_hash
                        )
                    except Exception as exc:  # state table throttled/unavailable: these records retry
                        logger.warning("delivery ledger failed", extra={"target": target_name})
                        outcome.fail(item.events, f"ledger for {target_name}: {type(exc).__name__}")
                        continue
                    if version is None:
                        # A newer read of this key was already sent to this target: never go backwards.
                        self.metrics.add_metric(name=DELIVERIES_STALE, unit="Count", value=1)
                        continue
                    mapped = mapped.with_version(version)
                per_target[target_name].append((mapped, item))
        for target_name, items in per_target.items():
            target = self.targets[target_name]
            docs = [doc for doc, _ in items]
            try:
                results = target.deliver(docs, deadline=deadline)
            except Exception as exc:  # a target bug must not lose the batch: retry via SQS
                logger.exception("target raised", extra={"target": target_name})
                results = [DeliveryResult.retryable(f"{type(exc).__name__}")] * len(docs)
            outcome.deliveries[target_name] = results
            for (doc, item), result in zip(items, results, strict=True):
                if result.ok:
                    self.metrics.add_metric(name=DOCUMENTS_DELIVERED, unit="Count", value=1)
                    continue
                self.metrics.add_metric(name=DELIVERY_FAILURES, unit="Count", value=1)
                logger.warning(
                    "delivery failed",
                    extra={
                        "target": target_name,
                        "entity": doc.entity,
                        "key": doc.key,
                        "outcome": result.outcome.value,
                        "detail": result.detail,
                    },
                )
                outcome.fail(item.events, f"{target_name}: {result.outcome.value} {result.detail}")

    def _map(self, target_name: str, doc: TargetDocument, deadline: Deadline) -> TargetDocument | None:
        path = self.config.mapping_for(target_name, doc.entity)
        if path is None or doc.data is None:
            return doc
        context = MappingContext(
            entity=doc.entity,
            key=doc.key,
            event_types=doc.event_types,
            target=target_name,
            lookups=self.lookups,
            deadline=deadline,
        )
        data = load_mapping(path)(dict(doc.data), context)
        return None if data is None else doc.with_data(data)


@dataclass(frozen=True)
class _Pending:
    doc: TargetDocument
    events: list[QueuedEvent]
    #: The targets this read is for (``None``: every target the events route to).
    targets: tuple[str, ...] | None = None
