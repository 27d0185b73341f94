"""The issue's journeys, as a new school would live them, through the HTTP API only (the roster
is imported the way the office does it): a technician connects the mock Jamf Pro and sets the
curfew; a teacher bans a pupil at level 2; a level-3 ban waits for a senior leader; each ban is
accepted by the MDM before any time passes on the school's clock (no drift cycle waited for);
a lift restores the iPad; the audit export tells the whole story; verify passes, and fails once
one audit row is edited in the database, over the API and with `mdm-bridge audit verify`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from mdm_bridge.cli import main
from mocks.device import Device
from policies import Role
from tests.api.bridge import (
    MOCK_CLIENT_ID,
    MOCK_CLIENT_SECRET,
    Bridge,
    import_school_roster,
    open_bridge,
)
from tests.conftest import SECRET_KEY
from tests.reconcile.school import PRO_URL

CHECK_INS = 12 * 60  # every mock iPad checks in within ten minutes


@pytest.fixture
async def school(database_url: str) -> AsyncIterator[Bridge]:
    """A school with no MDM connection yet: the technician makes it."""
    async with open_bridge(database_url, register=False) as running:
        yield running


def _device(bridge: Bridge, pupil: str) -> Device:
    return next(d for d in bridge.fleet.devices if d.pupil_ref == pupil)


def _ban(pupil: str, level: int) -> dict[str, Any]:
    return {
        "pupil": pupil,
        "level": level,
        "reason": "searched for violent videos",
        "category": "inappropriate search",
    }


async def test_from_connecting_the_mdm_to_verifying_the_trail(
    school: Bridge, database_url: str
) -> None:
    bridge = school

    # 1. The technician connects the mock Jamf Pro; the inventory arrives by itself.
    async with bridge.as_("technician") as technician:
        added = await technician.post(
            "/api/v1/mdm-instances",
            json={
                "name": "jamf",
                "vendor": "jamf_pro",
                "base_url": PRO_URL,
                "options": {"client_id": MOCK_CLIENT_ID},
                "secrets": {"client_secret": MOCK_CLIENT_SECRET},
            },
        )
        assert added.status_code == 201, added.text
        assert MOCK_CLIENT_SECRET not in added.text
        await bridge.service.settle()
        import_school_roster(bridge)  # the office's roster import (CLI: roster import)
        devices = (await technician.get("/api/v1/devices", params={"limit": 500})).json()
        assert len(devices["devices"]) == len(bridge.fleet.devices)

        # 2. ...and sets the curfew: 21:00 to 07:00, after a dry run. (At 19:00 it changes no
        #    iPad now; the blast-radius confirmation is tested in test_policy_api.py.)
        curfew = (await technician.get("/api/v1/policy/curfew")).json()["curfew"]
        curfew["windows"][0]["start"] = "21:00"
        change = {"curfew": curfew, "reason": "governors agreed 9pm for the winter term"}
        dry = await technician.put("/api/v1/policy/curfew", json={**change, "dry_run": True})
        assert dry.status_code == 200, dry.text
        assert dry.json()["applied"] is False
        assert dry.json()["plan"]["devices"] == 0
        applied = await technician.put("/api/v1/policy/curfew", json=change)
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] is True
        await bridge.service.settle()
        now_curfew = (await technician.get("/api/v1/policy/curfew")).json()
        assert now_curfew["curfew"]["windows"][0]["start"] == "21:00"

    # 3. A teacher bans a pupil in their class at level 2 (restrict: a ban profile). The MDM
    #    has it (the iPad is in the ban profile's group) before the school's clock moved at all.
    classes = sorted({d.class_name for d in bridge.fleet.devices})
    biggest = max(classes, key=lambda name: len(bridge.pupils_in(name)))
    teacher_token = bridge.new_token("b.teacher", Role.TEACHER, (biggest,))
    second_pupil, third_pupil = bridge.pupils_in(biggest)[:2]
    device2, device3 = _device(bridge, second_pupil), _device(bridge, third_pupil)
    groups_before = set(device2.group_ids or ())
    async with bridge.client(teacher_token) as teacher:
        level2 = await teacher.post("/api/v1/bans", json=_ban(second_pupil, 2))
        assert level2.status_code == 201, level2.text
        assert level2.json()["status"] == "active"
        before = bridge.clock.now()
        await bridge.service.settle()
        assert bridge.clock.now() == before  # no cycle waited for: sent on the request
        assert set(device2.group_ids or ()) - groups_before, "the MDM has the ban's group"
        bridge.let_time_pass(CHECK_INS)
        ban_profile = bridge.service.reconciling.current_policy().ban_identifier(2)  # type: ignore[union-attr]
        assert ban_profile in {p.identifier for p in (device2.installed or {}).values()}

        # 4. A level-3 ban (the iPad is locked) waits for a senior leader.
        level3 = await teacher.post("/api/v1/bans", json=_ban(third_pupil, 3))
        assert level3.status_code == 201, level3.text
        assert level3.json()["status"] == "awaiting_approval"
        await bridge.service.settle()
        bridge.let_time_pass(CHECK_INS)
        assert device3.lost_mode is None, "an unapproved level-3 ban does nothing"
    async with bridge.as_("senior_leader") as head:
        approved = await head.post(f"/api/v1/bans/{level3.json()['id']}/approve", json={})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "active"
        before = bridge.clock.now()
        await bridge.service.settle()
        assert bridge.clock.now() == before
        assert device3.pending, "the MDM holds the Lost Mode command for the iPad"
        bridge.let_time_pass(CHECK_INS)
        assert device3.lost_mode is not None

        # 5. The head lifts it early (the pupil apologised): the iPad is unlocked again.
        lifted = await head.post(
            f"/api/v1/bans/{level3.json()['id']}/lift", json={"reason": "apologised to the class"}
        )
        assert lifted.status_code == 200, lifted.text
        await bridge.service.settle()
        bridge.let_time_pass(CHECK_INS)
        assert device3.lost_mode is None

    # 6. The audit export shows all of it, in order, with who and why.
    async with bridge.as_("dsl") as dsl:
        export = await dsl.get("/api/v1/audit/export", params={"format": "csv"})
        assert export.status_code == 200
        rows = list(csv.DictReader(io.StringIO(export.text)))
        story = [(row["action"], row["actor"]) for row in rows]
        expected = [
            ("mdm.add", "t.tech"),
            ("policy.change", "t.tech"),
            ("ban.issue", "b.teacher"),
            ("ban.issue", "b.teacher"),
            ("ban.approve", "h.head"),
            ("ban.lift", "h.head"),
            ("audit.export", "d.dsl"),
        ]
        assert [s for s in story if s in expected] == expected, story
        assert any("apologised" in row["reason"] for row in rows)
        assert MOCK_CLIENT_SECRET not in export.text

        # 7. The chain verifies; then someone edits one row in the database directly.
        verdict = (await dsl.get("/api/v1/audit/verify")).json()
        assert verdict["ok"] is True
        cli = CliRunner().invoke(
            main,
            ["audit", "verify"],
            env={"MDM_BRIDGE_DATABASE_URL": database_url, "MDM_BRIDGE_SECRET_KEY": SECRET_KEY},
        )
        assert cli.exit_code == 0, cli.output
        lift_seq = next(int(r["seq"]) for r in rows if r["action"] == "ban.lift")
        with bridge.engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_events SET reason = 'routine' WHERE seq = :seq"),
                {"seq": lift_seq},
            )
        broken = (await dsl.get("/api/v1/audit/verify")).json()
        assert broken["ok"] is False
        assert broken["seq"] == lift_seq
    cli = CliRunner().invoke(
        main,
        ["audit", "verify"],
        env={"MDM_BRIDGE_DATABASE_URL": database_url, "MDM_BRIDGE_SECRET_KEY": SECRET_KEY},
    )
    assert cli.exit_code == 1
    assert f"event {lift_seq} was changed" in cli.output
