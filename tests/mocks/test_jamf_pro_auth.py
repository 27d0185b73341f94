"""Jamf Pro authentication: user tokens, keep-alive, invalidation, API clients, Classic rules."""

from __future__ import annotations

import httpx

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.jamf_pro import privileges
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.privileges import ALL_PRIVILEGES
from mocks.jamf_pro.state import ApiClientConfig, JamfProSettings
from tests.mocks.conftest import JAMF_CLIENT, JAMF_USER


async def test_user_token_has_expiry_and_works(jamf: httpx.AsyncClient) -> None:
    answer = await jamf.post("/api/v1/auth/token", auth=JAMF_USER)
    body = answer.json()
    assert set(body) == {"token", "expires"}
    assert body["expires"] == "2026-11-23T19:30:00.000Z"
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert (await jamf.get("/api/v1/jamf-pro-version", headers=headers)).json() == {
        "version": "11.30.1"
    }


async def test_bad_credentials_get_api_error(jamf: httpx.AsyncClient) -> None:
    answer = await jamf.post("/api/v1/auth/token", auth=("bridge", "wrong"))
    assert answer.status_code == 401
    assert answer.json()["httpStatus"] == 401
    assert answer.json()["errors"][0]["field"] is None


async def test_user_token_expires_after_thirty_minutes(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    clock.advance(29 * 60)
    assert (await api.get("/api/v2/mobile-devices")).status_code == 200
    clock.advance(60)
    expired = await api.get("/api/v2/mobile-devices")
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["code"] == "INVALID_TOKEN"


async def test_keep_alive_returns_a_new_token_and_kills_the_old(
    jamf: httpx.AsyncClient, jamf_token: str, clock: ManualClock
) -> None:
    old = {"Authorization": f"Bearer {jamf_token}"}
    clock.advance(25 * 60)
    renewed = await jamf.post("/api/v1/auth/keep-alive", headers=old)
    assert renewed.status_code == 200
    new = {"Authorization": f"Bearer {renewed.json()['token']}"}
    assert renewed.json()["token"] != jamf_token
    assert (await jamf.get("/api/v2/mobile-devices", headers=old)).status_code == 401
    clock.advance(25 * 60)  # the new token counts its 30 minutes from the keep-alive
    assert (await jamf.get("/api/v2/mobile-devices", headers=new)).status_code == 200


async def test_invalidate_token(jamf: httpx.AsyncClient, jamf_token: str) -> None:
    headers = {"Authorization": f"Bearer {jamf_token}"}
    assert (await jamf.post("/api/v1/auth/invalidate-token", headers=headers)).status_code == 204
    assert (await jamf.get("/api/v1/auth", headers=headers)).status_code == 401


async def test_deprecated_auth_aliases_flag_themselves(
    jamf: httpx.AsyncClient, jamf_token: str
) -> None:
    headers = {"Authorization": f"Bearer {jamf_token}"}
    current = await jamf.get("/api/auth", headers=headers)
    assert current.status_code == 200
    assert current.headers["deprecation"] == "true"
    renewed = await jamf.post("/api/auth/keepAlive", headers=headers)
    assert renewed.status_code == 200
    assert "deprecation" in renewed.headers


async def test_client_credentials_token(jamf: httpx.AsyncClient, clock: ManualClock) -> None:
    answer = await jamf.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials", **JAMF_CLIENT}
    )
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "api-role:1", 60)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await jamf.get("/api/v2/mobile-devices", headers=headers)).status_code == 200
    assert (await jamf.post("/api/v1/auth/keep-alive", headers=headers)).status_code == 401
    clock.advance(60)
    assert (await jamf.get("/api/v2/mobile-devices", headers=headers)).status_code == 401


async def test_unversioned_oauth_route_still_works(jamf: httpx.AsyncClient) -> None:
    answer = await jamf.post(
        "/api/oauth/token", data={"grant_type": "client_credentials", **JAMF_CLIENT}
    )
    assert answer.status_code == 200
    assert answer.headers["deprecation"] == "true"


