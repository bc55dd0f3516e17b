"""Events configuration, the look-up cache and the committed OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from norcekit.events.cache import MISSING, TtlCache
from norcekit.events.config import EventsConfig, load_events_config, parse_events_config
from norcekit.events.lookups import DEFAULT_ENTITIES, EntitySpec, Lookups, entity_specs, key_for
from norcekit.events.openapi import render
from norcekit.norce.events import EVENT_MODELS
from norcekit.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]


def test_config_parses_targets_routes_lookups_and_defaults() -> None:
    cfg = parse_events_config(
        {
            "routes": {"*": ["archive"], "SkuChangedNotification": ["shop"]},
            "targets": {
                "shop": {"type": "http", "url": "https://shop.example.test/hook"},
                "archive": {"type": "s3", "bucket": "b"},
            },
            "lookups": {
                "sku": {"select": ["PartNo", "Name"]},
                "supplier_sku": {"entity_set": "Products/Other"},
            },
            "cache_ttl_s": {"Orders": 0},
        }
    )
    assert cfg.targets_for({"SkuChangedNotification"}) == ["shop", "archive"]
    assert cfg.targets_for({"CustomerChangedNotification"}) == ["archive"]
    assert cfg.ttl_for("Orders") == 0 and cfg.ttl_for("Products") == 60 and cfg.ttl_for("Core") == 3600
    specs = entity_specs(cfg)
    assert specs["sku"].select == ("PartNo", "Name")
    assert specs["sku"].expand == "PriceLists"  # kept from the default
    assert specs["supplier_sku"].entity_set == "Products/Other"


def test_config_errors_name_the_field() -> None:
    with pytest.raises(SettingsError, match=r"routes.SkuChangedNotification: .*unknown target"):
        parse_events_config({"routes": {"SkuChangedNotification": ["nope"]}})
    with pytest.raises(SettingsError, match=r"events.targets.shop.http.url"):
        parse_events_config({"targets": {"shop": {"type": "http", "url": "not a url"}}})


def test_config_is_read_from_the_integration_config_file(tmp_path: Path) -> None:
    path = tmp_path / "norcekit.yaml"
    path.write_text("imports: {}\nevents:\n  targets:\n    a: {type: s3, bucket: b}\n  routes: {'*': [a]}\n")
    cfg = load_events_config(load_settings(norcekit_config=str(path)))
    assert cfg.targets_for(set()) == ["a"]
    assert load_events_config(load_settings()) == EventsConfig()


def test_cache_expires_per_namespace() -> None:
    now = [0.0]
    cache = TtlCache({"Products": 60, "Orders": 0}, clock=lambda: now[0])
    cache.put("Products/ProductSkus", "A", {"PartNo": "A"})
    cache.put("Orders/Orders", 1, {"Id": 1})
    assert cache.get("Products/ProductSkus", "A") == {"PartNo": "A"}
    assert cache.get("Orders/Orders", 1) is MISSING  # TTL 0: never cached
    now[0] = 61
    assert cache.get("Products/ProductSkus", "A") is MISSING


class CountingQuery:
    def __init__(self) -> None:
        self.calls = 0

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        self.calls += 1
        return {v: {key_field: v, "n": self.calls} for v in values}


def test_event_keys_are_always_read_fresh_related_lookups_use_the_cache() -> None:
    query = CountingQuery()
    lookups = Lookups(query, TtlCache({"Products": 60, "Application": 3600}), DEFAULT_ENTITIES)  # type: ignore[arg-type]
    key = key_for(DEFAULT_ENTITIES["sku"], {"PartNo": "A"})
    first = lookups.current([key])[key]
    second = lookups.current([key])[key]
    assert (first, second) == (
        {"PartNo": "A", "n": 1},
        {"PartNo": "A", "n": 2},
    )  # no cache for the hint's key

    a = lookups.related("Application/ClientPriceLists", 3)
    b = lookups.related("Application/ClientPriceLists", 3)
    assert a == b and query.calls == 3


def test_every_documented_event_entity_has_a_spec() -> None:
    for model in EVENT_MODELS.values():
        assert isinstance(DEFAULT_ENTITIES.get(model.entity), EntitySpec), model.event_type


def test_committed_openapi_document_is_current() -> None:
    committed = (ROOT / "docs" / "openapi" / "webhook.json").read_text()
    assert committed == render(), "regenerate: python -m norcekit.events.openapi > docs/openapi/webhook.json"


def test_openapi_documents_every_status_and_the_secret_header() -> None:
    document = json.loads(render())
    operation = document["paths"]["/events/{EventType}"]["post"]
    # The receiver contract: 401 unauthenticated, 2xx once stored (queued or quarantined), 5xx
    # only when nothing could store it. No 4xx for an authentic payload: Norce would retry it.
    assert sorted(operation["responses"]) == ["200", "202", "401", "503"]
    assert "quarantine" in operation["responses"]["202"]["description"]
    assert "Neither the queue nor the quarantine" in operation["responses"]["503"]["description"]
    assert "2xx once the payload is stored" in document["info"]["description"]
    assert document["components"]["securitySchemes"]["norceWebhookSecret"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Norce-Webhook-Secret",
    }
    assert operation["security"] == [{"norceWebhookSecret": []}]


def test_config_substitutes_environment_variables(tmp_path: Path) -> None:
    path = tmp_path / "norcekit.yaml"
    path.write_text(
        "sources: {erp: {root: '${ONLY_IMPORTS_NEED_THIS}'}}\n"
        "events:\n  targets:\n"
        "    shop: {type: http, url: '${SINK}/docs', auth_header: '${HDR:-Authorization}'}\n"
    )
    cfg = load_events_config(load_settings(norcekit_config=str(path)), environ={"SINK": "http://127.0.0.1:9"})
    assert str(cfg.targets["shop"].url) == "http://127.0.0.1:9/docs"  # type: ignore[union-attr]
    with pytest.raises(SettingsError, match="SINK"):
        load_events_config(load_settings(norcekit_config=str(path)), environ={})
