"""Jamf Pro webhooks: what is registered, which fleet events become which webhook, delivery.

Classic routes in ``mocks.jamf_pro.webhook_routes`` manage ``Webhook`` records here. The
dispatcher listens to the fleet (check-ins, completed commands), renders Jamf's event body and
posts it from a background task that the app's lifespan starts and stops. Deliveries are tried
once: Jamf documents no retries or signing, so the mock adds neither.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from mocks.commands import RequestType
from mocks.device import Device
from mocks.fleet import CheckedIn, CommandCompleted, Fleet, FleetEvent
from mocks.jamf_pro.xmlio import to_xml

log = logging.getLogger(__name__)

EVENTS = frozenset(
    {
        "MobileDeviceCheckIn",
        "MobileDeviceCommandCompleted",
        "MobileDeviceInventoryCompleted",
        "SmartGroupMobileDeviceMembershipChange",
    }
)
QUEUE_LIMIT = 10_000


@dataclass(frozen=True, kw_only=True)
class Webhook:
    webhook_id: int
    name: str
    enabled: bool = True
    url: str
    content_type: str = "application/json"
    event: str
    connection_timeout: int = 5
    read_timeout: int = 5
    authentication_type: str = "NONE"  # NONE | BASIC | HEADER
    username: str = ""
    password: str = ""
    header: str = ""  # "Name: value" for HEADER authentication


@dataclass(frozen=True, kw_only=True)
class Delivery:
    webhook_id: int
    event: str
    url: str
    status: int | None  # None when the receiver could not be reached
    error: str | None


class WebhookDispatcher:
    def __init__(self, fleet: Fleet, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.fleet = fleet
        self.hooks: dict[int, Webhook] = {}
        self.deliveries: deque[Delivery] = deque(maxlen=1000)
        self.dropped = 0
        self._transport = transport
        self._outbox: deque[tuple[Webhook, dict[str, Any]]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        fleet.subscribe(self._on_fleet_event)

    def next_id(self) -> int:
        return max(self.hooks, default=0) + 1

    def _on_fleet_event(self, event: FleetEvent) -> None:
        if not any(hook.enabled for hook in self.hooks.values()):
            return
        if isinstance(event, CheckedIn):
            device = self.fleet.devices[event.device_index]
            self._queue("MobileDeviceCheckIn", device, event.at, None, None)
        elif isinstance(event, CommandCompleted):
            command = event.command
            device = self.fleet.devices[command.device_index]
            kind = str(command.request_type)
            self._queue("MobileDeviceCommandCompleted", device, event.at, kind, command.uuid)
            if command.request_type is RequestType.DEVICE_INFORMATION:
                self._queue("MobileDeviceInventoryCompleted", device, event.at, kind, command.uuid)

    def _queue(
        self, event: str, device: Device, at: float, command: str | None, uuid: str | None
    ) -> None:
        for hook in self.hooks.values():
            if hook.enabled and hook.event == event:
                if len(self._outbox) >= QUEUE_LIMIT:
                    self.dropped += 1
                    continue
                self._outbox.append((hook, _body(hook, device, at, command, uuid)))
                self._wake.set()

    async def deliver_queued(self) -> int:
        """Send everything queued so far; returns how many deliveries were attempted."""
        sent = 0
        async with httpx.AsyncClient(transport=self._transport) as client:
            while self._outbox:
                hook, body = self._outbox.popleft()
                self.deliveries.append(await _post(client, hook, body))
                sent += 1
        return sent

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="jamf-pro-webhooks")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.deliver_queued()
            except Exception:  # a bad receiver must not end delivery for every other hook
                log.exception("webhook delivery failed")


async def _post(client: httpx.AsyncClient, hook: Webhook, body: dict[str, Any]) -> Delivery:
    headers = {"Content-Type": hook.content_type}
    if hook.authentication_type == "BASIC":
        pair = f"{hook.username}:{hook.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif hook.authentication_type == "HEADER" and ":" in hook.header:
        name, _, value = hook.header.partition(":")
        headers[name.strip()] = value.strip()
    content = (
        to_xml("JSSEvent", body["webhook"] | {"event": body["event"]})
        if hook.content_type == "text/xml"
        else json.dumps(body).encode()
    )
    timeout = httpx.Timeout(hook.read_timeout, connect=hook.connection_timeout)
    try:
        answer = await client.post(hook.url, content=content, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        return Delivery(
            webhook_id=hook.webhook_id,
            event=hook.event,
            url=hook.url,
            status=None,
            error=str(error),
        )
    return Delivery(
        webhook_id=hook.webhook_id,
        event=hook.event,
        url=hook.url,
        status=answer.status_code,
        error=None,
    )


def _body(
    hook: Webhook, device: Device, at: float, command: str | None, uuid: str | None
) -> dict[str, Any]:
    return {
        "webhook": {
            "id": hook.webhook_id,
            "name": hook.name,
            "webhookEvent": hook.event,
            "eventTimestamp": int(at * 1000),
        },
        "event": {
            "jssID": device.device_id,
            "udid": device.udid,
            "serialNumber": device.serial,
            "managementId": device.management_id,
            "deviceName": device.name,
            "model": device.model,
            "osVersion": device.os_version,
            "osBuild": "22B83",
            "username": device.pupil_ref,
            "room": device.class_name,
            "wifiMacAddress": device.wifi_mac,
            "mdmCommand": command,
            "mdmCommandUUID": uuid,
        },
    }
