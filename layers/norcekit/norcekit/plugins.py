"""Plug-ins: sources, mappings and targets that other packages register through Python entry points.

A package declares them in its ``pyproject.toml``; norcekit finds them when a configuration names
a ``type`` (sources, targets) or a ``mapping`` that is not built in::

    [project.entry-points."norcekit.sources"]
    acme_pim = "acme_norcekit.source:plugin"      # sources.<name>.type: acme_pim
    [project.entry-points."norcekit.mappings"]
    acme = "acme_norcekit.mappings:BUNDLE"         # entities.<entity>.mapping: acme
    [project.entry-points."norcekit.targets"]
    acme_erp = "acme_norcekit.target:plugin"       # events.targets.<name>.type: acme_erp

A source or target plug-in is an object with ``build(...)`` and, optionally, ``options_model`` (a
pydantic model that validates its configuration section); a mapping plug-in is a
``{entity: function}`` bundle or one function. The README's "Extending" section has a worked example.
Entry points are read only for names that are not built in, so built-in configurations never scan
the installed packages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

PluginGroup = Literal["norcekit.sources", "norcekit.mappings", "norcekit.targets"]


class PluginError(ValueError):
    """A configured name is neither built in nor an installed plug-in, or the plug-in is unusable."""


def installed(group: PluginGroup) -> dict[str, EntryPoint]:
    """The plug-ins of ``group`` installed in this environment, by name."""
    return {ep.name: ep for ep in entry_points(group=group)}


def describe_available(builtins: Iterable[str], group: PluginGroup) -> str:
    """``built-in: a, b; plug-ins: c`` (for error messages)."""
    plugins = sorted(installed(group))
    return f"built-in: {', '.join(sorted(builtins))}; plug-ins: {', '.join(plugins) or 'none installed'}"


def load_plugin(group: PluginGroup, name: str, *, what: str, builtins: Iterable[str]) -> Any:
    """The object the entry point ``name`` of ``group`` names; :class:`PluginError` says what is installed."""
    entry = installed(group).get(name)
    if entry is None:
        raise PluginError(f"unknown {what} {name!r} ({describe_available(builtins, group)})")
    try:
        return entry.load()
    except Exception as exc:  # an import error in someone else's package: name it, do not crash
        raise PluginError(f"{what} plug-in {name!r} ({entry.value}) cannot be loaded: {exc}") from exc


def plugin_options(plugin: Any, section: Mapping[str, Any], *, what: str, name: str) -> Any:
    """The plug-in's configuration section, validated by its ``options_model`` when it has one
    (``type`` removed); otherwise the section as a dict."""
    values = {key: value for key, value in section.items() if key != "type"}
    model = getattr(plugin, "options_model", None)
    if model is None:
        return values
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PluginError(f"{what} plug-in {name!r}: options_model is not a pydantic model")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'options'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise PluginError(f"{what} plug-in {name!r}: {problems}") from None


class PluginSection(BaseModel):
    """A configuration section whose ``type`` names a plug-in of :attr:`group`; the plug-in is
    loaded and its options validated when the section is (so errors carry the section's path)."""

    model_config = ConfigDict(extra="allow")

    group: ClassVar[PluginGroup]
    what: ClassVar[str]
    builtins: ClassVar[tuple[str, ...]]
    #: Fields norcekit itself reads, not passed to the plug-in.
    not_options: ClassVar[frozenset[str]] = frozenset()

    type: str = Field(min_length=1)
    _plugin: Any = PrivateAttr(default=None)
    _options: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _installed(self) -> PluginSection:
        self._plugin = load_plugin(self.group, self.type, what=f"{self.what} type", builtins=self.builtins)
        section = self.model_dump(exclude=set(self.not_options))
        self._options = plugin_options(self._plugin, section, what=self.what, name=self.type)
        return self

    @property
    def plugin(self) -> Any:
        """The object the entry point names (``build(...)``, optional ``options_model``)."""
        return self._plugin

    @property
    def options(self) -> Any:
        """The section as the plug-in's ``options_model`` validated it (a dict without one)."""
        return self._options


def plugin_tag(builtins: Iterable[str]) -> Any:
    """A pydantic ``Discriminator`` function: the section's ``type`` if built in, else ``"plugin"``."""
    known = frozenset(builtins)

    def tag(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kind if kind in known else "plugin"

    return tag


__all__ = [
    "PluginError",
    "PluginGroup",
    "PluginSection",
    "describe_available",
    "installed",
    "load_plugin",
    "plugin_options",
    "plugin_tag",
]
