"""Integration configuration: example files load, every validation error names its setting path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from norcekit.configfile import ConfigError
from norcekit.imports.config import IntegrationConfig, build_source, load_config
from norcekit.imports.sources import SourceError
from norcekit.imports.sources.business_central import BusinessCentralSource
from norcekit.imports.sources.filedrop import FileDropSource, S3FileStore
from norcekit.imports.sources.rest import RestSource
from norcekit.norce.contracts import dump_header
from norcekit.settings import load_settings

REPO = Path(__file__).resolve().parents[3]
LOCAL = REPO / "local/norcekit_local/config/local.yaml"
EXAMPLE = REPO / "docs/config.example.yaml"
#: The variables the template sets that the example uses (tests/unit/template checks the rest).
EXAMPLE_ENV = {
    "FILE_DROP_ROOT": "s3://acme-erp/incoming/",
    "SOURCE_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:norcekit/src",
    "TARGET_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:norcekit/tgt",
    "EVENT_BUS_NAME": "norcekit-events",
    "QUARANTINE_BUCKET": "acme-norcekit-data",
}

BASE: dict[str, Any] = {
    "sources": {
        "files": {
            "type": "filedrop",
            "root": "/data/drop",
            "entities": {"products": {"key_fields": ["code"]}, "onhand": {"key_fields": ["part_no"]}},
        },
    },
    "entities": {
        "products": {"source": "files", "mapping": "sample"},
        "onhand": {"source": "files", "mapping": "sample"},
    },
}


def config_with(path: str, value: Any) -> dict[str, Any]:
    """BASE with ``value`` set at a dotted path."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return data


def error_of(data: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(data, environ=environ or {})
    return str(caught.value)


def test_local_config_loads_every_import_against_the_sample_folder() -> None:
    config = load_config(LOCAL, environ={"NORCEKIT_SAMPLE_DIR": "/tmp/sample"})
    assert set(config.enabled_entities()) == {
        "products",
        "pim_products",
        "sku_prices",
        "price_lists",
        "onhand",
        "customers",
        "companies",
        "supplier_products",
    }
    source = build_source(config, "sample_erp")
    assert isinstance(source, FileDropSource) and source.options.root == "/tmp/sample"
    pim = build_source(config, "sample_pim")
    assert isinstance(pim, FileDropSource) and pim.options.root == "/tmp/sample/pim"
    assert config.imports["pim_products"].kind == config.imports["products"].kind == "products"
    assert config.account_source_for("onhand") == "erp"
    assert config.entities["onhand"].full_scope_split == "warehouse"
    header = config.build_header("products", account_id=7, full_file=True)
    wire = json.loads(dump_header(header))
    assert wire["AccountId"] == 7 and wire["FullFile"] is True
    assert wire["SkuFieldsThatAreSet"] == [1, 2, 5, 7, 8, 14, 21]
    supplier = json.loads(dump_header(config.build_header("supplier_products", account_id=7)))
    assert supplier["SupplierId"] == 1
    # A header without FullFile in the contract never gets one.
    assert "FullFile" not in json.loads(dump_header(config.build_header("customers", account_id=7)))


def test_local_config_defaults_to_dot_local_sample() -> None:
    config = load_config(LOCAL, environ={})
    assert config.sources["sample_erp"].root == ".local/sample"  # type: ignore[union-attr]


def test_deployment_example_loads_and_builds_its_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(EXAMPLE, environ=EXAMPLE_ENV)
    assert config.account_source_for("products") == "bc"
    assert config.account_source_for("sku_prices") == "erp_files"
    bc = build_source(config, "bc", fetch_secret=lambda arn: '{"bc": {"client_secret": "from-sm"}}')
    assert isinstance(bc, BusinessCentralSource)
    assert bc.options.base_url.startswith(
        "https://api.businesscentral.dynamics.com/v2.0/contoso.onmicrosoft.com/"
    )
    s3 = boto3.client("s3", region_name="eu-north-1")  # the process's client (no call is made)
    files = build_source(config, "erp_files", s3_client=s3)
    assert isinstance(files, FileDropSource) and files.options.root == "s3://acme-erp/incoming/erp-exports"
    assert isinstance(files.store, S3FileStore) and files.store.client is s3
    with pytest.raises(SourceError, match="an S3 root needs the process's S3 client"):
        build_source(config, "erp_files")
    mapping = config.mapping_for("products")
    product = mapping({"number": "1000", "displayName": "Bicycle"})
    assert product is not None and product.ManufacturerCode == "OWNBRAND"  # type: ignore[attr-defined]


def test_config_path_comes_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "integration.json"
    path.write_text(json.dumps(BASE))
    assert isinstance(load_config(settings=load_settings(norcekit_config=str(path))), IntegrationConfig)
    with pytest.raises(ConfigError, match="NORCEKIT_CONFIG: not set"):
        load_config(settings=load_settings(norcekit_config=None))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config(tmp_path / "missing.yaml")
    bad_json = tmp_path / "c.json"
    bad_json.write_text("{\n  nope")
    with pytest.raises(ConfigError, match=r"c.json: invalid JSON at line 2"):
        load_config(bad_json)
    bad_yaml = tmp_path / "c.yaml"
    bad_yaml.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad_yaml)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("entities.products.fields_that_are_set", {"SkuFieldsThatAreSet": ["Status", "EanCode", "Statuss"]},
         "entities.products.fields_that_are_set.SkuFieldsThatAreSet[2]: 'Statuss' is not a valid SkuField"),
        ("entities.products.fields_that_are_set", {"SkuFieldz": ["Status"]},
         "entities.products.fields_that_are_set.SkuFieldz: not a field list of ProductHeader"),
        ("entities.onhand.fields_that_are_set", {"SkuOnhandFieldsThatAreSet": [3, 99]},
         "entities.onhand.fields_that_are_set.SkuOnhandFieldsThatAreSet[1]: "
         "99 is not a valid SkuOnhandField"),
        ("entities.prices", {"source": "files", "mapping": "sample"},
         "entities.prices: unknown entity 'prices' (valid: products, sku_prices"),
        ("entities.products.source", "erp", "entities.products.source: 'erp' is not a configured source"),
        ("entities.products.mapping", "nowhere_mod:f",
         "entities.products.mapping: mapping 'nowhere_mod:f': cannot import"),
        ("entities.products.full_scope_split", "warehouse",
         "entities.products.full_scope_split: only onhand may split"),
        ("entities.onhand.full_scope_split", "location",
         "entities.onhand.full_scope_split: Input should be 'warehouse'"),
        ("entities.products.delta", {"batch_size": 0},
         "entities.products.delta.batch_size: Input should be greater"),
        ("entities.products.stuck_policy", "retry",
         "entities.products.stuck_policy: Input should be 'defer' or 'proceed'"),
        ("entities.products.schedules", {"delta": "every 5 minutes"},
         "entities.products.schedules.delta: Value error, 'every 5 minutes' is not a schedule expression"),
        ("entities.products.schedules", {"full": "cron(0 3 * * *)"}, "a cron expression has 6 fields"),
        ("entities.products.supplier_id", 5, "entities.products.supplier_id: only supplier_products"),
        ("entities.products.colour", "blue", "entities.products.colour: Extra inputs are not permitted"),
        ("sources.files.root", "", "sources.files.root: String should have at least 1 character"),
        ("sources.files.type", "ftp",
         "sources.files: unknown source type 'ftp' (built-in: business_central, filedrop, rest"),
        ("sources.files.entities", {"onhand": {"key_fields": ["part_no"]}},
         "entities.products.source: source 'files' has no settings for 'products'"),
    ],
)  # fmt: skip
def test_each_validation_error_names_the_setting_path(path: str, value: Any, expected: str) -> None:
    message = error_of(config_with(path, value))
    assert expected.replace("Value error, ", "") in message


