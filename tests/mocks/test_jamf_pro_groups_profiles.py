"""Jamf Pro static groups (Classic XML and v2 JSON) and Classic configuration profiles."""

from __future__ import annotations

import plistlib
from datetime import timedelta
from xml.sax.saxutils import escape

import httpx

from mocks.clock import ManualClock
from mocks.fleet import Fleet

GROUPS = "/JSSResource/mobiledevicegroups"
STATIC = "/api/v2/mobile-device-groups/static-groups"
PROFILES = "/JSSResource/mobiledeviceconfigurationprofiles"
JSON = {"Accept": "application/json"}


def device_list(tag: str, ids: list[int]) -> str:
    items = "".join(f"<mobile_device><id>{i}</id></mobile_device>" for i in ids)
    return f"<{tag}>{items}</{tag}>"


def group_xml(inner: str) -> str:
    return f"<mobile_device_group>{inner}</mobile_device_group>"


def group_scope(group_id: int) -> str:
    group = f"<mobile_device_group><id>{group_id}</id></mobile_device_group>"
    return f"<mobile_device_groups>{group}</mobile_device_groups>"


async def create_group(api: httpx.AsyncClient, name: str, ids: list[int] | None = None) -> int:
    devices = device_list("mobile_devices", ids) if ids else ""
    body = group_xml(f"<name>{name}</name><is_smart>false</is_smart>{devices}")
    answer = await api.post(f"{GROUPS}/id/0", content=body)
    assert answer.status_code == 201
    assert "<mobile_device_group><id>" in answer.text
    return int(answer.text.split("<id>")[1].split("</id>")[0])


def mobileconfig(identifier: str, **extra: object) -> str:
    document = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": "0F1E2D3C-0000-4000-8000-000000000001",
        "PayloadDisplayName": "Curfew",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.applicationaccess",
                "PayloadVersion": 1,
                "PayloadIdentifier": identifier + ".r",
                "PayloadUUID": "0F1E2D3C-0000-4000-8000-000000000002",
                "allowSafari": False,
            }
        ],
        **extra,
    }
    return plistlib.dumps(document).decode()


def profile_xml(name: str, plist: str, scope: str) -> str:
    return (
        f"<configuration_profile><general><name>{name}</name>"
        "<deployment_method>Install Automatically</deployment_method>"
        "<redeploy_on_update>Newly Assigned</redeploy_on_update>"
        f"<payloads>{escape(plist)}</payloads>"
        f"</general><scope>{scope}</scope></configuration_profile>"
    )


async def members(api: httpx.AsyncClient, group_id: int) -> list[int]:
    record = (await api.get(f"{GROUPS}/id/{group_id}", headers=JSON)).json()["mobile_device_group"]
    return [d["id"] for d in record["mobile_devices"]]


async def test_classic_group_create_add_delete_replace(api: httpx.AsyncClient) -> None:
    group_id = await create_group(api, "Curfew", [1, 2])
    assert await members(api, group_id) == [1, 2]
    add = group_xml(device_list("mobile_device_additions", [3, 4]))
    assert (await api.put(f"{GROUPS}/id/{group_id}", content=add)).status_code == 201
    remove = (
        f"<mobile_device_group>{device_list('mobile_device_deletions', [1])}</mobile_device_group>"
    )
    assert (await api.put(f"{GROUPS}/id/{group_id}", content=remove)).status_code == 201
    assert await members(api, group_id) == [2, 3, 4]
    replace = f"<mobile_device_group>{device_list('mobile_devices', [7])}</mobile_device_group>"
    assert (await api.put(f"{GROUPS}/name/Curfew", content=replace)).status_code == 201
    assert await members(api, group_id) == [7]
    listing = await api.get(GROUPS)
    assert "<is_smart>false</is_smart>" in listing.text


async def test_classic_group_errors_are_html(api: httpx.AsyncClient, fleet: Fleet) -> None:
    await create_group(api, "Curfew")
    duplicate = await api.post(
        f"{GROUPS}/id/0", content="<mobile_device_group><name>Curfew</name></mobile_device_group>"
    )
    assert duplicate.status_code == 409
    assert "Duplicate name" in duplicate.text
    missing = await api.get(f"{GROUPS}/id/404")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    malformed = await api.put(
        f"{GROUPS}/id/1", content="<mobile_device_group><mobile_device_additions>"
    )
    assert malformed.status_code == 400
    bad_device = group_xml(device_list("mobile_device_additions", [1, 999]))
    refused = await api.put(f"{GROUPS}/id/1", content=bad_device)
    assert refused.status_code == 409
    assert fleet.group(1) is not None
    assert fleet.group(1).members == set()  # type: ignore[union-attr]  # nothing half-written


