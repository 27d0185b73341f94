"""MDM connections over HTTP: a technician registers the mock Jamf Pro, its secrets are sealed and
never shown, the inventory arrives, mistakes are 422s naming the setting, and a check tries it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from mdm_bridge.connections import INSTANCES, unseal
from mdm_bridge.reconcile.facts import DEVICES
from tests.api.bridge import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, Bridge, open_bridge
from tests.conftest import SECRET_KEY
from tests.reconcile.school import PRO_URL

JAMF_PRO = {
    "name": "jamf-pro",
    "vendor": "jamf_pro",
    "base_url": PRO_URL,
    "options": {"client_id": MOCK_CLIENT_ID, "lost_mode_phone": "01632 960000"},
    "secrets": {"client_secret": MOCK_CLIENT_SECRET},
}


@pytest.fixture
async def empty(database_url: str) -> AsyncIterator[Bridge]:
    """A school with no MDM connection and no iPads yet."""
    async with open_bridge(database_url, register=False) as running:
        yield running


def device_count(bridge: Bridge) -> int:
    with bridge.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(DEVICES)).scalar_one())


def whole_database_text(bridge: Bridge) -> str:
    """Every audit row and every connection row, as text, to search for a leaked secret."""
    with bridge.engine.connect() as connection:
        rows = [
            *connection.execute(text("SELECT * FROM audit_events")),
            *connection.execute(text("SELECT id, name, vendor, base_url FROM mdm_instances")),
        ]
    return "\n".join(repr(tuple(row)) for row in rows)


async def test_register_the_mock_then_its_inventory_arrives(empty: Bridge) -> None:
    bridge = empty
    assert device_count(bridge) == 0
    async with bridge.as_("technician") as client:
        answer = await client.post("/api/v1/mdm-instances", json=JAMF_PRO)
        assert answer.status_code == 201, answer.text
        created = answer.json()
        assert created["options"] == JAMF_PRO["options"]
        assert created["secrets"] == ["client_secret"]
        assert created["enabled"] is True
        await bridge.service.settle()
        assert device_count(bridge) == len(bridge.fleet.devices)

        listed = await client.get("/api/v1/mdm-instances")
        one = await client.get(f"/api/v1/mdm-instances/{created['id']}")
        checked = await client.post(f"/api/v1/mdm-instances/{created['id']}/check")
        assert checked.json() == {
            "ok": True,
            "kind": None,
            "message": None,
            "devices_seen": len(bridge.fleet.devices),
        }
    for response in (answer, listed, one, checked):
        assert MOCK_CLIENT_SECRET not in response.text
    assert MOCK_CLIENT_SECRET not in whole_database_text(bridge)

    with bridge.engine.connect() as connection:
        row = connection.execute(select(INSTANCES)).one()
        events = list(connection.execute(text("SELECT action, target, change FROM audit_events")))
    assert MOCK_CLIENT_SECRET not in row.credentials_encrypted
    assert unseal(SECRET_KEY, row.credentials_encrypted, instance=row.name) == (
        JAMF_PRO["options"],
        JAMF_PRO["secrets"],
    )
    [event] = events
    assert event.action == "mdm.add"
    assert event.target == f"mdm:{created['id']} name:jamf-pro"
    assert "client_secret" in str(event.change)  # the name of the secret, not its value


async def test_mistakes_are_422s_naming_the_setting(empty: Bridge) -> None:
    cases = [
        (JAMF_PRO | {"vendor": "intune"}, "vendor"),
        (JAMF_PRO | {"base_url": "http://school.jamfcloud.com"}, "base_url"),
        (JAMF_PRO | {"secrets": {}}, "secrets.client_secret"),
        (JAMF_PRO | {"options": {}}, "options.username"),
        (JAMF_PRO | {"options": {"client_id": "x", "colour": "blue"}}, "options.colour"),
        (
            JAMF_PRO | {"options": {"client_id": "x", "command_batch_size": "lots"}},
            "options.command_batch_size",
        ),
        (
            {
                "name": "jamf-school",
                "vendor": "jamf_school",
                "base_url": "https://school.jamfcloud.com/api",
                "options": {"network_id": "123", "profile_groups": "not json"},
                "secrets": {"api_key": "k"},
            },
            "options.profile_groups",
        ),
        (
            {
                "name": "asm",
                "vendor": "apple_school_manager",
                "base_url": "https://api-school.apple.com",
                "options": {"client_id": "SCHOOLAPI.x", "key_id": "k"},
                "secrets": {"private_key": "-----BEGIN PRIVATE KEY-----\nnope"},
            },
            "secrets.private_key",
        ),
    ]
    async with empty.as_("technician") as client:
        for body, field in cases:
            answer = await client.post("/api/v1/mdm-instances", json=body)
            assert answer.status_code == 422, (field, answer.text)
            assert answer.json()["errors"][0]["field"] == field, answer.json()
            assert "nope" not in answer.text
    with empty.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(INSTANCES)).scalar_one() == 0


async def test_only_technicians_change_and_leaders_read(empty: Bridge) -> None:
    for role in ("senior_leader", "dsl", "teacher", "auditor", "service"):
        async with empty.as_(role) as client:
            refused = await client.post("/api/v1/mdm-instances", json=JAMF_PRO)
            assert refused.status_code == 403, role
    for role, status in (("senior_leader", 200), ("auditor", 200), ("teacher", 403)):
        async with empty.as_(role) as client:
            assert (await client.get("/api/v1/mdm-instances")).status_code == status, role


async def test_change_secrets_disable_and_check(empty: Bridge) -> None:
    bridge = empty
    async with bridge.as_("technician") as client:
        created = (await client.post("/api/v1/mdm-instances", json=JAMF_PRO)).json()
        again = await client.post("/api/v1/mdm-instances", json=JAMF_PRO)
        assert again.status_code == 409
        url = f"/api/v1/mdm-instances/{created['id']}"

        wrong = await client.patch(url, json={"secrets": {"client_secret": "not-the-one"}})
        assert wrong.status_code == 200, wrong.text
        assert "not-the-one" not in wrong.text
        checked = (await client.post(f"{url}/check")).json()
        assert checked["ok"] is False
        assert checked["kind"] == "auth"
        assert "not-the-one" not in str(checked)

        right = await client.patch(
            url,
            json={
                "secrets": {"client_secret": MOCK_CLIENT_SECRET},
                "options": {"lost_mode_phone": None},
                "reason": "secret rotated",
            },
        )
        assert right.json()["options"] == {"client_id": MOCK_CLIENT_ID}
        assert (await client.post(f"{url}/check")).json()["ok"] is True

        off = await client.patch(url, json={"enabled": False, "reason": "moving to Jamf School"})
        assert off.json()["enabled"] is False
        reconciling = bridge.service.reconciling
        assert reconciling is not None
        summary = await reconciling.reconcile("after disabling")
        assert summary.devices >= 0
        assert reconciling.reconciler is not None
        assert reconciling.reconciler.connectors == {}

        missing = await client.patch("/api/v1/mdm-instances/999", json={"enabled": True})
        assert missing.status_code == 404
    await bridge.service.settle()
    assert "not-the-one" not in whole_database_text(bridge)
    assert MOCK_CLIENT_SECRET not in whole_database_text(bridge)
    with bridge.engine.connect() as connection:
        actions = list(connection.execute(text("SELECT action FROM audit_events ORDER BY seq")))
    assert [a.action for a in actions] == ["mdm.add", "mdm.change", "mdm.change", "mdm.change"]
