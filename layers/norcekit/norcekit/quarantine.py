"""Quarantine: payloads we could not process but must not lose (DESIGN rule 9).

Authentic-but-invalid webhooks and import records that could not be mapped are kept as JSON
envelopes for inspection and replay::

    {"version": 1, "kind": "webhook", "reason": "...", "received_at": "...Z",
     "metadata": {...}, "payload_encoding": "json" | "text" | "base64", "payload": ...}

Keys are ``<prefix><kind>/<yyyy>/<mm>/<dd>/<HHMMSSffffff>-<uuid>.json``, or, for a payload stored
under a content key (webhooks: a hash of event type and body), ``<prefix><kind>/<content key>.json``
written only when absent, so Norce's retries of one payload store it once. Listing is newest first
by the time each object was written; a replayed item moves to ``<replayed_prefix><kind>/...``.
Metadata must not carry secrets: pass request headers through :func:`scrub_headers` first.
"""

from __future__ import annotations

import base64
import builtins
import os
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

#: ``norce_item``: an item Norce rejected inside a Succeeded job (``norcekit.jobs.failed_items``);
#: ``order``: an OrderRequest Norce posted that failed validation (``norcekit.orders.receiver``).
QuarantineKind = Literal["webhook", "import_record", "norce_item", "order"]
KINDS: tuple[QuarantineKind, ...] = ("webhook", "import_record", "norce_item", "order")
PayloadEncoding = Literal["json", "text", "base64"]
ENVELOPE_VERSION = 1
MASK = "***"
_CONTENT_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")

_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-amz-security-token"}
)
_SENSITIVE_PARTS = ("secret", "token", "key", "password", "passwd", "auth", "signature", "credential")


def scrub_headers(
    headers: Mapping[str, str] | None, secret_header_names: Iterable[str] = ()
) -> dict[str, str]:
    """Copy of ``headers`` with every credential-like value masked (names kept, to show they came).

    Masks Authorization, cookies, the webhook secret header(s) and any header whose name contains
    secret/token/key/password/auth/signature/credential (case-insensitive).
    """
    explicit = {name.lower() for name in secret_header_names}
    scrubbed = {}
    for name, value in (headers or {}).items():
        lower = name.lower()
        sensitive = (
            lower in explicit or lower in _SENSITIVE_HEADERS or any(p in lower for p in _SENSITIVE_PARTS)
        )
        scrubbed[name] = MASK if sensitive else value
    return scrubbed


class QuarantineItem(BaseModel):
    """A stored item as read back. Built on first use, not at import: writing (what the functions
    do) does not need it."""

    model_config = ConfigDict(defer_build=True)

    key: str
    version: int = ENVELOPE_VERSION
    kind: QuarantineKind
    reason: str
    received_at: AwareDatetime
    metadata: dict[str, Any]
    payload_encoding: PayloadEncoding
    #: A JSON value (``json``), text (``text``) or base64 text (``base64``).
    payload: Any
    replayed_at: AwareDatetime | None = None

    def payload_bytes(self) -> bytes:
        """The payload as received (JSON payloads re-serialized compactly)."""
        if self.payload_encoding == "base64":
            return base64.b64decode(self.payload)
        if self.payload_encoding == "text":
            return str(self.payload).encode()
        return orjson.dumps(self.payload)

    def envelope(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"key"}, exclude_none=True)


class QuarantineItemNotFoundError(KeyError):
    pass