async def test_oauth_errors_use_rfc_6749_shape(jamf: httpx.AsyncClient) -> None:
    bad_secret = await jamf.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "mdm-bridge", "client_secret": "x"},
    )
    assert bad_secret.status_code == 400
    assert bad_secret.json()["error"] == "invalid_client"
    assert "httpStatus" not in bad_secret.json()
    bad_scope = await jamf.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "api-role:9", **JAMF_CLIENT},
    )
    assert bad_scope.json()["error"] == "invalid_scope"
    json_body = await jamf.post("/api/v1/oauth/token", json={"grant_type": "client_credentials"})
    assert json_body.json()["error"] == "invalid_request"


async def test_disabled_client_keeps_its_issued_tokens(jamf: httpx.AsyncClient) -> None:
    form = {"grant_type": "client_credentials", **JAMF_CLIENT}
    token = (await jamf.post("/api/v1/oauth/token", data=form)).json()["access_token"]
    switched = await jamf.patch("/_mock/jamf-pro/clients/mdm-bridge", json={"enabled": False})
    assert switched.status_code == 200
    refused = await jamf.post("/api/v1/oauth/token", data=form)
    assert refused.json()["error"] == "invalid_client"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await jamf.get("/api/v2/mobile-devices", headers=headers)).status_code == 200


async def test_classic_refuses_basic_and_answers_html(jamf: httpx.AsyncClient) -> None:
    answer = await jamf.get("/JSSResource/mobiledevices", auth=JAMF_USER)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "Status page" in answer.text


async def test_expire_all_tokens_knob(api: httpx.AsyncClient) -> None:
    expired = await api.post("/_mock/tokens/expire")
    assert expired.json() == {"expired": 1}
    assert (await api.get("/api/v2/mobile-devices")).status_code == 401


async def test_client_roles_limit_what_a_token_may_do(fleet: Fleet) -> None:
    settings = JamfProSettings(
        api_clients={
            "reader": ApiClientConfig(secret="r", roles=("api-role:2",)),
            "bridge": ApiClientConfig(secret="b", roles=("api-role:1", "api-role:2")),
        },
        api_roles={
            "api-role:1": ALL_PRIVILEGES,
            "api-role:2": frozenset({privileges.READ_DEVICES, privileges.VIEW_COMMANDS}),
        },
    )
    app = build_jamf_pro_app(fleet, settings=settings)
    transport = httpx.ASGITransport(app=app)
    lock = {
        "clientData": [{"managementId": fleet.devices[0].management_id}],
        "commandData": {"commandType": "ENABLE_LOST_MODE", "lostModeMessage": "m"},
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as jamf:
        form = {"grant_type": "client_credentials", "client_id": "reader", "client_secret": "r"}
        token = (await jamf.post("/api/v1/oauth/token", data=form)).json()["access_token"]
        reader = {"Authorization": f"Bearer {token}"}
        assert (await jamf.get("/api/v2/mobile-devices", headers=reader)).status_code == 200
        refused = await jamf.post("/api/v2/mdm/commands", json=lock, headers=reader)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "INVALID_PRIVILEGE"
        classic = await jamf.get("/JSSResource/mobiledevicegroups", headers=reader)
        assert classic.status_code == 403
        assert "Status page" in classic.text
        narrowed = form | {"client_id": "bridge", "client_secret": "b", "scope": "api-role:2"}
        token = (await jamf.post("/api/v1/oauth/token", data=narrowed)).json()["access_token"]
        narrow = {"Authorization": f"Bearer {token}"}
        assert (
            await jamf.post("/api/v2/mdm/commands", json=lock, headers=narrow)
        ).status_code == 403
        full = form | {"client_id": "bridge", "client_secret": "b"}
        token = (await jamf.post("/api/v1/oauth/token", data=full)).json()["access_token"]
        allowed = {"Authorization": f"Bearer {token}"}
        assert (
            await jamf.post("/api/v2/mdm/commands", json=lock, headers=allowed)
        ).status_code == 201
        assert fleet.pending_for(fleet.devices[0])[0].request_type.value == "EnableLostMode"
