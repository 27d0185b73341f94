"""What Apple School Manager knows: the organisation's devices and which MDM server owns each.

Built once by `mocks.asm.app.create_app` from the simulated fleet: every enrolled iPad is assigned
to the school's own MDM server; the fleet's never-enrolled serials are split, deterministically,
between "unassigned" and "assigned to another MDM server" so a connector meets both. Assignment
changes only through device activities (`mocks.asm.activities`), never through the MDM fleet:
ASM decides where an iPad enrols next time, not what it is doing now.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mocks.device import Device
from mocks.fleet import Fleet

_ORG_EPOCH = datetime(2025, 4, 30, 22, 5, 14, tzinfo=UTC)
_COLOURS = ("SILVER", "SPACE GRAY", "BLUE", "PINK")
_CAPACITIES = ("64GB", "256GB")


@dataclass(frozen=True, kw_only=True)
class MdmServer:
    """An MDM server registered in the organisation."""

    server_id: str
    name: str
    server_type: str  # MDM | APPLE_CONFIGURATOR | APPLE_MDM
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class OrgDevice:
    """A device the organisation bought, as ASM describes it (independent of any MDM)."""

    serial: str
    model: str
    product_type: str
    wifi_mac: str
    colour: str
    capacity: str
    added_at: datetime
    purchase_source: str


@dataclass(kw_only=True)
class AsmCatalog:
    """Devices, servers and the serial -> server assignment, with its last-change times."""

    servers: dict[str, MdmServer]
    devices: dict[str, OrgDevice]
    assignment: dict[str, str | None]
    updated_at: dict[str, datetime] = field(default_factory=dict)
    home_server_id: str = ""
    other_server_id: str = ""
    _sorted_devices: list[tuple[str, OrgDevice]] = field(default_factory=list)

    def sorted_devices(self) -> list[tuple[str, OrgDevice]]:
        # The organisation's devices never change after start, so sort them once.
        if len(self._sorted_devices) != len(self.devices):
            self._sorted_devices = sorted(self.devices.items())
        return self._sorted_devices

    def sorted_servers(self) -> list[tuple[str, MdmServer]]:
        return sorted(self.servers.items())

    def server_of(self, serial: str) -> MdmServer | None:
        server_id = self.assignment.get(serial)
        return None if server_id is None else self.servers.get(server_id)

    def serials_on(self, server_id: str) -> list[str]:
        return sorted(serial for serial, owner in self.assignment.items() if owner == server_id)

    def assign(self, serial: str, server_id: str | None, at: datetime) -> None:
        self.assignment[serial] = server_id
        self.updated_at[serial] = at


def build_catalog(fleet: Fleet, *, home_server_name: str) -> AsmCatalog:
    """Derive the organisation from the fleet; the same fleet always gives the same catalog."""
    seed = fleet.config.seed
    home = MdmServer(
        server_id=_stable_id(seed, "home-server"),
        name=home_server_name,
        server_type="MDM",
        created_at=_ORG_EPOCH,
    )
    other = MdmServer(
        server_id=_stable_id(seed, "other-server"),
        name="Previous trust MDM",
        server_type="MDM",
        created_at=_ORG_EPOCH - timedelta(days=400),
    )
    configurator = MdmServer(
        server_id=_stable_id(seed, "configurator"),
        name="Devices Added by Apple Configurator",
        server_type="APPLE_CONFIGURATOR",
        created_at=_ORG_EPOCH - timedelta(days=500),
    )
    catalog = AsmCatalog(
        servers={server.server_id: server for server in (home, other, configurator)},
        devices={},
        assignment={},
        home_server_id=home.server_id,
        other_server_id=other.server_id,
    )
    for device in fleet.devices:
        catalog.devices[device.serial] = _org_device(device)
        catalog.assign(device.serial, home.server_id, _added_at(device))
    for position, device in enumerate(fleet.unenrolled):
        catalog.devices[device.serial] = _org_device(device)
        # Alternate so that even a small fleet has one of each kind of stray device.
        owner = None if position % 2 == 0 else other.server_id
        catalog.assign(device.serial, owner, _added_at(device))
    return catalog


def _org_device(device: Device) -> OrgDevice:
    return OrgDevice(
        serial=device.serial,
        model=device.model,
        product_type=device.model_identifier,
        wifi_mac=device.wifi_mac.upper(),
        colour=_COLOURS[device.index % len(_COLOURS)],
        capacity=_CAPACITIES[device.index % len(_CAPACITIES)],
        added_at=_added_at(device),
        purchase_source="APPLE" if device.index % 3 else "RESELLER",
    )


def _added_at(device: Device) -> datetime:
    return _ORG_EPOCH + timedelta(minutes=device.index)


def _stable_id(seed: int, name: str) -> str:
    # Apple shows server ids as 32 upper-case hex digits.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mdm-bridge-mock/asm/{seed}/{name}").hex.upper()


def iso_millis(instant: datetime) -> str:
    """Apple's timestamp format: UTC with milliseconds and a Z."""
    return (
        instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{instant.microsecond // 1000:03d}Z"
    )
