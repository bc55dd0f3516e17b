"""Where a file drop's files live: a local folder or an S3 prefix, behind :class:`FileStore`.

Both stream objects (never loaded whole); S3 reads use the process's client (``norcekit.wiring``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from norcekit.imports.sources.base import SourceError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class FileStore(Protocol):
    """The few storage operations the file drop needs; keys are ``/``-separated, root-relative."""

    def list(self, prefix: str) -> list[str]:
        """Keys directly or indirectly under ``prefix`` (which ends with ``/``)."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """A binary stream of the object (read sequentially, never loaded whole)."""
        ...

    def exists(self, key: str) -> bool: ...

    def describe(self, key: str) -> str:
        """Human-readable location for error reports (path or ``s3://`` URL)."""
        ...

    def close(self) -> None: ...


class LocalFileStore:
    """A local directory (development, the local stack)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            if not self.root.is_dir():
                raise SourceError(f"file drop folder {self.root} does not exist")
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def open(self, key: str) -> IO[bytes]:
        try:
            return (self.root / key).open("rb")
        except OSError as exc:
            raise SourceError(f"cannot open {self.describe(key)}: {exc.strerror}") from exc

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def describe(self, key: str) -> str:
        return str(self.root / key)

    def close(self) -> None:
        return None


class S3FileStore:
    """An S3 prefix, read with the process's S3 client (``norcekit.wiring``)."""

    def __init__(self, bucket: str, prefix: str = "", *, client: S3Client) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client

    def list(self, prefix: str) -> list[str]:
        full_prefix = self.prefix + prefix
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full_prefix
            ):
                keys.extend(obj["Key"][len(self.prefix) :] for obj in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot list s3://{self.bucket}/{full_prefix}: {_aws_reason(exc)}") from exc
        return sorted(keys)

    def open(self, key: str) -> IO[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot read {self.describe(key)}: {_aws_reason(exc)}") from exc
        return io.BufferedReader(_RawReader(body), buffer_size=256 * 1024)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise SourceError(f"cannot check {self.describe(key)}: {_aws_reason(exc)}") from exc
        return True

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def close(self) -> None:
        return None


class _RawReader(io.RawIOBase):
    """Adapts a botocore ``StreamingBody`` (which has only ``read``) to ``io`` buffering."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk: bytes = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


def _aws_reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return type(exc).__name__


def file_store_for(root: str, *, s3_client: S3Client | None = None) -> FileStore:
    """``s3://bucket/prefix`` → :class:`S3FileStore`; anything else is a local directory."""
    if root.startswith("s3://"):
        bucket, _, prefix = root[len("s3://") :].partition("/")
        if not bucket:
            raise SourceError(f"file drop root {root!r}: missing bucket name")
        if s3_client is None:
            raise SourceError(
                f"file drop root {root!r}: an S3 root needs the process's S3 client (norcekit.wiring)"
            )
        return S3FileStore(bucket, prefix, client=s3_client)
    return LocalFileStore(root)


__all__ = ["FileStore", "LocalFileStore", "S3FileStore", "file_store_for"]
