"""A plug-in package (its own source, mapping and target, registered by entry points) is installed
into a temporary path — a package folder and its ``.dist-info`` with ``entry_points.txt``, as pip
lays it out — and an import and an event delivery run through it without editing norcekit."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tests.fixtures.sqs_records import sqs_record
from tests.unit.imports.run.run_fakes import World

from norcekit.configfile import ConfigError
from norcekit.deadline import Deadline
from norcekit.events.config import parse_events_config
from norcekit.imports.config import load_config
from norcekit.settings import SettingsError
from norcekit.state.runs import RunOutcome
from norcekit.wiring.events import build_event_processor

PLUGIN_MODULE = '''
"""acme-norcekit: an inline source, a price mapping and a list target (a tiny plug-in package)."""
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from norcekit.events.targets.base import DeliveryResult
from norcekit.imports.mappings import Row, validate
from norcekit.imports.records import SourceRecord
from norcekit.imports.sources.base import SourceCapabilities
from norcekit.norce.contracts import SkuPriceList


class InlineOptions(BaseModel):
    entities: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]
    key_field: str


class InlineSource:
    capabilities = SourceCapabilities(delta_supported=False)

    def __init__(self, name: str, options: InlineOptions) -> None:
        self.name, self.options = name, options

    def entities(self) -> frozenset[str]:
        return frozenset(self.options.entities)

    def iter_all(self, entity: str):
        for row in self.options.rows:
            key = str(row[self.options.key_field])
            yield SourceRecord(key=key, data=row, origin=f"inline:{key}")

    def iter_changed(self, entity, since, until):
        raise NotImplementedError

    def now(self, entity=None):
        return datetime.now(UTC)

    def close(self) -> None:
        pass


class SourcePlugin:
    options_model = InlineOptions

    def build(self, name: str, options: InlineOptions, context: Any) -> InlineSource:
        return InlineSource(name, options)


def sku_price(data: dict[str, Any]) -> SkuPriceList:
    row = Row(data)
    return validate(SkuPriceList, {
        "PartNo": "ACME-" + row.required_text("sku"),
        "PriceListCode": "SEK",
        "QuantityBreak": 1,
        "PriceSale": row.decimal("amount", required=True),
    })


class ListOptions(BaseModel):
    label: str


DELIVERED: list[tuple[str, str, Any]] = []


class ListTarget:
    def __init__(self, name: str, options: ListOptions) -> None:
        self.name, self.options = name, options

    def deliver(self, docs, *, deadline=None):
        DELIVERED.extend((self.options.label, d.key, d.data) for d in docs)
        return [DeliveryResult.success("listed") for _ in docs]


class TargetPlugin:
    options_model = ListOptions

    def build(self, name: str, options: ListOptions, aws: Any) -> ListTarget:
        return ListTarget(name, options)


source = SourcePlugin()
MAPPINGS = {"sku_prices": sku_price}
target = TargetPlugin()
'''

ENTRY_POINTS = """
[norcekit.sources]
acme_inline = acme_norcekit.plugin:source

[norcekit.mappings]
acme = acme_norcekit.plugin:MAPPINGS

[norcekit.targets]
acme_list = acme_norcekit.plugin:target
"""


PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-norcekit"
version = "0.1.0"

[tool.setuptools]
packages = ["acme_norcekit"]
"""


def write_package(root: Path) -> None:
    package = root / "acme_norcekit"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))


def lay_out(site: Path) -> None:
    """The package and its ``.dist-info`` as ``pip install`` leaves them (no build needed)."""
    write_package(site)
    dist = site / "acme_norcekit-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-norcekit\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)


def pip_install(site: Path, source: Path) -> None:
    """A real ``pip install`` of a pyproject with ``[project.entry-points]`` (offline, no deps)."""
    write_package(source)
    entry_points = "".join(
        f'[project.entry-points."{group}"]\n{name} = "{value}"\n'
        for group, name, value in (
            ("norcekit.sources", "acme_inline", "acme_norcekit.plugin:source"),
            ("norcekit.mappings", "acme", "acme_norcekit.plugin:MAPPINGS"),
            ("norcekit.targets", "acme_list", "acme_norcekit.plugin:target"),
        )
    )
    (source / "pyproject.toml").write_text(PYPROJECT + entry_points)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*pip, "--target", str(site), str(source)], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def pip_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Installed once per module: pip builds the wheel with setuptools, which takes seconds."""
    root = tmp_path_factory.mktemp("pip-plugin")
    pip_install(root / "site", root / "src")
    return root / "site"


@pytest.fixture
def plugin(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``acme-norcekit`` installed into a folder on sys.path (laid out, or with ``pip install``)."""
    if getattr(request, "param", "laid out") == "pip install":
        site = request.getfixturevalue("pip_site")
    else:
        site = tmp_path / "site"
        lay_out(site)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield importlib.import_module("acme_norcekit.plugin")
    for name in [m for m in sys.modules if m.startswith("acme_norcekit")]:
        del sys.modules[name]