def test_all_problems_are_reported_at_once() -> None:
    data = config_with("entities.products.source", "erp")
    data["entities"]["onhand"]["full_scope_split"] = "warehouse"
    data["entities"]["onhand"]["mapping"] = "nope"
    lines = error_of(data).splitlines()
    assert lines[0].startswith("entities.products.source:")
    assert any(line.startswith("entities.onhand.mapping: unknown mapping 'nope'") for line in lines)


REST_SOURCE: dict[str, Any] = {
    "type": "rest",
    "base_url": "https://erp.test/api",
    "entities": {"products": {"path": "items", "key_fields": ["sku"]}},
}


def test_rest_source_errors_name_paths_inside_the_union() -> None:
    data = copy.deepcopy(BASE)
    data["sources"]["api"] = {**REST_SOURCE, "auth": {"type": "bearer", "token": "inline-value"}}
    message = error_of(data)
    assert "sources.api.auth.token: Input should be a valid dictionary" in message
    assert "inline-value" not in message
    data["sources"]["api"] = {**REST_SOURCE, "headers": {"X-Api-Key": "abc"}}
    assert "sources.api.headers: header 'X-Api-Key' looks like a credential" in error_of(data)
    data["sources"]["api"] = {
        **REST_SOURCE,
        "auth": {"type": "bearer", "token": {"env": "A", "secret_arn": "arn:aws:secretsmanager:x"}},
    }
    assert "sources.api.auth.token: set exactly one of 'env'" in error_of(data)


def test_delta_on_a_rest_source_without_delta_settings_is_rejected() -> None:
    data = copy.deepcopy(BASE)
    data["sources"]["api"] = REST_SOURCE
    data["entities"]["products"]["source"] = "api"
    assert "entities.products.delta.enabled: source 'api' has no 'delta' settings" in error_of(data)
    data["entities"]["products"]["delta"] = {"enabled": False}
    config = load_config(data, environ={})
    assert isinstance(build_source(config, "api"), RestSource)


def test_environment_substitution() -> None:
    data = config_with("sources.files.root", "s3://${BUCKET}/${PREFIX:-erp}")
    config = load_config(data, environ={"BUCKET": "acme"})
    assert config.sources["files"].root == "s3://acme/erp"  # type: ignore[union-attr]
    assert "sources.files.root: environment variable BUCKET is not set" in error_of(data)


def test_variables_only_the_events_or_orders_sections_use_need_not_be_set_to_load_the_imports() -> None:
    data = {
        **copy.deepcopy(BASE),
        "events": {"targets": {"shop": {"type": "http", "url": "${SHOP_URL}"}}},
        "orders": {"targets": {"erp": {"type": "http", "url": "${ERP_ORDERS_URL}"}}},
    }
    config = load_config(data, environ={})  # the import function's environment may lack them
    assert config.events["targets"]["shop"]["url"] == "${SHOP_URL}"  # its own loader substitutes it
    assert config.orders["targets"]["erp"]["url"] == "${ERP_ORDERS_URL}"


def test_unknown_source_in_build_source() -> None:
    config = load_config(BASE, environ={})
    with pytest.raises(ConfigError, match=r"sources.erp: not configured \(sources: files\)"):
        build_source(config, "erp")
