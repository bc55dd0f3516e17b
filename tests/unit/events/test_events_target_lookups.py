"""Look-up selections per target (``events.targets.<name>.lookups``) and their check against the
published Query 2.0 schema at configuration time."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fixtures.sqs_records import sqs_record

from norcekit.events.cache import TtlCache
from norcekit.events.config import parse_events_config
from norcekit.events.lookups import Lookups, entity_specs
from norcekit.events.processor import EventProcessor
from norcekit.events.targets.base import DeliveryResult, TargetDocument
from norcekit.settings import SettingsError

SKU_ROW = {"PartNo": "P1", "ProductId": 7, "StatusId": 1, "EanCode": "735", "PriceLists": [{"PriceSale": 9}]}


class SelectingQuery:
    """Answers as Query does: only the selected properties (plus expanded navigations)."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables
        self.calls: list[tuple[str, tuple[str, ...] | None, str | None]] = []

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        select, expand = kwargs.get("select"), kwargs.get("expand")
        self.calls.append((entity_set, tuple(select) if select else None, expand))
        wanted = {str(v) for v in values}
        found = {}
        for row in self.tables.get(entity_set, []):
            if str(row[key_field]) in wanted:
                keep = set(select or row) | set((expand or "").split(",")) - {""}
                navs = {n for n in row if isinstance(row[n], list)}
                found[row[key_field]] = {
                    k: v for k, v in row.items() if k in keep and (k not in navs or k in (expand or ""))
                }
        return found


class Target:
    def __init__(self) -> None:
        self.docs: list[TargetDocument] = []

    def deliver(self, docs: Any, *, deadline: Any = None) -> list[DeliveryResult]:
        self.docs += docs
        return [DeliveryResult.success()] * len(docs)


def processor(events: dict[str, Any], query: SelectingQuery) -> tuple[EventProcessor, dict[str, Target]]:
    config = parse_events_config(events)
    targets = {name: Target() for name in config.targets}
    lookups = Lookups(query, TtlCache({}), entity_specs(config))  # type: ignore[arg-type]
    return EventProcessor(config, lookups=lookups, targets=targets), targets  # type: ignore[arg-type]


def sku_changed(message_id: str, part_no: str) -> dict[str, Any]:
    body = {"ClientId": 1, "PartNo": part_no, "EntityChanged": "tClientProductSku"}
    return sqs_record(message_id, "SkuChangedNotification", body)


def test_each_target_gets_the_sku_as_its_own_selection_reads_it() -> None:
    query = SelectingQuery({"Products/ProductSkus": [SKU_ROW]})
    proc, targets = processor(
        {
            "routes": {"*": ["shop", "archive", "bus"]},
            "targets": {
                "shop": {"type": "s3", "bucket": "b", "lookups": {"sku": {"select": ["PartNo", "EanCode"]}}},
                "archive": {"type": "s3", "bucket": "b"},
                "bus": {"type": "s3", "bucket": "b", "lookups": {"sku": {"expand": ""}}},
            },
        },
        query,
    )

    assert proc.handle({"Records": [sku_changed("m1", "P1"), sku_changed("m2", "P1")]}) == {
        "batchItemFailures": []
    }

    # Three selections, three reads; the section default is $expand=PriceLists.
    assert sorted(query.calls, key=str) == sorted(
        [
            ("Products/ProductSkus", ("PartNo", "EanCode"), "PriceLists"),
            ("Products/ProductSkus", None, "PriceLists"),
            ("Products/ProductSkus", None, None),
        ],
        key=str,
    )
    [shop], [archive], [bus] = (targets[n].docs for n in ("shop", "archive", "bus"))
    assert set(shop.data or {}) == {"PartNo", "EanCode", "PriceLists"}
    assert archive.data == SKU_ROW
    assert "PriceLists" not in (bus.data or {}) and (bus.data or {})["StatusId"] == 1
    assert shop.event_types == archive.event_types == ["SkuChangedNotification"]


def test_targets_sharing_a_selection_share_one_read() -> None:
    query = SelectingQuery({"Products/ProductSkus": [SKU_ROW]})
    same = {"sku": {"select": ["PartNo", "StatusId"]}}
    proc, targets = processor(
        {
            "routes": {"*": ["a", "b"]},
            "lookups": same,
            "targets": {
                "a": {"type": "s3", "bucket": "x"},
                "b": {"type": "s3", "bucket": "y", "lookups": same},
            },
        },
        query,
    )

    proc.handle({"Records": [sku_changed("m1", "P1")]})

    assert query.calls == [("Products/ProductSkus", ("PartNo", "StatusId"), "PriceLists")]
    assert targets["a"].docs[0].data == targets["b"].docs[0].data


