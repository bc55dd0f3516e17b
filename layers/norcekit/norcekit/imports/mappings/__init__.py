"""Mappings turn one source row (``SourceRecord.data``) into one Connect contract model.

A mapping is a plain function ``(data: dict) -> ContractModel | None``. Returning ``None`` skips the
row on purpose (counted, not quarantined); raising :class:`MappingError` rejects it with the field at
fault, and the runner quarantines the record with its key and origin.

Built-in mappings are named in configuration by their bundle name; the entity picks the function:

- ``sample``: the bundled sample ERP export (``norcekit_local.sample_data``), all 7 entities.
- ``business_central``: Business Central API v2.0 ``items`` → products, ``customers`` → customers.

A ``norcekit.mappings`` plug-in (an installed package's entry point, :mod:`norcekit.plugins`) is
named by its entry-point name: a ``{entity: function}`` bundle or one function for every entity.

Your own mapping is any importable callable, named ``package.module:function``. Example, a module
``acme_mappings.py`` on the Lambda's path (put it in the layer or the function's code)::

    from norcekit.imports.mappings import MappingError, Row
    from norcekit.norce.contracts import SkuOnhand

    def onhand(data: dict) -> SkuOnhand:
        row = Row(data)
        return SkuOnhand(
            PartNo=row.text("ITEMNO", required=True),
            WarehouseCode=row.text("WHS", default="MAIN"),
            LocationCode="STO",
            OnhandValue=row.decimal("QTY", required=True),
        )

and in the integration configuration::

    entities:
      onhand:
        source: erp_files
        mapping: acme_mappings:onhand
        mapping_options: {}          # keyword arguments passed to the function, if any

``build(Model, payload)`` validates a payload dict (dropping ``None`` values and empty lists first);
``validate(Model, payload)`` skips that pruning walk for high-volume mappings whose payloads already
leave empty lists out (an empty list would be sent as ``[]``). ``wire_item(Model, payload)`` makes the
same checks with the same errors without building a model instance, and the item streams with
``orjson`` (several times less CPU per item; leave ``None`` values out too, see
:mod:`norcekit.norce.contracts.wire`).

:func:`load_mapping` resolves either form and fails with a :class:`MappingLoadError` that says what
is wrong (module not found, no such attribute, not callable).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from norcekit.imports.mappings.fields import MappingError, Row, build, validate, wire_item
from norcekit.norce.contracts.wire import ContractItem
from norcekit.plugins import PluginError, load_plugin

#: A mapping function: one source row in, one contract item (a model, or a :func:`wire_item`; ``None``
#: to skip) out.
MappingFunc = Callable[[dict[str, Any]], ContractItem | None]

#: Built-in bundles: bundle name → entity → ``module:function``.
BUILTIN_MAPPINGS: dict[str, dict[str, str]] = {
    "sample": {
        entity: f"norcekit.imports.mappings.sample:{entity}"
        for entity in (
            "products",
            "sku_prices",
            "price_lists",
            "onhand",
            "customers",
            "companies",
            "supplier_products",
            "relations",
        )
    },
    "business_central": {
        "products": "norcekit.imports.mappings.business_central:products",
        "customers": "norcekit.imports.mappings.business_central:customers",
    },
}


class MappingLoadError(ValueError):
    """A configured mapping cannot be used (unknown built-in, import failure, not callable)."""


def load_mapping(
    spec: str, *, entity: str | None = None, options: Mapping[str, Any] | None = None
) -> MappingFunc:
    """Resolve ``spec`` (a built-in bundle name, or ``package.module:function``) to a callable.

    ``entity`` picks the function of a built-in bundle. ``options`` are bound as keyword
    arguments (``functools.partial``), e.g. ``{"culture": "sv-SE"}`` for the Business Central mapping.
    """
    spec = spec.strip()
    if ":" not in spec and spec not in BUILTIN_MAPPINGS:
        return _bind(_plugin_mapping(spec, entity), options)
    if ":" not in spec:
        bundle = BUILTIN_MAPPINGS[spec]
        if entity is None or entity not in bundle:
            raise MappingLoadError(
                f"built-in mapping {spec!r} has no {entity!r} mapping (it has: {', '.join(sorted(bundle))})"
            )
        spec = bundle[entity]
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise MappingLoadError(f"mapping {spec!r}: expected 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MappingLoadError(f"mapping {spec!r}: cannot import module {module_name!r} ({exc})") from exc
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise MappingLoadError(
                f"mapping {spec!r}: module {module_name!r} has no attribute {attribute!r}"
            ) from None
    if not callable(target):
        raise MappingLoadError(
            f"mapping {spec!r}: {attribute!r} is a {type(target).__name__}, not a function"
        )
    return _bind(target, options)


def _bind(target: Any, options: Mapping[str, Any] | None) -> MappingFunc:
    if options:
        return functools.partial(target, **dict(options))
    func: MappingFunc = target
    return func


def _plugin_mapping(name: str, entity: str | None) -> Any:
    """A ``norcekit.mappings`` plug-in: a ``{entity: function}`` bundle, or one function for any entity."""
    try:
        found = load_plugin(
            "norcekit.mappings",
            name,
            what="mapping",
            builtins=[*BUILTIN_MAPPINGS, "'package.module:function'"],
        )
    except PluginError as exc:
        raise MappingLoadError(str(exc)) from None
    if isinstance(found, Mapping):
        if entity is None or entity not in found:
            raise MappingLoadError(
                f"mapping plug-in {name!r} has no {entity!r} mapping (it has: {', '.join(sorted(found))})"
            )
        found = found[entity]
    if not callable(found):
        raise MappingLoadError(f"mapping plug-in {name!r}: {type(found).__name__} is not a function")
    return found


__all__ = [
    "BUILTIN_MAPPINGS",
    "MappingError",
    "MappingFunc",
    "MappingLoadError",
    "Row",
    "build",
    "load_mapping",
    "validate",
    "wire_item",
]
