"""Options and mutable state of one fake Jamf School tenant.

`mocks.jamf_school.app.create_app` builds a `JamfSchoolState` from the fleet and
`JamfSchoolOptions`: the tenant's credentials, the console fixtures (groups and time-filtered
profiles) and the school-wide reading of time filters. Routes read it through `school_state`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from mocks.clock import Clock
from mocks.fleet import Fleet
from mocks.jamf_school.auth import ApiKey, Tenant
from mocks.jamf_school.fixtures import (
    DEFAULT_GROUPS,
    DEFAULT_PROFILES,
    GroupFixture,
    ProfileFixture,
    SchoolProfile,
    install_fixtures,
)
from mocks.jamf_school.scoping import TimeFilterSettings, WindowEdgeWatcher
from mocks.jamf_school.time_filter import TimeFilterRules

DEFAULT_NETWORK_ID = "84410132"
DEFAULT_API_KEY = "MOCK-JAMF-SCHOOL-API-KEY"


@dataclass(frozen=True, kw_only=True)
class JamfSchoolOptions:
    """Start-time set-up of the fake tenant."""

    network_id: str = DEFAULT_NETWORK_ID
    api_keys: tuple[ApiKey, ...] = (ApiKey(key=DEFAULT_API_KEY),)
    accepted_protocol_versions: frozenset[str] = frozenset({"3", "4"})
    time_filter_rules: TimeFilterRules = field(default_factory=TimeFilterRules)
    location_id: int = 1
    groups: tuple[GroupFixture, ...] = DEFAULT_GROUPS
    profiles: tuple[ProfileFixture, ...] = DEFAULT_PROFILES
    # Let due devices check in before each request, so a lone Jamf School app needs no ticker.
    tick_fleet_on_request: bool = True
    # Real answers say "deviceGroups", Jamf's docs and SDK fixtures "DeviceGroups"; clients
    # should read either, and this switch lets a test prove it.
    group_list_key: str = "deviceGroups"
    # Wake a profile's devices when its time window opens or closes (undocumented behaviour).
    push_at_window_edges: bool = False


@dataclass(kw_only=True)
class JamfSchoolState:
    """Everything one fake tenant remembers; group membership itself lives in the fleet."""

    fleet: Fleet
    options: JamfSchoolOptions
    tenant: Tenant
    time_filters: TimeFilterSettings
    smart_group_ids: set[int]
    profiles: dict[int, SchoolProfile]
    # Apps created through the API: kept only so that the protocol-4 create route has an effect.
    apps: dict[int, dict[str, object]] = field(default_factory=dict)
    edge_watcher: WindowEdgeWatcher | None = None

    @classmethod
    def build(cls, fleet: Fleet, clock: Clock, options: JamfSchoolOptions) -> JamfSchoolState:
        settings = TimeFilterSettings(clock=clock, rules=options.time_filter_rules)
        smart_group_ids, profiles = install_fixtures(
            fleet, groups=options.groups, profiles=options.profiles, settings=settings
        )
        tenant = Tenant(
            network_id=options.network_id,
            api_keys={api_key.key: api_key for api_key in options.api_keys},
            accepted_protocol_versions=options.accepted_protocol_versions,
        )
        watcher = None
        if options.push_at_window_edges:
            watcher = WindowEdgeWatcher(fleet=fleet, profile_ids=tuple(profiles))
            fleet.subscribe(watcher.on_fleet_event)
        return cls(
            fleet=fleet,
            options=options,
            tenant=tenant,
            time_filters=settings,
            smart_group_ids=smart_group_ids,
            profiles=profiles,
            edge_watcher=watcher,
        )

    def settle(self) -> None:
        if self.edge_watcher is not None:
            self.edge_watcher.check()
        if self.options.tick_fleet_on_request:
            self.fleet.tick()


def school_state(request: Request) -> JamfSchoolState:
    state: JamfSchoolState = request.app.state.jamf_school
    return state
