"""One value out of a JSON secret: ``key`` names a top-level key or a dotted path into nested objects.

The stack's source and target secrets hold one object per system, e.g.
``{"bc": {"client_id": "...", "client_secret": "..."}}``, so a configuration names
``key: bc.client_secret``. A key that holds an object or a list is an error naming the keys inside
it; it is never turned into text (a Python repr sent as a password fails silently, as a 401).
Messages name keys, never values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SecretValueError(ValueError):
    """The secret is not JSON, lacks the key, or the key holds no single value."""


def secret_value(document: str | Mapping[str, Any], key: str) -> str:
    """The text at ``key`` in ``document`` (a JSON object, as text or parsed).

    An exact top-level key wins (keys may contain dots); otherwise ``a.b.c`` walks nested objects.
    Strings are returned as they are, numbers as their JSON text.
    """
    if isinstance(document, str):
        try:
            data: Any = json.loads(document)
        except ValueError:
            raise SecretValueError("not a JSON object") from None
    else:
        data = document
    if not isinstance(data, Mapping):
        raise SecretValueError("not a JSON object")
    value = data[key] if key in data else _walk(data, key)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, Mapping):
        inside = ", ".join(f"{key}.{name}" for name in sorted(value)) or "none"
        raise SecretValueError(f"key {key!r} holds an object, not a value; name a key inside it ({inside})")
    raise SecretValueError(f"key {key!r} holds a JSON {type(value).__name__}, not a text value")


def _walk(data: Mapping[str, Any], key: str) -> Any:
    current: Any = data
    walked: list[str] = []
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            where = f" under {'.'.join(walked)!r}" if walked else ""
            raise SecretValueError(f"no key {part!r}{where}")
        current = current[part]
        walked.append(part)
    return current


__all__ = ["SecretValueError", "secret_value"]
