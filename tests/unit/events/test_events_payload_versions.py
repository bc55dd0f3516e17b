"""Documents made from the payload itself (no Query set: invoices, companies by default, ...) are
versioned by when Norce's webhook was received, not by when a retry happens to run: an older
payload retried by SQS (or redriven, or replayed) never lands on top of a newer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from norcekit.envelope import QueueEnvelope
from norcekit.events.config import parse_events_config
from norcekit.events.processor import EventProcessor
from norcekit.events.targets.base import DeliveryResult, TargetDocument
from norcekit.state.deliveries import MemoryDeliveryLedger

T0 = datetime(2026, 4, 9, 12, tzinfo=UTC)


class FlakyTarget:
    """Records what it accepted; refuses (retryable) while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.accepted: list[TargetDocument] = []

    def deliver(self, docs: Any, *, deadline: Any = None) -> list[DeliveryResult]:
        if self.down:
            return [DeliveryResult.retryable("503") for _ in docs]
        self.accepted.extend(docs)
        return [DeliveryResult.success() for _ in docs]


def invoice(message_id: str, state: str, received_at: datetime) -> dict[str, Any]:
    payload = {"ClientId": 1, "ApplicationId": 2, "CapturedInvoiceId": 5, "State": state}
    envelope = QueueEnvelope.inline("InvoiceCaptureCompletedEvent", payload, received_at=received_at)
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": envelope.to_message(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }


def processor(erp: FlakyTarget, ledger: MemoryDeliveryLedger, now: datetime) -> EventProcessor:
    config = {"routes": {"*": ["erp"]}, "targets": {"erp": {"type": "s3", "bucket": "b"}}}
    return EventProcessor(
        parse_events_config(config),
        lookups=None,
        targets={"erp": erp},  # type: ignore[dict-item]
        ledger=ledger,
        clock=lambda: now,
    )


def test_an_older_payload_retried_by_sqs_never_lands_after_a_newer_one() -> None:
    erp, ledger = FlakyTarget(), MemoryDeliveryLedger()
    # The capture first failed (received at T0), then succeeded (T0 + 1 min). The ERP was down for
    # the first webhook; SQS retries it after the second was delivered.
    erp.down = True
    first = processor(erp, ledger, T0).handle({"Records": [invoice("error", "Error", T0)]})
    assert first == {"batchItemFailures": [{"itemIdentifier": "error"}]}
    erp.down = False
    later = T0 + timedelta(minutes=1)
    processor(erp, ledger, later).handle({"Records": [invoice("captured", "Captured", later)]})
    retry = processor(erp, ledger, T0 + timedelta(minutes=5)).handle(
        {"Records": [invoice("error", "Error", T0)]}
    )

    assert retry == {"batchItemFailures": []}  # acknowledged: a newer state is already out
    assert [d.data["State"] for d in erp.accepted if d.data] == ["Captured"]


def test_a_payload_retried_after_a_failed_delivery_is_delivered_under_its_first_key() -> None:
    erp, ledger = FlakyTarget(), MemoryDeliveryLedger()
    erp.down = True
    processor(erp, ledger, T0).handle({"Records": [invoice("m1", "Captured", T0)]})
    erp.down = False
    retry = processor(erp, ledger, T0 + timedelta(minutes=5)).handle(
        {"Records": [invoice("m1", "Captured", T0)]}
    )
    # Norce's own retry of the same payload, received again later: the same state, the same key.
    again = T0 + timedelta(minutes=6)
    processor(erp, ledger, again).handle({"Records": [invoice("m2", "Captured", again)]})

    assert retry == {"batchItemFailures": []}
    assert [d.data["State"] for d in erp.accepted if d.data] == ["Captured", "Captured"]
    assert len({d.idempotency_key for d in erp.accepted}) == 1


class ThrottledLedger(MemoryDeliveryLedger):
    """The state table throttles the conditional write of one key."""

    def advance(self, target: str, entity: str, key: str, version: int, content_hash: str) -> int | None:
        if key == "5":
            raise RuntimeError("ProvisionedThroughputExceededException")
        return super().advance(target, entity, key, version, content_hash)


def test_a_ledger_write_failing_for_one_key_fails_only_the_records_behind_it() -> None:
    erp = FlakyTarget()
    other = invoice("other", "Captured", T0)
    other["body"] = other["body"].replace('"CapturedInvoiceId":5', '"CapturedInvoiceId":6')
    response = processor(erp, ThrottledLedger(), T0).handle(
        {"Records": [invoice("throttled", "Captured", T0), other]}
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "throttled"}]}
    assert [d.key for d in erp.accepted] == ["6"]


def test_two_payloads_of_one_key_in_one_batch_end_on_the_newer_in_either_order() -> None:
    later = T0 + timedelta(minutes=1)
    for records in (
        [invoice("error", "Error", T0), invoice("captured", "Captured", later)],
        [invoice("captured", "Captured", later), invoice("error", "Error", T0)],
    ):
        erp = FlakyTarget()
        response = processor(erp, MemoryDeliveryLedger(), later).handle({"Records": records})

        assert response == {"batchItemFailures": []}
        assert [d.data["State"] for d in erp.accepted if d.data][-1] == "Captured"
