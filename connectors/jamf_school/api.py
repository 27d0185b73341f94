"""The four Jamf School calls the connector makes, and the one place their failures are translated.

`connectors.jamf_school.connector` and `.moves` call `JamfSchoolApi`; it sends every request
through the shared `VendorHttp` (which maps HTTP statuses and transport errors to our three
failure kinds) with Basic credentials and the protocol-version header, and reads the answers
through `connectors.jamf_school.wire`. What the shared layer cannot know about Jamf School is
settled here: a 405 means the API key lacks a right (configuration, not a broken device), and a
404 on a collection means a wrong base URL or protocol version (the real service answers a plain
404 when the version header is missing or refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from connectors.base import AuthError, ConnectorError, PermanentError
from connectors.http import VendorHttp
from connectors.jamf_school.settings import JamfSchoolSettings
from connectors.jamf_school.wire import (
    JamfDevice,
    JamfGroup,
    device_list,
    group_list,
    key_in,
    parse_device,
)
from connectors.parsing import json_body


class Direction(StrEnum):
    """Which way a group move goes; the value is Jamf School's path segment."""

    ADD = "add"
    REMOVE = "remove"


class NotFoundOnMove(PermanentError):
    """A group move answered 404: a device or the group is unknown; the whole call was refused."""


def http_status(error: ConnectorError) -> int | None:
    """The HTTP status a failure of the shared layer came from, if it came from one."""
    return error.status


class JamfSchoolApi:
    def __init__(self, settings: JamfSchoolSettings, http: VendorHttp) -> None:
        self._settings = settings
        self._http = http

    @property
    def instance(self) -> str:
        return self._settings.instance

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": "application/json",
            "X-Server-Protocol-Version": self._settings.protocol_version,
            "Authorization": self._settings.authorization(),
        }

    async def _get_json(self, path: str, *, params: dict[str, str] | None = None) -> Any:
        what = f"{self.instance} GET {path}"
        try:
            response = await self._http.request(
                "GET", f"{self._settings.base_url}{path}", params=params, headers=self._headers()
            )
        except ConnectorError as error:
            raise self._translated(error, f"read {path}", missing_is_config=True) from None
        return json_body(response, what)

    def _translated(
        self, error: ConnectorError, doing: str, *, missing_is_config: bool = False
    ) -> ConnectorError:
        """Jamf School's meaning of a failure the shared layer classified generically.

        `missing_is_config`: a 404 here means the tenant has no such path at all (a collection
        every tenant has), which is a wrong base URL or protocol version.
        """
        status = http_status(error)
        instance = self.instance
        if status == 405:
            return AuthError(
                f"{instance}: the API key may not {doing} (HTTP 405); "
                "give the key that right under Organization > Settings > API"
            )
        if status in (401, 403):
            return AuthError(
                f"{instance}: Jamf School refused the network ID or API key (HTTP {status})"
            )
        if status == 404 and missing_is_config:
            return AuthError(
                f"{instance}: Jamf School answered 404 when asked to {doing}; "
                "check base_url (it ends in /api) and protocol_version"
            )
        return error

    async def devices(self) -> list[JamfDevice]:
        document = await self._get_json("/devices")
        with _naming(f"{self.instance} GET /devices"):
            return device_list(document, time_zone=self._settings.time_zone)

    async def device(self, udid: str) -> JamfDevice | None:
        """One device, or None when Jamf School does not know the UDID (any more)."""
        path = f"/devices/{udid}"
        try:
            response = await self._http.request(
                "GET", f"{self._settings.base_url}{path}", headers=self._headers()
            )
        except ConnectorError as error:
            if isinstance(error, PermanentError) and http_status(error) == 404:
                return None
            raise self._translated(error, "read a device") from None
        document = json_body(response, f"{self.instance} GET /devices/…")
        with _naming(f"{self.instance} GET /devices/…"):
            return parse_device(
                document, key_in(document, "device"), time_zone=self._settings.time_zone
            )

    async def groups(self) -> list[JamfGroup]:
        document = await self._get_json("/devices/groups")
        with _naming(f"{self.instance} GET /devices/groups"):
            return group_list(document)

    async def move(self, direction: Direction, group_id: int, udids: list[str]) -> None:
        """Put devices into, or take them out of, one static group in a single call.

        Membership is a set, so sending the same move twice leaves the same state: the shared
        layer may repeat it after a 5xx or a lost answer instead of giving up as uncertain.
        A 2xx body is not read: the status already says Jamf School took the change.
        """
        path = f"/devices/groups/{direction.value}"
        try:
            await self._http.request(
                "POST",
                f"{self._settings.base_url}{path}",
                idempotent=True,
                headers=self._headers(),
                json={"groupId": group_id, "udids": udids},
            )
        except ConnectorError as error:
            if isinstance(error, PermanentError) and http_status(error) == 404:
                raise NotFoundOnMove(error.message) from None
            raise self._translated(error, f"{direction.value} devices to groups") from None


@contextmanager
def _naming(what: str) -> Iterator[None]:
    """Prefix a parsing failure with the request it came from (the field path stays in it)."""
    try:
        yield
    except PermanentError as error:
        raise PermanentError(f"{what}: {error.message}") from None