class QuarantineStore(Protocol):
    def put(
        self,
        kind: QuarantineKind,
        reason: str,
        payload: bytes | str | Mapping[str, Any] | list[Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        content_key: str | None = None,
    ) -> str: ...

    def list(
        self, kind: QuarantineKind | None = None, limit: int = 100, *, replayed: bool = False
    ) -> builtins.list[QuarantineItem]: ...

    def get(self, key: str) -> QuarantineItem: ...

    def delete(self, key: str) -> None: ...

    def mark_replayed(self, key: str) -> str: ...


def encode_payload(payload: bytes | str | Mapping[str, Any] | list[Any]) -> tuple[PayloadEncoding, Any]:
    """Keep JSON as JSON, text as text and anything else (non-UTF-8 bytes) as base64."""
    if isinstance(payload, Mapping | list):
        return "json", payload
    if isinstance(payload, bytes):
        try:
            return "text", payload.decode("utf-8")
        except UnicodeDecodeError:
            return "base64", base64.b64encode(payload).decode("ascii")
    return "text", payload


class _EnvelopeStore(ABC):
    """Key layout, envelope format and listing; subclasses only move bytes."""

    def __init__(self, prefix: str, replayed_prefix: str, clock: Callable[[], datetime] | None) -> None:
        if not prefix.endswith("/") or not replayed_prefix.endswith("/") or prefix == replayed_prefix:
            raise ValueError("prefix and replayed_prefix must differ and end with '/'")
        self.prefix = prefix
        self.replayed_prefix = replayed_prefix
        self._now = clock or (lambda: datetime.now(UTC))

    def put(
        self,
        kind: QuarantineKind,
        reason: str,
        payload: bytes | str | Mapping[str, Any] | list[Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        content_key: str | None = None,
    ) -> str:
        """Store one envelope; returns its key. With ``content_key`` the item is stored under that key
        once: a second put of the same key keeps the first item and returns its key."""
        if kind not in KINDS:
            raise ValueError(f"unknown quarantine kind {kind!r}")
        if content_key is not None and not _CONTENT_KEY.fullmatch(content_key):
            raise ValueError(f"content key must be 1-128 characters of [A-Za-z0-9_-]: {content_key!r}")
        received = self._now().astimezone(UTC)
        encoding, body = encode_payload(payload)
        envelope = {
            "version": ENVELOPE_VERSION,
            "kind": kind,
            "reason": reason,
            "received_at": received.isoformat().replace("+00:00", "Z"),
            "metadata": dict(metadata or {}),
            "payload_encoding": encoding,
            "payload": body,
        }
        data = orjson.dumps(envelope, default=str)
        if content_key is not None:
            key = f"{self.prefix}{kind}/{content_key}.json"
            self._write_if_absent(key, data)
            return key
        key = f"{self.prefix}{kind}/{received:%Y/%m/%d/%H%M%S%f}-{uuid.uuid4().hex}.json"
        self._write(key, data)
        return key

    def list(
        self, kind: QuarantineKind | None = None, limit: int = 100, *, replayed: bool = False
    ) -> builtins.list[QuarantineItem]:
        """Newest first (by the time each item was written)."""
        base = self.replayed_prefix if replayed else self.prefix
        kinds = [kind] if kind else list(KINDS)
        keys = [k for name in kinds for k in self._keys(f"{base}{name}/") if k[0].endswith(".json")]
        # S3 times have 1 s resolution: ties go by the "<yyyy>/<mm>/<dd>/<time>-<uuid>" key tail.
        keys.sort(key=lambda k: (k[1], k[0].split("/", maxsplit=base.count("/") + 1)[-1]), reverse=True)
        return [self.get(key) for key, _ in keys[:limit]]

    def get(self, key: str) -> QuarantineItem:
        self._check_key(key)
        return QuarantineItem.model_validate({**orjson.loads(self._read(key)), "key": key})

    def delete(self, key: str) -> None:
        self._check_key(key)
        self._remove(key)

    def mark_replayed(self, key: str) -> str:
        """Move the item under the replayed prefix (stamped ``replayed_at``); returns the new key."""
        if not key.startswith(self.prefix):
            raise ValueError(f"not a pending quarantine key: {key!r}")
        item = self.get(key)
        new_key = self.replayed_prefix + key[len(self.prefix) :]
        replayed = item.model_copy(update={"replayed_at": self._now().astimezone(UTC)})
        self._write(new_key, orjson.dumps(replayed.envelope()))
        self._remove(key)
        return new_key

    def _check_key(self, key: str) -> None:
        if not key.startswith((self.prefix, self.replayed_prefix)) or ".." in key.split("/"):
            raise ValueError(f"not a quarantine key: {key!r}")

    @abstractmethod
    def _write(self, key: str, body: bytes) -> None: ...

    @abstractmethod
    def _read(self, key: str) -> bytes: ...

    @abstractmethod
    def _remove(self, key: str) -> None: ...

    @abstractmethod
    def _write_if_absent(self, key: str, body: bytes) -> bool:
        """Write unless ``key`` exists; ``False`` when it did (the first write wins)."""

    @abstractmethod
    def _keys(self, prefix: str) -> builtins.list[tuple[str, float]]:
        """Keys under ``prefix`` with the time each was written (epoch seconds)."""


class S3QuarantineStore(_EnvelopeStore):
    def __init__(
        self,
        bucket: str,
        prefix: str = "quarantine/",
        *,
        replayed_prefix: str = "replayed/",
        s3_client: S3Client,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(prefix, replayed_prefix, clock)
        self.bucket = bucket
        self.client = s3_client

    def _write(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def _write_if_absent(self, key: str, body: bytes) -> bool:
        from botocore.exceptions import ClientError  # noqa: PLC0415 - botocore with the first client

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*"
            )
        except ClientError as exc:
            # 412: stored already; 409: a concurrent put of the same key is in flight (same content).
            if exc.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                return False
            raise
        return True

    def _read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise QuarantineItemNotFoundError(key) from None

    def _remove(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _keys(self, prefix: str) -> builtins.list[tuple[str, float]]:
        keys: builtins.list[tuple[str, float]] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(
                (obj["Key"], obj["LastModified"].timestamp() if "LastModified" in obj else 0.0)
                for obj in page.get("Contents", [])
                if "Key" in obj
            )
        return keys


class LocalQuarantineStore(_EnvelopeStore):
    """The same layout in a local folder (CLI, local stack, tests)."""

    def __init__(
        self,
        folder: str | Path,
        prefix: str = "quarantine/",
        *,
        replayed_prefix: str = "replayed/",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(prefix, replayed_prefix, clock)
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder.joinpath(*key.split("/"))

    def _write(self, key: str, body: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)  # atomic: a reader never sees half an envelope

    def _write_if_absent(self, key: str, body: bytes) -> bool:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(body)
        try:
            os.link(tmp, path)  # atomic and fails when the key exists: the first write wins
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise QuarantineItemNotFoundError(key) from None

    def _remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _keys(self, prefix: str) -> builtins.list[tuple[str, float]]:
        root = self._path(prefix.rstrip("/"))
        if not root.is_dir():
            return []
        return [
            (path.relative_to(self.folder).as_posix(), path.stat().st_mtime_ns / 1e9)
            for path in root.rglob("*.json")
        ]