INSTALLS = pytest.mark.parametrize("plugin", ["laid out", "pip install"], indirect=True)


def integration(source_type: str = "acme_inline", **source: Any) -> dict[str, Any]:
    return {
        "sources": {
            "pim": {
                "type": source_type,
                "entities": {"sku_prices": {}},
                "rows": [{"sku": "100", "amount": "12.50"}, {"sku": "200", "amount": "8"}],
                "key_field": "sku",
                **source,
            }
        },
        "entities": {"sku_prices": {"source": "pim", "mapping": "acme"}},
    }


@INSTALLS
def test_an_import_runs_through_the_plugin_source_and_mapping(plugin: Any) -> None:
    world = World()
    config = load_config(integration(), environ={})
    runner = world.runner(config, source_factory=None)  # build_source finds the plug-in source

    result = runner.run("sku_prices", "full", deadline=Deadline.after(600))

    assert result.outcome is RunOutcome.SUBMITTED, result.message
    [request] = world.connect.requests
    assert request.header.FullFile is True
    assert sorted((i.PartNo, float(i.PriceSale)) for i in request.items) == [  # type: ignore[attr-defined]
        ("ACME-100", 12.5),
        ("ACME-200", 8.0),
    ]


class OneSku:
    """Norce Query with one SKU."""

    def get_many(self, entity_set: str, key_field: str, values: Any, **kwargs: Any) -> dict[Any, Any]:
        return {v: {"PartNo": v, "Name": "Acme bike"} for v in values if v == "P1"}


@INSTALLS
def test_an_event_is_delivered_through_the_plugin_target(plugin: Any) -> None:
    events = parse_events_config(
        {"routes": {"*": ["erp"]}, "targets": {"erp": {"type": "acme_list", "label": "to-erp"}}}
    )
    processor = build_event_processor(
        events,
        clients=SimpleNamespace(query=OneSku(), jobs=None),  # type: ignore[arg-type]
        aws=None,  # type: ignore[arg-type]
        tracker=None,
    )
    event = {
        "Records": [
            sqs_record(
                "m-1",
                "SkuChangedNotification",
                {"ClientId": 1, "PartNo": "P1", "EntityChanged": "tClientProductSku"},
            )
        ]
    }

    assert processor.handle(event) == {"batchItemFailures": []}
    assert plugin.DELIVERED == [("to-erp", "P1", {"PartNo": "P1", "Name": "Acme bike"})]


def test_an_unknown_source_type_names_the_builtins_and_the_installed_plugins(plugin: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(integration("acme_inlne"), environ={})
    message = str(caught.value)
    assert "sources.pim: unknown source type 'acme_inlne'" in message
    assert "built-in: business_central, filedrop, rest; plug-ins: acme_inline" in message


def test_a_plugin_validates_its_own_options(plugin: Any) -> None:
    config = integration()
    del config["sources"]["pim"]["key_field"]
    with pytest.raises(
        ConfigError, match=r"sources\.pim: source plug-in 'acme_inline': key_field: Field required"
    ):
        load_config(config, environ={})


def test_unknown_target_and_mapping_names_list_what_is_installed(plugin: Any) -> None:
    with pytest.raises(
        SettingsError,
        match=r"unknown target type 'acme_lst' \(built-in: eventbridge, http, s3; "
        r"plug-ins: acme_list\)",
    ):
        parse_events_config({"targets": {"erp": {"type": "acme_lst", "label": "x"}}})
    broken = integration()
    broken["entities"]["sku_prices"]["mapping"] = "acmee"
    with pytest.raises(
        ConfigError, match=r"entities.sku_prices.mapping: unknown mapping 'acmee' .*plug-ins: acme\)"
    ):
        load_config(broken, environ={})


def test_without_the_package_the_plugin_type_is_unknown() -> None:
    with pytest.raises(ConfigError, match="unknown source type 'acme_inline'"):
        load_config(integration(), environ={})
