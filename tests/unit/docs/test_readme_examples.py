"""The README's configuration and mapping examples are what users copy: they must keep working."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from norcekit.events.config import EventsConfig
from norcekit.imports.config import load_config
from norcekit.imports.mappings import MappingError
from norcekit.norce.contracts import SkuOnhand, dump_item
from norcekit.orders.answers import BODY_MODELS, answer_id, parse_answer

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def fenced(language: str, starts_with: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)
    matching = [block for block in blocks if block.lstrip().startswith(starts_with)]
    assert matching, f"README has no ```{language} block starting with {starts_with!r}"
    return matching[0]


def test_readme_configuration_example_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {  # what the template sets for every function
        "FILE_DROP_ROOT": "s3://data/incoming/",
        "EVENT_BUS_NAME": "bus",
        "QUARANTINE_BUCKET": "data",
        "TARGET_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:000000000000:secret:t",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    document = yaml.safe_load(fenced("yaml", "sources:"))

    config = load_config(document)

    assert config.enabled_entities() == ["onhand"]
    header = config.build_header("onhand", account_id=123, full_file=True)
    assert header.model_dump(mode="json", exclude_none=True)["SkuOnhandFieldsThatAreSet"] == [3, 4, 5, 10]
    events = EventsConfig.model_validate(config.events)
    assert set(events.targets) == {"shop", "bus", "archive"}


def test_readme_mapping_example_maps_and_rejects() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(fenced("python", "# my_mappings.py"), "README.md", "exec"), namespace)
    onhand = namespace["onhand"]

    item = onhand({"sku": "TS-100-M", "wh": "MAIN", "qty": "42"})

    assert isinstance(item, SkuOnhand)
    assert dump_item(item) == (
        b'{"PartNo":"TS-100-M","WarehouseCode":"MAIN","LocationCode":"STO","OnhandValue":42.0,"IsActive":true}'
    )
    with pytest.raises(MappingError, match="sku"):
        onhand({"sku": "", "wh": "MAIN", "qty": "1"})


def test_readme_named_imports_example_validates_and_a_shared_field_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FILE_DROP_ROOT", "s3://data/incoming/")
    document = yaml.safe_load(fenced("yaml", "# Named imports"))

    config = load_config(document)

    assert [(name, config.kind_of(name)) for name in config.enabled_entities()] == [
        ("pim_products", "products"),
        ("pim_relations", "relations"),
        ("erp_products", "products"),
        ("erp_incoming", "onhand"),
        ("wms_onhand", "onhand"),
    ]
    document["imports"]["erp_products"]["fields_that_are_set"]["ProductCultureFieldsThatAreSet"] = ["Name"]
    with pytest.raises(ValueError, match="Name is set by both imports 'pim_products' and 'erp_products'"):
        load_config(document)


def test_readme_order_answer_examples_parse_to_their_contracts() -> None:
    block = fenced("json", '{"kind": "status"')
    decoder, answers, at = json.JSONDecoder(), [], 0
    while at < len(block.rstrip()):
        answer, at = decoder.raw_decode(block, at)
        answers.append(answer)
        at = len(block) - len(block[at:].lstrip())
    assert [a["kind"] for a in answers] == list(BODY_MODELS)  # an example of every kind
    ids = [answer_id(a["kind"], parse_answer(a)[1]) for a in answers]
    assert ids[-2:] == ["credit:CR-1", "cancel:100234"]
    for kind in BODY_MODELS:
        assert f"| `{kind}` |" in README  # and a row in the kinds table
