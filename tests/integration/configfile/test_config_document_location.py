"""NORCEKIT_CONFIG may be a local path or ``s3://bucket/key`` (template.yaml's NorcekitConfig);
the import runner, the job monitor and the event processor read it through one reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from norcekit.configfile import ConfigError, read_config_document
from norcekit.events.config import load_events_config
from norcekit.imports.config import load_config
from norcekit.settings import SettingsError, load_settings

pytestmark = pytest.mark.integration

CONFIG_YAML = """\
sources:
  erp:
    type: filedrop
    root: s3://erp-drop/exports
    entities:
      price_lists: {key_fields: [code]}
entities:
  price_lists:
    source: erp
    mapping: sample
    delta: {enabled: false}
events:
  routes: {"*": [archive]}
  targets:
    archive: {type: s3, bucket: "${ARCHIVE_BUCKET}", prefix: targets/}
"""
BUCKET = "norcekit-config-test"


def s3() -> Any:
    """The S3 client a process gets from norcekit.wiring (moto here)."""
    return boto3.client("s3", region_name="eu-north-1")


def test_an_s3_location_needs_an_injected_client() -> None:
    with pytest.raises(ConfigError, match="needs an S3 client"):
        read_config_document("s3://bucket/config/norcekit.yaml")


@pytest.fixture
def config_bucket(quarantine_bucket: str) -> str:
    """A bucket holding the configuration as YAML and as JSON (moto)."""
    s3 = boto3.client("s3", region_name="eu-north-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    s3.put_object(Bucket=BUCKET, Key="config/norcekit.yaml", Body=CONFIG_YAML.encode())
    s3.put_object(Bucket=BUCKET, Key="config/broken.json", Body=b'{"entities": {\n  "x": }')
    return BUCKET


def test_import_config_is_read_from_s3(config_bucket: str) -> None:
    config = load_config(
        f"s3://{config_bucket}/config/norcekit.yaml", environ={"ARCHIVE_BUCKET": "arch"}, s3_client=s3()
    )
    assert config.enabled_entities() == ["price_lists"]
    # The events section is substituted by its own loader (load_events_config), not here.
    assert config.events["targets"]["archive"]["bucket"] == "${ARCHIVE_BUCKET}"


def test_norcekit_config_s3_uri_reaches_both_loaders(config_bucket: str) -> None:
    settings = load_settings(norcekit_config=f"s3://{config_bucket}/config/norcekit.yaml")
    config = load_config(settings=settings, environ={"ARCHIVE_BUCKET": "arch"}, s3_client=s3())
    assert config.enabled_entities() == ["price_lists"]
    events = load_events_config(settings, environ={"ARCHIVE_BUCKET": "arch"}, s3_client=s3())
    assert events.targets_for({"SkuChangedNotification"}) == ["archive"]


def test_missing_s3_object_names_the_location(config_bucket: str) -> None:
    uri = f"s3://{config_bucket}/config/nope.yaml"
    with pytest.raises(ConfigError, match=rf"cannot read configuration file {uri}: NoSuchKey"):
        read_config_document(uri, s3_client=s3())
    with pytest.raises(SettingsError, match=r"NORCEKIT_CONFIG: cannot read configuration file .*nope.yaml"):
        load_events_config(load_settings(norcekit_config=uri), s3_client=s3())


def test_invalid_json_in_s3_names_the_line(config_bucket: str) -> None:
    with pytest.raises(ConfigError, match=r"broken.json: invalid JSON at line 2"):
        read_config_document(f"s3://{config_bucket}/config/broken.json", s3_client=s3())


def test_s3_uri_without_a_key_is_refused_before_any_call() -> None:
    with pytest.raises(ConfigError, match=r"expected s3://<bucket>/<key>"):
        read_config_document("s3://just-a-bucket")


def test_local_paths_still_work_and_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    good = tmp_path / "norcekit.yaml"
    good.write_text(CONFIG_YAML)
    assert read_config_document(good)["entities"]["price_lists"]["mapping"] == "sample"
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match=r"list.yaml: expected a mapping at the top level"):
        read_config_document(listing)
    with pytest.raises(SettingsError, match=r"NORCEKIT_CONFIG: .*expected a mapping"):
        load_events_config(load_settings(norcekit_config=str(listing)))
