"""The sample supplier mapping and the local configuration's header, checked against Norce's contract.

In the .NET contract SupplierOnHand.IsActive and SupplierPrice.IsActive are plain ``bool`` (and
Value, CostPurchase, QtyBreak plain numbers): a property left out of the JSON is read as false / 0
and written when its field is listed. So every listed non-nullable property must be sent, every
sent property must be listed (or be a key), and IsActive must be stated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from norcekit.imports.config import load_config
from norcekit.imports.mappings import sample
from norcekit.norce.contracts import dump_header, dump_item

ROOT = Path(__file__).resolve().parents[4]
CONTRACTS: dict[str, Any] = orjson.loads((ROOT / "tests/data/norce-connect-contracts.json").read_bytes())
LOCAL_CONFIG = ROOT / "local" / "norcekit_local" / "config" / "local.yaml"

#: payload list -> (header field list, contract class, field enum)
NESTED = {
    "OnHand": ("OnhandFieldsThatAreSet", "Supplier.Models.SupplierOnHand", "Supplier.Fields.SupplierOnHandField"),  # noqa: E501
    "PriceList": ("PriceFieldsThatAreSet", "Supplier.Models.SupplierPrice", "Supplier.Fields.SupplierPriceField"),  # noqa: E501
}  # fmt: skip

ROW = {
    "supplier_part_no": "SUP-00001",
    "product_name": "Warm Jacket",
    "manufacturer": "Acme AB",
    "manufacturer_part_no": "ACME-00001",
    "ean": "7350001234567",
    "category_code": "jackets",
    "onhand": [{"warehouse_code": "SUPPLIER", "location_code": "DC1", "value": "12"}],
    "prices": [{"price_list_code": "SE-B2C", "currency_code": "SEK", "cost_purchase": "99.50"}],
}


def non_nullable(type_name: str) -> bool:
    return not type_name.endswith("?") and type_name in {"bool", "decimal", "int"}


@pytest.fixture(scope="module")
def header() -> dict[str, Any]:
    config = load_config(LOCAL_CONFIG, environ={"NORCEKIT_SAMPLE_DIR": "/tmp/unused"})
    model = config.build_header("supplier_products", account_id=1, full_file=True)
    parsed: dict[str, Any] = orjson.loads(dump_header(model))
    return parsed


@pytest.mark.parametrize("nested", sorted(NESTED))
def test_nested_entries_send_what_the_header_lists_and_state_is_active(
    header: dict[str, Any], nested: str
) -> None:
    field_list, class_name, enum_name = NESTED[nested]
    properties: dict[str, str] = CONTRACTS["classes"][class_name]["properties"]
    members: dict[str, int] = CONTRACTS["enums"][enum_name]["members"]
    listed = {name for name, value in members.items() if value in header.get(field_list, [])}
    payload = orjson.loads(dump_item(sample.supplier_products(ROW)))

    assert payload[nested], f"the sample row has {nested} entries"
    assert "IsActive" in listed, f"{field_list} must list IsActive (a plain bool: absent reads false)"
    for entry in payload[nested]:
        assert entry["IsActive"] is True
        assert set(entry) <= set(properties), "only contract properties are sent"
        unlisted = {name for name in entry if name in members and name not in listed}
        assert not unlisted, f"sent but not in {field_list}: {unlisted}"
        missing = {name for name in listed if non_nullable(properties[name]) and name not in entry}
        assert not missing, f"listed in {field_list} but not sent (Norce would write 0/false): {missing}"


def test_an_inactive_supplier_price_is_sent_as_inactive() -> None:
    row = {**ROW, "prices": [{**ROW["prices"][0], "is_active": "false"}]}
    payload = orjson.loads(dump_item(sample.supplier_products(row)))

    assert payload["PriceList"][0]["IsActive"] is False
    assert payload["OnHand"][0]["IsActive"] is True
