"""Who may call the fake Jamf School API, and with which protocol version.

Every route of `mocks.jamf_school.app` calls `admit(request, right)` first. Jamf School
authenticates with HTTP Basic (user = network ID, password = API key) and gives each API key its
own rights; a key lacking a right is refused with 405, not 403. Routes also demand the
`X-Server-Protocol-Version` header: without an accepted value the route behaves as if it did not
exist (plain 404), which is how the real service surprises clients that forget it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from mocks.jamf_school.errors import JamfSchoolError

PROTOCOL_VERSION_HEADER = "X-Server-Protocol-Version"


class Right(enum.StrEnum):
    """The rights an API key may carry; each route needs exactly one."""

    DEVICES_READ = "devices.read"
    DEVICE_ACTIONS = "devices.actions"
    GROUPS_READ = "groups.read"
    GROUPS_WRITE = "groups.write"
    PROFILES_READ = "profiles.read"
    APPS = "apps"


ALL_RIGHTS = frozenset(Right)


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    """An API key created in the school's console and the rights ticked for it."""

    key: str
    rights: frozenset[Right] = ALL_RIGHTS


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """The school's network id, its API keys and the protocol versions routes accept."""

    network_id: str
    api_keys: Mapping[str, ApiKey]
    accepted_protocol_versions: frozenset[str] = frozenset({"3", "4"})


def is_whole_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "¹", which int() then refuses."""
    return text.isascii() and text.isdigit()


def check_protocol_version(
    headers: Mapping[str, str], tenant: Tenant, *, minimum: int | None = None
) -> None:
    """Refuse, as an unknown path, a request without an accepted (and high enough) version."""
    version = headers.get(PROTOCOL_VERSION_HEADER.lower())
    if version not in tenant.accepted_protocol_versions:
        raise JamfSchoolError.no_such_route()
    # Some routes (creating an app) only exist from a later protocol version on.
    if minimum is not None and (
        version is None or not is_whole_number(version) or int(version) < minimum
    ):
        raise JamfSchoolError.no_such_route()


def authenticate(headers: Mapping[str, str], tenant: Tenant) -> ApiKey:
    """Return the API key named by the Basic credentials, or refuse with 401."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise JamfSchoolError.unauthenticated()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise JamfSchoolError.unauthenticated() from None
    network_id, separator, key_value = decoded.partition(":")
    if not separator:
        raise JamfSchoolError.unauthenticated()
    # Compare in constant time like a real credential check; the fake should not teach bad habits.
    network_ok = secrets.compare_digest(network_id.encode(), tenant.network_id.encode())
    api_key = tenant.api_keys.get(key_value)
    if not network_ok or api_key is None:
        raise JamfSchoolError.unauthenticated()
    return api_key


def admit(
    method: str,
    headers: Mapping[str, str],
    tenant: Tenant,
    right: Right,
    *,
    minimum_version: int | None = None,
) -> ApiKey:
    """Check version, then credentials, then the key's right (the real order is undocumented)."""
    check_protocol_version(headers, tenant, minimum=minimum_version)
    api_key = authenticate(headers, tenant)
    if right not in api_key.rights:
        raise JamfSchoolError.right_missing(method)
    return api_key
