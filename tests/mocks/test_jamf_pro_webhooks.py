"""Jamf Pro webhooks: Classic registration, event bodies, auth headers, background delivery."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx

from mocks.commands import RequestType
from mocks.fleet import Fleet
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.serve import running_app
from tests.mocks.conftest import JAMF_USER

HOOKS = "/JSSResource/webhooks"


class Receiver:
    """The school's webhook endpoint, as an httpx transport that records what arrives."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.arrived = asyncio.Event()
        self.status = status

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        self.arrived.set()
        return httpx.Response(self.status)


def hook_xml(name: str, event: str, extra: str = "") -> str:
    return (
        f"<webhook><name>{name}</name><enabled>true</enabled><url>https://hooks.school.example/in</url>"
        f"<content_type>application/json</content_type><event>{event}</event>{extra}</webhook>"
    )


async def logged_in(client: httpx.AsyncClient) -> httpx.AsyncClient:
    token = (await client.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


async def test_command_completed_webhook_names_the_command(fleet: Fleet) -> None:
    receiver = Receiver()
    app = build_jamf_pro_app(fleet, webhook_transport=httpx.MockTransport(receiver))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        api = await logged_in(client)
        auth = (
            "<authentication_type>BASIC</authentication_type>"
            "<username>u</username><password>p</password>"
        )
        created = await api.post(
            f"{HOOKS}/id/0", content=hook_xml("Done", "MobileDeviceCommandCompleted", auth)
        )
        assert created.status_code == 201
        device = fleet.devices[0]
        command = fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, {"message": "m"}, source="t")
        fleet.check_in(device)
        flushed = (await api.post("/_mock/jamf-pro/webhook-deliveries/flush")).json()
        assert flushed == {"attempted": 1}
        body = json.loads(receiver.requests[0].content)
        assert body["webhook"]["webhookEvent"] == "MobileDeviceCommandCompleted"
        assert body["webhook"]["eventTimestamp"] == int(fleet.now() * 1000)
        assert body["event"]["managementId"] == device.management_id
        assert body["event"]["mdmCommandUUID"] == command.uuid
        assert body["event"]["mdmCommand"] == "EnableLostMode"
        expected = "Basic " + base64.b64encode(b"u:p").decode()
        assert receiver.requests[0].headers["Authorization"] == expected
        record = (await api.get(f"{HOOKS}/id/1", headers={"Accept": "application/json"})).json()
        assert record["webhook"]["event"] == "MobileDeviceCommandCompleted"
        assert "password" not in record["webhook"]
        log = (await api.get("/_mock/jamf-pro/webhook-deliveries")).json()
        assert log["deliveries"][0]["status"] == 200


async def test_check_in_webhook_in_xml_with_header_auth(fleet: Fleet) -> None:
    receiver = Receiver()
    app = build_jamf_pro_app(fleet, webhook_transport=httpx.MockTransport(receiver))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        api = await logged_in(client)
        extra = (
            "<authentication_type>HEADER</authentication_type><header>X-Hook-Key: s3cret</header>"
        )
        body = hook_xml("Seen", "MobileDeviceCheckIn", extra).replace(
            "application/json", "text/xml"
        )
        assert (await api.post(f"{HOOKS}/id/0", content=body)).status_code == 201
        fleet.check_in(fleet.devices[1])
        await api.post("/_mock/jamf-pro/webhook-deliveries/flush")
    arrived = receiver.requests[0]
    assert arrived.headers["X-Hook-Key"] == "s3cret"
    assert arrived.content.startswith(b"<?xml")
    assert b"<webhookEvent>MobileDeviceCheckIn</webhookEvent>" in arrived.content
    assert fleet.devices[1].udid.encode() in arrived.content


async def test_webhooks_are_delivered_in_the_background_while_serving(fleet: Fleet) -> None:
    receiver = Receiver(status=500)
    app = build_jamf_pro_app(fleet, webhook_transport=httpx.MockTransport(receiver))
    async with running_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        api = await logged_in(client)
        await api.post(f"{HOOKS}/id/0", content=hook_xml("Seen", "MobileDeviceCheckIn"))
        fleet.check_in(fleet.devices[2])
        await asyncio.wait_for(receiver.arrived.wait(), timeout=5)
        await asyncio.sleep(0)
        log = (await api.get("/_mock/jamf-pro/webhook-deliveries")).json()
    assert [d["status"] for d in log["deliveries"]] == [500]  # tried once, never retried


async def test_webhook_validation_and_crud(api: httpx.AsyncClient) -> None:
    bad_event = await api.post(f"{HOOKS}/id/0", content=hook_xml("X", "ComputerAdded"))
    assert bad_event.status_code == 409
    bad_timeout = await api.post(
        f"{HOOKS}/id/0",
        content=hook_xml("Y", "MobileDeviceCheckIn", "<read_timeout>60</read_timeout>"),
    )
    assert bad_timeout.status_code == 409
    assert (
        await api.post(f"{HOOKS}/id/0", content=hook_xml("Z", "MobileDeviceCheckIn"))
    ).status_code == 201
    duplicate = await api.post(f"{HOOKS}/id/0", content=hook_xml("Z", "MobileDeviceCheckIn"))
    assert duplicate.status_code == 409
    off = "<webhook><enabled>false</enabled></webhook>"
    assert (await api.put(f"{HOOKS}/name/Z", content=off)).status_code == 201
    listing = (await api.get(HOOKS, headers={"Accept": "application/json"})).json()
    assert listing == {"webhooks": [{"id": 1, "name": "Z"}]}
    assert (await api.delete(f"{HOOKS}/id/1")).status_code == 200
    assert (await api.get(f"{HOOKS}/id/1")).status_code == 404
