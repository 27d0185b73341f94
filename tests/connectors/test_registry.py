"""The registry: built-ins by name, plugins through entry points, loud failures."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from connectors import apple_school_manager, jamf_pro, jamf_school
from connectors.registry import (
    ENTRY_POINT_GROUP,
    PluginLoadError,
    UnknownConnectorError,
    discover,
    load_connector_factory,
)


def _plugin(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_builtin_connectors_load_by_name() -> None:
    for name, package in (
        ("apple_school_manager", apple_school_manager),
        ("jamf_pro", jamf_pro),
        ("jamf_school", jamf_school),
    ):
        assert load_connector_factory(name) is package.create_connector


def test_unknown_name_lists_the_known_ones() -> None:
    known = "known connectors: apple_school_manager, jamf_pro, jamf_school"
    with pytest.raises(UnknownConnectorError, match=rf"'intune'.*{known}"):
        load_connector_factory("intune", registry=discover(plugins=[]))


def test_plugin_is_found_through_its_entry_point() -> None:
    registry = discover(plugins=[_plugin("acme_mdm", "tests.connectors.test_registry:_factory")])
    assert load_connector_factory("acme_mdm", registry=registry) is _factory


def test_plugin_that_fails_to_import_stops_with_the_reason() -> None:
    registry = discover(plugins=[_plugin("broken", "no_such_module_anywhere:factory")])
    with pytest.raises(PluginLoadError, match=r"'broken' failed to load: .*no_such_module"):
        load_connector_factory("broken", registry=registry)


def test_plugin_may_not_shadow_a_builtin() -> None:
    with pytest.raises(PluginLoadError, match="clashes"):
        discover(
            plugins=[_plugin("apple_school_manager", "tests.connectors.test_registry:_factory")]
        )


def test_plugin_must_name_a_callable() -> None:
    registry = discover(plugins=[_plugin("odd", "tests.connectors.test_registry:NOT_CALLABLE")])
    with pytest.raises(PluginLoadError, match="callable"):
        load_connector_factory("odd", registry=registry)


def _factory() -> None:
    """A stand-in plugin factory."""


NOT_CALLABLE = 42
