"""The queue envelope: one model written by the receiver/replay and read by the processor and DLQ tools."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.fixtures.sqs_records import sqs_record

from norcekit.envelope import MAX_ATTRIBUTE_CHARS, InvalidEnvelope, QueueEnvelope, message_attributes
from norcekit.events.coalesce import PoisonMessage, parse_message
from norcekit.events.dlq import _peek_body

RECEIVED = datetime(2026, 4, 9, 12, 0, tzinfo=UTC)


def test_envelope_round_trips_through_the_processor_parser() -> None:
    envelope = QueueEnvelope.inline("SkuChangedNotification", {"ClientId": 1, "PartNo": "A-1",
                                    "EntityChanged": "tClientProductSku"}, received_at=RECEIVED)  # fmt: skip
    queued = parse_message("m-1", envelope.to_message(), receive_count=2)
    assert queued.event_type == "SkuChangedNotification"
    assert queued.event.entity_key() == "A-1"
    assert queued.received_at == "2026-04-09T12:00:00Z"
    assert queued.receive_count == 2


def test_the_receive_time_is_read_as_utc_whatever_offset_the_message_has() -> None:
    body = {"ClientId": 1, "PartNo": "A-1", "EntityChanged": "tClientProductSku"}
    received = "2026-04-09T14:00:00.25+02:00"
    message = {"event_type": "SkuChangedNotification", "body": body, "received_at": received}
    assert parse_message("m-1", json.dumps(message)).received_at == "2026-04-09T12:00:00.250000Z"


def test_non_ascii_text_costs_its_utf8_bytes_not_escapes() -> None:
    text = "åäö€" * 1000
    envelope = QueueEnvelope.inline("SkuChangedNotification", {"Name": text}, received_at=RECEIVED)
    message = envelope.to_message()
    assert "\\u" not in message
    assert envelope.message_bytes() < len(text.encode()) + 200
    assert " " not in message.replace(text, "")  # compact separators


def test_messages_that_are_not_envelopes_are_poison() -> None:
    for body in ("not json", "[1]", json.dumps({"body": {}}), json.dumps({"event_type": "X", "body": {}})):
        with pytest.raises(PoisonMessage):
            parse_message("m", body)
    with pytest.raises(InvalidEnvelope):  # neither an inline body nor a reference
        QueueEnvelope.from_message(json.dumps({"event_type": "X", "received_at": "2026-04-09T12:00:00Z"}))


def test_attributes_are_bounded_and_empty_ones_dropped() -> None:
    attributes = message_attributes("SkuChangedNotification", "sku", "P" * 700)
    assert len(attributes["entity_key"]) == MAX_ATTRIBUTE_CHARS
    assert message_attributes("X", "", "k") == {"event_type": "X", "entity_key": "k"}


def test_dlq_peek_shows_the_envelope_and_its_event_type() -> None:
    record = sqs_record("m-1", "SkuChangedNotification", {"PartNo": "A-1"})
    body, event_type = _peek_body(record["body"])
    assert event_type == "SkuChangedNotification"
    assert body["body"] == {"PartNo": "A-1"} and body["received_at"] == "2026-04-09T12:00:00Z"
    assert _peek_body("garbage") == ("garbage", None)
