"""Test-side controls of the fake Jamf School, under `/_mock/jamf-school`.

Beside the shared `/_mock/` knobs of `mocks.common`: read the tenant's credentials and whether
each profile's time window is open now, and change the school-wide reading of time filters (time
zone, midnight crossing, holidays) while the app runs, for the cases Jamf does not document.
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.jamf_school.scoping import TimeFilteredScope
from mocks.jamf_school.state import JamfSchoolState, school_state
from mocks.jamf_school.time_filter import MidnightCrossing, TimeFilterRules

router = APIRouter(prefix="/_mock/jamf-school")


def _describe(state: JamfSchoolState) -> dict[str, object]:
    rules = state.time_filters.rules
    profiles = []
    for profile_id, school_profile in sorted(state.profiles.items()):
        stored = state.fleet.profile(profile_id)
        scope = stored.scope if stored is not None else None
        profiles.append(
            {
                "id": profile_id,
                "name": school_profile.fixture.name,
                "groupIds": sorted(school_profile.group_ids),
                "windowOpen": isinstance(scope, TimeFilteredScope) and scope.window_open(),
            }
        )
    return {
        "networkId": state.tenant.network_id,
        "apiKeys": [
            {"key": key.key, "rights": sorted(str(right) for right in key.rights)}
            for key in state.tenant.api_keys.values()
        ],
        "smartGroupIds": sorted(state.smart_group_ids),
        "timeFilter": {
            "timeZone": str(rules.time_zone),
            "midnightCrossing": str(rules.midnight_crossing),
            "holidays": sorted(day.isoformat() for day in rules.holidays),
            "invertUseHolidays": rules.invert_use_holidays,
        },
        "profiles": profiles,
    }


@router.get("", response_model=None)
async def overview(request: Request) -> JSONResponse:
    return JSONResponse(_describe(school_state(request)))


@router.put("/time-filter", response_model=None)
async def set_time_filter_rules(request: Request) -> JSONResponse:
    """Replace the fields sent; the next check-ins read the new rules."""
    state = school_state(request)
    try:
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            raise TypeError("body must be a JSON object")
        state.time_filters.rules = _updated_rules(state.time_filters.rules, body)
    except (ValueError, TypeError, KeyError, ZoneInfoNotFoundError) as error:
        return JSONResponse({"detail": str(error)}, status_code=400)
    return JSONResponse(_describe(state))


def _updated_rules(rules: TimeFilterRules, body: dict[str, object]) -> TimeFilterRules:
    time_zone = rules.time_zone
    if "timeZone" in body:
        time_zone = ZoneInfo(str(body["timeZone"]))
    crossing = rules.midnight_crossing
    if "midnightCrossing" in body:
        crossing = MidnightCrossing(str(body["midnightCrossing"]))
    holidays = rules.holidays
    if "holidays" in body:
        raw = body["holidays"]
        if not isinstance(raw, list):
            raise TypeError("holidays must be a list of YYYY-MM-DD dates")
        holidays = frozenset(date.fromisoformat(str(day)) for day in raw)
    invert = rules.invert_use_holidays
    if "invertUseHolidays" in body:
        if not isinstance(body["invertUseHolidays"], bool):
            raise TypeError("invertUseHolidays must be true or false")
        invert = body["invertUseHolidays"]
    return TimeFilterRules(
        time_zone=time_zone,
        midnight_crossing=crossing,
        holidays=holidays,
        invert_use_holidays=invert,
    )
