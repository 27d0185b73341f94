"""Jamf Pro authentication: both account kinds, refresh before expiry, no secret ever shown."""

from __future__ import annotations

import logging

import httpx
import pytest

from connectors.base import AuthError, ConnectorConfig
from connectors.jamf_pro import create_connector
from mdm_bridge.clock import FakeClock
from tests.connectors.harness import START, Harness
from tests.connectors.harness_jamf_pro import JAMF_URL, USER_OPTIONS, USER_SECRETS, jamf_pro


async def _statuses(harness: Harness, path: str) -> list[int]:
    return [r["status"] for r in await harness.requests_seen() if r["path"] == path]


async def _list_all(harness: Harness) -> int:
    return len([d async for d in harness.connector.list_devices()])


async def test_user_account_logs_in_with_basic_and_again_before_expiry() -> None:
    async with jamf_pro(30, options=USER_OPTIONS, secrets=USER_SECRETS) as harness:
        assert await _list_all(harness) == 30
        harness.clock.advance(29 * 60 + 30)  # the 30-minute token has 30 s left
        assert await _list_all(harness) == 30
        assert await _statuses(harness, "/api/v1/auth/token") == [200, 200]
        every = [r["status"] for r in await harness.requests_seen()]
        assert 401 not in every, "the token was used after it expired"


async def test_api_client_token_is_replaced_before_its_short_life_ends() -> None:
    async with jamf_pro(30) as harness:  # the mock's client tokens live 60 s
        await _list_all(harness)
        harness.clock.advance(40)  # 20 s left: still good
        await _list_all(harness)
        harness.clock.advance(6)  # 14 s left: inside the last quarter, so replace it
        await _list_all(harness)
        harness.clock.advance(46)
        await _list_all(harness)
        assert await _statuses(harness, "/api/v1/oauth/token") == [200, 200, 200]
        assert 401 not in [r["status"] for r in await harness.requests_seen()]


async def test_an_expired_token_is_refreshed_once_and_the_request_repeated() -> None:
    async with jamf_pro(30, options=USER_OPTIONS, secrets=USER_SECRETS) as harness:
        await _list_all(harness)
        await harness.expire_tokens()
        assert await _list_all(harness) == 30
        assert await _statuses(harness, "/api/v1/auth/token") == [200, 200]


@pytest.mark.parametrize(
    ("options", "secrets", "secret"),
    [
        (USER_OPTIONS, {"password": "wrong-horse-battery"}, "wrong-horse-battery"),
        ({"client_id": "mdm-bridge"}, {"client_secret": "not-the-secret-42"}, "not-the-secret-42"),
    ],
)
async def test_refused_credentials_are_an_auth_error_that_never_shows_them(
    options: dict[str, str],
    secrets: dict[str, str],
    secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with jamf_pro(5, options=options, secrets=secrets) as harness:
        with pytest.raises(AuthError) as raised:
            await _list_all(harness)
        assert "refused" in raised.value.message
        shown = [str(raised.value), repr(raised.value), repr(harness.connector)]
        shown += [repr(vars(harness.connector))]
        shown += [record.getMessage() for record in caplog.records]
        assert not [text for text in shown if secret in text]


async def test_missing_account_settings_name_what_to_set() -> None:
    config = ConnectorConfig(name="jamf", base_url=JAMF_URL, secrets={"password": "x"})
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthError, match=r"client_id .* or username"):
            create_connector(config, client=client, clock=FakeClock(START))
        config = ConnectorConfig(name="jamf", base_url=JAMF_URL, options=USER_OPTIONS)
        with pytest.raises(AuthError, match="'password' is missing"):
            create_connector(config, client=client, clock=FakeClock(START))
