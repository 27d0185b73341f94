"""Contract of Jamf School groups and group-scoped, time-filtered profiles (§7, §10)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from mocks.clock import ManualClock
from mocks.device import Device
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_school import JamfSchoolOptions, create_app, jamf_school_state_of
from mocks.jamf_school.fixtures import CURFEW_GROUP, SAFARI_BAN_GROUP
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID

MONDAY_19_00 = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # London is on UTC in November
HEADERS = {
    "Authorization": "Basic "
    + base64.b64encode(f"{DEFAULT_NETWORK_ID}:{DEFAULT_API_KEY}".encode()).decode(),
    "X-Server-Protocol-Version": "3",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_19_00)


@pytest.fixture
def fleet(clock: ManualClock) -> Fleet:
    config = FleetConfig(
        devices=12,
        seed=21,
        offline_share=0.0,
        locked_share=0.0,
        unsupervised_share=0.0,
        no_passcode_share=0.0,
    )
    return Fleet.build(config, clock)


@pytest.fixture
def app(fleet: Fleet, clock: ManualClock) -> FastAPI:
    return create_app(fleet, clock, JamfSchoolOptions())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://school.test") as client:
        yield client


def group_id(fleet: Fleet, name: str) -> int:
    group = fleet.group_by_name(name)
    assert group is not None
    return group.group_id


def profile_id(app: FastAPI, name: str) -> int:
    profiles = jamf_school_state_of(app).profiles.values()
    return next(p.profile_id for p in profiles if p.fixture.name == name)


def has_profile(device: Device, wanted: int) -> bool:
    return device.installed is not None and wanted in device.installed


def run_until(clock: ManualClock, fleet: Fleet, instant: datetime, step: float = 60.0) -> None:
    """Walk the clock forward in small steps so each check-in happens near its own time."""
    while clock.now() < instant:
        clock.advance(min(step, (instant - clock.now()).total_seconds()))
        fleet.tick()


async def move(
    client: httpx.AsyncClient, action: str, group: int, devices: list[Device]
) -> httpx.Response:
    body = {"groupId": group, "udids": [device.udid for device in devices]}
    return await client.post(f"/api/devices/groups/{action}", json=body, headers=HEADERS)


async def test_groups_list_uses_the_real_key_and_flags_smart_groups(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    body = (await client.get("/api/devices/groups", headers=HEADERS)).json()
    assert body["code"] == 200
    assert body["count"] == len(body["deviceGroups"]) == 6
    by_name = {group["name"]: group for group in body["deviceGroups"]}
    assert by_name["Supervised iPads"]["isSmartGroup"] is True
    assert by_name[CURFEW_GROUP]["isSmartGroup"] is False
    assert by_name[CURFEW_GROUP]["members"] == 0
    assert by_name["KS1 pupils"]["members"] + by_name["KS2 pupils"]["members"] == 12
    one = (
        await client.get(f"/api/devices/groups/{group_id(fleet, CURFEW_GROUP)}", headers=HEADERS)
    ).json()
    assert one["deviceGroup"]["name"] == CURFEW_GROUP
    missing = await client.get("/api/devices/groups/999", headers=HEADERS)
    assert missing.json() == {"code": 404, "message": "GroupNotFound"}


async def test_add_and_remove_are_reflected_in_the_device_list(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    curfew = group_id(fleet, CURFEW_GROUP)
    chosen = fleet.devices[:3]
    added = await move(client, "add", curfew, chosen)
    assert added.status_code == 200
    assert added.json()["code"] == 200
    listed = (await client.get(f"/api/devices?groups={curfew}", headers=HEADERS)).json()
    assert {d["UDID"] for d in listed["devices"]} == {d.udid for d in chosen}
    assert all(curfew in d["groupIds"] and CURFEW_GROUP in d["groups"] for d in listed["devices"])
    await move(client, "remove", curfew, chosen[:1])
    listed = (await client.get(f"/api/devices?groups={curfew}", headers=HEADERS)).json()
    assert listed["count"] == 2


async def test_smart_groups_unknown_groups_and_unknown_udids_are_refused_whole(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    smart = await move(client, "add", group_id(fleet, "Supervised iPads"), fleet.devices[:1])
    assert smart.status_code == 400
    unknown_group = await move(client, "add", 999, fleet.devices[:1])
    assert unknown_group.json() == {"code": 404, "message": "GroupNotFound"}
    curfew = group_id(fleet, CURFEW_GROUP)
    body = {"groupId": curfew, "udids": [fleet.devices[0].udid, "NOT-A-UDID"]}
    unknown_device = await client.post("/api/devices/groups/add", json=body, headers=HEADERS)
    assert unknown_device.json() == {"code": 404, "message": "DeviceNotFound"}
    curfew_group = fleet.group(curfew)
    assert curfew_group is not None
    assert fleet.group_members(curfew_group) == []
    for bad in ({"udids": []}, {"groupId": curfew}, {"groupId": curfew, "udids": [1]}):
        response = await client.post("/api/devices/groups/add", json=bad, headers=HEADERS)
        assert response.status_code == 400


async def test_profiles_show_their_time_filter_read_only(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = (await client.get("/api/profiles", headers=HEADERS)).json()
    assert body["count"] == len(body["profiles"]) == 5
    curfew = next(p for p in body["profiles"] if p["name"] == "Curfew 20:00-07:00")
    assert curfew["daysOfTheWeek"] == ["1", "2", "3", "4", "5", "6", "7"]
    assert (curfew["startTime"], curfew["endTime"]) == ("20:00", "7:00")
    assert curfew["useHolidays"] is False
    assert curfew["restrictedWeekendUse"] is False
    assert curfew["platform"] == "iOS"
    ban = next(p for p in body["profiles"] if p["name"] == "Ban - no Safari")
    assert ban["daysOfTheWeek"] == []
    assert ban["startTime"] is None
    one = (await client.get(f"/api/profiles/{curfew['id']}", headers=HEADERS)).json()
    assert one["profile"] == curfew
    assert (await client.get("/api/profiles/999", headers=HEADERS)).json()[
        "message"
    ] == "ProfileNotFound"


async def test_a_ban_profile_follows_group_membership_at_the_next_check_in(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock, app: FastAPI
) -> None:
    ban = profile_id(app, "Ban - no Safari")
    pupil = fleet.devices[5]
    await move(client, "add", group_id(fleet, SAFARI_BAN_GROUP), [pupil])
    assert not has_profile(pupil, ban)  # queued server-side; the iPad has not checked in yet
    run_until(clock, fleet, clock.now() + timedelta(seconds=20))
    assert has_profile(pupil, ban)
    await move(client, "remove", group_id(fleet, SAFARI_BAN_GROUP), [pupil])
    run_until(clock, fleet, clock.now() + timedelta(seconds=20))
    assert not has_profile(pupil, ban)


async def test_the_curfew_profile_is_on_only_inside_its_window_crossing_midnight(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock, app: FastAPI
) -> None:
    curfew_profile = profile_id(app, "Curfew 20:00-07:00")
    home = fleet.devices[:4]
    await move(client, "add", group_id(fleet, CURFEW_GROUP), home)
    run_until(clock, fleet, MONDAY_19_00 + timedelta(minutes=59))
    assert not any(has_profile(d, curfew_profile) for d in home)
    # Each iPad picks the profile up at its first routine check-in after 20:00 (≤ 30 min later).
    run_until(clock, fleet, MONDAY_19_00 + timedelta(hours=1, minutes=31))
    assert all(has_profile(d, curfew_profile) for d in home)
    run_until(clock, fleet, MONDAY_19_00 + timedelta(hours=11, minutes=59), step=300)
    assert all(has_profile(d, curfew_profile) for d in home)  # still on at 06:59 Tuesday
    run_until(clock, fleet, MONDAY_19_00 + timedelta(hours=12, minutes=31))
    assert not any(has_profile(d, curfew_profile) for d in home)
    overview = (await client.get("/_mock/jamf-school")).json()
    window = next(p for p in overview["profiles"] if p["id"] == curfew_profile)
    assert window["windowOpen"] is False


async def test_an_offline_ipad_switches_late_and_a_locked_one_answers_not_now(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock, app: FastAPI
) -> None:
    ban = profile_id(app, "Ban - no Safari")
    away, locked = fleet.devices[0], fleet.devices[1]
    fleet.set_offline(away)
    fleet.set_screen_locked(locked, MONDAY_19_00.timestamp() + 3600)
    await move(client, "add", group_id(fleet, SAFARI_BAN_GROUP), [away, locked])
    run_until(clock, fleet, MONDAY_19_00 + timedelta(minutes=30))
    assert not has_profile(away, ban)
    assert not has_profile(locked, ban)
    refused = [c for c in fleet.commands_for(locked) if c.profile_id == ban]
    assert refused
    assert {c.state for c in refused} == {"NOT_NOW"}
    fleet.set_online(away)
    run_until(clock, fleet, MONDAY_19_00 + timedelta(hours=1, minutes=31))
    assert has_profile(away, ban)
    assert has_profile(locked, ban)  # unlocked at 20:00, resent at a later check-in


async def test_time_zone_and_midnight_reading_change_at_run_time(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock, app: FastAPI
) -> None:
    curfew_profile = profile_id(app, "Curfew 20:00-07:00")
    # 19:00 UTC is 20:00 in Lagos (UTC+1): the window is already open there.
    changed = await client.put("/_mock/jamf-school/time-filter", json={"timeZone": "Africa/Lagos"})
    assert changed.json()["timeFilter"]["timeZone"] == "Africa/Lagos"
    home = fleet.devices[6]
    await move(client, "add", group_id(fleet, CURFEW_GROUP), [home])
    run_until(clock, fleet, clock.now() + timedelta(seconds=20))
    assert has_profile(home, curfew_profile)
    same_day = await client.put(
        "/_mock/jamf-school/time-filter", json={"midnightCrossing": "within-same-day"}
    )
    assert same_day.json()["timeFilter"]["midnightCrossing"] == "within-same-day"
    for bad in ({"timeZone": "Mars/Olympus"}, {"midnightCrossing": "sideways"}, {"holidays": "x"}):
        assert (await client.put("/_mock/jamf-school/time-filter", json=bad)).status_code == 400


async def test_two_fronts_on_one_fleet_share_the_console_groups(
    fleet: Fleet, clock: ManualClock
) -> None:
    create_app(fleet, clock)
    groups_before, profiles_before = len(fleet.groups()), len(fleet.profiles())
    create_app(fleet, clock)
    assert (len(fleet.groups()), len(fleet.profiles())) == (groups_before, profiles_before)


@pytest.mark.parametrize("push_at_edges", [False, True])
async def test_window_edges_can_wake_the_group_at_once(
    fleet: Fleet, clock: ManualClock, push_at_edges: bool
) -> None:
    app = create_app(fleet, clock, JamfSchoolOptions(push_at_window_edges=push_at_edges))
    curfew_profile = profile_id(app, "Curfew 20:00-07:00")
    home = fleet.devices[:6]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://s") as client:
        await move(client, "add", group_id(fleet, CURFEW_GROUP), home)
        run_until(clock, fleet, MONDAY_19_00 + timedelta(hours=1, seconds=1), step=30)
        await client.get("/api/devices", headers=HEADERS)  # any request notices the edge
        run_until(clock, fleet, clock.now() + timedelta(seconds=16), step=1)
    installed = [has_profile(device, curfew_profile) for device in home]
    if push_at_edges:
        assert all(installed)
    else:
        assert not all(installed)  # most iPads wait for their routine check-in


async def test_the_console_can_add_groups_and_profiles_while_the_fake_runs(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock, app: FastAPI
) -> None:
    group = await client.post("/_mock/jamf-school/console/groups", json={"name": "Year 6 trip"})
    assert group.status_code == 201
    profile = await client.post(
        "/_mock/jamf-school/console/profiles",
        json={
            "name": "Trip: camera only",
            "identifier": "com.example.trip",
            "groups": ["Year 6 trip"],
            "daysOfTheWeek": ["1"],
            "startTime": "19:00",
            "endTime": "21:00",
        },
    )
    assert profile.status_code == 201
    listed = (await client.get("/api/profiles", headers=HEADERS)).json()["profiles"]
    trip = next(p for p in listed if p["name"] == "Trip: camera only")
    assert (trip["daysOfTheWeek"], trip["startTime"], trip["endTime"]) == (["1"], "19:00", "21:00")
    pupil = fleet.devices[2]
    await move(client, "add", group.json()["id"], [pupil])
    run_until(clock, fleet, clock.now() + timedelta(seconds=20))
    assert has_profile(pupil, trip["id"])
    deleted = await client.delete(f"/_mock/jamf-school/console/profiles/{trip['id']}")
    assert deleted.status_code == 204
    run_until(clock, fleet, clock.now() + timedelta(seconds=20))
    assert not has_profile(pupil, trip["id"])
    assert (await client.get(f"/api/profiles/{trip['id']}", headers=HEADERS)).status_code == 404
    smart = await client.post(
        "/_mock/jamf-school/console/groups", json={"name": "All iPads", "smart": True}
    )
    refused = await move(client, "add", smart.json()["id"], [pupil])
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"identifier": "x", "groups": []}, 400),
        ({"name": "x", "identifier": "x", "groups": ["No such group"]}, 404),
        ({"name": "x", "identifier": "x", "groups": [], "daysOfTheWeek": ["12"]}, 400),
        ({"name": "x", "identifier": "x", "groups": [], "startTime": "25:00"}, 400),
        ({"name": "x", "identifier": "x", "groups": [], "endTime": 7}, 400),
    ],
)
async def test_the_console_refuses_a_profile_it_could_not_make(
    client: httpx.AsyncClient, body: dict[str, object], status: int
) -> None:
    response = await client.post("/_mock/jamf-school/console/profiles", json=body)
    assert response.status_code == status
    assert "detail" in response.json()
