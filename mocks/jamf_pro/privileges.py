"""Jamf Pro privileges: which a route needs, and whether a token's roles grant it.

User tokens carry their account's full access here; API-client tokens carry the roles in their
scope, each granting the privileges ``JamfProSettings.api_roles`` lists. The auth dependencies
check the route's privilege; ``POST /api/v2/mdm/commands`` checks one per command type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mocks.jamf_pro.tokens import Token, TokenKind

READ_DEVICES = "Read Mobile Devices"
READ_GROUPS = "Read Static Mobile Device Groups"
CREATE_GROUPS = "Create Static Mobile Device Groups"
UPDATE_GROUPS = "Update Static Mobile Device Groups"
DELETE_GROUPS = "Delete Static Mobile Device Groups"
READ_PROFILES = "Read iOS Configuration Profiles"
CREATE_PROFILES = "Create iOS Configuration Profiles"
UPDATE_PROFILES = "Update iOS Configuration Profiles"
DELETE_PROFILES = "Delete iOS Configuration Profiles"
LOST_MODE = "Send Mobile Device Lost Mode Command"
REMOTE_LOCK = "Send Mobile Device Remote Lock Command"
INVENTORY_REQUESTS = "Send Inventory Requests to Mobile Devices"
OTHER_COMMANDS = "Send Mobile Device Remote Commands"
VIEW_COMMANDS = "View MDM command information in Jamf Pro API"
FLUSH_COMMANDS = "Flush MDM Commands"
WEBHOOKS = "Read Webhooks"
MANAGE_WEBHOOKS = "Update Webhooks"

ALL_PRIVILEGES = frozenset(
    {
        READ_DEVICES,
        READ_GROUPS,
        CREATE_GROUPS,
        UPDATE_GROUPS,
        DELETE_GROUPS,
        READ_PROFILES,
        CREATE_PROFILES,
        UPDATE_PROFILES,
        DELETE_PROFILES,
        LOST_MODE,
        REMOTE_LOCK,
        INVENTORY_REQUESTS,
        OTHER_COMMANDS,
        VIEW_COMMANDS,
        FLUSH_COMMANDS,
        WEBHOOKS,
        MANAGE_WEBHOOKS,
    }
)

# (method, path pattern, privilege); the first match wins, no match needs no privilege.
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), privilege)
    for method, pattern, privilege in (
        ("GET", r"^/api/v2/mobile-devices", READ_DEVICES),
        ("GET", r"^/JSSResource/mobiledevices(/|$)", READ_DEVICES),
        ("GET", r"^/JSSResource/mobiledevicehistory/", READ_DEVICES),
        ("GET", r"^/JSSResource/mobiledevicecommands", VIEW_COMMANDS),
        ("GET", r"^/api/v2/mobile-device-groups", READ_GROUPS),
        ("GET", r"^/JSSResource/mobiledevicegroups", READ_GROUPS),
        ("POST", r"^/api/v2/mobile-device-groups/static-groups$", CREATE_GROUPS),
        ("POST", r"^/JSSResource/mobiledevicegroups/id/0$", CREATE_GROUPS),
        ("PATCH", r"^/api/v2/mobile-device-groups/static-groups/", UPDATE_GROUPS),
        ("PUT", r"^/JSSResource/mobiledevicegroups/", UPDATE_GROUPS),
        ("DELETE", r"^/api/v2/mobile-device-groups/static-groups/", DELETE_GROUPS),
        ("DELETE", r"^/JSSResource/mobiledevicegroups/", DELETE_GROUPS),
        ("GET", r"^/JSSResource/mobiledeviceconfigurationprofiles", READ_PROFILES),
        ("POST", r"^/JSSResource/mobiledeviceconfigurationprofiles/id/0$", CREATE_PROFILES),
        ("PUT", r"^/JSSResource/mobiledeviceconfigurationprofiles/", UPDATE_PROFILES),
        ("DELETE", r"^/JSSResource/mobiledeviceconfigurationprofiles/", DELETE_PROFILES),
        ("GET", r"^/api/v2/mdm/commands$", VIEW_COMMANDS),
        ("POST", r"^/api/v2/mdm/blank-push$", OTHER_COMMANDS),
        ("DELETE", r"^/JSSResource/commandflush/", FLUSH_COMMANDS),
        ("GET", r"^/JSSResource/webhooks", WEBHOOKS),
        ("POST", r"^/JSSResource/webhooks/", MANAGE_WEBHOOKS),
        ("PUT", r"^/JSSResource/webhooks/", MANAGE_WEBHOOKS),
        ("DELETE", r"^/JSSResource/webhooks/", MANAGE_WEBHOOKS),
    )
)

# Command names (v2 commandType or Classic command) -> the privilege that sends them.
_COMMANDS = {
    "ENABLE_LOST_MODE": LOST_MODE,
    "DISABLE_LOST_MODE": LOST_MODE,
    "PLAY_LOST_MODE_SOUND": LOST_MODE,
    "DEVICE_LOCATION": LOST_MODE,
    "DEVICE_LOCK": REMOTE_LOCK,
    "DEVICE_INFORMATION": INVENTORY_REQUESTS,
    "EnableLostMode": LOST_MODE,
    "DisableLostMode": LOST_MODE,
    "PlayLostModeSound": LOST_MODE,
    "DeviceLocation": LOST_MODE,
    "DeviceLock": REMOTE_LOCK,
    "UpdateInventory": INVENTORY_REQUESTS,
}


def route_privilege(method: str, path: str) -> str | None:
    for route_method, pattern, privilege in _ROUTES:
        if method == route_method and pattern.search(path):
            return privilege
    return None


def command_privilege(command: str) -> str:
    return _COMMANDS.get(command, OTHER_COMMANDS)


def granted(token: Token, privilege: str, roles: Mapping[str, frozenset[str]]) -> bool:
    if token.kind is TokenKind.USER:
        return True
    return any(privilege in roles.get(role, frozenset()) for role in token.scope)
