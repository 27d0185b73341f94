"""The school's Jamf School console set-up: device groups and the profiles scoped to them.

Jamf School's API cannot create or scope profiles, so they are fixture data: an administrator
made them in the console. `install_fixtures` (called by `mocks.jamf_school.state`) creates the
groups in the shared fleet (or reuses a group of the same name), fills the pre-populated ones,
and puts each profile into the fleet with a `TimeFilteredScope`, so that the fleet's check-in
installs and removes it as devices enter and leave its groups.
"""

from __future__ import annotations

import plistlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time

from mocks.device import Device
from mocks.fleet import Fleet
from mocks.groups import Group
from mocks.jamf_school.scoping import TimeFilteredScope, TimeFilterSettings
from mocks.jamf_school.time_filter import TimeFilter
from mocks.profiles import Profile, read_profile_plist

EVERY_DAY = frozenset(range(1, 8))
_KS1_YEARS = frozenset({"Year 1", "Year 2"})


@dataclass(frozen=True, kw_only=True)
class GroupFixture:
    """A device group as made in the console; `members` picks its devices at start."""

    name: str
    description: str = ""
    smart: bool = False
    members: Callable[[Device], bool] | None = None


@dataclass(frozen=True, kw_only=True)
class ProfileFixture:
    """A restrictions profile made in the console, scoped to groups by name."""

    name: str
    identifier: str
    groups: tuple[str, ...]
    description: str = ""
    time_filter: TimeFilter = field(default_factory=TimeFilter)
    restrictions: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True, kw_only=True)
class SchoolProfile:
    """A fixture profile after installation: its fleet id and the groups it is scoped to."""

    profile_id: int
    fixture: ProfileFixture
    group_ids: frozenset[int]


CURFEW_GROUP = "Bridge - curfew (home iPads)"
SAFARI_BAN_GROUP = "Bridge - ban: no Safari"
APP_BAN_GROUP = "Bridge - ban: no App Store"

DEFAULT_GROUPS = (
    GroupFixture(name=CURFEW_GROUP, description="Home-use iPads locked down overnight"),
    GroupFixture(name=SAFARI_BAN_GROUP, description="Pupils on a Safari ban"),
    GroupFixture(name=APP_BAN_GROUP, description="Pupils on an App Store ban"),
    GroupFixture(
        name="KS1 pupils",
        description="Years 1 and 2",
        members=lambda device: device.year_group in _KS1_YEARS,
    ),
    GroupFixture(
        name="KS2 pupils",
        description="Years 3 to 6",
        members=lambda device: device.year_group not in _KS1_YEARS,
    ),
    GroupFixture(name="Supervised iPads", smart=True, members=lambda device: device.supervised),
)

DEFAULT_PROFILES = (
    ProfileFixture(
        name="Curfew 20:00-07:00",
        identifier="com.zuludesk.MDM.iOS.bridge.curfew",
        groups=(CURFEW_GROUP,),
        description="Apps and Safari off overnight",
        time_filter=TimeFilter(days_of_week=EVERY_DAY, start=time(20, 0), end=time(7, 0)),
        restrictions=(("allowSafari", False), ("allowAppInstallation", False)),
    ),
    ProfileFixture(
        name="Ban - no Safari",
        identifier="com.zuludesk.MDM.iOS.bridge.ban-safari",
        groups=(SAFARI_BAN_GROUP,),
        restrictions=(("allowSafari", False),),
    ),
    ProfileFixture(
        name="Ban - no App Store",
        identifier="com.zuludesk.MDM.iOS.bridge.ban-apps",
        groups=(APP_BAN_GROUP,),
        restrictions=(("allowAppInstallation", False),),
    ),
    ProfileFixture(
        name="KS1 restrictions",
        identifier="com.zuludesk.MDM.iOS.ks1",
        groups=("KS1 pupils",),
        restrictions=(("allowExplicitContent", False),),
    ),
    ProfileFixture(
        name="KS2 restrictions",
        identifier="com.zuludesk.MDM.iOS.ks2",
        groups=("KS2 pupils",),
        restrictions=(("allowExplicitContent", False),),
    ),
)


def install_fixtures(
    fleet: Fleet,
    *,
    groups: tuple[GroupFixture, ...],
    profiles: tuple[ProfileFixture, ...],
    settings: TimeFilterSettings,
) -> tuple[set[int], dict[int, SchoolProfile]]:
    """Create the console set-up in the fleet; return smart-group ids and profiles by id."""
    smart_group_ids: set[int] = set()
    for fixture in groups:
        group = install_group(fleet, fixture)
        if fixture.smart:
            smart_group_ids.add(group.group_id)
    installed = [install_profile(fleet, fixture, settings) for fixture in profiles]
    return smart_group_ids, {profile.profile_id: profile for profile in installed}


def install_group(fleet: Fleet, fixture: GroupFixture) -> Group:
    """Create the group (or reuse one of that name) and add the devices it picks."""
    group = fleet.group_by_name(fixture.name) or fleet.create_group(
        name=fixture.name, description=fixture.description
    )
    if fixture.members is not None:
        fleet.add_to_group(group, [device for device in fleet.devices if fixture.members(device)])
    return group


def install_profile(
    fleet: Fleet, fixture: ProfileFixture, settings: TimeFilterSettings
) -> SchoolProfile:
    """Put the profile into the fleet, scoped to its groups through its time filter."""
    group_ids = frozenset(_group(fleet, name).group_id for name in fixture.groups)
    payload = _mobileconfig(fixture)
    existing = _fixture_profile(fleet, fixture.identifier)
    profile = fleet.put_profile(
        Profile(
            profile_id=fleet.next_profile_id() if existing is None else existing.profile_id,
            name=fixture.name,
            description=fixture.description,
            payload=payload,
            content=read_profile_plist(payload),
            scope=TimeFilteredScope(
                group_ids=group_ids, time_filter=fixture.time_filter, settings=settings
            ),
            extra={"front": "jamf_school"},
        )
    )
    return SchoolProfile(profile_id=profile.profile_id, fixture=fixture, group_ids=group_ids)


def _fixture_profile(fleet: Fleet, identifier: str) -> Profile | None:
    """A profile an earlier Jamf School app put into this fleet, so a second one replaces it."""
    return next(
        (
            profile
            for profile in fleet.profiles()
            if profile.extra.get("front") == "jamf_school"
            and profile.content.identifier == identifier
        ),
        None,
    )


def _group(fleet: Fleet, name: str) -> Group:
    group = fleet.group_by_name(name)
    if group is None:
        raise ValueError(f"profile fixture names an unknown group {name!r}")
    return group


def _mobileconfig(fixture: ProfileFixture) -> bytes:
    restrictions: dict[str, object] = {
        "PayloadType": "com.apple.applicationaccess",
        "PayloadIdentifier": f"{fixture.identifier}.restrictions",
        "PayloadUUID": f"{fixture.identifier}.restrictions",
        "PayloadVersion": 1,
    }
    restrictions.update(dict(fixture.restrictions))
    document = {
        "PayloadType": "Configuration",
        "PayloadIdentifier": fixture.identifier,
        "PayloadUUID": fixture.identifier,
        "PayloadDisplayName": fixture.name,
        "PayloadVersion": 1,
        "PayloadContent": [restrictions],
    }
    return plistlib.dumps(document)
