"""Home-use agreements over HTTP: recorded with who and when, audited, scoped to a teacher's
classes, and a completed agreement puts the iPad under the curfew at once."""

from __future__ import annotations

from datetime import timedelta

from tests.api.bridge import Bridge
from tests.api.test_bans_api import assert_problem, device_of, events
from tests.reconcile.school import ACADEMIC_YEAR, TONIGHT_20, Home, roster_from


async def test_a_teacher_records_an_agreement_for_a_pupil_in_their_class(bridge: Bridge) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    path = f"/api/v1/pupils/{pupil}/agreements/2027-28"
    async with bridge.as_("teacher") as teacher:
        meeting = await teacher.put(path, json={"parent_meeting_on": "2026-11-20"})
        assert meeting.status_code == 200, meeting.text
        assert meeting.json() == {
            "pupil": pupil,
            "academic_year": "2027-28",
            "parent_meeting_on": "2026-11-20",
            "declaration_signed_on": None,
            "complete": False,
            "recorded_by": "a.teacher",
            "recorded_at": meeting.json()["recorded_at"],
        }
        signed = await teacher.put(path, json={"declaration_signed_on": "2026-11-22"})
        assert signed.json()["parent_meeting_on"] == "2026-11-20", "a part left out is kept"
        assert signed.json()["complete"] is True
        listed = (await teacher.get(f"/api/v1/pupils/{pupil}/agreements")).json()
        assert [a["academic_year"] for a in listed["agreements"]] == [ACADEMIC_YEAR, "2027-28"]
    first, second = events(bridge, "agreement.record")
    assert first.actor == "a.teacher"
    assert first.target == f"pupil:{pupil} year:2027-28"
    assert first.change["before"] == {"parent_meeting_on": None, "declaration_signed_on": None}
    assert second.change["after"] == {
        "parent_meeting_on": "2026-11-20",
        "declaration_signed_on": "2026-11-22",
    }
    assert second.change["complete"] is True


async def test_bad_years_future_dates_unknown_pupils_and_other_classes_are_refused(
    bridge: Bridge,
) -> None:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    outsider = bridge.pupils_outside(bridge.teacher_classes)[0]
    tomorrow = (bridge.clock.now() + timedelta(days=1)).date().isoformat()
    async with bridge.as_("teacher") as teacher:
        for year in ("2026-28", "2026-2027", "26-27"):
            response = await teacher.put(
                f"/api/v1/pupils/{pupil}/agreements/{year}",
                json={"parent_meeting_on": "2026-09-10"},
            )
            assert_problem(response, 422, "academic_year")
        future = await teacher.put(
            f"/api/v1/pupils/{pupil}/agreements/2026-27", json={"declaration_signed_on": tomorrow}
        )
        assert_problem(future, 422, "declaration_signed_on")
        empty = await teacher.put(f"/api/v1/pupils/{pupil}/agreements/2026-27", json={})
        assert_problem(empty, 422, "parent_meeting_on")
        unknown = await teacher.put(
            "/api/v1/pupils/NOBODY/agreements/2026-27", json={"parent_meeting_on": "2026-09-10"}
        )
        assert_problem(unknown, 404, "reference")
        elsewhere = await teacher.put(
            f"/api/v1/pupils/{outsider}/agreements/2026-27",
            json={"parent_meeting_on": "2026-09-10"},
        )
        assert_problem(elsewhere, 403)
        assert_problem(await teacher.get(f"/api/v1/pupils/{outsider}/agreements"), 403)
    async with bridge.as_("auditor") as auditor:
        listed = await auditor.get(f"/api/v1/pupils/{outsider}/agreements")
        assert listed.status_code == 200
        assert_problem(
            await auditor.put(
                f"/api/v1/pupils/{outsider}/agreements/2026-27",
                json={"parent_meeting_on": "2026-09-10"},
            ),
            403,
        )
    assert events(bridge, "agreement.") == []


async def test_a_signed_declaration_puts_the_ipad_under_tonights_curfew_at_once(
    bridge: Bridge,
) -> None:
    _entries, homes = roster_from(bridge.fleet)
    serial = next(s for s, home in homes.items() if home is Home.MEETING_ONLY)
    device = bridge.fleet.device_by_serial(serial)
    assert device is not None
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    bridge.let_time_pass((TONIGHT_20 - bridge.clock.now()).total_seconds())
    await reconciling.reconcile("curfew start")  # as the scheduler's run at 20:00
    bridge.let_time_pass(12 * 60)
    home_use = [bridge.fleet.device_by_serial(s) for s, h in homes.items() if h is Home.HOME_USE]
    assert all(d is not None and d.lost_mode is not None for d in home_use)
    assert device.lost_mode is None, "no signed declaration: not home use, no curfew"

    async with bridge.as_("senior_leader") as head:
        signed = await head.put(
            f"/api/v1/pupils/{device.pupil_ref}/agreements/{ACADEMIC_YEAR}",
            json={"declaration_signed_on": "2026-11-23"},
        )
        assert signed.json()["complete"] is True
    await bridge.service.settle()
    bridge.let_time_pass(12 * 60)
    assert device.lost_mode is not None
    assert device_of(bridge, device.pupil_ref) is device
