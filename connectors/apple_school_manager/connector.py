"""The Apple School Manager connector: inventory only.

Lists the organisation's iPads (cursor paging, 1,000 a page) and maps each serial number to the
MDM server it is assigned to, so the service can find iPads that are not enrolled where they
should be. It cannot lock, install or move anything; `apply` refuses every action up front.
Apple's budget is tight (about 20 GET a minute), so requests are spaced and never parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from connectors.apple_school_manager.assertion import client_assertion, load_signing_key
from connectors.base import (
    ActionResult,
    AuthError,
    Capability,
    ClockLike,
    ConnectorConfig,
    PermanentError,
    UncertainOutcome,
    ordered_results,
    refuse_unsupported,
)
from connectors.http import CachedToken, HttpPolicy, Sleep, VendorHttp
from connectors.parsing import field, json_body
from mdm_bridge.model import Action, DeviceRef, ObservedDevice, Vendor

DEFAULT_TOKEN_URL = "https://account.apple.com/auth/oauth2/token"  # noqa: S105 - a URL
DEFAULT_AUDIENCE = "https://account.apple.com/auth/oauth2/v2/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PAGE_LIMIT = "1000"
JSON = {"Accept": "application/json"}
TOKEN_ATTEMPTS = 5
# About 20 GET a minute: one request every 3 s keeps inside it; wait up to a minute when told.
ASM_POLICY = HttpPolicy(max_connections=1, min_interval=3.0, max_wait=60.0)


class AppleSchoolManagerConnector:
    vendor = Vendor.APPLE_SCHOOL_MANAGER
    capabilities = frozenset({Capability.INVENTORY_ONLY})

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        client: httpx.AsyncClient,
        clock: ClockLike,
        sleep: Sleep = asyncio.sleep,
        policy: HttpPolicy = ASM_POLICY,
    ) -> None:
        self.name = config.name
        self._base = config.base_url.rstrip("/")
        self._client_id = config.option("client_id")
        self._key_id = config.option("key_id")
        self._key = load_signing_key(config.secret("private_key"), instance=config.name)
        self._token_url = config.option("token_url", DEFAULT_TOKEN_URL)
        self._audience = config.option("audience", DEFAULT_AUDIENCE)
        self._clock = clock
        self._sleep = sleep
        self._token = CachedToken(self._fetch_token, clock, refresh_margin=timedelta(minutes=5))
        self._http = VendorHttp(client, clock=clock, policy=policy, auth=self._token, sleep=sleep)

    def _token_form(self) -> dict[str, str]:
        """A token request with a newly signed assertion (Apple may spend each `jti` once)."""
        assertion = client_assertion(
            client_id=self._client_id,
            key_id=self._key_id,
            key=self._key,
            audience=self._audience,
            issued_at=self._clock.now(),
        )
        return {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": "school.api",
        }

    async def _fetch_token(self) -> tuple[str, datetime]:
        # Minting a token changes nothing, so an uncertain answer is simply asked again, each
        # time with a fresh assertion; the HTTP layer alone would resend the spent one.
        for attempt in range(1, TOKEN_ATTEMPTS + 1):
            try:
                response = await self._http.request(
                    "POST",
                    self._token_url,
                    authenticated=False,
                    data=self._token_form(),
                    headers=JSON,
                )
                break
            except UncertainOutcome as error:
                if attempt == TOKEN_ATTEMPTS:
                    raise
                await self._sleep(error.retry_after)
            except PermanentError as error:  # invalid_client and the like: account or key wrong
                raise AuthError(f"{self.name}: Apple refused the API account: {error}") from None
        body = json_body(response, f"{self.name} token")
        token = field(body, "access_token", str)
        lifetime = field(body, "expires_in", int)
        return token, self._clock.now() + timedelta(seconds=lifetime)

    async def _pages(self, path: str) -> AsyncIterator[tuple[int, Any]]:
        """Each page of a cursor-paged list, with the page's number for error messages."""
        cursor: str | None = None
        page = 0
        while True:
            params = {"limit": PAGE_LIMIT} | ({"cursor": cursor} if cursor else {})
            response = await self._http.request(
                "GET", f"{self._base}{path}", params=params, headers=JSON
            )
            document = json_body(response, f"{self.name} GET {path}")
            yield page, document
            cursor = field(document, "meta.paging.nextCursor", str, optional=True)
            if not cursor:
                return
            page += 1

    async def list_devices(self) -> AsyncIterator[DeviceRef]:
        async for _, document in self._pages("/v1/orgDevices"):
            for index in range(len(field(document, "data", list))):
                item = f"data[{index}]"
                family = field(document, f"{item}.attributes.productFamily", str, optional=True)
                if family not in (None, "iPad"):
                    continue
                serial = field(document, f"{item}.attributes.serialNumber", str)
                yield DeviceRef(mdm_instance=self.name, vendor_id=serial, serial_number=serial)

    async def server_assignments(self) -> dict[str, str]:
        """Serial number -> name of the MDM server it is assigned to (unassigned: absent)."""
        servers: dict[str, str] = {}
        async for _, document in self._pages("/v1/mdmServers"):
            for index in range(len(field(document, "data", list))):
                server_id = field(document, f"data[{index}].id", str)
                servers[server_id] = field(document, f"data[{index}].attributes.serverName", str)
        assignments: dict[str, str] = {}
        for server_id, server_name in servers.items():
            async for _, document in self._pages(
                f"/v1/mdmServers/{server_id}/relationships/devices"
            ):
                for index in range(len(field(document, "data", list))):
                    assignments[field(document, f"data[{index}].id", str)] = server_name
        return assignments

    async def observe(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]:
        """Apple School Manager knows no device state: nothing to observe."""
        return []

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        doable, refused = refuse_unsupported(actions, self.capabilities)
        assert not doable  # inventory only: every action is refused above
        return ordered_results(actions, refused, [])

    async def aclose(self) -> None:
        """The HTTP client belongs to the caller; nothing else to release."""


def create_connector(
    config: ConnectorConfig,
    *,
    client: httpx.AsyncClient,
    clock: ClockLike,
    sleep: Sleep = asyncio.sleep,
) -> AppleSchoolManagerConnector:
    return AppleSchoolManagerConnector(config, client=client, clock=clock, sleep=sleep)
