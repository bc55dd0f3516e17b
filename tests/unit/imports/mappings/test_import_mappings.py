"""Mappings: sample rows → Connect contracts; bad rows → MappingError naming the field; user mappings."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from norcekit.imports.mappings import MappingError, MappingLoadError, build, load_mapping, sample
from norcekit.imports.sources.filedrop import FileDropOptions, FileDropSource
from norcekit.norce.contracts import IMPORT_KINDS, Product, dump_item
from norcekit.norce.contracts.wire import WireItem
from norcekit_local.sample_data.generate import KEY_FIELDS, generate

ENTITIES = tuple(IMPORT_KINDS)


@pytest.fixture(scope="module")
def sample_source(tmp_path_factory: pytest.TempPathFactory) -> FileDropSource:
    root = tmp_path_factory.mktemp("sample")
    generate(root, products=30, customers=15, companies=4, supplier_products=3,
             as_of=datetime(2026, 11, 27, 6, tzinfo=UTC))  # fmt: skip
    options = FileDropOptions(root=str(root), entities={e: {"key_fields": KEY_FIELDS[e]} for e in ENTITIES})  # type: ignore[misc]
    return FileDropSource("sample", options)


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_sample_record_maps_to_a_valid_contract_with_the_same_key(
    sample_source: FileDropSource, entity: str
) -> None:
    mapping = load_mapping("sample", entity=entity)
    kind = IMPORT_KINDS[entity]
    count = 0
    for record in sample_source.iter_all(entity):
        assert record.ok and record.data is not None
        item = mapping(record.data)
        # High-volume mappings give a WireItem (validated without a model), the others the model.
        model = item.to_model() if isinstance(item, WireItem) else item
        assert isinstance(model, kind.item_model)
        # The wire form round-trips through the contract model.
        assert kind.parse_item(orjson.loads(dump_item(item))) == model
        count += 1
    assert count > 0


def test_sample_product_shape(sample_source: FileDropSource) -> None:
    record = next(sample_source.iter_all("products"))
    assert record.data is not None
    product = sample.products(record.data)
    wire = orjson.loads(dump_item(product))
    assert wire["Code"] == "P000001"
    assert {c["CultureCode"] for c in wire["Cultures"]} == {"sv-SE", "en-GB"}
    sku = wire["Variants"][0]["Skus"][0]
    assert sku["Status"] == 1 and sku["Type"] == 1 and sku["UnitOfMeasurementType"] == 1
    assert sku["PartNo"].startswith("P000001-01-") and len(sku["EanCode"]) == 13
    assert {v["SalesArea"] for v in sku["VatRates"]} == {1, 2}
    assert IMPORT_KINDS["products"].key(product.to_model()) == record.key


PRODUCT: dict[str, Any] = {
    "code": "P1",
    "names": {"sv-SE": "Jacka"},
    "variants": [{"code": "P1-01", "skus": [{"part_no": "P1-01-M", "status": "active", "weight_kg": "0.5"}]}],
}


@pytest.mark.parametrize(
    ("entity", "data", "field", "reason"),
    [
        ("products", {**PRODUCT, "code": ""}, "code", "required"),
        ("products", {**PRODUCT, "variants": [{"code": "V", "skus": [{"part_no": "S", "status": "Gone"}]}]},
         "variants[0].skus[0].status", "'Gone' is not a SkuStatus"),
        ("products",
         {**PRODUCT, "variants": [{"code": "V", "skus": [{"part_no": "S", "weight_kg": "heavy"}]}]},
         "variants[0].skus[0].weight_kg", "'heavy' is not a number"),
        ("products", {**PRODUCT, "variants": "none"}, "variants", "expected a list"),
        ("sku_prices", {"part_no": "A", "price_list_code": "SE", "price_sale": "12,5"},
         "price_sale", "not a number"),
        ("sku_prices", {"part_no": "A", "price_list_code": "SE"}, "price_sale", "required"),
        ("onhand", {"part_no": "A", "warehouse_code": "W", "location_code": "L", "onhand_value": "3",
                    "next_delivery_date": "soon"}, "next_delivery_date", "not an ISO-8601 date"),
        ("onhand", {"part_no": "A", "warehouse_code": "W", "location_code": "L", "onhand_value": "3",
                    "is_active": "maybe"}, "is_active", "not a yes/no value"),
        ("customers", {"code": "C1", "first_name": "A", "last_name": "B", "email": "nope"}, "email",
         "not an e-mail address"),
        ("price_lists", {"code": "X", "currency_code": "SEK", "sales_area": "Atlantis"}, "sales_area",
         "not a known country code"),
        ("companies", {"code": "B1", "name": "N", "organization_no": "1", "application_key": "not-a-guid"},
         "ApplicationKey", "UUID"),
    ],
)  # fmt: skip
def test_bad_record_names_the_field(entity: str, data: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping("sample", entity=entity)(data)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def _user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acme_mappings.py").write_text(
        textwrap.dedent(
            """
            from norcekit.imports.mappings import Row
            from norcekit.norce.contracts import SkuOnhand

            NOT_A_FUNCTION = 42

            def onhand(data, warehouse="MAIN"):
                row = Row(data)
                return SkuOnhand(PartNo=row.required_text("ITEMNO"), WarehouseCode=warehouse,
                                 LocationCode="STO", OnhandValue=row.decimal("QTY", required=True))
            """
        )
    )
    (tmp_path / "broken_mappings.py").write_text("import does_not_exist_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_user_mapping_by_module_and_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _user_module(tmp_path, monkeypatch)
    mapping = load_mapping("acme_mappings:onhand", options={"warehouse": "OUTLET"})
    item = mapping({"ITEMNO": "A-1", "QTY": "7"})
    assert (
        dump_item(item) == b'{"PartNo":"A-1","WarehouseCode":"OUTLET","LocationCode":"STO","OnhandValue":7.0}'
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("acme_mappings:missing", "module 'acme_mappings' has no attribute 'missing'"),
        ("acme_mappings:NOT_A_FUNCTION", "'NOT_A_FUNCTION' is a int, not a function"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        (
            "broken_mappings:f",
            "cannot import module 'broken_mappings' (No module named 'does_not_exist_anywhere')",
        ),
        ("acme_mappings:", "expected 'package.module:function'"),
        ("magic", "unknown mapping 'magic'"),
    ],
)
def test_user_mapping_errors_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    _user_module(tmp_path, monkeypatch)
    with pytest.raises(MappingLoadError) as caught:
        load_mapping(spec)
    assert message in str(caught.value)


def test_builtin_bundle_without_that_entity() -> None:
    with pytest.raises(
        MappingLoadError, match=r"'business_central' has no 'onhand' mapping \(it has: customers, products\)"
    ):
        load_mapping("business_central", entity="onhand")


def test_product_without_any_identifier_is_rejected_by_the_contract() -> None:
    with pytest.raises(MappingError) as caught:
        build(Product, {"ManufacturerName": "X"})
    assert "no identifier" in caught.value.reason
