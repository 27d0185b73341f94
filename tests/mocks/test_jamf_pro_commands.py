"""Jamf Pro v2 MDM commands: bulk send, validation, status life cycle, blank push, Classic."""

from __future__ import annotations

from typing import Any

import httpx

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.state import JamfProSettings
from tests.mocks.conftest import JAMF_USER

COMMANDS = "/api/v2/mdm/commands"
LOCK = {
    "commandType": "ENABLE_LOST_MODE",
    "lostModeMessage": "Curfew: this iPad rests until 07:00",
    "lostModePhone": "01234 567890",
    "lostModeFootnote": "School ICT",
}


def clients(fleet: Fleet, *indexes: int) -> list[dict[str, str]]:
    return [{"managementId": fleet.devices[i].management_id} for i in indexes]


async def status_of(api: httpx.AsyncClient, uuid: str) -> dict[str, Any]:
    body = (await api.get(COMMANDS, params={"filter": f"uuid=={uuid}"})).json()
    assert body["totalCount"] == 1
    result: dict[str, Any] = body["results"][0]
    return result


async def relogin(api: httpx.AsyncClient) -> None:
    token = (await api.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
    api.headers["Authorization"] = f"Bearer {token}"


async def lost_mode_of(api: httpx.AsyncClient, device_id: int) -> bool:
    body = (
        await api.get(
            "/api/v2/mobile-devices/detail",
            params={"section": "SECURITY", "filter": f"mobileDeviceId=={device_id}"},
        )
    ).json()
    enabled: bool = body["results"][0]["security"]["lostModeEnabled"]
    return enabled


async def test_bulk_send_answers_one_entry_per_device(api: httpx.AsyncClient, fleet: Fleet) -> None:
    answer = await api.post(
        COMMANDS, json={"clientData": clients(fleet, 0, 1, 2), "commandData": LOCK}
    )
    assert answer.status_code == 201
    entries = answer.json()
    assert len(entries) == 3
    assert all(set(entry) == {"id", "href"} for entry in entries)
    assert len({entry["id"] for entry in entries}) == 3


async def test_life_cycle_pending_then_acknowledged(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    sent = await api.post(COMMANDS, json={"clientData": clients(fleet, 0), "commandData": LOCK})
    uuid = sent.json()[0]["id"]
    pending = await status_of(api, uuid)
    assert pending["commandState"] == "PENDING"
    assert pending["commandType"] == "ENABLE_LOST_MODE"
    assert pending["client"] == {
        "managementId": fleet.devices[0].management_id,
        "clientType": "MOBILE_DEVICE",
    }
    assert pending["dateCompleted"] is not None
    assert await lost_mode_of(api, 1) is False  # queueing alone flips nothing
    clock.advance(60)
    await api.post("/_mock/tick")
    done = await status_of(api, uuid)
    assert done["commandState"] == "ACKNOWLEDGED"
    assert done["dateCompleted"] > done["dateSent"]
    assert await lost_mode_of(api, 1) is True


async def test_errors_and_not_now_show_in_status(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    release = {"commandType": "DISABLE_LOST_MODE"}
    sent = await api.post(COMMANDS, json={"clientData": clients(fleet, 0), "commandData": release})
    uuid = sent.json()[0]["id"]
    clock.advance(60)
    await api.post("/_mock/tick")
    failed = await status_of(api, uuid)
    assert failed["commandState"] == "ERROR"
    assert failed["commandError"]["errorCode"] == 12067


async def test_unsupervised_device_fails_lost_mode_at_check_in(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    fleet.devices[0].supervised = False
    sent = await api.post(COMMANDS, json={"clientData": clients(fleet, 0), "commandData": LOCK})
    clock.advance(60)
    await api.post("/_mock/tick")
    assert (await status_of(api, sent.json()[0]["id"]))["commandState"] == "ERROR"


async def test_unsupervised_can_be_refused_at_post(fleet: Fleet) -> None:
    fleet.devices[0].supervised = False
    settings = JamfProSettings(refuse_unsupervised_lost_mode_at_post=True)
    app = build_jamf_pro_app(fleet, settings=settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = (await c.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        answer = await c.post(
            COMMANDS, json={"clientData": clients(fleet, 0, 1), "commandData": LOCK}
        )
    assert answer.status_code == 400
    assert fleet.pending_for(fleet.devices[1]) == []


async def test_offline_device_runs_lock_then_unlock_on_return(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    device = fleet.devices[4]
    await api.post(f"/_mock/devices/{device.udid}/offline", json={})
    lock = (
        await api.post(COMMANDS, json={"clientData": clients(fleet, 4), "commandData": LOCK})
    ).json()
    clock.advance(11 * 3600)
    await relogin(api)  # the 30-minute user token died overnight
    unlock = (
        await api.post(
            COMMANDS,
            json={
                "clientData": clients(fleet, 4),
                "commandData": {"commandType": "DISABLE_LOST_MODE"},
            },
        )
    ).json()
    await api.post("/_mock/tick")
    assert (await status_of(api, lock[0]["id"]))["commandState"] == "PENDING"
    await api.post(f"/_mock/devices/{device.udid}/online")
    clock.advance(60)
    await api.post("/_mock/tick")
    assert (await status_of(api, lock[0]["id"]))["commandState"] == "ACKNOWLEDGED"
    assert (await status_of(api, unlock[0]["id"]))["commandState"] == "ACKNOWLEDGED"
    truth = (await api.get(f"/_mock/devices/{device.udid}")).json()
    assert truth["lostMode"] is None
    assert [n["kind"] for n in truth["notices"]] == ["lost_mode_turned_off"]


async def test_status_listing_needs_a_filter_and_filters_by_client(
    api: httpx.AsyncClient, fleet: Fleet
) -> None:
    no_filter = await api.get(COMMANDS)
    assert no_filter.status_code == 400
    assert no_filter.json() == {"httpStatus": 400, "errors": []}
    await api.post(COMMANDS, json={"clientData": clients(fleet, 0, 1), "commandData": LOCK})
    await api.post(
        COMMANDS,
        json={"clientData": clients(fleet, 0), "commandData": {"commandType": "DEVICE_LOCK"}},
    )
    device = fleet.devices[0].management_id
    mine = (await api.get(COMMANDS, params={"filter": f"clientManagementId=={device}"})).json()
    assert mine["totalCount"] == 2
    locks = (
        await api.get(
            COMMANDS, params={"filter": f"clientManagementId=={device};command==ENABLE_LOST_MODE"}
        )
    ).json()
    assert [r["commandType"] for r in locks["results"]] == ["ENABLE_LOST_MODE"]
    pending = (await api.get(COMMANDS, params={"filter": "status==Pending"})).json()
    assert pending["totalCount"] == 3


async def test_validation_errors(api: httpx.AsyncClient, fleet: Fleet) -> None:
    empty = await api.post(COMMANDS, json={})
    assert empty.status_code == 500
    assert empty.json() == {"httpStatus": 500, "errors": []}
    no_clients = await api.post(COMMANDS, json={"clientData": [], "commandData": LOCK})
    assert no_clients.status_code == 400
    assert no_clients.json()["errors"][0]["code"] == "INVALID_FIELD"
    no_data = await api.post(COMMANDS, json={"clientData": clients(fleet, 0), "commandData": {}})
    assert no_data.json()["errors"][0]["code"] == "INVALID_FIELD"
    no_message = await api.post(
        COMMANDS,
        json={"clientData": clients(fleet, 0), "commandData": {"commandType": "ENABLE_LOST_MODE"}},
    )
    assert no_message.status_code == 400
    inventory = await api.post(
        COMMANDS,
        json={"clientData": clients(fleet, 0), "commandData": {"commandType": "UPDATE_INVENTORY"}},
    )
    assert inventory.status_code == 400
    unknown = await api.post(
        COMMANDS, json={"clientData": [{"managementId": "nope"}], "commandData": LOCK}
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "clientData[0].managementId"
    garbled = await api.post(
        COMMANDS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert garbled.status_code == 400
    assert garbled.json()["httpStatus"] == 400
    assert all(fleet.pending_for(d) == [] for d in fleet.devices)


async def test_blank_push_wakes_online_devices(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    device = fleet.devices[0]
    before = device.last_checkin
    answer = await api.post(
        "/api/v2/mdm/blank-push", json={"clientManagementIds": [device.management_id, "ghost"]}
    )
    assert answer.status_code == 200
    assert answer.json() == {"errorUuids": ["ghost"]}
    clock.advance(device.push_delay + 0.01)
    await api.post("/_mock/tick")
    assert device.last_checkin > before


async def test_classic_enable_lost_mode_with_comma_ids(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    body = (
        "<mobile_device_command><general><lost_mode_message>Curfew</lost_mode_message>"
        "</general></mobile_device_command>"
    )
    answer = await api.post(
        "/JSSResource/mobiledevicecommands/command/EnableLostMode/id/1,2", content=body
    )
    assert answer.status_code == 201
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text.count("<status>Command sent</status>") == 2
    clock.advance(60)
    fleet.tick()
    assert fleet.devices[0].lost_mode is not None
    assert fleet.devices[1].lost_mode is not None


async def test_classic_full_xml_command(api: httpx.AsyncClient, fleet: Fleet) -> None:
    body = (
        "<mobile_device_command><general><command>EnableLostMode</command>"
        "<lost_mode_phone>0123</lost_mode_phone><always_enforce_lost_mode>false</always_enforce_lost_mode>"
        "</general><mobile_devices><mobile_device><id>4</id></mobile_device></mobile_devices>"
        "</mobile_device_command>"
    )
    answer = await api.post("/JSSResource/mobiledevicecommands/command", content=body)
    assert answer.status_code == 201
    pending = fleet.pending_for(fleet.devices[3])
    assert pending[0].params == {
        "message": None,
        "phone": "0123",
        "footnote": None,
        "always_enforce": False,
    }


async def test_classic_commands_removed_in_newer_versions(
    api: httpx.AsyncClient, fleet: Fleet
) -> None:
    for name in ("DisableLostMode", "ClearPasscode", "BlankPush", "RestartDevice", "DeviceLock"):
        answer = await api.post(f"/JSSResource/mobiledevicecommands/command/{name}/id/1")
        assert answer.status_code == 400, name
        assert "Status page" in answer.text
    inventory = await api.post("/JSSResource/mobiledevicecommands/command/UpdateInventory/id/1")
    assert inventory.status_code == 201
    assert inventory.headers["deprecation"] == "true"


async def test_older_version_still_accepts_classic_disable(fleet: Fleet) -> None:
    app = build_jamf_pro_app(fleet, settings=JamfProSettings(version="11.20.0"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = (await c.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        disable = await c.post("/JSSResource/mobiledevicecommands/command/DisableLostMode/id/1")
        lock = await c.post("/JSSResource/mobiledevicecommands/command/DeviceLock/id/1")
        version = (await c.get("/api/v1/jamf-pro-version")).json()
    assert (disable.status_code, lock.status_code) == (201, 201)
    assert version == {"version": "11.20.0"}


async def test_classic_command_unknown_device_and_bad_xml(api: httpx.AsyncClient) -> None:
    unknown = await api.post("/JSSResource/mobiledevicecommands/command/EnableLostMode/id/1,99")
    assert unknown.status_code == 404
    bad = await api.post("/JSSResource/mobiledevicecommands/command", content=b"<oops")
    assert bad.status_code == 400
    assert "Status page" in bad.text


async def test_command_flush_and_history(api: httpx.AsyncClient, fleet: Fleet) -> None:
    await api.post(COMMANDS, json={"clientData": clients(fleet, 0, 1), "commandData": LOCK})
    history = (
        await api.get(
            "/JSSResource/mobiledevicehistory/id/1/subset/ManagementCommands",
            headers={"Accept": "application/json"},
        )
    ).json()["mobile_device_history"]
    assert len(history["management_commands"]["pending"]) == 1
    flushed = await api.delete(
        "/JSSResource/commandflush/mobiledevices/id/1,2/status/Pending+Failed"
    )
    assert flushed.status_code == 200
    assert fleet.pending_for(fleet.devices[0]) == []
    assert fleet.pending_for(fleet.devices[1]) == []


async def test_classic_command_history_by_uuid_and_name(
    api: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    sent = await api.post(
        "/JSSResource/mobiledevicecommands/command/EnableLostMode/id/3", content=b""
    )
    assert sent.status_code == 409  # Lost Mode needs a message or a phone number
    sent = await api.post(COMMANDS, json={"clientData": clients(fleet, 2), "commandData": LOCK})
    uuid = sent.json()[0]["id"]
    json_accept = {"Accept": "application/json"}
    pending = (
        await api.get(f"/JSSResource/mobiledevicecommands/uuid/{uuid}", headers=json_accept)
    ).json()
    assert pending["mobile_device_command"]["apns_result_status"] == ""
    clock.advance(60)
    await api.post("/_mock/tick")
    done = (
        await api.get(f"/JSSResource/mobiledevicecommands/uuid/{uuid}", headers=json_accept)
    ).json()
    assert done["mobile_device_command"]["apns_result_status"] == "Acknowledged"
    assert done["mobile_device_command"]["mobile_devices"] == [
        {"id": 3, "udid": fleet.devices[2].udid}
    ]
    by_name = await api.get("/JSSResource/mobiledevicecommands/command/EnableLostMode")
    assert by_name.text.count("<apns_result_status>Acknowledged</apns_result_status>") == 1
    everything = (await api.get("/JSSResource/mobiledevicecommands", headers=json_accept)).json()
    assert len(everything["mobile_device_commands"]) == 1
    assert (await api.get("/JSSResource/mobiledevicecommands/uuid/nope")).status_code == 404
