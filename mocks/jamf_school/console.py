"""The Jamf School console, played by a test: add groups and profiles while the fake runs.

The real API cannot create or scope profiles; an administrator does that in the console. A
connector test (or a demo against `mdm-bridge mock`) sometimes needs a set-up other than the
start-time fixtures, e.g. to check that the connector refuses to start when a mapped group is
missing. These `/_mock/jamf-school/console/...` routes stand in for that administrator.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mocks.jamf_school.auth import is_whole_number
from mocks.jamf_school.fixtures import GroupFixture, ProfileFixture, install_group, install_profile
from mocks.jamf_school.state import school_state
from mocks.jamf_school.time_filter import TimeFilter, parse_days, parse_wall_clock

router = APIRouter(prefix="/_mock/jamf-school/console")
_ISO_DAYS = frozenset("1234567")


def _refuse(detail: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _body(request: Request) -> dict[str, object] | None:
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


@router.post("/groups", response_model=None)
async def create_group(request: Request) -> JSONResponse:
    """`{name, description?, smart?}`: a smart group refuses API membership changes."""
    state = school_state(request)
    body = await _body(request)
    if body is None or not isinstance(body.get("name"), str) or not body["name"]:
        return _refuse("name is required")
    smart = body.get("smart", False) is True
    fixture = GroupFixture(
        name=str(body["name"]), description=str(body.get("description", "")), smart=smart
    )
    group = install_group(state.fleet, fixture)
    if smart:
        state.smart_group_ids.add(group.group_id)
    return JSONResponse({"id": group.group_id, "name": group.name}, status_code=201)


@router.post("/profiles", response_model=None)
async def create_profile(request: Request) -> JSONResponse:
    """`{name, identifier, groups: [names], daysOfTheWeek?, startTime?, endTime?, ...}`."""
    state = school_state(request)
    body = await _body(request)
    if body is None:
        return _refuse("body must be a JSON object")
    try:
        fixture = _profile_fixture(body)
    except (TypeError, ValueError) as error:
        return _refuse(str(error))
    missing = [name for name in fixture.groups if state.fleet.group_by_name(name) is None]
    if missing:
        return _refuse(f"unknown group(s): {', '.join(missing)}", status=404)
    profile = install_profile(state.fleet, fixture, state.time_filters)
    state.profiles[profile.profile_id] = profile
    return JSONResponse({"id": profile.profile_id, "name": fixture.name}, status_code=201)


@router.delete("/profiles/{profile_id}", response_model=None)
async def delete_profile(profile_id: str, request: Request) -> Response:
    """Delete in the console: devices lose the profile at their next check-in."""
    state = school_state(request)
    known = is_whole_number(profile_id) and int(profile_id) in state.profiles
    if not known:
        return _refuse("no such profile", status=404)
    state.profiles.pop(int(profile_id))
    state.fleet.delete_profile(int(profile_id))
    return Response(status_code=204)


def _profile_fixture(body: dict[str, object]) -> ProfileFixture:
    name, identifier, groups = body.get("name"), body.get("identifier"), body.get("groups")
    if not isinstance(name, str) or not isinstance(identifier, str) or not name or not identifier:
        raise TypeError("name and identifier are required strings")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise TypeError("groups must be a list of group names")
    days = body.get("daysOfTheWeek", [])
    if not isinstance(days, list) or not all(str(day) in _ISO_DAYS for day in days):
        raise ValueError("daysOfTheWeek must list days from '1' (Monday) to '7' (Sunday)")
    start, end = body.get("startTime"), body.get("endTime")
    if not all(value is None or isinstance(value, str) for value in (start, end)):
        raise TypeError("startTime and endTime must be H:MM strings or null")
    time_filter = TimeFilter(
        days_of_week=parse_days(str(day) for day in days),
        start=parse_wall_clock(start if isinstance(start, str) else None),
        end=parse_wall_clock(end if isinstance(end, str) else None),
        restricted_weekend_use=body.get("restrictedWeekendUse") is True,
        use_holidays=body.get("useHolidays") is True,
    )
    return ProfileFixture(
        name=name,
        identifier=identifier,
        groups=tuple(str(group) for group in groups),
        description=str(body.get("description", "")),
        time_filter=time_filter,
    )
