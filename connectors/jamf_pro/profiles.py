"""Bridge-owned configuration profiles in Jamf Pro: render them and keep them as they should be.

`JamfProConnector.apply` calls `ConfigurationProfiles.ensure` once per profile in a batch before
changing group memberships, so a device never joins a group whose profile is missing or stale.
A profile is uploaded as a complete .mobileconfig (Classic API only; Jamf has no Pro endpoint
for iOS profiles), scoped to its own static group, and named after its identifier. Its content
hash rides in the Jamf record's description, so "is it current?" is one read, whatever Jamf does
to the uploaded plist. `RemovalDate` is set when the end is known, so an iPad drops a curfew or
ban profile by itself even if the bridge is down.
"""

from __future__ import annotations

import plistlib
import uuid
from typing import Any

from connectors.base import ConflictError, UncertainOutcome
from connectors.http import Sleep, VendorHttp
from connectors.jamf_pro.classic_xml import XML, created_id, element, to_bytes
from connectors.parsing import field, json_body
from mdm_bridge.model import ProfileDocument, plist_date

PROFILES_PATH = "/JSSResource/mobiledeviceconfigurationprofiles"
JSON = {"Accept": "application/json"}
WRITE_ATTEMPTS = 5
# Stable PayloadUUIDs: the same identifier and content always give the same UUID.
UUID_NAMESPACE = uuid.UUID("6f0b7c1e-5a43-4d8e-9a51-2f7d3c0e8b14")


def content_marker(document: ProfileDocument) -> str:
    return f"mdm-bridge content {document.content_hash}"


def mobileconfig(document: ProfileDocument) -> bytes:
    """The complete profile an iPad installs; inner payloads get the keys Apple requires."""

    def stable_uuid(suffix: str) -> str:
        name = f"{document.identifier}/{document.content_hash}/{suffix}"
        return str(uuid.uuid5(UUID_NAMESPACE, name)).upper()

    inner = []
    for index, payload in enumerate(document.payloads):
        defaults = {
            "PayloadIdentifier": f"{document.identifier}.payload{index}",
            "PayloadUUID": stable_uuid(str(index)),
            "PayloadVersion": 1,
        }
        inner.append(defaults | dict(payload))
    profile: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": document.identifier,
        "PayloadUUID": stable_uuid("profile"),
        "PayloadDisplayName": document.display_name,
        "PayloadDescription": document.description,
        "PayloadRemovalDisallowed": True,
        "PayloadContent": inner,
    }
    if document.removal_date is not None:
        profile["RemovalDate"] = plist_date(document.removal_date)
    return plistlib.dumps(profile)


class ConfigurationProfiles:
    """The bridge's iOS configuration profiles on one Jamf Pro instance."""

    def __init__(self, http: VendorHttp, base_url: str, sleep: Sleep) -> None:
        self._http = http
        self._url = base_url + PROFILES_PATH
        self._sleep = sleep

    async def find(self, name: str) -> int | None:
        return (await self.ids_by_name()).get(name)

    async def ids_by_name(self) -> dict[str, int]:
        """Every iOS configuration profile in Jamf, by name (one read)."""
        response = await self._http.request("GET", self._url, headers=JSON)
        document = json_body(response, "profile list")
        profiles = field(document, "configuration_profiles", list)
        found: dict[str, int] = {}
        for index in range(len(profiles)):
            name = field(document, f"configuration_profiles[{index}].name", str)
            found.setdefault(name, field(document, f"configuration_profiles[{index}].id", int))
        return found

    def _record(self, name: str, document: ProfileDocument, group_id: int) -> bytes:
        group = element("mobile_device_group", {"id": group_id})
        root = element(
            "configuration_profile",
            {
                "general": {
                    "name": name,
                    "description": content_marker(document),
                    "deployment_method": "Install Automatically",
                    # "All": devices holding an older version get the new one as well
                    "redeploy_on_update": "All",
                    "payloads": mobileconfig(document).decode("utf-8"),
                },
                "scope": {
                    "all_mobile_devices": False,
                    "mobile_device_groups": [group],
                },
            },
        )
        return to_bytes(root)

    async def is_current(self, profile_id: int, document: ProfileDocument, group_id: int) -> bool:
        response = await self._http.request("GET", f"{self._url}/id/{profile_id}", headers=JSON)
        record = json_body(response, f"profile {profile_id}")
        description = field(record, "configuration_profile.general.description", str, optional=True)
        scope = "configuration_profile.scope.mobile_device_groups"
        groups = field(record, scope, list, optional=True) or []
        scoped = {field(record, f"{scope}[{i}].id", int) for i in range(len(groups))}
        return description == content_marker(document) and group_id in scoped

    async def ensure(self, name: str, document: ProfileDocument, group_id: int) -> int:
        """The profile's id, after creating or updating it to `document`, scoped to the group."""
        body = self._record(name, document, group_id)
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            existing = await self.find(name)
            try:
                if existing is None:
                    response = await self._http.request(
                        "POST", f"{self._url}/id/0", content=body, headers=XML
                    )
                    what = f"create profile {document.identifier}"
                    return created_id(response.content, "configuration_profile", what)
                if not await self.is_current(existing, document, group_id):
                    await self._http.request(
                        "PUT", f"{self._url}/id/{existing}", content=body, headers=XML
                    )
                return existing
            except (ConflictError, UncertainOutcome) as error:
                # a parallel writer, or a create that may have landed: re-read before retrying
                if attempt == WRITE_ATTEMPTS:
                    raise
                await self._sleep(error.retry_after)
        raise AssertionError("unreachable: the last attempt returns or raises")
