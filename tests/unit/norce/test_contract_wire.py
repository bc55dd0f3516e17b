# ruff: noqa: E501  (tables of payloads and their wire bytes read best one case per line)
"""The wire path validates like the contract models and writes the bytes they write.

For any payload, ``wire_validator(Model)(payload)`` must either raise the very ``ValidationError``
``Model.model_validate(payload)`` raises, or give an item whose JSON is ``dump_item`` of the model.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError, model_validator

from norcekit.norce.contracts import (
    IMPORT_KINDS,
    Company,
    ContractModel,
    Customer,
    Product,
    SkuOnhand,
    SkuPriceList,
    WireItem,
    dump_item,
)
from norcekit.norce.contracts import enums as en
from norcekit.norce.contracts.wire import WireValidator, item_field, wire_validator


def _outcome(model: type[ContractModel], payload: Any, validator: Any) -> tuple[str, Any]:
    """("ok", wire bytes) or ("error", the pydantic error list) for one validation path."""
    try:
        item = validator(payload)
    except ValidationError as exc:
        return "error", exc.errors(include_url=False, include_context=False)
    return "ok", dump_item(item)


def _same_as_model(model: type[ContractModel], payload: Any) -> tuple[str, Any]:
    old = _outcome(model, payload, model.model_validate)
    new = _outcome(model, payload, WireValidator(model))  # a fresh one: its first item learns
    warm = _outcome(model, payload, wire_validator(model))  # the shared one: usually the fast path
    assert new == old, payload
    assert warm == old, payload
    return old


def test_every_import_item_contract_has_a_fast_schema() -> None:
    for kind in IMPORT_KINDS.values():
        assert wire_validator(kind.item_model)._fast is not None, kind.name


SKU = {"PartNo": "A-1", "Status": en.SkuStatus.Active, "UnitOfMeasurementCount": 1}


@pytest.mark.parametrize(
    ("payload", "wire"),
    [
        ({"Code": "P1", "ManufacturerCode": None}, b'{"Code":"P1"}'),  # None is not sent
        ({"Code": "P1", "Categories": []}, b'{"Code":"P1","Categories":[]}'),  # [] is sent, as before
        ({"Variants": [{"Skus": [SKU]}]}, b'{"Variants":[{"Skus":[{"PartNo":"A-1","Status":1,"UnitOfMeasurementCount":1.0}]}]}'),
        ({"Code": 12, "Variants": [{"SortOrderValue": "3"}]}, b'{"Code":"12","Variants":[{"SortOrderValue":3}]}'),
        ({"Variants": [{"Skus": [{"PartNo": "A", "Status": "Inactive", "ActualWeight": "2.5"}]}]},
         b'{"Variants":[{"Skus":[{"PartNo":"A","Status":5,"ActualWeight":2.5}]}]}'),
        ({"Variants": [{"Skus": [{"PartNo": "A", "StandardPrice": {"PriceListCode": "L", "PriceSale": 9}}]}]},
         b'{"Variants":[{"Skus":[{"PartNo":"A","StandardPrice":{"PartNo":"A","PriceListCode":"L","PriceSale":9.0}}]}]}'),
        ({"Code": "P1", "ProductFlags": [{"Code": "f", "StopDate": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)}]},
         b'{"Code":"P1","ProductFlags":[{"Code":"f","StopDate":"2026-01-02T03:04:05"}]}'),
        ({"Code": "P1", "Variants": [{"SortOrderValue": 10**20}]}, b'{"Code":"P1","Variants":[{"SortOrderValue":100000000000000000000}]}'),
    ],
)  # fmt: skip
def test_conversions_and_omissions_give_the_model_bytes(payload: dict[str, Any], wire: bytes) -> None:
    assert _same_as_model(Product, payload) == ("ok", wire)


@pytest.mark.parametrize(
    ("payload", "loc", "msg"),
    [
        ({"Code": "P1", "Colour": "red"}, ("Colour",), "Extra inputs are not permitted"),
        ({"Code": "P1", "Variants": [{"Skus": [{"PartNo": "A", "Colour": "red"}]}]},
         ("Variants", 0, "Skus", 0, "Colour"), "Extra inputs are not permitted"),
        ({"Variants": [{"Skus": [{"Status": 1}]}]}, ("Variants", 0, "Skus", 0, "PartNo"), "Field required"),
        ({"Variants": [{"Skus": [{"PartNo": None}]}]}, ("Variants", 0, "Skus", 0, "PartNo"), "Input should be a valid string"),
        ({"Code": "P1", "Variants": [{"Skus": [{"PartNo": "A", "Status": 99}]}]},
         ("Variants", 0, "Skus", 0, "Status"), "Input should be 1, 2, 3, 4, 5 or 6"),
        ({"Code": "P1", "Variants": [{"Skus": [{"PartNo": "A", "ActualWeight": float("nan")}]}]},
         ("Variants", 0, "Skus", 0, "ActualWeight"), "Input should be a finite number"),
        ({"Code": "P1", "Variants": [{"Skus": [{"PartNo": "A", "VatRates": [{"Rate": "x"}]}]}]},
         ("Variants", 0, "Skus", 0, "VatRates", 0, "Rate"), "Input should be a valid number, unable to parse string as a number"),
        ({"Code": "P1", "Variants": {"Skus": []}}, ("Variants",), "Input should be a valid list"),
        ({"Code": "P1", "Variants": ["x"]}, ("Variants", 0), "Input should be a valid dictionary or instance of Variant"),
        ({"ManufacturerCode": "M"}, (), "Value error, product has no identifier: set Code, a SKU PartNo, or ManufacturerCode plus a variant's ManufacturerPartNo"),
        ({"Variants": [{"Skus": [{"PartNo": ""}]}]}, (), "Value error, product has no identifier: set Code, a SKU PartNo, or ManufacturerCode plus a variant's ManufacturerPartNo"),
        ({"Code": "P1", "Cultures": [{"Name": True}]}, ("Cultures", 0, "Name"), "Input should be a valid string"),
    ],
)  # fmt: skip
def test_bad_payloads_fail_with_the_model_error_and_field_path(
    payload: dict[str, Any], loc: tuple[Any, ...], msg: str
) -> None:
    kind, errors = _same_as_model(Product, payload)
    assert kind == "error"
    assert (errors[0]["loc"], errors[0]["msg"]) == (loc, msg)


def test_identifier_rules_of_customers_and_companies_hold() -> None:
    assert _same_as_model(Customer, {"Id": 0})[0] == "ok"
    assert _same_as_model(Customer, {"EmailAddress": "a@b"})[0] == "ok"
    assert _same_as_model(Customer, {"FirstName": "A", "Code": ""})[0] == "error"
    assert _same_as_model(Company, {"Customers": [{"FirstName": "A"}], "Code": "C"})[0] == "error"
    assert _same_as_model(Company, {"OrganizationNo": "556", "ApplicationKey": str(uuid.UUID(int=7))}) == (
        "ok",
        b'{"ApplicationKey":"00000000-0000-0000-0000-000000000007","OrganizationNo":"556"}',
    )


def test_after_a_mapping_first_items_the_model_is_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    validator = WireValidator(SkuOnhand)
    payload = {"PartNo": "A", "WarehouseCode": "W", "LocationCode": "L", "OnhandValue": 3.0}
    first = validator(payload)
    built: list[Any] = []
    original = SkuOnhand.model_validate
    monkeypatch.setattr(SkuOnhand, "model_validate", lambda data: built.append(data) or original(data))
    again = validator({**payload, "PartNo": "B"})
    assert built == []  # the fields seen on the first item are in the fast schema now
    assert (first.get("PartNo"), again.get("PartNo"), again.get("Nope", "-")) == ("A", "B", "-")
    assert item_field(again, "WarehouseCode") == "W" == item_field(again.to_model(), "WarehouseCode")
    built.clear()  # to_model() builds one, on purpose
    # A field not seen yet goes through the model once, then joins the fast schema.
    validator({**payload, "MinimumValue": 1})
    assert len(built) == 1
    validator({**payload, "MinimumValue": 2})
    assert len(built) == 1


class _Aliased(ContractModel):
    contract_name: ClassVar[str] = "Test.Aliased"

    Code: str | None = Field(default=None, alias="code")


class _Checked(ContractModel):
    contract_name: ClassVar[str] = "Test.Checked"

    Code: str | None = None

    @model_validator(mode="after")
    def _no_x(self) -> _Checked:
        if self.Code == "x":
            raise ValueError("no x")
        return self


@pytest.mark.parametrize("model", [_Aliased, _Checked])
def test_a_contract_the_wire_path_cannot_mirror_keeps_the_model_path(model: type[ContractModel]) -> None:
    validator = WireValidator(model)
    assert validator._fast is None
    assert dump_item(validator({"Code": "a"})) == b'{"Code":"a"}'
    if model is _Checked:
        with pytest.raises(ValidationError, match="no x"):
            validator({"Code": "x"})


# --- hypothesis: random payloads built from the contracts' own fields --------------------------------

ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["1", "2.50", " 3 ", "Active", "inactive", "2026-01-02", "2026-01-02T03:04:05+02:00"]),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-5))])),
    st.sampled_from([en.SkuStatus.Inactive, en.SalesArea.Norway, en.PriceRule.FixedPrice]),
    st.uuids(),
)


def _payload(model: type[ContractModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    names = list(model.model_fields)

    def value(name: str) -> st.SearchStrategy[Any]:
        annotation = str(model.model_fields[name].annotation)
        nested = [
            m
            for m in ContractModel.__subclasses__()
            if f".{m.__name__}]" in annotation
            or f".{m.__name__} " in annotation
            or annotation.endswith(f".{m.__name__}")
        ]
        if nested and depth < 3:
            inner = _payload(nested[0], depth + 1)
            return st.one_of(inner, st.lists(inner, max_size=2), ODD)
        return ODD

    return st.dictionaries(st.sampled_from([*names, "Extra"]), st.none(), max_size=len(names) + 1).flatmap(
        lambda keys: st.fixed_dictionaries({k: value(k) if k in model.model_fields else ODD for k in keys})
    )


@pytest.mark.parametrize("model", [Product, SkuPriceList, SkuOnhand, Customer, Company])
def test_any_payload_gives_the_model_outcome(model: type[ContractModel]) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_payload(model))
    def check(payload: dict[str, Any]) -> None:
        _same_as_model(model, payload)

    check()


def test_a_wire_item_compares_by_contract_and_data() -> None:
    a = wire_validator(SkuOnhand)({"PartNo": "A", "WarehouseCode": "W", "LocationCode": "L"})
    assert a == WireItem(SkuOnhand, {"PartNo": "A", "WarehouseCode": "W", "LocationCode": "L"})
    assert a != WireItem(SkuPriceList, a.data)
    assert "SkuOnhand" in repr(a)
