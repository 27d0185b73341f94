"""The Jamf Pro connector: what the reconcile loop sees of one Jamf Pro instance.

Inventory streams every page of the detail listing; `observe` reads Lost Mode, bridge-owned
group membership, installed bridge profiles and pending lock commands for the devices asked
about; `apply` turns a batch into few requests (one Lost Mode command per message for many
devices, one membership edit per group) through `batches.py`, and `read_outcomes` re-reads
Jamf's command records so a device that has not answered is reported PENDING, never done.
Every request goes through one `VendorHttp` (5 connections at most, as Jamf asks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import httpx

from connectors.base import (
    ActionResult,
    Capability,
    ClockLike,
    ConnectorConfig,
    Outcome,
    ordered_results,
    refuse_unsupported,
)
from connectors.http import HttpPolicy, Sleep, VendorHttp
from connectors.jamf_pro.auth import token_source
from connectors.jamf_pro.batches import BatchApplier
from connectors.jamf_pro.commands import (
    LostModeText,
    command_records,
    pending_commands,
    rsql_in,
    settled,
)
from connectors.jamf_pro.groups import StaticGroups
from connectors.jamf_pro.inventory import (
    IDENTITY_SECTIONS,
    STATE_SECTIONS,
    Ownership,
    detail_pages,
    device_ref,
    observed_device,
)
from connectors.jamf_pro.profiles import ConfigurationProfiles
from connectors.parsing import field
from mdm_bridge.model import Action, DeviceRef, ObservedDevice, Vendor

JAMF_PRO_POLICY = HttpPolicy(max_connections=5)
DEVICES_PER_OBSERVATION = 500  # ids per RSQL filter: a URL of a few kilobytes
UUIDS_PER_STATUS_READ = 50


class JamfProConnector:
    vendor = Vendor.JAMF_PRO
    capabilities = frozenset(
        {Capability.LOST_MODE, Capability.PROFILES_BY_GROUP, Capability.BULK_COMMANDS}
    )

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        client: httpx.AsyncClient,
        clock: ClockLike,
        sleep: Sleep = asyncio.sleep,
        policy: HttpPolicy = JAMF_PRO_POLICY,
    ) -> None:
        self.name = config.name
        self._base = config.base_url.rstrip("/")
        self._clock = clock
        self._http = VendorHttp(client, clock=clock, policy=policy, sleep=sleep)
        self._http.auth = token_source(config, self._http, clock)
        self._ownership = Ownership(
            group_prefix=config.option("group_prefix", "mdm-bridge: "),
            identifier_prefix=config.option("identifier_prefix", "org.mdm-bridge."),
        )
        self._profiles = ConfigurationProfiles(self._http, self._base, sleep)
        self._applier = BatchApplier(
            http=self._http,
            base_url=self._base,
            groups=StaticGroups(self._http, self._base, sleep),
            profiles=self._profiles,
            ownership=self._ownership,
            text=LostModeText(
                phone=config.options.get("lost_mode_phone", ""),
                footnote=config.options.get("lost_mode_footnote", ""),
            ),
            batch_size=int(config.option("command_batch_size", "1000")),
        )

    def __repr__(self) -> str:
        return f"JamfProConnector(name={self.name!r}, base_url={self._base!r})"

    async def list_devices(self) -> AsyncIterator[DeviceRef]:
        pages = detail_pages(self._http, self._base, IDENTITY_SECTIONS, what=self.name)
        async for label, items in pages:
            for index, item in enumerate(items):
                ref = device_ref(self.name, item, f"{label} results[{index}]")
                if ref is not None:
                    yield ref

    async def observe(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]:
        """The state of `devices` that Jamf knows; devices it no longer lists are left out."""
        chunks = [
            devices[start : start + DEVICES_PER_OBSERVATION]
            for start in range(0, len(devices), DEVICES_PER_OBSERVATION)
        ]
        if not chunks:
            return []
        async with asyncio.TaskGroup() as group:
            profile_names = group.create_task(self._profiles.ids_by_name())
            tasks = [group.create_task(self._observe_chunk(chunk)) for chunk in chunks]
        # Membership of a bridge group means "on its way" only while the group's profile
        # exists: a profile someone deleted in Jamf never arrives, so the device is reported
        # outside the group and the next plan installs it again (which re-creates it).
        existing = profile_names.result()
        return [
            found
            if all(self._ownership.group_name(i) in existing for i in found.groups)
            else replace(
                found,
                groups=frozenset(
                    i for i in found.groups if self._ownership.group_name(i) in existing
                ),
            )
            for task in tasks
            for found in task.result()
        ]

    async def _observe_chunk(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]:
        wanted = {device.vendor_id: device for device in devices}
        items: list[tuple[DeviceRef, object, str]] = []
        rsql = rsql_in("mobileDeviceId", list(wanted))
        what = f"{self.name} observation"
        # Pending commands first, Lost Mode second: a lock the iPad carries out between the two
        # reads then shows as pending, or as Lost Mode, or both. In the other order it could
        # show as neither (no longer pending, not yet read as locked) and be sent again.
        management_ids = [ref.management_id for ref in devices if ref.management_id]
        pending = await pending_commands(self._http, self._base, management_ids, what)
        async for label, page in detail_pages(
            self._http, self._base, STATE_SECTIONS, rsql=rsql, what=what
        ):
            for index, item in enumerate(page):
                vendor_id = field(item, "mobileDeviceId", str)
                if vendor_id in wanted:
                    items.append((wanted[vendor_id], item, f"{label} results[{index}]"))
        observed_at = self._clock.now()
        return [
            observed_device(
                ref,
                item,
                label,
                ownership=self._ownership,
                observed_at=observed_at,
                pending=pending.get(ref.management_id or "", ()),
            )
            for ref, item, label in items
        ]

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        doable, refused = refuse_unsupported(actions, self.capabilities)
        return ordered_results(actions, refused, await self._applier.apply(doable))

    async def read_outcomes(self, results: Sequence[ActionResult]) -> list[ActionResult]:
        """Re-judge accepted commands by Jamf's own record of them (see `settled`)."""
        references = [
            r.vendor_reference
            for r in results
            if r.outcome is Outcome.ACCEPTED and r.vendor_reference
        ]
        records = {}
        for start in range(0, len(references), UUIDS_PER_STATUS_READ):
            chunk = [ref for ref in references[start : start + UUIDS_PER_STATUS_READ] if ref]
            what = f"{self.name} command status"
            for record in await command_records(
                self._http, self._base, rsql_in("uuid", chunk), what
            ):
                records[record.uuid] = record
        return [
            settled(result, records.get(result.vendor_reference or ""))
            if result.outcome is Outcome.ACCEPTED
            else result
            for result in results
        ]

    async def aclose(self) -> None:
        """The HTTP client belongs to the caller; nothing else to release."""


def create_connector(
    config: ConnectorConfig,
    *,
    client: httpx.AsyncClient,
    clock: ClockLike,
    sleep: Sleep = asyncio.sleep,
) -> JamfProConnector:
    return JamfProConnector(config, client=client, clock=clock, sleep=sleep)
