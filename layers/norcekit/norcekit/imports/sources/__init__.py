"""Import sources: the :class:`Source` protocol and its adapters (file drop, REST, Business Central)."""

from norcekit.imports.sources.base import Source, SourceCapabilities, SourceError

__all__ = ["Source", "SourceCapabilities", "SourceError"]
