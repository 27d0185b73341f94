"""JSON:API resource objects of the fake ASM: org devices and MDM servers.

Routes in `mocks.asm.routes_devices` render catalog entries with these functions. Field names
and enum values follow Apple's published samples; `select_fields` applies the
`fields[<type>]=a,b` sparse-fieldset parameter, which is also how the newer MDM-server
attributes must be asked for.
"""

from __future__ import annotations

from collections.abc import Mapping

from mocks.asm.catalog import AsmCatalog, MdmServer, OrgDevice, iso_millis
from mocks.asm.errors import AsmError

ORG_DEVICE_FIELDS = (
    "serialNumber", "addedToOrgDateTime", "releasedFromOrgDateTime", "updatedDateTime",
    "deviceModel", "productFamily", "productType", "deviceCapacity", "partNumber", "orderNumber",
    "color", "status", "orderDateTime", "imei", "meid", "eid", "wifiMacAddress",
    "bluetoothMacAddress", "ethernetMacAddress", "purchaseSourceId", "purchaseSourceType",
)  # fmt: skip
MDM_SERVER_DEFAULT_FIELDS = ("serverName", "serverType", "createdDateTime", "updatedDateTime")
MDM_SERVER_EXTRA_FIELDS = (
    "status", "deviceCount", "defaultProductFamilies", "lastConnectedDateTime", "lastConnectedIp",
)  # fmt: skip


def select_fields(
    query: Mapping[str, str], resource_type: str, known: tuple[str, ...], default: tuple[str, ...]
) -> tuple[str, ...]:
    """The attributes to render: the requested sparse fieldset, or the default set."""
    parameter = f"fields[{resource_type}]"
    requested = query.get(parameter)
    if requested is None:
        return default
    names = tuple(name.strip() for name in requested.split(",") if name.strip())
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise AsmError.bad_parameter(parameter, f"unknown field(s): {', '.join(unknown) or '-'}")
    return names


def org_device_resource(
    device: OrgDevice, catalog: AsmCatalog, *, base_url: str, fields: tuple[str, ...]
) -> dict[str, object]:
    self_url = f"{base_url}/v1/orgDevices/{device.serial}"
    updated = catalog.updated_at.get(device.serial, device.added_at)
    every_attribute: dict[str, object] = {
        "serialNumber": device.serial,
        "addedToOrgDateTime": iso_millis(device.added_at),
        "releasedFromOrgDateTime": None,
        "updatedDateTime": iso_millis(updated),
        "deviceModel": device.model,
        "productFamily": "iPad",
        "productType": device.product_type,
        "deviceCapacity": device.capacity,
        "partNumber": f"MK2K3B/A-{device.serial[-2:]}",
        "orderNumber": f"ORD-{device.added_at:%Y%m%d}",
        "color": device.colour,
        "status": "ASSIGNED" if catalog.assignment.get(device.serial) else "UNASSIGNED",
        "orderDateTime": iso_millis(device.added_at),
        "imei": [],
        "meid": [],
        "eid": None,
        "wifiMacAddress": device.wifi_mac,
        "bluetoothMacAddress": device.wifi_mac[:-2] + "FF",
        "ethernetMacAddress": [],
        "purchaseSourceId": f"{abs(hash_serial(device.serial)) % 10_000_000:07d}",
        "purchaseSourceType": device.purchase_source,
    }
    return {
        "type": "orgDevices",
        "id": device.serial,
        "attributes": {name: every_attribute[name] for name in fields},
        "relationships": {
            "assignedServer": {
                "links": {
                    "self": f"{self_url}/relationships/assignedServer",
                    "related": f"{self_url}/assignedServer",
                }
            }
        },
        "links": {"self": self_url},
    }


def mdm_server_resource(
    server: MdmServer, catalog: AsmCatalog, *, base_url: str, fields: tuple[str, ...]
) -> dict[str, object]:
    self_url = f"{base_url}/v1/mdmServers/{server.server_id}"
    every_attribute: dict[str, object] = {
        "serverName": server.name,
        "serverType": server.server_type,
        "createdDateTime": iso_millis(server.created_at),
        "updatedDateTime": iso_millis(server.created_at),
        "status": "ACTIVE",
        "deviceCount": len(catalog.serials_on(server.server_id)),
        "defaultProductFamilies": ["iPad"] if server.server_id == catalog.home_server_id else [],
        "lastConnectedDateTime": None,
        "lastConnectedIp": None,
    }
    return {
        "type": "mdmServers",
        "id": server.server_id,
        "attributes": {name: every_attribute[name] for name in fields},
        "relationships": {
            "devices": {"links": {"self": f"{self_url}/relationships/devices"}},
        },
        "links": {"self": self_url},
    }


def hash_serial(serial: str) -> int:
    """A stable number from a serial (Python's own hash() changes between runs)."""
    return int.from_bytes(serial.encode()[-6:].rjust(6, b"0"), "big")
