"""Lock now and evidence holds over HTTP, against the real app and the mock Jamf Pro: the iPad
locks at once, only the right people release it, and nothing anywhere can wipe it."""

from __future__ import annotations

import re

from sqlalchemy import select

from mdm_bridge.model import ActionKind
from mdm_bridge.store.records import DeviceHoldRow
from tests.api.bridge import Bridge
from tests.api.test_bans_api import arrive, assert_problem, device_of, events

HOLDS = DeviceHoldRow.__table__  # type: ignore[attr-defined]
DESTRUCTIVE = re.compile(r"erase|wipe|unenrol|clear.?passcode|remove.?mdm|factory", re.I)


def my_ipad(bridge: Bridge) -> tuple[int, str]:
    pupil = bridge.pupils_in(bridge.teacher_classes[0])[0]
    serial = device_of(bridge, pupil).serial
    return bridge.device_ids[serial], serial


async def test_a_teacher_locks_a_class_ipad_for_inspection_and_releases_it(bridge: Bridge) -> None:
    device_id, serial = my_ipad(bridge)
    device = bridge.fleet.device_by_serial(serial)
    assert device is not None
    async with bridge.as_("teacher") as teacher:
        placed = await teacher.post(
            f"/api/v1/devices/{device_id}/holds",
            json={"kind": "inspection", "reason": "a worrying screenshot"},
        )
        assert placed.status_code == 201, placed.text
        hold = placed.json()
        assert (hold["kind"], hold["active"], hold["placed_by"]) == (
            "inspection",
            True,
            "a.teacher",
        )
        assert hold["serial_number"] == serial
        twice = await teacher.post(
            f"/api/v1/devices/{device_id}/holds", json={"kind": "inspection", "reason": "again"}
        )
        assert_problem(twice, 409, "device_id")
        await arrive(bridge)
        assert device.lost_mode is not None
        reconciling = bridge.service.reconciling
        assert reconciling is not None
        assert device.lost_mode.message == reconciling.current_policy().inspection_message

        released = await teacher.post(
            f"/api/v1/holds/{hold['id']}/release", json={"reason": "nothing found"}
        )
        assert released.status_code == 200, released.text
        assert released.json()["active"] is False
        assert released.json()["release_reason"] == "nothing found"
        again = await teacher.post(f"/api/v1/holds/{hold['id']}/release", json={"reason": "x"})
        assert_problem(again, 409, "hold_id")
    await arrive(bridge)
    assert device.lost_mode is None
    [place] = events(bridge, "hold.place")
    assert (place.actor, place.reason, place.change["kind"]) == (
        "a.teacher",
        "a worrying screenshot",
        "inspection",
    )
    [release] = events(bridge, "hold.release")
    assert release.reason == "nothing found"


async def test_an_evidence_hold_is_released_only_by_a_senior_leader_or_the_dsl(
    bridge: Bridge,
) -> None:
    device_id, serial = my_ipad(bridge)
    device = bridge.fleet.device_by_serial(serial)
    assert device is not None
    async with bridge.as_("teacher") as teacher:
        placed = await teacher.post(
            f"/api/v1/devices/{device_id}/holds",
            json={"kind": "evidence_hold", "reason": "bullying messages reported"},
        )
        hold_id = placed.json()["id"]
        path = f"/api/v1/holds/{hold_id}/release"
        assert_problem(await teacher.post(path, json={"reason": "mine"}), 403)
    await arrive(bridge)
    assert device.lost_mode is not None
    for role in ("technician", "auditor", "service"):
        async with bridge.as_(role) as someone:
            assert_problem(await someone.post(path, json={"reason": "please"}), 403)
    with bridge.engine.connect() as connection:
        row = connection.execute(select(HOLDS).where(HOLDS.c.id == hold_id)).one()
    assert row.released_at is None
    async with bridge.as_("dsl") as dsl:
        released = await dsl.post(path, json={"reason": "evidence copied by the police"})
        assert released.status_code == 200, released.text
        assert released.json()["released_by"] == "d.dsl"
    await arrive(bridge)
    assert device.lost_mode is None


async def test_holds_are_listed_and_scoped_and_bad_requests_name_the_field(
    bridge: Bridge,
) -> None:
    device_id, _serial = my_ipad(bridge)
    outsider = bridge.pupils_outside(bridge.teacher_classes)[0]
    other_id = bridge.device_ids[device_of(bridge, outsider).serial]
    async with bridge.as_("technician") as technician:
        for target in (device_id, other_id):
            placed = await technician.post(
                f"/api/v1/devices/{target}/holds", json={"kind": "inspection", "reason": "check"}
            )
            assert placed.status_code == 201, placed.text
        assert_problem(
            await technician.post(
                "/api/v1/devices/999999/holds", json={"kind": "inspection", "reason": "x"}
            ),
            404,
            "device_id",
        )
        assert_problem(
            await technician.post(
                f"/api/v1/devices/{device_id}/holds", json={"kind": "wipe", "reason": "x"}
            ),
            422,
            "kind",
        )
        assert_problem(
            await technician.post(
                f"/api/v1/devices/{device_id}/holds", json={"kind": "inspection", "reason": ""}
            ),
            422,
            "reason",
        )
        assert_problem(
            await technician.post("/api/v1/holds/999999/release", json={"reason": "x"}),
            404,
            "hold_id",
        )
        listed = (await technician.get("/api/v1/holds", params={"active": "true"})).json()
        assert [h["device_id"] for h in listed["holds"]] == [device_id, other_id]
        one = (await technician.get("/api/v1/holds", params={"device": other_id})).json()
        assert [h["device_id"] for h in one["holds"]] == [other_id]
        released = (await technician.get("/api/v1/holds", params={"active": "false"})).json()
        assert released["holds"] == []
    async with bridge.as_("teacher") as teacher:
        seen = (await teacher.get("/api/v1/holds")).json()
        assert [h["device_id"] for h in seen["holds"]] == [device_id]
        elsewhere = await teacher.post(
            f"/api/v1/devices/{other_id}/holds", json={"kind": "evidence_hold", "reason": "x"}
        )
        assert_problem(elsewhere, 403)
    async with bridge.as_("auditor") as auditor:
        assert_problem(
            await auditor.post(
                f"/api/v1/devices/{device_id}/holds", json={"kind": "inspection", "reason": "x"}
            ),
            403,
        )
    with bridge.engine.connect() as connection:
        assert len(connection.execute(select(HOLDS)).all()) == 2


def test_no_route_and_no_action_can_erase_unenroll_or_clear_a_passcode(bridge: Bridge) -> None:
    document = bridge.app.openapi()
    for path, operations in document["paths"].items():
        assert not DESTRUCTIVE.search(path), path
        for method, operation in operations.items():
            # Paths and operation ids: summaries may well say "never wiped".
            operation_id = str(operation.get("operationId", ""))
            assert not DESTRUCTIVE.search(operation_id), f"{method.upper()} {path}"
    assert not [kind for kind in ActionKind if DESTRUCTIVE.search(kind.value)]
    assert {kind.value for kind in ActionKind} == {
        "lock",
        "unlock",
        "install_profile",
        "remove_profile",
    }
