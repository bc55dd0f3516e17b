"""Claim check for payloads larger than the event queue accepts.

API Gateway passes bodies up to 10 MB; an SQS message is at most the queue's
``MaximumMessageSize``. A payload whose envelope would not fit is stored here under a content key
(``<prefix><sha256>.json``) and the queued envelope carries ``body_ref`` instead of ``body``; the
processor reads it back. Content-addressed, so Norce's retries of one payload store one object.
Objects are not deleted after processing (a redrive may need them again); the template's lifecycle
rule expires the prefix after ``EventClaimRetentionDays``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_PREFIX = "claims/"
_SCHEME = "s3://"


class ClaimStore(Protocol):
    def put(self, body: bytes) -> str:
        """Store ``body``; returns the reference the envelope carries. Raises when not stored."""
        ...

    def get(self, ref: str) -> bytes:
        """The stored body. Raises :class:`ClaimNotFoundError` when it is gone."""
        ...


class ClaimNotFoundError(LookupError):
    pass


def content_name(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest() + ".json"


class S3ClaimStore:
    def __init__(self, bucket: str, prefix: str = DEFAULT_PREFIX, *, client: S3Client) -> None:
        if not prefix.endswith("/"):
            raise ValueError("prefix must end with '/'")
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    def put(self, body: bytes) -> str:
        key = self.prefix + content_name(body)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return f"{_SCHEME}{self.bucket}/{key}"

    def get(self, ref: str) -> bytes:
        bucket, _, key = ref.removeprefix(_SCHEME).partition("/")
        if not ref.startswith(_SCHEME) or bucket != self.bucket or not key.startswith(self.prefix):
            raise ClaimNotFoundError(f"not a claim of this store: {ref!r}")
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise ClaimNotFoundError(ref) from None


class MemoryClaimStore:
    """In-memory claims (tests, the local consumer without S3)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, body: bytes) -> str:
        ref = "memory://claims/" + content_name(body)
        self.objects[ref] = body
        return ref

    def get(self, ref: str) -> bytes:
        try:
            return self.objects[ref]
        except KeyError:
            raise ClaimNotFoundError(ref) from None
