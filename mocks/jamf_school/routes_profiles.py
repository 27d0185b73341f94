"""Profile routes of the fake Jamf School: read-only, as in the real API.

Profiles come from the console fixtures (`mocks.jamf_school.fixtures`); the API can list and read
them, with their time filter, but never create, edit or scope them. Write methods on these paths
are unknown routes (plain 404), like every other path the real API lacks.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.jamf_school.auth import Right, is_whole_number
from mocks.jamf_school.errors import JamfSchoolError
from mocks.jamf_school.requests import admitted
from mocks.jamf_school.shapes import profile_shape

router = APIRouter(prefix="/api/profiles")


@router.get("", response_model=None)
async def list_profiles(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.PROFILES_READ)
    location_id = state.options.location_id
    shapes = [
        profile_shape(profile, location_id=location_id)
        for profile_id, profile in sorted(state.profiles.items())
        if state.fleet.profile(profile_id) is not None
    ]
    return JSONResponse({"code": 200, "count": len(shapes), "profiles": shapes})


@router.get("/{profile_id}", response_model=None)
async def get_profile(profile_id: str, request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.PROFILES_READ)
    profile = state.profiles.get(int(profile_id)) if is_whole_number(profile_id) else None
    if profile is None or state.fleet.profile(profile.profile_id) is None:
        raise JamfSchoolError.coded(404, "ProfileNotFound")
    location_id = state.options.location_id
    return JSONResponse({"code": 200, "profile": profile_shape(profile, location_id=location_id)})
