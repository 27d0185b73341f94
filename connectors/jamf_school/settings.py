"""What one Jamf School instance is configured with, read once when the connector is built.

`create_connector` hands the `ConnectorConfig` to `JamfSchoolSettings.read`; anything missing or
malformed is an `AuthError` (configuration), raised before a single request is made. The API
key never appears in a repr or in any message raised here.

Keys:
- option `network_id`: the Basic-auth user (Jamf School shows it under Devices > Enroll Device).
- secret `api_key`: the Basic-auth password, created under Organization > Settings > API.
- option `profile_groups`: a JSON object mapping each bridge profile identifier to the device
  group its console-made profile is scoped to, by group id (`12` or `"12"`) or by exact name
  (`"Bridge - curfew"`), e.g. `{"org.mdm-bridge.curfew": 12, "org.mdm-bridge.ban.safari":
  "Bridge - ban: no Safari"}`. `verify()` checks every group exists before any move.
- option `time_zone` (default `Europe/London`): Jamf School's device list gives check-in times as
  local wall-clock text without a zone; this says which zone that is.
- option `protocol_version` (default `3`): the `X-Server-Protocol-Version` header.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import AuthError, ConnectorConfig

DEFAULT_TIME_ZONE = "Europe/London"
DEFAULT_PROTOCOL_VERSION = "3"


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupChoice:
    """The group a bridge profile maps to, as the technician wrote it: an id or a name."""

    profile_identifier: str
    group_id: int | None = None
    group_name: str | None = None

    def describe(self) -> str:
        wanted = f"id {self.group_id}" if self.group_id is not None else repr(self.group_name)
        return f"{self.profile_identifier!r} -> group {wanted}"


@dataclass(frozen=True, kw_only=True)
class JamfSchoolSettings:
    instance: str
    base_url: str
    network_id: str
    api_key: str = field(repr=False)
    time_zone: ZoneInfo
    protocol_version: str
    group_choices: tuple[GroupChoice, ...]

    @classmethod
    def read(cls, config: ConnectorConfig) -> JamfSchoolSettings:
        return cls(
            instance=config.name,
            base_url=_base_url(config),
            network_id=config.option("network_id"),
            api_key=config.secret("api_key"),
            time_zone=_time_zone(config),
            protocol_version=_protocol_version(config),
            group_choices=parse_profile_groups(config.name, config.option("profile_groups")),
        )

    def authorization(self) -> str:
        """The Basic header value; built on demand so it is held in as few places as possible."""
        pair = f"{self.network_id}:{self.api_key}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"


def _base_url(config: ConnectorConfig) -> str:
    parts = urlsplit(config.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuthError(f"{config.name}: base_url must be the tenant's https://…/api address")
    if parts.username or parts.password:
        # Never echo the URL: it carries what looks like a credential.
        raise AuthError(f"{config.name}: base_url must not carry credentials; use the secrets")
    return config.base_url.rstrip("/")


def _time_zone(config: ConnectorConfig) -> ZoneInfo:
    name = config.option("time_zone", DEFAULT_TIME_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AuthError(f"{config.name}: time_zone {name!r} is not an IANA time zone") from None


def _protocol_version(config: ConnectorConfig) -> str:
    version = config.option("protocol_version", DEFAULT_PROTOCOL_VERSION)
    if not (version.isascii() and version.isdigit()):
        raise AuthError(f"{config.name}: protocol_version must be a whole number, like 3")
    return version


def parse_profile_groups(instance: str, text: str) -> tuple[GroupChoice, ...]:
    """Read the `profile_groups` option; every mistake names the entry that holds it."""
    prefix = f"{instance}: profile_groups"
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError:
        raise AuthError(f"{prefix} must be a JSON object of profile -> group") from None
    if not isinstance(mapping, dict) or not mapping:
        raise AuthError(f"{prefix} must be a non-empty JSON object of profile -> group")
    choices: list[GroupChoice] = []
    for identifier, group in mapping.items():
        if not identifier.strip():
            raise AuthError(f"{prefix} has an empty profile identifier")
        if isinstance(group, int) and not isinstance(group, bool) and group > 0:
            choices.append(GroupChoice(profile_identifier=identifier, group_id=group))
        elif isinstance(group, str) and group.isascii() and group.isdigit():
            choices.append(GroupChoice(profile_identifier=identifier, group_id=int(group)))
        elif isinstance(group, str) and group.strip():
            choices.append(GroupChoice(profile_identifier=identifier, group_name=group))
        else:
            raise AuthError(
                f"{prefix}[{identifier!r}] must be a group id or a group name, not {group!r}"
            )
    return tuple(choices)
