"""The Jamf School connector: inventory, observation and profile changes by group membership.

The reconcile loop reaches it through `create_connector` (named in the registry). Jamf School's
API cannot lock an iPad, start Lost Mode or scope a profile, so the connector offers only
PROFILES_BY_GROUP: every bridge profile is a console-made profile scoped to a
static group (`profile_groups`, checked by `verify`), and installing or removing it is a move into
or out of that group (`connectors.jamf_school.moves`). Lock and unlock are refused up front, so
the planner can choose a profile-based curfew instead. All requests go through
`connectors.jamf_school.api`, the one place Jamf School's failures are translated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import httpx

from connectors.base import (
    ActionResult,
    Capability,
    ClockLike,
    ConnectorConfig,
    ConnectorError,
    FailureKind,
    Outcome,
    ordered_results,
    refuse_unsupported,
)
from connectors.http import HttpPolicy, Sleep, VendorHttp
from connectors.jamf_school.api import JamfSchoolApi
from connectors.jamf_school.delivery import DeliveryTracker
from connectors.jamf_school.mapping import GroupMap, resolve
from connectors.jamf_school.moves import DIRECTION, apply_moves
from connectors.jamf_school.settings import JamfSchoolSettings
from connectors.jamf_school.wire import JamfDevice
from mdm_bridge.model import Action, DeviceRef, LockState, ObservedDevice, Vendor

# Jamf documents no limit for Jamf School; Jamf Pro's advice (at most 5 connections) is the
# nearest guidance. Its own SDK gives up on a request after 30 s.
JAMF_SCHOOL_POLICY = HttpPolicy(max_connections=5, timeout=30.0)
# Up to this many devices are observed one by one; beyond it, one read of the whole inventory
# (which has no paging) is cheaper than many small reads.
SINGLE_READS_UP_TO = 10


class JamfSchoolConnector:
    vendor = Vendor.JAMF_SCHOOL
    # Group moves carry many devices per request, but they are not MDM commands: no
    # BULK_COMMANDS, and no LOST_MODE (Jamf School's API cannot lock an iPad).
    capabilities = frozenset({Capability.PROFILES_BY_GROUP})

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        client: httpx.AsyncClient,
        clock: ClockLike,
        sleep: Sleep = asyncio.sleep,
        policy: HttpPolicy = JAMF_SCHOOL_POLICY,
    ) -> None:
        self.name = config.name
        self._settings = JamfSchoolSettings.read(config)
        self._clock = clock
        http = VendorHttp(client, clock=clock, policy=policy, sleep=sleep)
        self._api = JamfSchoolApi(self._settings, http)
        self._group_map: GroupMap | None = None
        self._verifying = asyncio.Lock()
        self._deliveries = DeliveryTracker()

    def __repr__(self) -> str:
        return f"JamfSchoolConnector(name={self.name!r}, base_url={self._settings.base_url!r})"

    async def verify(self) -> GroupMap:
        """Check at start that every mapped group exists and can carry its profile.

        Raises `AuthError` naming each bad `profile_groups` entry (and for refused credentials
        or a key without the right to read groups). The answer is kept for later batches.
        """
        async with self._verifying:
            group_map = resolve(self.name, self._settings.group_choices, await self._api.groups())
            self._group_map = group_map
            return group_map

    async def _mapped_groups(self) -> GroupMap:
        return self._group_map if self._group_map is not None else await self.verify()

    async def list_devices(self) -> AsyncIterator[DeviceRef]:
        """Every iPad of the tenant; Jamf School returns them all at once (no paging)."""
        for device in await self._api.devices():
            if device.is_ipad and not device.in_trash:
                yield self._ref(device)

    def _ref(self, device: JamfDevice) -> DeviceRef:
        return DeviceRef(
            mdm_instance=self.name,
            vendor_id=device.udid,
            serial_number=device.serial_number,
            udid=device.udid,
        )

    async def observe(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]:
        """Which bridge groups (so which bridge profiles) each device is in, and its check-in.

        Jamf School shows no per-device profile list: a profile counts as present when the
        device is in its group and has checked in since the bridge moved it there (see
        `connectors.jamf_school.delivery`); a move not yet delivered is a pending command.
        Lock state is unknowable here. Devices Jamf School no longer knows are left out.
        """
        if not devices:
            return []
        group_map = await self._mapped_groups()
        found = await self._read_devices(devices)
        observed_at = self._clock.now()
        observations = []
        for ref in devices:
            device = found.get(ref.udid or ref.vendor_id)
            if device is None:
                continue
            view = self._deliveries.delivered_view(device, group_map)
            observations.append(
                ObservedDevice(
                    ref=ref,
                    observed_at=observed_at,
                    supervised=device.supervised,
                    lock=LockState.UNKNOWN,
                    profiles=view.profiles,
                    groups=group_map.bridge_groups_in(device.group_ids),
                    last_check_in=device.last_check_in,
                    pending_commands=view.pending,
                )
            )
        return observations

    async def _read_devices(self, devices: Sequence[DeviceRef]) -> dict[str, JamfDevice]:
        udids = list(dict.fromkeys(ref.udid or ref.vendor_id for ref in devices))
        if len(udids) > SINGLE_READS_UP_TO:
            return {device.udid: device for device in await self._api.devices()}
        # return_exceptions: every read finishes before an error is raised, so none is left behind.
        answers = await asyncio.gather(
            *(self._api.device(udid) for udid in udids), return_exceptions=True
        )
        found: dict[str, JamfDevice] = {}
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
            if answer is not None:
                found[answer.udid] = answer
        return found

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Profile installs and removals as group moves; lock and unlock are refused unsent."""
        doable, refused = refuse_unsupported(actions, self.capabilities)
        if not doable:
            return ordered_results(actions, refused, [])
        try:
            group_map = await self._mapped_groups()
        except ConnectorError as error:
            failed = [
                ActionResult(
                    action=action, outcome=Outcome.FAILED, failure=error.kind, detail=error.message
                )
                for action in doable
            ]
            return ordered_results(actions, refused, failed)
        done = await apply_moves(self._api, group_map, doable)
        accepted_at = self._clock.now()
        for result in done:
            if result.outcome is Outcome.ACCEPTED and result.action.profile is not None:
                group = group_map.group_for(result.action.profile.identifier)
                assert group is not None  # only mapped profiles are moved
                device = result.action.device
                direction = DIRECTION[result.action.kind]
                self._deliveries.record(
                    device.udid or device.vendor_id, group.group_id, direction, accepted_at
                )
        if any(result.failure is FailureKind.AUTH for result in done):
            self._group_map = None  # a group may have gone: check the mapping again next time
        return ordered_results(actions, refused, done)

    async def aclose(self) -> None:
        """The HTTP client belongs to the caller; nothing else to release."""


def create_connector(
    config: ConnectorConfig,
    *,
    client: httpx.AsyncClient,
    clock: ClockLike,
    sleep: Sleep = asyncio.sleep,
) -> JamfSchoolConnector:
    return JamfSchoolConnector(config, client=client, clock=clock, sleep=sleep)
