"""The relations kind: the sample PIM export maps to Relation items sent as one FullFile job."""

from __future__ import annotations

from pathlib import Path

from tests.unit.imports.run.run_fakes import World

from norcekit.deadline import Deadline
from norcekit.imports.config import build_source, load_config
from norcekit.norce.contracts import Relation, RelationHeader
from norcekit.norce.contracts.enums import RelationField
from norcekit.state.runs import RunOutcome
from norcekit_local.sample_data.generate import generate

KEYS = ["part_no", "related_part_no", "relation_type"]


def test_a_full_relations_import_of_the_sample_export_sends_every_relation_under_its_account(
    tmp_path: Path,
) -> None:
    export = generate(tmp_path, products=12, customers=1, companies=1)
    config = load_config(
        {
            "sources": {
                "pim": {
                    "type": "filedrop",
                    "root": str(tmp_path),
                    "entities": {"relations": {"key_fields": KEYS}},
                }
            },
            "imports": {
                "pim_relations": {
                    "kind": "relations",
                    "source": "pim",
                    "mapping": "sample",
                    "account_id": 101,
                    "fields_that_are_set": {
                        "RelationFieldsThatAreSet": ["IsActive", "SortOrder", "Cultures"]
                    },
                    "delta": {"enabled": False},
                }
            },
        },
        environ={},
    )
    world = World()
    runner = world.runner(config)
    runner.source_factory = lambda name: build_source(config, name)  # the generated export on disk

    result = runner.run("pim_relations", "full", deadline=Deadline.after(60))

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    assert export.counts.relations == 11 == result.counts.submitted
    [request] = world.connect.requests
    assert request.kind == "relations"
    assert isinstance(request.header, RelationHeader)
    assert (request.header.AccountId, request.header.FullFile) == (101, True)
    assert request.header.RelationFieldsThatAreSet == [
        RelationField.IsActive,
        RelationField.Cultures,
        RelationField.SortOrder,
    ]
    first = request.items[0]
    assert isinstance(first, Relation) and first.RelationTypeCode == "ACCESSORY"
    assert {c.CultureCode for c in first.Cultures or []} == {"sv-SE", "en-GB"}
