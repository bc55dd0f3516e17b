"""Product/ImportRelations end to end: the typed client, the strict emulator, FullFile per scope."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.fixtures.emulator import product
from tests.fixtures.norce_settings import emulator_settings
from tests.integration.norce.test_clients_emulator import wait_for

from norce_emulator import Emulator
from norcekit.imports.mappings.sample import relations
from norcekit.norce.contracts import Product, ProductHeader, Relation, RelationHeader
from norcekit.norce.contracts.enums import RelationCultureField, RelationField
from norcekit.norce.errors import NorceError
from norcekit.norce.factory import NorceClients
from norcekit.norce.jobs import JobStatus
from norcekit.wiring import build_norce_clients

pytestmark = pytest.mark.integration

FIELDS = {
    "RelationFieldsThatAreSet": [RelationField.IsActive, RelationField.SortOrder, RelationField.Cultures],
    "RelationCultureFieldsThatAreSet": [RelationCultureField.Name],
}


@pytest.fixture
def clients(emulator: Emulator) -> Iterator[NorceClients]:
    with build_norce_clients(emulator_settings(emulator, http_max_attempts=3)) as built:
        products = [Product.model_validate(product(f"P{n}", f"SKU-{n}")) for n in range(4)]
        wait_for(
            built.jobs, built.connect.import_products(ProductHeader(AccountId=123), products).job_id or 0
        )
        yield built


def relation(part_no: str, related: str, kind: str = "ACCESSORY", name: str = "Fits") -> Relation:
    return relations(
        {"part_no": part_no, "related_part_no": related, "relation_type": kind, "names": {"sv-SE": name}}
    )


def test_relations_are_imported_with_their_header_and_fullfile_deactivates_missing_ones_in_scope(
    emulator: Emulator, clients: NorceClients
) -> None:
    first = clients.connect.import_relations(
        RelationHeader(AccountId=555, **FIELDS),
        [relation("SKU-0", "SKU-1"), relation("SKU-0", "SKU-2"), relation("SKU-3", "SKU-1", "SPARE")],
    )
    assert wait_for(clients.jobs, first.job_id or 0).StatusId is JobStatus.SUCCEEDED

    full = clients.connect.import_relations(
        RelationHeader(AccountId=555, FullFile=True, **FIELDS), [relation("SKU-0", "SKU-1", name="Passar")]
    )
    assert wait_for(clients.jobs, full.job_id or 0).StatusId is JobStatus.SUCCEEDED

    rows = {
        (r["PartNo"], r["RelatedPartNo"], r["RelationTypeCode"]): r
        for r in emulator.catalog_rows("relations")
    }
    assert rows[("SKU-0", "SKU-1", "ACCESSORY")]["Cultures"] == [{"CultureCode": "sv-SE", "Name": "Passar"}]
    assert rows[("SKU-0", "SKU-2", "ACCESSORY")]["IsActive"] is False  # in scope, missing: deactivated
    assert rows[("SKU-3", "SKU-1", "SPARE")]["IsActive"] is True  # another PartNo/type: untouched
    [post, *_] = [r for r in emulator.requests("connect") if r["Path"].endswith("Product/ImportRelations")]
    header = json.loads({k.lower(): v for k, v in post["Headers"].items()}["x-stormconnect-header"])
    assert header["AccountId"] == 555 and header["RelationFieldsThatAreSet"] == [1, 11, 12]


def test_a_relation_to_an_unknown_sku_fails_in_the_job_and_a_wrong_body_type_is_refused(
    emulator: Emulator, clients: NorceClients
) -> None:
    result = clients.connect.import_relations(
        RelationHeader(AccountId=1, **FIELDS), [relation("SKU-0", "NOPE")]
    )
    job = wait_for(clients.jobs, result.job_id or 0)
    assert (job.StatusId, job.Fail) == (JobStatus.SUCCEEDED, 1)  # a succeeded job that rejected the row
    errors = [entry.Message for entry in clients.jobs.get_log(job.JobId) if entry.SeverityId == 3]
    assert errors == ["Relation not imported: unknown PartNo 'NOPE'"]
    assert emulator.catalog_rows("relations") == []

    with pytest.raises(NorceError, match="SortOrder"):
        clients.connect.import_items(
            "relations",
            RelationHeader(AccountId=1),
            [{"PartNo": "SKU-0", "RelatedPartNo": "SKU-1", "RelationTypeCode": "A", "SortOrder": "first"}],
        )
