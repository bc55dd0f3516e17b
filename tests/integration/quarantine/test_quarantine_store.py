"""Quarantine stores (S3 via moto, local folder): envelope, listing, replay, header scrubbing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from tests.fixtures.aws import moto_quarantine

from norcekit.quarantine import (
    MASK,
    LocalQuarantineStore,
    QuarantineItemNotFoundError,
    QuarantineStore,
    S3QuarantineStore,
    scrub_headers,
)
from norcekit.settings import SettingsError, load_settings
from norcekit.wiring import Components

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["s3", "local"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], QuarantineStore]:
    if request.param == "s3":
        bucket = request.getfixturevalue("quarantine_bucket")
        return lambda: moto_quarantine(bucket, clock=Clock())
    return lambda: LocalQuarantineStore(tmp_path / "q", clock=Clock())


def raw_envelope(store: QuarantineStore, key: str) -> dict[str, object]:
    if isinstance(store, S3QuarantineStore):
        body = boto3.client("s3").get_object(Bucket=store.bucket, Key=key)["Body"].read()
    else:
        assert isinstance(store, LocalQuarantineStore)
        body = (store.folder / key).read_bytes()
    envelope: dict[str, object] = json.loads(body)
    return envelope


def test_put_writes_an_envelope_under_a_dated_key(make_store: Callable[[], QuarantineStore]) -> None:
    store = make_store()
    key = store.put("webhook", "invalid body", b'{"PartNo": 1}', metadata={"event_type": "SkuChanged"})
    assert key.startswith("quarantine/webhook/2025/06/02/") and key.endswith(".json")
    envelope = raw_envelope(store, key)
    assert envelope == {
        "version": 1,
        "kind": "webhook",
        "reason": "invalid body",
        "received_at": "2025-06-02T10:00:01Z",
        "metadata": {"event_type": "SkuChanged"},
        "payload_encoding": "text",
        "payload": '{"PartNo": 1}',
    }
    item = store.get(key)
    assert item.payload_bytes() == b'{"PartNo": 1}'
    assert item.received_at == T0 + timedelta(seconds=1)


def test_payload_encodings(make_store: Callable[[], QuarantineStore]) -> None:
    store = make_store()
    as_json = store.get(store.put("import_record", "no mapping", {"Code": "C1", "Price": 1.5}))
    assert as_json.payload_encoding == "json" and as_json.payload == {"Code": "C1", "Price": 1.5}
    binary = b"\xff\xfe\x00bad"
    as_b64 = store.get(store.put("webhook", "not utf-8", binary))
    assert as_b64.payload_encoding == "base64" and as_b64.payload == base64.b64encode(binary).decode()
    assert as_b64.payload_bytes() == binary


def test_list_is_newest_first_and_filters_by_kind(make_store: Callable[[], QuarantineStore]) -> None:
    store = make_store()
    first = store.put("webhook", "a", b"1")
    second = store.put("import_record", "b", {"x": 1})
    third = store.put("webhook", "c", b"3")
    assert [i.key for i in store.list()] == [third, second, first]
    assert [i.key for i in store.list(kind="webhook")] == [third, first]
    assert [i.key for i in store.list(limit=1)] == [third]


def test_replay_moves_the_item_out_of_the_pending_list(make_store: Callable[[], QuarantineStore]) -> None:
    store = make_store()
    key = store.put("webhook", "a", b"1", metadata={"route": "/events/X"})
    new_key = store.mark_replayed(key)
    assert new_key.startswith("replayed/webhook/2025/06/02/")
    assert store.list() == []
    replayed = store.list(replayed=True)
    assert [i.key for i in replayed] == [new_key]
    assert replayed[0].replayed_at is not None and replayed[0].metadata == {"route": "/events/X"}
    with pytest.raises(QuarantineItemNotFoundError):
        store.get(key)
    with pytest.raises(ValueError):
        store.mark_replayed(new_key)  # already replayed


def test_delete_and_missing_items(make_store: Callable[[], QuarantineStore]) -> None:
    store = make_store()
    key = store.put("webhook", "a", b"1")
    store.delete(key)
    with pytest.raises(QuarantineItemNotFoundError):
        store.get(key)


def test_keys_outside_the_quarantine_are_refused(make_store: Callable[[], QuarantineStore]) -> None:
    store = make_store()
    for key in ("other/x.json", "quarantine/../../etc/passwd"):
        with pytest.raises(ValueError):
            store.get(key)
        with pytest.raises(ValueError):
            store.delete(key)


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalQuarantineStore(tmp_path).put("not_a_kind", "x", b"1")  # type: ignore[arg-type]


def test_store_from_settings_needs_the_bucket(quarantine_bucket: str) -> None:
    store = Components(load_settings()).quarantine
    assert isinstance(store, S3QuarantineStore) and store.bucket == quarantine_bucket
    with pytest.raises(SettingsError, match="QUARANTINE_BUCKET"):
        _ = Components(load_settings(quarantine_bucket=None)).quarantine


def test_scrub_headers_masks_credentials_and_keeps_the_rest() -> None:
    headers = {
        "Authorization": "Bearer abc",
        "Cookie": "session=1",
        "X-Norce-Hook": "configured-secret",
        "X-Api-Key": "k",
        "X-Client-Secret": "s",
        "X-Access-Token": "t",
        "Db-Password": "p",
        "Content-Type": "application/json",
        "User-Agent": "Norce",
    }
    scrubbed = scrub_headers(headers, ["x-norce-hook"])
    assert scrubbed == {
        "Authorization": MASK,
        "Cookie": MASK,
        "X-Norce-Hook": MASK,
        "X-Api-Key": MASK,
        "X-Client-Secret": MASK,
        "X-Access-Token": MASK,
        "Db-Password": MASK,
        "Content-Type": "application/json",
        "User-Agent": "Norce",
    }
    assert scrub_headers(None) == {}
