"""norcekit's local stack: moto, the Norce emulator and the template's resources
(``python -m norcekit_local``).

``from norcekit_local import LocalStack`` is resolved lazily so that light submodules (sample data,
config) do not pay for importing moto.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stack import LocalStack, Service, load_stack_info

__all__ = ["LocalStack", "Service", "load_stack_info"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import stack  # noqa: PLC0415 - lazy on purpose

        return getattr(stack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