async def test_xml_bombs_are_refused(api: httpx.AsyncClient) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<mobile_device_group><name>&b;</name></mobile_device_group>"
    )
    answer = await api.post(f"{GROUPS}/id/0", content=bomb)
    assert answer.status_code == 400


async def test_v2_static_group_crud_and_membership(api: httpx.AsyncClient, fleet: Fleet) -> None:
    created = await api.post(
        STATIC,
        json={
            "groupName": "Ban level 2",
            "assignments": [{"mobileDeviceId": "1", "selected": True}],
        },
    )
    assert created.status_code == 201
    group_id = created.json()["id"]
    assert created.json()["href"].endswith(f"/static-groups/{group_id}")
    patch = {
        "groupName": "Ban level 2",
        "assignments": [
            {"mobileDeviceId": "5", "selected": True},
            {"mobileDeviceId": "1", "selected": False},
        ],
    }
    patched = await api.patch(f"{STATIC}/{group_id}", json=patch)
    assert patched.status_code == 200
    assert patched.json()["count"] == 1
    membership = (
        await api.get(f"/api/v2/mobile-device-groups/static-group-membership/{group_id}")
    ).json()
    assert [m["mobileDeviceId"] for m in membership["results"]] == ["5"]
    assert membership["results"][0]["managementId"] == fleet.devices[4].management_id
    listing = (await api.get(STATIC, params={"filter": 'groupName=="ban level 2"'})).json()
    assert listing["totalCount"] == 1
    everything = (await api.get("/api/v2/mobile-device-groups")).json()
    assert everything == [
        {"id": group_id, "name": "Ban level 2", "description": "", "isSmartGroup": False}
    ]
    assert (await api.delete(f"{STATIC}/{group_id}")).status_code == 204
    assert (await api.get(f"{STATIC}/{group_id}")).status_code == 404


async def test_v2_static_group_errors(api: httpx.AsyncClient) -> None:
    await api.post(STATIC, json={"groupName": "Curfew"})
    duplicate = await api.post(STATIC, json={"groupName": "curfew"})
    assert duplicate.status_code == 422
    assert duplicate.json()["httpStatus"] == 422
    other = (await api.post(STATIC, json={"groupName": "Other"})).json()["id"]
    rename_clash = await api.patch(f"{STATIC}/{other}", json={"groupName": "Curfew"})
    assert rename_clash.status_code == 422
    bad_ids = await api.patch(
        f"{STATIC}/{other}",
        json={"groupName": "Other", "assignments": [{"mobileDeviceId": "x1", "selected": True}]},
    )
    assert bad_ids.status_code == 400
    no_name = await api.patch(f"{STATIC}/{other}", json={"assignments": []})
    assert no_name.status_code == 400
    unknown = await api.patch(f"{STATIC}/999", json={"groupName": "x"})
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == "INVALID_ID"


