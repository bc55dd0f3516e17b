"""A/B: the sample mappings on the wire path give what the model path gives, row by row.

Every entity of a sample export, plus mutated copies of its rows (a field removed, replaced by an odd
value or joined by an unknown one, at every depth), is mapped twice: with ``wire_item`` (no model
instances, ``orjson``) and with ``fields.validate`` in its place (``Model.model_validate`` and
``dump_item`` of the model, the path every item took before). Both must accept the same rows with the
same bytes and reject the same rows with the same reason and field path.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.unit.imports.mappings.test_mapping_fast_paths import _outcome

from norcekit.imports.mappings import fields, sample
from norcekit.imports.sources.filedrop import FileDropOptions, FileDropSource
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit_local.sample_data.generate import KEY_FIELDS, generate

ODD_VALUES: list[Any] = [
    None,
    "",
    "  ",
    "nan",
    "1e999",
    "-0",
    "12,5",
    [],
    {},
    True,
    0,
    12,
    -1.5,
    "x",
    "ACTIVE",
    "SE",
]
MUTATIONS_PER_ENTITY = 1500


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> FileDropSource:
    root = tmp_path_factory.mktemp("export")
    generate(root, products=40, customers=12, companies=4, supplier_products=6,
             as_of=datetime(2026, 12, 1, 6, tzinfo=UTC))  # fmt: skip
    entities = {entity: {"key_fields": KEY_FIELDS[entity]} for entity in IMPORT_KINDS}
    return FileDropSource("sample", FileDropOptions(root=str(root), entities=entities))  # type: ignore[arg-type]


def _rows(source: FileDropSource, entity: str) -> list[dict[str, Any]]:
    return [record.data for record in source.iter_all(entity) if record.data is not None]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*path, key)
            yield from _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*path, index)
            yield from _paths(inner, (*path, index))


def _mutated(rows: list[dict[str, Any]], rng: random.Random) -> Iterator[dict[str, Any]]:
    for _ in range(MUTATIONS_PER_ENTITY):
        row = copy.deepcopy(rng.choice(rows))
        paths = list(_paths(row))
        if not paths:
            continue
        *parent_path, last = rng.choice(paths)
        parent: Any = row
        for step in parent_path:
            parent = parent[step]
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.25 and isinstance(parent, dict):
            parent["unknown_field"] = rng.choice(ODD_VALUES)
        else:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        yield row


@pytest.mark.parametrize("entity", list(IMPORT_KINDS))
def test_wire_path_maps_every_row_like_the_model_path(
    export: FileDropSource, entity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows(export, entity)
    assert rows, entity
    cases = rows + list(_mutated(rows, random.Random(f"wire-ab-{entity}")))
    wire = [_outcome(entity, data) for data in cases]
    monkeypatch.setattr(sample, "wire_item", fields.validate)  # the model path
    model = [_outcome(entity, data) for data in cases]
    for data, got, want in zip(cases, wire, model, strict=True):
        assert got == want, data
    accepted = sum(not outcome.startswith("ERROR") for outcome in wire)
    assert accepted >= len(rows)  # every clean row, and the harmless mutations
    if len(rows) > 5:  # the mutations reach the contract and the source checks alike
        assert any(o.startswith("ERROR MappingError") for o in wire)
