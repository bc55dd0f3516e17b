"""The file drop reads an S3 prefix exactly like a local folder (moto); secrets from Secrets Manager."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from tests.fixtures.aws import REGION

from norcekit.imports.config import build_source, load_config
from norcekit.imports.records import SourceRecord
from norcekit.imports.sources import SourceError
from norcekit.imports.sources.auth import SecretRef, resolve_secret
from norcekit.imports.sources.filedrop import (
    FileDropOptions,
    FileDropSource,
    LocalFileStore,
    S3FileStore,
    file_store_for,
)
from norcekit.wiring import AwsClients
from norcekit.wiring.imports import secret_fetcher
from norcekit_local.sample_data.generate import apply_change_set, generate

pytestmark = pytest.mark.integration
BUCKET = "erp-drop"
AS_OF = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
CHANGE_AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _upload(root: Path, prefix: str) -> None:
    s3 = boto3.client("s3")
    for path in sorted(root.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(root).as_posix()}")


def _summary(records: list[SourceRecord]) -> list[tuple[str, object, object, str | None]]:
    # Origins differ by design (path vs s3:// URL); everything else must be identical.
    return [(r.key, r.data, r.changed_at, r.error) for r in records]


@pytest.fixture
def exported(tmp_path: Path, moto_aws: None) -> Path:
    root = tmp_path / "sample"
    generate(root, products=40, customers=12, companies=3, as_of=AS_OF)
    apply_change_set(root, at=CHANGE_AT)
    # A half-written export on both sides: must be ignored by both.
    (root / "onhand" / "full" / "20261127T100000Z.csv").write_text("part_no,warehouse_code\nHALF,")
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    _upload(root, "exports")
    return root


def test_local_folder_and_s3_prefix_yield_the_same_records(exported: Path) -> None:
    config = load_config(
        "local/norcekit_local/config/local.yaml", environ={"NORCEKIT_SAMPLE_DIR": str(exported)}
    )
    options = config.sources["sample_erp"]
    assert isinstance(options, FileDropOptions)
    local = FileDropSource("local", options, LocalFileStore(exported))
    remote = FileDropSource(
        "s3", options, S3FileStore(BUCKET, "exports", client=boto3.client("s3", region_name=REGION))
    )

    for entity in ("products", "sku_prices", "onhand", "customers", "companies", "price_lists"):
        assert _summary(list(local.iter_all(entity))) == _summary(list(remote.iter_all(entity))), entity
    window = (datetime(2026, 11, 27, 8, 0, tzinfo=UTC), datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    for entity in ("products", "sku_prices", "onhand", "customers"):
        changed_local = list(local.iter_changed(entity, *window))
        assert changed_local, entity
        assert _summary(changed_local) == _summary(list(remote.iter_changed(entity, *window)))
    assert next(remote.iter_all("onhand")).origin.startswith(
        f"s3://{BUCKET}/exports/onhand/full/20261127T090000Z.csv:"
    )


def test_build_source_from_config_reads_s3_root(exported: Path) -> None:
    config = load_config(
        {
            "sources": {
                "drop": {
                    "type": "filedrop",
                    "root": f"s3://{BUCKET}/exports",
                    "entities": {"onhand": {"key_fields": ["part_no"]}},
                }
            },
            "entities": {"onhand": {"source": "drop", "mapping": "sample"}},
        }
    )
    source = build_source(config, "drop", s3_client=AwsClients(region=REGION).s3())
    assert sum(1 for _ in source.iter_all("onhand")) > 0


def test_missing_bucket_is_a_source_error(moto_aws: None) -> None:
    options = FileDropOptions(root="s3://nope/x", entities={"onhand": {"key_fields": ["part_no"]}})  # type: ignore[dict-item]
    drop = FileDropSource(
        "drop", options, file_store_for(options.root, s3_client=AwsClients(region=REGION).s3())
    )
    with pytest.raises(SourceError, match=r"cannot list s3://nope/x/onhand/full/: NoSuchBucket"):
        list(drop.iter_all("onhand"))


def test_secret_reference_resolves_from_secrets_manager(moto_aws: None) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name="norcekit/bc", SecretString=json.dumps({"client_secret": "test-value"})
    )["ARN"]
    read = secret_fetcher(AwsClients(region=REGION).secrets_provider)  # what wiring gives sources
    assert resolve_secret(SecretRef(secret_arn=arn, key="client_secret"), fetch=read) == "test-value"
    with pytest.raises(SourceError, match="no key 'other'"):
        resolve_secret(SecretRef(secret_arn=arn, key="other"), fetch=read)
    with pytest.raises(SourceError, match="no secret reader given"):
        resolve_secret(SecretRef(secret_arn=arn, key="client_secret"))
