"""Exemptions over HTTP, against the real app and the mock Jamf Pro: a teacher asks, a technician
approves, the class's iPads get the extra site, and it goes again when the exemption expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mocks.device import Device
from tests.api.bridge import Bridge
from tests.api.test_bans_api import arrive, assert_problem, device_of, events

SITE = "www.romans.example"


def payloads(bridge: Bridge, device: Device) -> str:
    """Every profile the iPad really has, as text to search in."""
    texts = []
    for installed in (device.installed or {}).values():
        profile = bridge.fleet.profile(installed.profile_id)
        assert profile is not None
        texts.append(profile.payload.decode("utf-8", "replace"))
    return "\n".join(texts)


def web_allow(bridge: Bridge, **more: Any) -> dict[str, Any]:
    ends = bridge.clock.now() + timedelta(hours=1)
    return {
        "kind": "web_allow",
        "group": bridge.teacher_classes[0],
        "domains": [SITE],
        "reason": "topic: the Romans",
        "ends_at": ends.isoformat(),
        **more,
    }


async def test_request_approve_apply_and_expire(bridge: Bridge) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    device = device_of(bridge, pupil)
    device_id = bridge.device_ids[device.serial]
    async with bridge.as_("teacher") as teacher:
        asked = await teacher.post("/api/v1/exemptions", json=web_allow(bridge))
        assert asked.status_code == 201, asked.text
        exemption = asked.json()
        assert exemption["status"] == "awaiting_approval"
        assert exemption["requested_by"] == "a.teacher"
        assert exemption["domains"] == [SITE]
        # the teacher cannot approve (the matrix), and nothing has reached the iPad
        assert_problem(await teacher.post(f"/api/v1/exemptions/{exemption['id']}/approve"), 403)
    await arrive(bridge)
    assert SITE not in payloads(bridge, device)

    async with bridge.as_("technician") as technician:
        approved = await technician.post(f"/api/v1/exemptions/{exemption['id']}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "active"
        assert approved.json()["approved_by"] == "t.tech"
        again = await technician.post(f"/api/v1/exemptions/{exemption['id']}/approve")
        assert_problem(again, 409, "exemption_id")
        assert_problem(await technician.post("/api/v1/exemptions/999999/approve"), 404)
    await arrive(bridge)
    assert SITE in payloads(bridge, device)
    [asked_event] = events(bridge, "exemption.request")
    assert (asked_event.actor, asked_event.reason) == ("a.teacher", "topic: the Romans")
    [approval] = events(bridge, "exemption.approve")
    assert approval.actor == "t.tech"

    bridge.let_time_pass(60 * 60)  # past its end
    async with bridge.as_("dsl") as dsl:
        expired = (await dsl.get("/api/v1/exemptions", params={"status": "expired"})).json()
        assert [e["id"] for e in expired["exemptions"]] == [exemption["id"]]
        active = (await dsl.get("/api/v1/exemptions", params={"status": "active"})).json()
        assert active["exemptions"] == []
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    await reconciling.reconcile("drift", [device_id])  # as the scheduler's run at its end
    bridge.let_time_pass(12 * 60)
    assert SITE not in payloads(bridge, device)


async def test_only_a_second_person_approves_and_teachers_stay_in_their_classes(
    bridge: Bridge,
) -> None:
    outsider = bridge.pupils_outside(bridge.teacher_classes)[0]
    other_class = next(d.class_name for d in bridge.fleet.devices if d.pupil_ref == outsider)
    async with bridge.as_("dsl") as dsl:
        own = (await dsl.post("/api/v1/exemptions", json=web_allow(bridge))).json()
        assert_problem(
            await dsl.post(f"/api/v1/exemptions/{own['id']}/approve"), 422, "approved_by"
        )
        curfew = await dsl.post(
            "/api/v1/exemptions",
            json={
                "kind": "curfew",
                "pupil": outsider,
                "reason": "residential trip: the iPad is the camera",
                "ends_at": (bridge.clock.now() + timedelta(days=2)).isoformat(),
            },
        )
        assert curfew.status_code == 201, curfew.text
        assert curfew.json()["pupil"] == outsider
    async with bridge.as_("teacher") as teacher:
        elsewhere = await teacher.post(
            "/api/v1/exemptions", json=web_allow(bridge, group=other_class)
        )
        assert_problem(elsewhere, 403)
        not_mine = await teacher.post(
            "/api/v1/exemptions",
            json={
                "kind": "curfew",
                "pupil": outsider,
                "reason": "trip",
                "ends_at": (bridge.clock.now() + timedelta(days=1)).isoformat(),
            },
        )
        assert_problem(not_mine, 403)
        listed = (await teacher.get("/api/v1/exemptions")).json()
        assert [e["id"] for e in listed["exemptions"]] == [own["id"]]
    async with bridge.as_("senior_leader") as head:  # asks, but may not approve
        assert_problem(await head.post(f"/api/v1/exemptions/{own['id']}/approve"), 403)
        everything = (await head.get("/api/v1/exemptions")).json()
        assert len(everything["exemptions"]) == 2


async def test_bad_requests_name_the_field(bridge: Bridge) -> None:
    now = bridge.clock.now()
    async with bridge.as_("teacher") as teacher:
        cases = {
            "domains": web_allow(bridge, domains=["https://www.bbc.co.uk"]),
            "ends_at": web_allow(bridge, ends_at=(now + timedelta(days=91)).isoformat()),
            "group": web_allow(bridge, group=None),
            "kind": web_allow(bridge, kind="anything_goes"),
            "reason": web_allow(bridge, reason=" "),
            "pupil": {
                "kind": "curfew",
                "pupil": "NOBODY",
                "reason": "trip",
                "ends_at": (now + timedelta(days=1)).isoformat(),
            },
        }
        for field, body in cases.items():
            response = await teacher.post("/api/v1/exemptions", json=body)
            assert_problem(response, 422, field)
        before_start = web_allow(
            bridge,
            starts_at=(now + timedelta(hours=2)).isoformat(),
            ends_at=(now + timedelta(hours=1)).isoformat(),
        )
        assert_problem(await teacher.post("/api/v1/exemptions", json=before_start), 422, "ends_at")
        naive = web_allow(bridge, ends_at="2026-11-24T10:00:00")
        assert_problem(await teacher.post("/api/v1/exemptions", json=naive), 422, "ends_at")
        assert (await teacher.get("/api/v1/exemptions")).json()["exemptions"] == []
    assert events(bridge, "exemption.") == []
