"""Reading untrusted vendor JSON: every field is checked, and a surprise names the field.

Connectors call `field(document, "data", list)` and the like while translating a response; a
missing or mistyped field raises `PermanentError` with its path (`data[3].attributes.serialNumber`)
instead of a KeyError deep inside the reconcile loop.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import httpx

from connectors.base import PermanentError

T = TypeVar("T")
_NAMES = {
    str: "a string",
    int: "a number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


def json_body(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PermanentError(f"{what}: the answer is not JSON") from None


def field(document: Any, path: str, kind: type[T], *, optional: bool = False) -> T:
    """The value at a dotted path (`a.b[2].c`), checked to be of `kind`."""
    value = document
    walked = ""
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            index = int(part[1:-1])
            walked += part
            if not isinstance(value, list) or index >= len(value):
                raise PermanentError(f"unexpected vendor answer: {walked} is missing")
            value = value[index]
            continue
        walked = f"{walked}.{part}" if walked else part
        if not isinstance(value, dict) or part not in value or value[part] is None:
            if optional:
                return None  # type: ignore[return-value]
            raise PermanentError(f"unexpected vendor answer: field {walked} is missing")
        value = value[part]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        wanted = _NAMES.get(kind, kind.__name__)
        raise PermanentError(f"unexpected vendor answer: field {walked} should be {wanted}")
    return value
