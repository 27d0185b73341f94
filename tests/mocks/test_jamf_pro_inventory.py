"""Jamf Pro inventory: detail listing with sections, paging cap, filters, single records."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mocks.clock import ManualClock
from mocks.commands import RequestType
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.state import JamfProSettings
from tests.mocks.conftest import JAMF_USER, START

DETAIL = "/api/v2/mobile-devices/detail"


async def test_default_section_is_general_only(api: httpx.AsyncClient, fleet: Fleet) -> None:
    body = (await api.get(DETAIL, params={"sort": "mobileDeviceId:asc"})).json()
    assert body["totalCount"] == 10
    first = body["results"][0]
    device = fleet.devices[0]
    assert first["mobileDeviceId"] == "1"
    assert first["general"]["managementId"] == device.management_id
    assert first["general"]["udid"] == device.udid
    assert first["general"]["supervised"] is True
    assert first["general"]["lastInventoryUpdateDate"].endswith("Z")
    assert first["hardware"] is None
    assert first["security"] is None


@pytest.mark.parametrize(
    "params",
    [
        [
            ("section", "GENERAL"),
            ("section", "SECURITY"),
            ("section", "GROUPS"),
            ("section", "HARDWARE"),
        ],
        [("section", "GENERAL,SECURITY,GROUPS,HARDWARE")],
    ],
)
async def test_requested_sections_are_filled(
    api: httpx.AsyncClient, fleet: Fleet, params: list[tuple[str, str]]
) -> None:
    group = fleet.create_group(name="Curfew", description="home iPads")
    fleet.add_to_group(group, [fleet.devices[0]])
    body = (await api.get(DETAIL, params=[*params, ("filter", "mobileDeviceId==1")])).json()
    item = body["results"][0]
    assert item["hardware"]["serialNumber"] == fleet.devices[0].serial
    assert item["security"]["lostModeEnabled"] is False
    assert item["groups"] == [
        {
            "groupId": str(group.group_id),
            "groupName": "Curfew",
            "groupDescription": "home iPads",
            "smart": False,
        }
    ]
    assert item["userAndLocation"] is None


async def test_page_size_is_silently_capped_at_2000(clock: ManualClock) -> None:
    fleet = Fleet.build(FleetConfig(devices=4500, seed=2), clock)
    app = build_jamf_pro_app(fleet)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = (await c.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        pages = await asyncio.gather(
            *(c.get(DETAIL, params={"page": p, "page-size": 5000}) for p in range(3))
        )
    bodies = [page.json() for page in pages]
    assert [len(b["results"]) for b in bodies] == [2000, 2000, 500]
    assert {b["totalCount"] for b in bodies} == {4500}
    seen = [item["mobileDeviceId"] for b in bodies for item in b["results"]]
    assert len(set(seen)) == 4500
    names = [item["general"]["displayName"].casefold() for b in bodies for item in b["results"]]
    assert names == sorted(names)  # default sort: displayName ascending


async def test_default_page_size_is_100(clock: ManualClock) -> None:
    fleet = Fleet.build(FleetConfig(devices=150, seed=2), clock)
    app = build_jamf_pro_app(fleet)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = (await c.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        first = (await c.get(DETAIL)).json()
        second = (await c.get(DETAIL, params={"page": 1})).json()
    assert (len(first["results"]), len(second["results"])) == (100, 50)


async def test_filters_on_identity_state_and_groups(api: httpx.AsyncClient, fleet: Fleet) -> None:
    device = fleet.devices[3]
    group = fleet.create_group(name="Year 5 curfew")
    fleet.add_to_group(group, fleet.devices[:2])
    fleet.devices[5].supervised = False

    async def ids(text: str) -> list[str]:
        body = (await api.get(DETAIL, params={"filter": text, "sort": "mobileDeviceId:asc"})).json()
        return [item["mobileDeviceId"] for item in body["results"]]

    assert await ids(f"udid=={device.udid}") == ["4"]
    assert await ids(f"managementId=={device.management_id.upper()}") == ["4"]
    assert await ids(f"serialNumber=in=({device.serial},{fleet.devices[4].serial})") == ["4", "5"]
    assert await ids("supervised==false") == ["6"]
    assert await ids(f"groupId=={group.group_id}") == ["1", "2"]
    assert await ids('groupName=="year 5 CURFEW"') == ["1", "2"]
    assert await ids("mobileDeviceId=out=(1,2,3,4,5,6,7,8)") == ["9", "10"]
    fleet.enqueue(fleet.devices[7], RequestType.ENABLE_LOST_MODE, {"message": "m"}, source="t")
    fleet.check_in(fleet.devices[7])
    assert await ids("lostModeEnabled==true") == ["8"]
    assert await ids("lastInventoryUpdateDate>2026-11-23T18:59:59Z;mobileDeviceId==8") == ["8"]


async def test_bad_filter_and_section_get_api_errors(api: httpx.AsyncClient) -> None:
    bad_filter = await api.get(DETAIL, params={"filter": "colour==red"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["errors"][0]["code"] == "INVALID_FIELD"
    bad_section = await api.get(DETAIL, params={"section": "SHOE_SIZE"})
    assert bad_section.status_code == 400
    bad_page = await api.get(DETAIL, params={"page-size": "many"})
    assert bad_page.status_code == 400


async def test_strict_page_with_a_broken_device_is_a_500_lenient_gives_nulls(
    fleet: Fleet,
) -> None:
    app = build_jamf_pro_app(fleet, settings=JamfProSettings(broken_device_ids=frozenset({2})))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = (await c.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        strict = await c.get(DETAIL)
        lenient = await c.get(DETAIL, params={"exception-handling": "LENIENT", "sort": "id:asc"})
    assert strict.status_code == 500
    assert strict.json() == {"httpStatus": 500, "errors": []}
    items = lenient.json()["results"]
    assert items[1]["general"] is None
    assert items[0]["general"] is not None


async def test_plain_listing_ignores_filter_and_has_no_supervision(
    api: httpx.AsyncClient, fleet: Fleet
) -> None:
    body = (await api.get("/api/v2/mobile-devices", params={"filter": "id==3"})).json()
    assert body["totalCount"] == 10
    first = body["results"][0]
    assert first["id"] == "1"
    assert first["managementId"] == fleet.devices[0].management_id
    assert "supervised" not in first


async def test_single_records_and_unknown_ids(api: httpx.AsyncClient, fleet: Fleet) -> None:
    one = (await api.get("/api/v2/mobile-devices/3")).json()
    assert one["serialNumber"] == fleet.devices[2].serial
    detail = (await api.get("/api/v2/mobile-devices/3/detail")).json()
    assert detail["managementId"] == fleet.devices[2].management_id
    assert detail["ios"]["supervised"] is True
    assert "lostModeEnabled" not in str(detail)
    missing = await api.get("/api/v2/mobile-devices/999")
    assert missing.status_code == 404
    assert missing.json()["httpStatus"] == 404
    assert (await api.get("/api/v2/mobile-devices/abc/detail")).status_code == 404


async def test_classic_inventory_lists_everything_in_xml_or_json(
    api: httpx.AsyncClient, fleet: Fleet
) -> None:
    as_json = (
        await api.get("/JSSResource/mobiledevices", headers={"Accept": "application/json"})
    ).json()
    assert len(as_json["mobile_devices"]) == 10
    as_xml = await api.get("/JSSResource/mobiledevices")
    assert as_xml.headers["content-type"].startswith("text/xml")
    assert as_xml.text.count("<mobile_device>") == 10
    record = (
        await api.get("/JSSResource/mobiledevices/id/2", headers={"Accept": "application/json"})
    ).json()["mobile_device"]
    assert record["general"]["udid"] == fleet.devices[1].udid
    assert record["security"]["lost_mode_enabled"] is False
    missing = await api.get("/JSSResource/mobiledevices/id/77")
    assert missing.status_code == 404
    assert "Not Found" in missing.text


async def test_classic_lost_mode_can_be_text(fleet: Fleet) -> None:
    settings = JamfProSettings(text_lost_mode_device_ids=frozenset({1}))
    app = build_jamf_pro_app(fleet, settings=settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        token = (await c.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        record = await c.get("/JSSResource/mobiledevices/id/1")
    assert "<lost_mode_enabled>Unsupported OS Version" in record.text


def test_start_constant_is_utc() -> None:
    assert START.utcoffset() is not None