async def test_profile_scoped_to_group_follows_membership(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    group_id = await create_group(api, "Curfew", [1, 2])
    scope = group_scope(group_id)
    created = await api.post(
        f"{PROFILES}/id/0", content=profile_xml("Curfew", mobileconfig("org.school.curfew"), scope)
    )
    assert created.status_code == 201
    profile_id = int(created.text.split("<id>")[1].split("</id>")[0])
    truth = (await api.get("/_mock/devices/1")).json()
    assert truth["profiles"] == []  # only at the next check-in
    clock.advance(60)
    await api.post("/_mock/tick")
    for device_id in (1, 2):
        truth = (await api.get(f"/_mock/devices/{device_id}")).json()
        assert [p["identifier"] for p in truth["profiles"]] == ["org.school.curfew"]
    assert (await api.get("/_mock/devices/3")).json()["profiles"] == []
    remove = (
        f"<mobile_device_group>{device_list('mobile_device_deletions', [1])}</mobile_device_group>"
    )
    await api.put(f"{GROUPS}/id/{group_id}", content=remove)
    clock.advance(60)
    await api.post("/_mock/tick")
    assert (await api.get("/_mock/devices/1")).json()["profiles"] == []
    record = (await api.get(f"{PROFILES}/id/{profile_id}", headers=JSON)).json()[
        "configuration_profile"
    ]
    assert record["scope"]["mobile_device_groups"] == [{"id": group_id, "name": "Curfew"}]
    assert "org.school.curfew" in record["general"]["payloads"]
    in_use = await api.delete(f"{GROUPS}/id/{group_id}")
    assert in_use.status_code == 409
    v2_in_use = await api.delete(f"{STATIC}/{group_id}")
    assert v2_in_use.status_code == 422


async def test_locked_device_gets_not_now_for_profile(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    await api.post("/_mock/devices/1/screen-lock", json={"locked": True, "minutes": 30})
    scope = device_list("mobile_devices", [1])
    await api.post(
        f"{PROFILES}/id/0", content=profile_xml("Ban", mobileconfig("org.school.ban"), scope)
    )
    clock.advance(60)
    await api.post("/_mock/tick")
    commands = (await api.get("/_mock/commands", params={"device": "1"})).json()["commands"]
    assert [(c["requestType"], c["state"]) for c in commands] == [("InstallProfile", "NOT_NOW")]
    listed = (
        await api.get("/api/v2/mdm/commands", params={"filter": "command==INSTALL_PROFILE"})
    ).json()
    assert listed["results"][0]["commandState"] == "NOT_NOW"
    clock.advance(3600)
    await api.post("/_mock/tick")
    assert (await api.get("/_mock/devices/1")).json()["profiles"] != []


async def test_profile_with_removal_date_lifts_itself(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    removal = (clock.now() + timedelta(hours=2)).replace(tzinfo=None)
    plist = mobileconfig("org.school.curfew", RemovalDate=removal)
    scope = "<all_mobile_devices>true</all_mobile_devices>"
    await api.post(f"{PROFILES}/id/0", content=profile_xml("Curfew", plist, scope))
    clock.advance(60)
    await api.post("/_mock/tick")
    installed = (await api.get("/_mock/devices/2")).json()["profiles"]
    assert installed[0]["removesAt"] == "2026-11-23T21:00:00Z"
    await api.post("/_mock/devices/2/offline", json={})
    clock.advance(2 * 3600)
    await api.post("/_mock/tick")
    assert (await api.get("/_mock/devices/2")).json()["profiles"] == []


async def test_profile_update_subset_and_delete(api: httpx.AsyncClient, clock: ManualClock) -> None:
    scope = device_list("mobile_devices", [1])
    created = await api.post(
        f"{PROFILES}/id/0", content=profile_xml("Ban", mobileconfig("org.school.ban"), scope)
    )
    profile_id = int(created.text.split("<id>")[1].split("</id>")[0])
    update = (
        "<configuration_profile><general><name>Ban level 1</name></general></configuration_profile>"
    )
    assert (await api.put(f"{PROFILES}/id/{profile_id}", content=update)).status_code == 201
    subset = (
        await api.get(f"{PROFILES}/id/{profile_id}/subset/General&Scope", headers=JSON)
    ).json()
    assert subset["configuration_profile"]["general"]["name"] == "Ban level 1"
    assert subset["configuration_profile"]["scope"]["mobile_devices"][0]["id"] == 1
    by_name = await api.get(f"{PROFILES}/name/Ban level 1")
    assert by_name.status_code == 200
    listing = (await api.get(PROFILES, headers=JSON)).json()
    assert listing == {"configuration_profiles": [{"id": profile_id, "name": "Ban level 1"}]}
    assert (await api.delete(f"{PROFILES}/id/{profile_id}")).status_code == 200
    assert (await api.get(f"{PROFILES}/id/{profile_id}")).status_code == 404


async def test_profile_errors(api: httpx.AsyncClient) -> None:
    scope = "<all_mobile_devices>false</all_mobile_devices>"
    await api.post(f"{PROFILES}/id/0", content=profile_xml("Ban", mobileconfig("a"), scope))
    duplicate = await api.post(
        f"{PROFILES}/id/0", content=profile_xml("Ban", mobileconfig("b"), scope)
    )
    assert duplicate.status_code == 409
    bad_plist = await api.post(
        f"{PROFILES}/id/0", content=profile_xml("Other", "not a plist", scope)
    )
    assert bad_plist.status_code == 409
    bad_group = group_scope(42)
    refused = await api.post(
        f"{PROFILES}/id/0", content=profile_xml("Third", mobileconfig("c"), bad_group)
    )
    assert refused.status_code == 409
    assert (await api.post(f"{PROFILES}/id/0", content=b"")).status_code == 400
