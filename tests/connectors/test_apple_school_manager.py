"""Apple School Manager connector: what the conformance suite does not cover."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connectors.apple_school_manager import create_connector
from connectors.apple_school_manager.assertion import client_assertion
from connectors.base import AuthError, ConnectorConfig, PermanentError
from mdm_bridge.clock import FakeClock
from tests.connectors.harness import START, Sleeper, apple_school_manager

API = "https://api-school.apple.com"
TOKEN = "https://account.apple.com/auth/oauth2/token"


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _config(pem: str) -> ConnectorConfig:
    return ConnectorConfig(
        name="asm",
        base_url=API,
        options={"client_id": "SCHOOLAPI.x", "key_id": "K1"},
        secrets={"private_key": pem},
    )


async def test_server_assignments_match_the_mock() -> None:
    async with apple_school_manager(300) as harness:
        assignments = await harness.connector.server_assignments()  # type: ignore[attr-defined]
        catalog = harness.extra["state"].catalog
        expected = {
            serial: catalog.servers[server_id].name
            for serial, server_id in catalog.assignment.items()
            if server_id is not None
        }
        assert assignments == expected
        home = catalog.servers[catalog.home_server_id].name
        assert {d.serial for d in harness.fleet.devices} <= {
            s for s, name in assignments.items() if name == home
        }


def test_assertion_is_es256_with_the_claims_apple_checks() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = client_assertion(
        client_id="SCHOOLAPI.x", key_id="K1", key=key, audience="aud", issued_at=START
    )
    header_b64, claims_b64, signature_b64 = token.split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims = json.loads(decode(header_b64)), json.loads(decode(claims_b64))
    assert header == {"alg": "ES256", "kid": "K1", "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == "SCHOOLAPI.x"
    assert claims["aud"] == "aud"
    assert claims["exp"] - claims["iat"] == 600
    assert len(decode(signature_b64)) == 64
    other = client_assertion(
        client_id="SCHOOLAPI.x", key_id="K1", key=key, audience="aud", issued_at=START
    )
    assert json.loads(decode(other.split(".")[1]))["jti"] != claims["jti"]


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        _pem(ec.generate_private_key(ec.SECP384R1())),
    ],
)
def test_wrong_key_is_a_configuration_error(pem: str) -> None:
    with pytest.raises(AuthError, match="private_key"):
        create_connector(_config(pem), client=httpx.AsyncClient(), clock=FakeClock(START))


def test_missing_setting_is_named() -> None:
    config = ConnectorConfig(name="asm", base_url=API, options={"key_id": "K1"})
    with pytest.raises(AuthError, match="'client_id' is missing"):
        create_connector(config, client=httpx.AsyncClient(), clock=FakeClock(START))


def test_config_repr_hides_the_key() -> None:
    pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert "PRIVATE KEY" not in repr(_config(pem))


@respx.mock
@pytest.mark.parametrize(
    ("page", "field_name"),
    [
        (
            {"data": [{"type": "orgDevices", "attributes": {"productFamily": "iPad"}}]},
            "data[0].attributes.serialNumber",
        ),
        ({"data": "nope"}, "field data should be a list"),
        (
            {"data": [{"attributes": {"serialNumber": 7}}]},
            "data[0].attributes.serialNumber should be a string",
        ),
    ],
)
async def test_malformed_vendor_json_names_the_field(
    page: dict[str, object], field_name: str
) -> None:
    respx.post(TOKEN).mock(
        return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
    )
    respx.get(f"{API}/v1/orgDevices").mock(return_value=httpx.Response(200, json=page))
    clock = FakeClock(START)
    async with httpx.AsyncClient() as client:
        connector = create_connector(
            _config(_pem(ec.generate_private_key(ec.SECP256R1()))),
            client=client,
            clock=clock,
            sleep=Sleeper(clock),
        )
        with pytest.raises(
            PermanentError, match=field_name.replace("[", r"\[").replace("]", r"\]")
        ):
            _ = [device async for device in connector.list_devices()]


@respx.mock
async def test_answer_that_is_not_json_is_permanent() -> None:
    respx.post(TOKEN).mock(return_value=httpx.Response(200, text="<html>maintenance</html>"))
    clock = FakeClock(START)
    async with httpx.AsyncClient() as client:
        connector = create_connector(
            _config(_pem(ec.generate_private_key(ec.SECP256R1()))), client=client, clock=clock
        )
        with pytest.raises(PermanentError, match="not JSON"):
            _ = [device async for device in connector.list_devices()]


@respx.mock
async def test_refused_account_is_an_auth_failure() -> None:
    respx.post(TOKEN).mock(return_value=httpx.Response(400, json={"error": "invalid_client"}))
    clock = FakeClock(START)
    async with httpx.AsyncClient() as client:
        connector = create_connector(
            _config(_pem(ec.generate_private_key(ec.SECP256R1()))), client=client, clock=clock
        )
        with pytest.raises(AuthError, match="refused the API account"):
            _ = [device async for device in connector.list_devices()]
