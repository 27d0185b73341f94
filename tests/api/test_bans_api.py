"""Bans over HTTP, against the real app and the mock Jamf Pro: a teacher's ban reaches the iPad,
levels follow the ladder, a second person approves, lifts and extensions restore and lengthen,
and every change is in the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from mdm_bridge.store import audit
from mdm_bridge.store.records import BanRow
from mocks.device import Device
from tests.api.bridge import Bridge

BANS = BanRow.__table__  # type: ignore[attr-defined]
PROBLEM = "application/problem+json"
CHECK_INS = 12 * 60  # every iPad of the mock checks in within ten minutes


def device_of(bridge: Bridge, pupil: str) -> Device:
    return next(d for d in bridge.fleet.devices if d.pupil_ref == pupil)


def installed(device: Device) -> set[str]:
    return {p.identifier for p in (device.installed or {}).values()}


def ban_profile(bridge: Bridge, level: int) -> str:
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    return reconciling.current_policy().ban_identifier(level)


def events(bridge: Bridge, action: str) -> list[audit.Entry]:
    with bridge.engine.connect() as connection:
        return audit.search(connection, audit.AuditQuery(action=action), limit=100)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]], response.json()


def ban(pupil: str, level: int, **more: Any) -> dict[str, Any]:
    return {"pupil": pupil, "level": level, "reason": "games in maths", "category": "games", **more}


async def arrive(bridge: Bridge) -> None:
    """The background reconcile finishes, then every iPad checks in."""
    await bridge.service.settle()
    bridge.let_time_pass(CHECK_INS)


async def test_a_teacher_bans_a_pupil_in_their_class_and_the_ipad_gets_the_ban_profile(
    bridge: Bridge,
) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    device = device_of(bridge, pupil)
    async with bridge.as_("teacher") as teacher:
        response = await teacher.post("/api/v1/bans", json=ban(pupil, 2, notes="second time"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["pupil"] == pupil
    assert body["level"] == 2
    assert body["status"] == "active"
    assert body["needs_approval"] is False
    assert body["suggested_level"] == 1  # no history yet
    assert body["issued_by"] == "a.teacher"
    starts, ends = (datetime.fromisoformat(body[k]) for k in ("starts_at", "ends_at"))
    assert ends - starts == timedelta(days=3)  # level 2's default
    with bridge.engine.connect() as connection:
        row = connection.execute(select(BANS).where(BANS.c.id == body["id"])).one()
    assert (row.level, row.issued_by, row.notes) == (2, "a.teacher", "second time")
    [event] = events(bridge, "ban.issue")
    assert event.actor == "a.teacher"
    assert event.role == "teacher"
    assert event.reason == "games in maths"
    assert event.target.startswith(f"ban:{body['id']} pupil:{pupil}")
    assert event.change["level"] == 2

    await arrive(bridge)
    assert ban_profile(bridge, 2) in installed(device)
    others = [d for d in bridge.fleet.devices if d.pupil_ref != pupil]
    assert not any(ban_profile(bridge, 2) in installed(d) for d in others)

    # a second incident within the repeat window suggests the next level up
    async with bridge.as_("teacher") as teacher:
        again = (await teacher.post("/api/v1/bans", json=ban(pupil, 1))).json()
    assert again["suggested_level"] == 3


async def test_a_teacher_cannot_ban_outside_their_classes_nor_above_their_levels(
    bridge: Bridge,
) -> None:
    outsider = bridge.pupils_outside(bridge.teacher_classes)[0]
    mine = bridge.pupils_in(bridge.teacher_classes[0])[0]
    async with bridge.as_("teacher") as teacher:
        elsewhere = await teacher.post("/api/v1/bans", json=ban(outsider, 1))
        assert_problem(elsewhere, 403)
        too_high = await teacher.post("/api/v1/bans", json=ban(mine, 4))
        assert_problem(too_high, 403)
        assert "level 4" in too_high.json()["title"]
        off_ladder = await teacher.post("/api/v1/bans", json=ban(mine, 9))
        assert_problem(off_ladder, 422, "level")
        too_long = await teacher.post("/api/v1/bans", json=ban(mine, 1, duration="30d"))
        assert_problem(too_long, 422, "duration")
        not_a_duration = await teacher.post("/api/v1/bans", json=ban(mine, 1, duration="soon"))
        assert_problem(not_a_duration, 422, "duration")
        nobody = await teacher.post("/api/v1/bans", json=ban("NOBODY", 1))
        assert_problem(nobody, 422, "pupil")
        blank = await teacher.post("/api/v1/bans", json=ban(mine, 1, reason="  "))
        assert_problem(blank, 422, "reason")
        nul = await teacher.post("/api/v1/bans", json=ban(mine, 1, reason="a\x00b"))
        assert_problem(nul, 422, "reason")
        extra = await teacher.post("/api/v1/bans", json=ban(mine, 1, wipe=True))
        assert_problem(extra, 422, "wipe")
    async with bridge.as_("technician") as technician:
        assert_problem(await technician.post("/api/v1/bans", json=ban(mine, 1)), 403)
    with bridge.engine.connect() as connection:
        assert connection.execute(select(BANS)).all() == []
    assert events(bridge, "ban.") == []


async def test_a_level_3_ban_waits_for_a_senior_leader_then_locks_and_a_lift_unlocks(
    bridge: Bridge,
) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    device = device_of(bridge, pupil)
    async with bridge.as_("teacher") as teacher:
        issued = await teacher.post("/api/v1/bans", json=ban(pupil, 3))
        assert issued.status_code == 201, issued.text
        ban_id = issued.json()["id"]
        assert issued.json()["status"] == "awaiting_approval"
        assert issued.json()["needs_approval"] is True
        await arrive(bridge)
        assert device.lost_mode is None, "an unapproved ban does nothing to the iPad"
        # the issuer is no approver
        assert_problem(await teacher.post(f"/api/v1/bans/{ban_id}/approve"), 403)
    async with bridge.as_("dsl") as dsl:  # level 3 names only the senior leader
        assert_problem(await dsl.post(f"/api/v1/bans/{ban_id}/approve"), 403)
    async with bridge.as_("senior_leader") as head:
        approved = await head.post(f"/api/v1/bans/{ban_id}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "active"
        assert approved.json()["approved_by"] == "h.head"
        assert_problem(await head.post(f"/api/v1/bans/{ban_id}/approve"), 409, "ban")
        assert_problem(await head.post("/api/v1/bans/999999/approve"), 404, "ban")
    await arrive(bridge)
    assert device.lost_mode is not None
    [approval] = events(bridge, "ban.approve")
    assert approval.actor == "h.head"
    assert approval.change["status"] == {"before": "awaiting_approval", "after": "active"}

    async with bridge.as_("teacher") as teacher:
        no_reason = await teacher.post(f"/api/v1/bans/{ban_id}/lift", json={"reason": " "})
        assert_problem(no_reason, 422, "reason")
        lifted = await teacher.post(f"/api/v1/bans/{ban_id}/lift", json={"reason": "apologised"})
        assert lifted.status_code == 200, lifted.text
        assert lifted.json()["status"] == "lifted"
        assert lifted.json()["lift_reason"] == "apologised"
        again = await teacher.post(f"/api/v1/bans/{ban_id}/lift", json={"reason": "twice"})
        assert_problem(again, 409, "ban")
    await arrive(bridge)
    assert device.lost_mode is None
    [lift] = events(bridge, "ban.lift")
    assert (lift.actor, lift.reason) == ("a.teacher", "apologised")


async def test_a_senior_leader_cannot_approve_their_own_level_4_ban(bridge: Bridge) -> None:
    pupil = bridge.pupils_outside(bridge.teacher_classes)[0]
    async with bridge.as_("senior_leader") as head:
        ban_id = (await head.post("/api/v1/bans", json=ban(pupil, 4))).json()["id"]
        own = await head.post(f"/api/v1/bans/{ban_id}/approve")
        assert_problem(own, 422, "approved_by")
    async with bridge.as_("dsl") as dsl:
        assert (await dsl.post(f"/api/v1/bans/{ban_id}/approve")).json()["status"] == "active"


async def test_lifting_a_restrict_ban_removes_its_profile(bridge: Bridge) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    device = device_of(bridge, pupil)
    async with bridge.as_("teacher") as teacher:
        ban_id = (await teacher.post("/api/v1/bans", json=ban(pupil, 1))).json()["id"]
        await arrive(bridge)
        assert ban_profile(bridge, 1) in installed(device)
        await teacher.post(f"/api/v1/bans/{ban_id}/lift", json={"reason": "issued in error"})
    await arrive(bridge)
    assert ban_profile(bridge, 1) not in installed(device)


async def test_extend_moves_the_end_within_the_levels_maximum(bridge: Bridge) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    async with bridge.as_("teacher") as teacher:
        issued = (await teacher.post("/api/v1/bans", json=ban(pupil, 1))).json()
        ban_id, ends = issued["id"], datetime.fromisoformat(issued["ends_at"])
        path = f"/api/v1/bans/{ban_id}/extend"
        longer = await teacher.post(path, json={"duration": "2d", "reason": "did it again"})
        assert longer.status_code == 200, longer.text
        assert datetime.fromisoformat(longer.json()["ends_at"]) == ends + timedelta(days=2)
        until = (ends + timedelta(days=3)).isoformat()
        moved = await teacher.post(path, json={"until": until, "reason": "parents agreed"})
        assert datetime.fromisoformat(moved.json()["ends_at"]) == ends + timedelta(days=3)
        earlier = await teacher.post(path, json={"until": ends.isoformat(), "reason": "x"})
        assert_problem(earlier, 422, "until")
        beyond = await teacher.post(path, json={"duration": "1w", "reason": "x"})  # max 1w
        assert_problem(beyond, 422, "until")
        both = await teacher.post(path, json={"duration": "1d", "until": until, "reason": "x"})
        assert_problem(both, 422, "until")
        naive = await teacher.post(path, json={"until": "2026-12-01T10:00", "reason": "x"})
        assert_problem(naive, 422, "until")
        huge = await teacher.post(path, json={"until": "9999-12-31T23:59:59-23:59", "reason": "x"})
        assert_problem(huge, 422, "until")
        assert_problem(await teacher.post("/api/v1/bans/0/extend", json={}), 422)
        await teacher.post(f"/api/v1/bans/{ban_id}/lift", json={"reason": "sorted"})
        after_lift = await teacher.post(path, json={"duration": "1h", "reason": "x"})
        assert_problem(after_lift, 409, "ban")
    [first, second] = events(bridge, "ban.extend")
    assert first.change["ends_at"]["before"] == ends.isoformat()
    assert second.reason == "parents agreed"


async def test_lists_by_pupil_and_class_and_teachers_see_only_their_classes(
    bridge: Bridge,
) -> None:
    [mine] = bridge.pupils_in(bridge.teacher_classes[0])
    first, second = bridge.pupils_outside(bridge.teacher_classes)[:2]
    async with bridge.as_("senior_leader") as head:
        ids = [
            (await head.post("/api/v1/bans", json=ban(p, 1))).json()["id"]
            for p in (first, mine, second)
        ]
        await head.post(f"/api/v1/bans/{ids[0]}/lift", json={"reason": "done"})
        everything = (await head.get("/api/v1/bans")).json()
        assert [b["id"] for b in everything["bans"]] == ids
        current = (await head.get("/api/v1/bans", params={"current": "true"})).json()
        assert [b["id"] for b in current["bans"]] == ids[1:]
        past = (await head.get("/api/v1/bans", params={"current": "false"})).json()
        assert [b["id"] for b in past["bans"]] == ids[:1]
        by_pupil = (await head.get("/api/v1/bans", params={"pupil": second})).json()
        assert [b["id"] for b in by_pupil["bans"]] == ids[2:]
        by_class = await head.get("/api/v1/bans", params={"class": bridge.teacher_classes[0]})
        assert [b["id"] for b in by_class.json()["bans"]] == [ids[1]]
        page = (await head.get("/api/v1/bans", params={"limit": 2})).json()
        assert page["next_after"] == ids[1]
        rest = (await head.get("/api/v1/bans", params={"after": ids[1]})).json()
        assert [b["id"] for b in rest["bans"]] == ids[2:]
        assert rest["next_after"] is None
        assert (await head.get(f"/api/v1/bans/{ids[2]}")).json()["pupil"] == second
        assert_problem(await head.get("/api/v1/bans/424242"), 404, "ban")
        unknown = await head.get("/api/v1/bans", params={"pupil": "NOBODY"})
        assert_problem(unknown, 404, "pupil")
    async with bridge.as_("teacher") as teacher:
        seen = (await teacher.get("/api/v1/bans")).json()
        assert [b["id"] for b in seen["bans"]] == [ids[1]]
        assert_problem(await teacher.get(f"/api/v1/bans/{ids[2]}"), 403)
        assert_problem(await teacher.get("/api/v1/bans", params={"pupil": second}), 403)
        assert_problem(await teacher.get("/api/v1/bans", params={"class": "6C"}), 403)
        lift = await teacher.post(f"/api/v1/bans/{ids[2]}/lift", json={"reason": "not mine"})
        assert_problem(lift, 403)
    async with bridge.as_("auditor") as auditor:
        assert len((await auditor.get("/api/v1/bans")).json()["bans"]) == 3
    async with bridge.as_("service") as service:
        assert_problem(await service.get("/api/v1/bans"), 403)
