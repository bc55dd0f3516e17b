"""The mappings' fast paths change nothing a user sees: same wire bytes, same quarantine reasons.

``mapping_golden/<entity>.jsonl`` holds sample-export rows (clean ones, then rows with fields
removed or replaced by odd values: empty, whitespace, ``nan``, ``1e999``, lists, booleans, unknown
codes, at the top level and deep inside variants/SKUs/VAT rates). ``<entity>.expected`` holds, per
row, ``dump_item`` of the mapped item or ``ERROR <type>: <message>``, as produced by the mapping
code *before* the fast paths (``Row`` accessors without fast paths, every payload pruned by
``build``). Regenerate them only for an intended change of the wire form or of an error message.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from norcekit.imports.mappings import MappingError, Row, build, load_mapping
from norcekit.imports.mappings.fields import validate
from norcekit.norce.contracts import Product, dump_item
from norcekit.norce.contracts import enums as en

GOLDEN = Path(__file__).parent / "mapping_golden"


def _outcome(entity: str, data: dict[str, Any]) -> str:
    try:
        item = load_mapping("sample", entity=entity)(data)
    except Exception as exc:
        return f"ERROR {type(exc).__name__}: {exc}"
    assert item is not None
    return dump_item(item).decode()


@pytest.mark.parametrize("entity", ["products", "sku_prices", "onhand"])
def test_sample_export_maps_to_the_same_bytes_and_errors_as_before(entity: str) -> None:
    rows = [orjson.loads(line) for line in (GOLDEN / f"{entity}.jsonl").read_bytes().splitlines()]
    expected = (GOLDEN / f"{entity}.expected").read_text().splitlines()
    assert len(rows) == len(expected) > 50
    assert any(e.startswith("ERROR") for e in expected) and any(e.startswith("{") for e in expected)
    for line_no, (data, want) in enumerate(zip(rows, expected, strict=True), start=1):
        assert _outcome(entity, data) == want, f"{entity}.jsonl line {line_no} maps differently"


def _general_decimal(value: Any) -> float | str | None:
    """The accessor's general (pre-fast-path) rules: Decimal parsing; errors as their text."""
    row = Row({"x": value})
    try:
        return row._decimal("x", value, required=False)
    except MappingError as exc:
        return str(exc)


def _fast_decimal(value: Any) -> float | str | None:
    try:
        return Row({"x": value}).decimal("x")
    except MappingError as exc:
        return str(exc)


def _same(a: float | str | None, b: float | str | None) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)  # -0.0 stays -0.0
    return a == b


NUMBER_TEXT = st.one_of(
    st.text(alphabet="0123456789 .,-+eE_nainfINF\t", max_size=14),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(lambda n: f" {n} "),
)


@given(NUMBER_TEXT)
def test_decimal_fast_path_reads_text_exactly_like_decimal_parsing(text: str) -> None:
    assert _same(_fast_decimal(text), _general_decimal(text))


@given(st.one_of(st.floats(), st.integers(), st.booleans(), st.none()))
def test_decimal_fast_path_reads_json_numbers_exactly_like_decimal_parsing(value: Any) -> None:
    assert _same(_fast_decimal(value), _general_decimal(value))


def test_decimal_rejects_non_finite_and_non_numbers_naming_the_field() -> None:
    assert _fast_decimal("nan") == "x: 'nan' is not a finite number"
    assert _fast_decimal(" inf ") == "x: ' inf ' is not a finite number"
    assert _fast_decimal("12,5") == "x: '12,5' is not a number"
    assert _fast_decimal(True) == "x: True is not a number"
    assert _fast_decimal("1 000.5") == 1000.5
    assert _fast_decimal(Decimal("2.5")) == 2.5  # anything else takes the general path


@pytest.mark.parametrize("enum_cls", [en.SkuStatus, en.SalesArea, en.UnitMeasurementType])
def test_enum_name_lookup_matches_coerce_for_every_spelling(enum_cls: type[en.ContractEnum]) -> None:
    for member in enum_cls:
        for spelling in (member.name, member.name.upper(), f" {member.name.lower()} ", str(member.value)):
            assert Row({"f": spelling}).enum("f", enum_cls) is enum_cls.coerce(spelling)
    with pytest.raises(MappingError, match=r"^f: 'nope' is not a "):
        Row({"f": "nope"}).enum("f", enum_cls)


def test_validate_sends_none_as_not_sent_but_keeps_empty_lists_that_build_prunes() -> None:
    payload: dict[str, Any] = {"Code": "P1", "ManufacturerCode": None, "Categories": []}
    assert dump_item(validate(Product, {"Code": "P1", "ManufacturerCode": None})) == b'{"Code":"P1"}'
    assert dump_item(build(Product, payload)) == b'{"Code":"P1"}'
    # Why hot mappings leave empty lists out themselves: [] would go on the wire.
    assert dump_item(validate(Product, payload)) == b'{"Code":"P1","Categories":[]}'


def test_validate_names_the_contract_field_like_build() -> None:
    payload = {"Code": "P1", "Variants": [{"Skus": [{"Status": 1}]}]}
    with pytest.raises(MappingError) as fast:
        validate(Product, payload)
    with pytest.raises(MappingError) as pruned:
        build(Product, payload)
    assert str(fast.value) == str(pruned.value) == "Variants[0].Skus[0].PartNo: Field required"
