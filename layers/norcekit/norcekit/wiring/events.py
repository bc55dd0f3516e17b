"""The event processor wired to Norce Query, the configured targets and the job tracker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from norcekit.events.cache import TtlCache
from norcekit.events.config import DEFAULT_CACHE_TTL_S, EventsConfig
from norcekit.events.lookups import Lookups, entity_specs
from norcekit.events.processor import EventProcessor
from norcekit.events.targets import TargetAwsClients, build_targets

if TYPE_CHECKING:
    from norcekit.events.claims import ClaimStore
    from norcekit.jobs.tracker import JobTracker
    from norcekit.norce.factory import NorceClients
    from norcekit.observability import MetricsSink
    from norcekit.state.deliveries import DeliveryLedger


def build_event_processor(
    config: EventsConfig,
    *,
    clients: NorceClients,
    aws: TargetAwsClients,
    tracker: JobTracker | None,
    metrics: MetricsSink | None = None,
    claims: ClaimStore | None = None,
    ledger: DeliveryLedger | None = None,
) -> EventProcessor:
    """Query look-ups with a per-container cache, the configured targets, and job events to
    ``tracker`` (``None`` when the process has no state table)."""
    specs = entity_specs(config)
    namespaces = set(DEFAULT_CACHE_TTL_S) | set(config.cache_ttl_s)
    cache = TtlCache({ns: config.ttl_for(ns) for ns in namespaces})
    return EventProcessor(
        config,
        lookups=Lookups(clients.query, cache, specs),
        targets=build_targets(config, aws),
        jobs=tracker,
        metrics=metrics,
        specs=specs,
        claims=claims,
        ledger=ledger,
        # A JobCompletedEvent is acted on only as Job/Get reports the job.
        confirm_job=lambda job_id: int(clients.jobs.get(job_id).StatusId),
    )


__all__ = ["build_event_processor"]
