"""How the Jamf Pro mock renders a simulated device in its Pro API inventory shapes.

``mocks.jamf_pro.inventory`` calls these for ``/api/v2/mobile-devices`` (list item),
``/api/v2/mobile-devices/detail`` (sectioned item) and ``/{id}/detail`` (flat, no lost-mode
fields). Field names follow Jamf's 11.30.1 schema for the parts the bridge reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mocks.device import Device
from mocks.fleet import Fleet
from mocks.jamf_pro.wire import jamf_time

SECTIONS = (
    "GENERAL",
    "HARDWARE",
    "USER_AND_LOCATION",
    "PURCHASING",
    "SECURITY",
    "APPLICATIONS",
    "EBOOKS",
    "NETWORK",
    "SERVICE_SUBSCRIPTIONS",
    "CERTIFICATES",
    "PROFILES",
    "USER_PROFILES",
    "PROVISIONING_PROFILES",
    "SHARED_USERS",
    "GROUPS",
    "EXTENSION_ATTRIBUTES",
)

# Section name -> key in the detail item.
SECTION_KEYS = {
    "GENERAL": "general",
    "HARDWARE": "hardware",
    "USER_AND_LOCATION": "userAndLocation",
    "PURCHASING": "purchasing",
    "SECURITY": "security",
    "APPLICATIONS": "applications",
    "EBOOKS": "ebooks",
    "NETWORK": "network",
    "SERVICE_SUBSCRIPTIONS": "serviceSubscriptions",
    "CERTIFICATES": "certificates",
    "PROFILES": "profiles",
    "USER_PROFILES": "userProfiles",
    "PROVISIONING_PROFILES": "provisioningProfiles",
    "SHARED_USERS": "sharedUsers",
    "GROUPS": "groups",
    "EXTENSION_ATTRIBUTES": "extensionAttributes",
}


def general(fleet: Fleet, device: Device) -> dict[str, Any]:
    return {
        "udid": device.udid,
        "displayName": device.name,
        "assetTag": f"ASSET-{device.device_id:06d}",
        "siteId": "-1",
        "lastInventoryUpdateDate": jamf_time(device.last_inventory_update),
        "osVersion": device.os_version,
        "osBuild": "22B83",
        "ipAddress": f"10.{device.device_id // 65536 % 256}.{device.device_id // 256 % 256}."
        f"{device.device_id % 256}",
        "managed": True,
        "supervised": device.supervised,
        "deviceOwnershipType": "Institutional",
        "enrollmentMethodPrestage": {"mobileDevicePrestageId": "1", "profileName": "School"},
        "timeZone": device.time_zone,
        "managementId": device.management_id,
        "sharedIpad": device.shared_ipad,
        "extensionAttributes": [],
    }


def hardware(fleet: Fleet, device: Device) -> dict[str, Any]:
    return {
        "capacityMb": 65536,
        "availableSpaceMb": 30000,
        "usedSpacePercentage": 54,
        "batteryLevel": 80,
        "serialNumber": device.serial,
        "wifiMacAddress": device.wifi_mac,
        "bluetoothMacAddress": None,
        "model": device.model,
        "modelIdentifier": device.model_identifier,
        "modelNumber": None,
        "extensionAttributes": [],
    }


def user_and_location(fleet: Fleet, device: Device) -> dict[str, Any]:
    return {
        "username": device.pupil_ref,
        "realName": device.pupil_name,
        "emailAddress": None,
        "position": device.year_group,
        "phoneNumber": None,
        "departmentId": "-1",
        "buildingId": "-1",
        "room": device.class_name,
        "extensionAttributes": [],
    }


def security(fleet: Fleet, device: Device) -> dict[str, Any]:
    lost = device.lost_mode
    return {
        "dataProtected": device.has_passcode,
        "passcodePresent": device.has_passcode,
        "passcodeCompliant": device.has_passcode,
        "hardwareEncryption": 3,
        "activationLockEnabled": False,
        "jailBreakDetected": False,
        "lostModeEnabled": lost is not None,
        "lostModePersistent": bool(lost and lost.always_enforce),
        "lostModeMessage": lost.message if lost else None,
        "lostModePhoneNumber": lost.phone if lost else None,
        "lostModeFootnote": lost.footnote if lost else None,
    }


def groups(fleet: Fleet, device: Device) -> list[dict[str, Any]]:
    found = []
    for group_id in sorted(device.group_ids or ()):
        group = fleet.group(group_id)
        if group is not None:
            found.append(
                {
                    "groupId": str(group.group_id),
                    "groupName": group.name,
                    "groupDescription": group.description,
                    "smart": False,
                }
            )
    return found


def profiles(fleet: Fleet, device: Device) -> list[dict[str, Any]]:
    return [
        {
            "displayName": (p.name if (p := fleet.profile(i.profile_id)) else i.identifier),
            "version": str(i.version),
            "uuid": f"{i.profile_id:08d}-0000-4000-8000-000000000000",
            "identifier": i.identifier,
            "removable": False,
            "lastInstalled": jamf_time(i.installed_at),
        }
        for i in sorted((device.installed or {}).values(), key=lambda i: i.profile_id)
    ]


def _empty_list(fleet: Fleet, device: Device) -> list[Any]:
    return []


def _purchasing(fleet: Fleet, device: Device) -> dict[str, Any]:
    return {"purchased": True, "leased": False, "poNumber": None, "vendor": None}


def _network(fleet: Fleet, device: Device) -> dict[str, Any]:
    return {"cellularTechnology": "Unknown", "carrierSettingsVersion": None, "roaming": False}


RENDERERS: dict[str, Callable[[Fleet, Device], Any]] = {
    "GENERAL": general,
    "HARDWARE": hardware,
    "USER_AND_LOCATION": user_and_location,
    "PURCHASING": _purchasing,
    "SECURITY": security,
    "APPLICATIONS": _empty_list,
    "EBOOKS": _empty_list,
    "NETWORK": _network,
    "SERVICE_SUBSCRIPTIONS": _empty_list,
    "CERTIFICATES": _empty_list,
    "PROFILES": profiles,
    "USER_PROFILES": _empty_list,
    "PROVISIONING_PROFILES": _empty_list,
    "SHARED_USERS": _empty_list,
    "GROUPS": groups,
    "EXTENSION_ATTRIBUTES": _empty_list,
}


def detail_item(
    fleet: Fleet, device: Device, sections: tuple[str, ...], *, broken: bool
) -> dict[str, Any]:
    """One ``/v2/mobile-devices/detail`` item; sections not asked for (or broken) are null."""
    item: dict[str, Any] = {"mobileDeviceId": str(device.device_id), "deviceType": "iOS"}
    for section in SECTIONS:
        key = SECTION_KEYS[section]
        wanted = section in sections and not broken
        item[key] = RENDERERS[section](fleet, device) if wanted else None
    return item


def list_item(device: Device) -> dict[str, Any]:
    return {
        "id": str(device.device_id),
        "name": device.name,
        "serialNumber": device.serial,
        "udid": device.udid,
        "wifiMacAddress": device.wifi_mac,
        "model": device.model,
        "modelIdentifier": device.model_identifier,
        "username": device.pupil_ref,
        "type": "ios",
        "managementId": device.management_id,
    }


def flat_detail(fleet: Fleet, device: Device) -> dict[str, Any]:
    """``/v2/mobile-devices/{id}/detail``: a flat record that carries no lost-mode fields."""
    return {
        "id": str(device.device_id),
        "name": device.name,
        "assetTag": f"ASSET-{device.device_id:06d}",
        "lastInventoryUpdateTimestamp": jamf_time(device.last_inventory_update),
        "osVersion": device.os_version,
        "serialNumber": device.serial,
        "udid": device.udid,
        "wifiMacAddress": device.wifi_mac,
        "managed": True,
        "timeZone": device.time_zone,
        "managementId": device.management_id,
        "type": "ios",
        "groups": groups(fleet, device),
        "ios": {
            "model": device.model,
            "modelIdentifier": device.model_identifier,
            "supervised": device.supervised,
            "shared": device.shared_ipad,
        },
        "location": {
            "username": device.pupil_ref,
            "realName": device.pupil_name,
            "room": device.class_name,
        },
    }
