"""JSON shapes of the fake Jamf School API: devices, device groups, profiles.

Routes render fleet objects with these functions. Jamf School is inconsistent between its list
and single answers, and the fake keeps that on purpose: in a list `lastCheckin` is a plain
`"YYYY-MM-DD HH:MM:SS"` string and `model.type` a string; for one device `lastCheckin` is the
PHP-style `{date, timezone_type, timezone}` object and `model.type` is `{"value": ...}`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from mocks.clock import from_epoch
from mocks.device import Device
from mocks.fleet import Fleet
from mocks.groups import Group
from mocks.jamf_school.fixtures import SchoolProfile
from mocks.jamf_school.time_filter import format_wall_clock


def _local(seconds: float, time_zone: ZoneInfo) -> datetime:
    return from_epoch(seconds).astimezone(time_zone)


def device_in_list(
    device: Device, fleet: Fleet, *, time_zone: ZoneInfo, location_id: int, with_apps: bool
) -> dict[str, object]:
    checked_in = _local(device.last_checkin, time_zone).strftime("%Y-%m-%d %H:%M:%S")
    groups = [fleet.group(group_id) for group_id in sorted(device.group_ids or ())]
    first_name, _, last_name = device.pupil_name.partition(" ")
    shape: dict[str, object] = {
        "UDID": device.udid,
        "locationId": location_id,
        "serialNumber": device.serial,
        "name": device.name,
        "assetTag": f"SCH-{device.device_id:05d}",
        "class": "ipad",
        "model": {"name": device.model, "identifier": device.model_identifier, "type": "iPad"},
        "os": {"prefix": "iOS", "version": device.os_version},
        "owner": {
            "id": device.device_id,
            "locationId": location_id,
            "username": device.pupil_ref.lower(),
            "email": "",
            "firstName": first_name,
            "lastName": last_name,
            "name": device.pupil_name,
            "groupIds": [],
        },
        "isManaged": True,
        "isSupervised": device.supervised,
        "deviceEnrollType": "dep" if device.supervised else "manual",
        "inTrash": False,
        "hasPasscode": device.has_passcode,
        "passcodeCompliant": device.has_passcode,
        "batteryLevel": round(0.35 + (device.index % 60) / 100, 2),
        "networkInformation": {"WiFiMAC": device.wifi_mac, "IsRoaming": False},
        "groupIds": [group.group_id for group in groups if group is not None],
        "groups": [group.name for group in groups if group is not None],
        "lastCheckin": checked_in,
        "modified": checked_in,
        "notes": "",
    }
    if with_apps:
        shape["apps"] = []
    return shape


def device_alone(
    device: Device, fleet: Fleet, *, time_zone: ZoneInfo, location_id: int, with_apps: bool
) -> dict[str, object]:
    shape = device_in_list(
        device, fleet, time_zone=time_zone, location_id=location_id, with_apps=with_apps
    )
    checked_in = _local(device.last_checkin, time_zone)
    shape["lastCheckin"] = {
        "date": checked_in.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "timezone_type": 3,
        "timezone": str(time_zone),
    }
    shape["model"] = {
        "name": device.model,
        "identifier": device.model_identifier,
        "type": {"value": "iPad"},
    }
    return shape


def group_shape(group: Group, *, location_id: int, smart: bool) -> dict[str, object]:
    return {
        "id": group.group_id,
        "locationId": location_id,
        "name": group.name,
        "description": group.description,
        "information": "",
        "members": len(group.members),
        "type": "normal",
        "shared": False,
        "imageUrl": None,
        "isSmartGroup": smart,
    }


def profile_shape(profile: SchoolProfile, *, location_id: int) -> dict[str, object]:
    fixture = profile.fixture
    time_filter = fixture.time_filter
    return {
        "id": profile.profile_id,
        "locationId": location_id,
        "type": {"value": "default"},
        "status": {"value": "Active"},
        "identifier": fixture.identifier,
        "name": fixture.name,
        "description": fixture.description,
        "platform": "iOS",
        "daysOfTheWeek": [str(day) for day in sorted(time_filter.days_of_week)],
        "isTemplate": False,
        "startTime": format_wall_clock(time_filter.start),
        "endTime": format_wall_clock(time_filter.end),
        "useHolidays": time_filter.use_holidays,
        "restrictedWeekendUse": time_filter.restricted_weekend_use,
    }
