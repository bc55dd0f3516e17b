"""S3 target: the latest document per entity key at ``<prefix><entity>/<key>.json``.

Idempotent by content: the object carries the document's idempotency key (a hash of entity, key and
data) and ``fetched_at`` in its metadata. A document is written only when its content differs
from what is stored *and* it was read no earlier than the stored one, so redelivery writes nothing
and an older read (an SQS retry overtaken by a newer event) never replaces a newer one. The write
is conditional on the object's ETag (or on its absence), so two concurrent writers cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from norcekit.deadline import Deadline
from norcekit.events.config import S3TargetConfig
from norcekit.events.targets.base import DeliveryResult, TargetDocument

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

META_IDEMPOTENCY_KEY = "idempotency-key"
META_FETCHED_AT = "fetched-at"
META_VERSION = "version"
META_CONTENT_HASH = "content-hash"


def object_key(prefix: str, doc: TargetDocument) -> str:
    # One object per key even when the key holds '/' (PartNo may): escape everything unsafe.
    return f"{prefix}{doc.entity}/{quote(doc.key, safe='-_.~:')}.json"


class S3Target:
    def __init__(self, name: str, config: S3TargetConfig, *, client: S3Client) -> None:
        self.name = name
        self.config = config
        self.client = client
        #: Writes skipped because the same (or a newer) state was already stored.
        self.skipped = 0

    def deliver(
        self, docs: Sequence[TargetDocument], *, deadline: Deadline | None = None
    ) -> list[DeliveryResult]:
        return [self._deliver_one(doc) for doc in docs]

    def _deliver_one(self, doc: TargetDocument) -> DeliveryResult:
        from botocore.exceptions import ClientError  # noqa: PLC0415 - botocore on first use

        key = object_key(self.config.prefix, doc)
        for _ in range(2):  # a lost conditional race is re-evaluated once
            try:
                head = self.client.head_object(Bucket=self.config.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                    return _client_error(exc)
                head = None
            condition: dict[str, str] = {"IfNoneMatch": "*"}
            if head is not None:
                meta = head.get("Metadata", {})
                if meta.get(META_CONTENT_HASH) == doc.content_hash:
                    self.skipped += 1
                    return DeliveryResult.success("unchanged")
                stored_version = meta.get(META_VERSION)
                stored_at = meta.get(META_FETCHED_AT)
                if (stored_version and int(stored_version) > doc.version) or (
                    not stored_version and stored_at and datetime.fromisoformat(stored_at) > doc.fetched_at
                ):
                    self.skipped += 1
                    return DeliveryResult.success("newer state already stored")
                condition = {"IfMatch": head["ETag"]}
            try:
                self.client.put_object(
                    Bucket=self.config.bucket,
                    Key=key,
                    Body=doc.to_json(),
                    ContentType="application/json",
                    Metadata={
                        META_IDEMPOTENCY_KEY: doc.idempotency_key,
                        META_FETCHED_AT: doc.fetched_at.isoformat(),
                        META_VERSION: str(doc.version),
                        META_CONTENT_HASH: doc.content_hash,
                    },
                    **condition,  # type: ignore[arg-type]
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in (
                    "PreconditionFailed",
                    "ConditionalRequestConflict",
                ):
                    continue
                return _client_error(exc)
            return DeliveryResult.success("written")
        return DeliveryResult.retryable("concurrent writers kept winning the conditional write")


def _client_error(exc: Exception) -> DeliveryResult:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    if code in ("AccessDenied", "NoSuchBucket", "InvalidBucketName"):
        return DeliveryResult.permanent(str(code))
    return DeliveryResult.retryable(str(code))