def test_a_configured_company_set_is_looked_up_and_the_default_delivers_the_payload() -> None:
    company = {"ClientId": 1, "CompanyId": 77, "EntityChanged": "tClientCompany"}
    record = sqs_record("m1", "CompanyChangedNotification", company)
    query = SelectingQuery({"Customers/Companies": [{"Id": 77, "CompanyCode": "CO77"}]})
    targets_cfg = {"t": {"type": "s3", "bucket": "b"}}

    default, default_targets = processor({"routes": {"*": ["t"]}, "targets": targets_cfg}, query)
    default.handle({"Records": [record]})
    assert query.calls == [] and (default_targets["t"].docs[0].data or {})["CompanyId"] == 77

    named, named_targets = processor(
        {
            "routes": {"*": ["t"]},
            "targets": targets_cfg,
            "lookups": {"company": {"entity_set": "Customers/Companies"}},
        },
        query,
    )
    named.handle({"Records": [record]})
    assert named_targets["t"].docs[0].data == {"Id": 77, "CompanyCode": "CO77"}


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            {
                "targets": {
                    "shop": {"type": "s3", "bucket": "b", "lookups": {"sku": {"select": ["ProductCode"]}}}
                }
            },
            r"targets\.shop\.lookups\.sku: Products/ProductSkus has no property 'ProductCode'; use ProductId",
        ),
        (
            {"lookups": {"order": {"entity_set": "Orders/OrderItems"}}},
            r"lookups\.order: entity set 'Orders/OrderItems' is not served by Norce; use Orders/Orders",
        ),
        (
            {"lookups": {"order": {"select": ["Id", "ClientOrderRef"]}}},
            r"Orders/Orders has no property 'ClientOrderRef'; use QuotationId",
        ),
        (
            {"lookups": {"sku": {"entity_set": "Product/ProductSkus"}}},
            r"lookups\.sku: entity set 'Product/ProductSkus': expected Namespace/EntitySet",
        ),
        (
            {"lookups": {"sku": {"entity_set": "Products/Products", "expand": "Skus,OnHands"}}},
            r"Products/Products has no navigation 'OnHands' \(published: Accessories, ",
        ),
        (
            {"targets": {"t": {"type": "s3", "bucket": "b", "lookups": {"company": {"select": ["Id"]}}}}},
            r"targets\.t\.lookups\.company: company is not looked up section-wide; set lookups\.company",
        ),
        ({"lookups": {"skus": {"select": ["PartNo"]}}}, r"lookups\.skus: unknown entity \(one of company, "),
    ],
)
def test_names_the_published_schema_refuses_fail_validation_naming_the_place(
    events: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_events_config(events)


def test_names_the_schema_does_not_list_are_left_to_the_tenant() -> None:
    config = parse_events_config(
        {
            "lookups": {"company": {"entity_set": "Customers/Companies", "select": ["Id", "CompanyCode"]}},
            "targets": {
                "t": {"type": "s3", "bucket": "b", "lookups": {"sku": {"expand": "PriceLists,OnHands"}}}
            },
        }
    )
    assert entity_specs(config, "t")["sku"].expand == "PriceLists,OnHands"
    assert entity_specs(config)["sku"].expand == "PriceLists"
    assert entity_specs(config)["company"].entity_set == "Customers/Companies"


def test_the_deployment_example_routes_and_selects_per_target() -> None:
    from tests.unit.imports.test_import_config import EXAMPLE, EXAMPLE_ENV  # noqa: PLC0415 - its env

    from norcekit.configfile import read_config_document, substitute_env  # noqa: PLC0415

    section = substitute_env(read_config_document(str(EXAMPLE))["events"], EXAMPLE_ENV, "events")
    config = parse_events_config(section)
    assert config.targets_for({"SkuChangedNotification"}) == ["shop", "bus", "archive"]
    assert entity_specs(config, "shop")["sku"].select == ("PartNo", "ProductId", "StatusId", "EanCode")
    assert entity_specs(config, "archive")["sku"].select is None
