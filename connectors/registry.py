"""Which connector serves which vendor name: built-ins in one explicit mapping, plus plugins.

Only the composition root (`mdm_bridge.service`) calls this. External packages add connectors
through the `mdm_bridge.connectors` entry-point group; each entry point names a factory. An
unknown name fails with the list of known ones, and a plugin that cannot load stops start-up
with the reason — a connector is never silently missing.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

ENTRY_POINT_GROUP = "mdm_bridge.connectors"

# Vendor name -> "module:factory". Imported only when that vendor is used.
BUILTIN_CONNECTORS: Mapping[str, str] = {
    "apple_school_manager": "connectors.apple_school_manager:create_connector",
    "jamf_pro": "connectors.jamf_pro:create_connector",
    "jamf_school": "connectors.jamf_school:create_connector",
}

ConnectorFactory = Callable[..., Any]


class UnknownConnectorError(LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known)) or "none"
        super().__init__(f"no connector named {name!r}; known connectors: {names}")


class PluginLoadError(RuntimeError):
    """A connector plugin is installed but cannot be loaded; start-up must stop."""


def _load_path(path: str) -> ConnectorFactory:
    module_name, _, attribute = path.partition(":")
    factory: ConnectorFactory = getattr(importlib.import_module(module_name), attribute)
    return factory


def discover(
    *,
    builtins: Mapping[str, str] = BUILTIN_CONNECTORS,
    plugins: Iterable[EntryPoint] | None = None,
) -> dict[str, Callable[[], ConnectorFactory]]:
    """All connector names, each with a loader; plugins may not shadow a built-in."""
    found: dict[str, Callable[[], ConnectorFactory]] = {
        name: functools.partial(_load_path, path) for name, path in builtins.items()
    }
    for entry in entry_points(group=ENTRY_POINT_GROUP) if plugins is None else plugins:
        if entry.name in found:
            raise PluginLoadError(
                f"connector plugin {entry.name!r} ({entry.value}) clashes with a known connector"
            )
        found[entry.name] = entry.load
    return found


def load_connector_factory(
    name: str, *, registry: Mapping[str, Callable[[], ConnectorFactory]] | None = None
) -> ConnectorFactory:
    known = discover() if registry is None else registry
    if name not in known:
        raise UnknownConnectorError(name, known)
    try:
        factory = known[name]()
    except Exception as error:
        raise PluginLoadError(f"connector {name!r} failed to load: {error!r}") from error
    if not callable(factory):
        raise PluginLoadError(f"connector {name!r} does not name a callable factory")
    return factory
