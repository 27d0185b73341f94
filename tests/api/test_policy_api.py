"""Policy over HTTP: read by staff, changed by technicians, validated, previewed, guarded by the
blast radius, versioned, audited, followed by other replicas, and carried to the mock iPads."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select

from mdm_bridge.api.app import create_app
from mdm_bridge.settings import Settings
from mdm_bridge.store import audit
from mdm_bridge.store.policy_versions import VERSIONS
from tests.api.bridge import Bridge, mock_client_factory, open_bridge
from tests.conftest import SECRET_KEY
from tests.reconcile.school import Home, roster_from

REASON = "Governors asked for an earlier bedtime (minutes of 12 Nov)"


def home_use_serials(bridge: Bridge) -> set[str]:
    _entries, homes = roster_from(bridge.fleet)
    return {serial for serial, kind in homes.items() if kind is Home.HOME_USE}


def locked(bridge: Bridge) -> set[str]:
    return {device.serial for device in bridge.fleet.devices if device.lost_mode is not None}


def counts(bridge: Bridge) -> tuple[int, int]:
    with bridge.engine.connect() as connection:
        versions = connection.execute(select(func.count()).select_from(VERSIONS)).scalar_one()
        events = connection.execute(select(func.count()).select_from(audit.EVENTS)).scalar_one()
    return versions, events


async def converge_by_day(bridge: Bridge) -> None:
    """19:00: a first run installs the restriction profiles; then 19:30, all converged."""
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    await reconciling.reconcile("first run")
    bridge.let_time_pass(30 * 60)
    await reconciling.reconcile("drift")
    assert locked(bridge) == set()


def earlier_curfew(curfew: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(curfew)
    changed["windows"][0]["start"] = "19:00"
    return changed


async def test_staff_read_and_only_technicians_change(bridge: Bridge) -> None:
    for role in ("teacher", "auditor", "service", "dsl"):
        async with bridge.as_(role) as client:
            curfew = await client.get("/api/v1/policy/curfew")
            assert curfew.status_code == 200, role
            window = curfew.json()["curfew"]["windows"][0]
            assert (window["start"], window["end"], window["days"]) == ("20:00", "07:00", None)
            profiles = (await client.get("/api/v1/policy/profiles")).json()
            pairs = [(item["key_stage"], item["profile"]) for item in profiles["assignments"]]
            assert ("ks2", "primary-upper") in pairs
            ladder = (await client.get("/api/v1/policy/ladder")).json()["ladder"]
            assert [level["level"] for level in ladder["levels"]] == [1, 2, 3, 4]
    async with bridge.as_("teacher") as client:
        body = {"curfew": curfew.json()["curfew"], "reason": REASON, "dry_run": True}
        for role in ("teacher", "senior_leader", "dsl", "auditor", "service"):
            async with bridge.as_(role) as other:
                refused = await other.put("/api/v1/policy/curfew", json=body)
                assert refused.status_code == 403, role
                assert refused.headers["content-type"] == "application/problem+json"
    assert counts(bridge) == (0, 0)


async def test_an_invalid_curfew_is_a_422_naming_the_field(bridge: Bridge) -> None:
    async with bridge.as_("technician") as client:
        curfew = (await client.get("/api/v1/policy/curfew")).json()["curfew"]
        bad = copy.deepcopy(curfew)
        bad["windows"][0]["start"] = "25:00"
        answer = await client.put("/api/v1/policy/curfew", json={"curfew": bad, "reason": "x"})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "curfew.windows.0.start"
        bad = copy.deepcopy(curfew) | {"timezone": "Mars/Olympus"}
        answer = await client.put("/api/v1/policy/curfew", json={"curfew": bad, "reason": "x"})
        assert answer.json()["errors"][0]["field"] == "curfew.timezone"
        no_reason = await client.put("/api/v1/policy/curfew", json={"curfew": curfew})
        assert no_reason.status_code == 422
        assert no_reason.json()["errors"][0]["field"] == "reason"
        blank = await client.put("/api/v1/policy/curfew", json={"curfew": curfew, "reason": "  "})
        assert blank.status_code == 422
    assert counts(bridge) == (0, 0)


async def test_a_dry_run_says_which_ipads_would_lock_and_changes_nothing(bridge: Bridge) -> None:
    await converge_by_day(bridge)  # now 19:30
    home = home_use_serials(bridge)
    before = counts(bridge)
    commands = sum(1 for _ in bridge.fleet.all_commands())
    async with bridge.as_("technician") as client:
        curfew = (await client.get("/api/v1/policy/curfew")).json()["curfew"]
        body = {"curfew": earlier_curfew(curfew), "reason": REASON, "dry_run": True}
        answer = await client.put("/api/v1/policy/curfew", json=body)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["applied"] is False
        assert result["version"] is None
        assert result["plan"]["devices"] == len(home)
        assert result["plan"]["locks"] == len(home)
        assert result["plan"]["by_kind"] == {"lock": len(home)}
        assert result["changes"] == {"windows.0.start": {"before": "20:00", "after": "19:00"}}
        still = (await client.get("/api/v1/policy/curfew")).json()
        assert still["version"] is None
        assert still["curfew"]["windows"][0]["start"] == "20:00"
    await bridge.service.settle()
    bridge.let_time_pass(15 * 60)
    assert counts(bridge) == before
    assert sum(1 for _ in bridge.fleet.all_commands()) == commands
    assert locked(bridge) == set()


async def test_over_the_blast_radius_needs_the_count_then_applies_and_locks(
    database_url: str,
) -> None:
    async with open_bridge(database_url, blast_radius=3) as bridge:
        await converge_by_day(bridge)
        home = home_use_serials(bridge)
        assert len(home) > 3
        async with bridge.as_("technician") as client:
            curfew = (await client.get("/api/v1/policy/curfew")).json()["curfew"]
            body = {"curfew": earlier_curfew(curfew), "reason": REASON}
            refused = await client.put("/api/v1/policy/curfew", json=body)
            assert refused.status_code == 409
            assert refused.json()["errors"][0]["field"] == "confirm_devices"
            assert f"send confirm_devices: {len(home)}" in refused.json()["detail"]
            wrong = await client.put(
                "/api/v1/policy/curfew", json=body | {"confirm_devices": len(home) - 1}
            )
            assert wrong.status_code == 409
            assert counts(bridge) == (0, 0)
            applied = await client.put(
                "/api/v1/policy/curfew", json=body | {"confirm_devices": len(home)}
            )
            assert applied.status_code == 200, applied.text
            version = applied.json()["version"]
            assert applied.json()["applied"] is True
            now = (await client.get("/api/v1/policy/curfew")).json()
            assert now["version"] == version
            assert now["curfew"]["windows"][0]["start"] == "19:00"
        await bridge.service.settle()
        bridge.let_time_pass(12 * 60)
        assert locked(bridge) == home

        with bridge.engine.connect() as connection:
            row = connection.execute(select(VERSIONS)).one()
            events = audit.search(connection, audit.AuditQuery(), limit=10)
        assert (row.id, row.section, row.reason, row.changed_by) == (
            version,
            "curfew",
            REASON,
            "t.tech",
        )
        assert "start: '19:00'" in row.files["curfew.yaml"]
        assert "schedule: curfew.yaml" in row.files["policy.yaml"]
        [event] = [e for e in events if e.action == "policy.change"]
        assert (event.actor, event.target, event.reason) == (
            "t.tech",
            f"policy:curfew version:{version}",
            REASON,
        )
        assert event.change["changes"] == {"windows.0.start": {"before": "20:00", "after": "19:00"}}
        async with bridge.as_("auditor") as client:
            history = (await client.get("/api/v1/policy/versions")).json()
        [shown] = history["versions"]
        assert shown["id"] == version
        assert shown["changed_by"] == "t.tech"
        assert shown["changes"] == {"windows.0.start": {"before": "20:00", "after": "19:00"}}


async def test_a_profile_change_reaches_the_ks2_ipads(bridge: Bridge) -> None:
    await converge_by_day(bridge)
    ks2 = [d for d in bridge.fleet.devices if int(d.year_group.split()[-1]) in (3, 4, 5, 6)]
    assert ks2
    async with bridge.as_("technician") as client:
        current = (await client.get("/api/v1/policy/profiles")).json()
        profiles = current["profiles"]
        profiles["primary-upper"]["blocked_apps"] = ["com.apple.mobilegarageband"]
        body = {
            "profiles": profiles,
            "assignments": current["assignments"],
            "reason": "GarageBand used to record other pupils (incident 41)",
        }
        answer = await client.put("/api/v1/policy/profiles", json=body)
        assert answer.status_code == 200, answer.text
        plan = answer.json()["plan"]
        assert plan["devices"] == len(ks2)
        assert plan["profiles_replaced"] == len(ks2)
    await bridge.service.settle()
    bridge.let_time_pass(12 * 60)
    identifier = "org.mdmbridge.restrictions.primary-upper"
    for device in ks2:
        [installed] = [p for p in device.installed.values() if p.identifier == identifier]
        served = bridge.fleet.profile(installed.profile_id)
        assert served is not None
        assert b"com.apple.mobilegarageband" in served.payload
        assert installed.version == served.version, device.serial


async def test_bad_profile_and_ladder_changes_name_the_field(bridge: Bridge) -> None:
    async with bridge.as_("technician") as client:
        current = (await client.get("/api/v1/policy/profiles")).json()
        profiles = current["profiles"]
        profiles["secondary"]["restrictions"]["allowChat"] = "sometimes"
        body = {"profiles": profiles, "assignments": current["assignments"], "reason": "r"}
        answer = await client.put("/api/v1/policy/profiles", json=body)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "profiles.secondary.restrictions.allowChat"

        ladder = (await client.get("/api/v1/policy/ladder")).json()["ladder"]
        ladder["levels"][1]["level"] = 3
        answer = await client.put("/api/v1/policy/ladder", json={"ladder": ladder, "reason": "r"})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "ladder.levels.1.level"
        assert "1, 2, 3" in answer.json()["errors"][0]["message"]
        nul = await client.put(
            "/api/v1/policy/ladder",
            json={
                "ladder": (await client.get("/api/v1/policy/ladder")).json()["ladder"],
                "reason": "a\x00b",
            },
        )
        assert nul.status_code == 422
    assert counts(bridge) == (0, 0)


@asynccontextmanager
async def another_replica(bridge: Bridge, database_url: str) -> AsyncIterator[FastAPI]:
    """A second app on the same database (another replica), sharing the clock and the mock."""
    settings = Settings(
        database_url=database_url, secret_key=SecretStr(SECRET_KEY), scheduler=False
    )
    app = create_app(
        settings, clock=bridge.clock, client_factory=lambda: mock_client_factory(bridge.mock)
    )
    async with app.router.lifespan_context(app):
        yield app
        await app.state.service.settle()


def client_of(app: FastAPI, bridge: Bridge, role: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://replica",
        headers={"Authorization": f"Bearer {bridge.tokens[role]}"},
    )


async def test_a_ladder_change_is_applied_and_another_replica_follows(
    bridge: Bridge, database_url: str
) -> None:
    async with bridge.as_("technician") as client:
        ladder = (await client.get("/api/v1/policy/ladder")).json()["ladder"]
        ladder["repeat_window"] = "14d"
        ladder["levels"][0]["default_duration"] = "2d"
        answer = await client.put(
            "/api/v1/policy/ladder", json={"ladder": ladder, "reason": "Behaviour policy 2026"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["plan"]["devices"] == 0
        assert answer.json()["changes"] == {
            "repeat_window": {"before": "28d", "after": "14d"},
            "levels.0.default_duration": {"before": "1d", "after": "2d"},
        }
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    assert reconciling.current_policy().ladder.repeat_window.days == 14

    async with another_replica(bridge, database_url) as other:
        other_reconciling = other.state.service.reconciling
        assert other_reconciling.current_policy().ladder.repeat_window.days == 14
        async with client_of(other, bridge, "teacher") as client:
            seen = (await client.get("/api/v1/policy/ladder")).json()
        assert seen["version"] == answer.json()["version"]
        assert seen["ladder"]["levels"][0]["default_duration"] == "2d"


async def test_a_change_made_on_one_replica_is_followed_by_a_running_one(
    bridge: Bridge, database_url: str
) -> None:
    async with (
        another_replica(bridge, database_url) as other,
        client_of(other, bridge, "technician") as client,
    ):
        curfew = (await client.get("/api/v1/policy/curfew")).json()["curfew"]
        answer = await client.put(
            "/api/v1/policy/curfew", json={"curfew": earlier_curfew(curfew), "reason": REASON}
        )
        assert answer.status_code == 200, answer.text
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    assert reconciling.current_policy().schedule.rule.windows[0].start.hour == 20
    summary = await reconciling.reconcile("drift")  # the running replica follows before a run
    assert summary.errors == []
    assert reconciling.policy_version == answer.json()["version"]
    assert reconciling.current_policy().schedule.rule.windows[0].start.hour == 19
