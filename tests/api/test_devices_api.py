"""The devices API: filters and paging, a teacher's reach, desired versus observed after a real
reconcile against the mock Jamf Pro, and drift once an iPad is changed behind the bridge."""

from __future__ import annotations

from typing import Any

from tests.api.bridge import Bridge
from tests.reconcile.school import TONIGHT_20, Home, home_kind


def homes(bridge: Bridge) -> dict[str, Home]:
    """Serial -> what the roster says about it going home (as `roster_from` decided)."""
    return {d.serial: home_kind(index) for index, d in enumerate(bridge.fleet.devices)}


async def converge_daytime(bridge: Bridge) -> None:
    """19:00: a run installs the restriction profiles; a second, once every iPad has checked
    in, observes them there (so the stored observations are fresh and converged)."""
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    first = await reconciling.reconcile("first run")
    assert first.errors == []
    assert first.queued == len(bridge.fleet.devices)
    bridge.let_time_pass(12 * 60)
    again = await reconciling.reconcile("drift check")
    assert again.queued == 0, again


async def curfew_night(bridge: Bridge) -> None:
    """20:00: the edge run locks the home-use iPads; a drift run at 20:03 sees them locked."""
    reconciling = bridge.service.reconciling
    assert reconciling is not None
    bridge.let_time_pass((TONIGHT_20 - bridge.clock.now()).total_seconds())
    await reconciling.reconcile("curfew starts")
    bridge.let_time_pass(3 * 60)  # pushed: the iPads answer within minutes
    await reconciling.reconcile("drift check")


async def all_pages(bridge: Bridge, role: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    async with bridge.as_(role) as client:
        while True:
            response = await client.get("/api/v1/devices", params={**params, "after": after})
            assert response.status_code == 200, response.text
            page = response.json()
            found += page["devices"]
            if page["next_after"] is None:
                return found
            after = page["next_after"]


async def test_pages_cover_every_ipad_once_in_id_order(bridge: Bridge) -> None:
    async with bridge.as_("technician") as client:
        first = (await client.get("/api/v1/devices", params={"limit": 5})).json()
        assert [d["id"] for d in first["devices"]] == sorted(bridge.device_ids.values())[:5]
        assert first["next_after"] == first["devices"][-1]["id"]
    everything = await all_pages(bridge, "technician", limit=7)
    assert [d["serial"] for d in everything] == sorted(
        bridge.device_ids, key=bridge.device_ids.__getitem__
    )
    by_serial = {d.serial: d for d in bridge.fleet.devices}
    for item in everything:
        mock = by_serial[item["serial"]]
        assert item["pupil"]["reference"] == mock.pupil_ref
        assert item["pupil"]["classes"] == [mock.class_name]
        assert item["mdm"] == "jamf-pro"


async def test_class_and_home_use_filters(bridge: Bridge) -> None:
    class_name = bridge.fleet.devices[0].class_name
    in_class = await all_pages(bridge, "senior_leader", **{"class": class_name})
    expected = {d.serial for d in bridge.fleet.devices if d.class_name == class_name}
    assert {d["serial"] for d in in_class} == expected
    kinds = homes(bridge)
    home = await all_pages(bridge, "technician", home_use="true")
    assert {d["serial"] for d in home} == {s for s, k in kinds.items() if k is Home.HOME_USE}
    assert all(d["home_use"] and d["takes_home"] for d in home)
    rest = await all_pages(bridge, "technician", home_use="false")
    assert {d["serial"] for d in rest} == {s for s, k in kinds.items() if k is not Home.HOME_USE}
    # meeting only: takes the iPad home, but the declaration is missing, so not home use
    meeting_only = [d for d in rest if kinds[d["serial"]] is Home.MEETING_ONLY]
    assert meeting_only
    assert all(d["takes_home"] and not d["home_use"] for d in meeting_only)
    async with bridge.as_("technician") as client:
        nobody = await client.get("/api/v1/devices", params={"class": "no such class"})
        assert nobody.json() == {"devices": [], "next_after": None}
        wrong = await client.get("/api/v1/devices", params={"curfew": "sometimes"})
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "curfew"


async def test_a_teacher_sees_only_their_classes(bridge: Bridge) -> None:
    mine = set(bridge.teacher_classes)
    seen = await all_pages(bridge, "teacher", limit=3)
    expected = {d.serial for d in bridge.fleet.devices if d.class_name in mine}
    assert expected
    assert {d["serial"] for d in seen} == expected
    other = next(d for d in bridge.fleet.devices if d.class_name not in mine)
    own = next(d for d in bridge.fleet.devices if d.class_name in mine)
    async with bridge.as_("teacher") as client:
        refused = await client.get(f"/api/v1/devices/{bridge.device_ids[other.serial]}")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        allowed = await client.get(f"/api/v1/devices/{bridge.device_ids[own.serial]}")
        assert allowed.status_code == 200
        assert allowed.json()["device"]["serial"] == own.serial
        # another class, asked for by name, gives nothing either
        other_class = await client.get("/api/v1/devices", params={"class": other.class_name})
        assert other_class.json()["devices"] == []


async def test_unknown_device_is_404_and_odd_ids_are_422(bridge: Bridge) -> None:
    async with bridge.as_("auditor") as client:
        missing = await client.get("/api/v1/devices/99999")
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["field"] == "device_id"
        for odd in ("0", "-1", str(2**63), "abc"):
            assert (await client.get(f"/api/v1/devices/{odd}")).status_code == 422, odd
        huge = await client.get("/api/v1/devices", params={"after": 2**70})
        assert huge.status_code == 422


async def test_desired_and_observed_agree_after_the_curfew_run(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    await curfew_night(bridge)
    kinds = homes(bridge)
    home = next(d for d in bridge.fleet.devices if kinds[d.serial] is Home.HOME_USE)
    school = next(d for d in bridge.fleet.devices if kinds[d.serial] is Home.SCHOOL_ONLY)
    assert home.lost_mode is not None
    assert school.lost_mode is None
    async with bridge.as_("technician") as client:
        detail = (await client.get(f"/api/v1/devices/{bridge.device_ids[home.serial]}")).json()
        assert detail["desired"]["lock"]["cause"] == "curfew"
        assert detail["desired"]["curfew"] == "in_curfew"
        assert detail["observed"]["lock"] == "locked"
        wanted = {p["identifier"] for p in detail["desired"]["profiles"]}
        assert wanted
        assert wanted <= set(detail["observed"]["groups"])
        assert detail["plan"] == {"converged": True, "actions": [], "blocked": []}
        assert detail["device"]["drift"] is False
        assert detail["device"]["curfew_outcome"] == "on_time"
        sent = [(a["kind"], a["status"]) for a in detail["history"]["actions"]]
        assert sent[0] == ("lock", "sent")  # newest first
        assert ("install_profile", "sent") in sent
        assert detail["history"]["nights"][0]["outcome"] == "on_time"
        other = (await client.get(f"/api/v1/devices/{bridge.device_ids[school.serial]}")).json()
        assert other["desired"]["lock"] is None
        assert other["desired"]["curfew"] == "not_home_use"
        assert other["device"]["curfew_outcome"] == "not_applicable"
    on_time = await all_pages(bridge, "technician", curfew="on_time")
    assert {d["serial"] for d in on_time} == {s for s, k in kinds.items() if k is Home.HOME_USE}


async def test_drift_appears_when_an_ipad_is_changed_behind_the_bridge(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    await curfew_night(bridge)
    assert await all_pages(bridge, "technician", drift="true") == []
    kinds = homes(bridge)
    tampered = next(d for d in bridge.fleet.devices if kinds[d.serial] is Home.HOME_USE)
    tampered.lost_mode = None  # someone turned Lost Mode off in the MDM console
    # Before a fresh observation the bridge cannot know.
    assert await all_pages(bridge, "technician", drift="true") == []
    reconciler = bridge.service.reconciling.reconciler  # type: ignore[union-attr]
    assert reconciler is not None
    for instance_id, connector in reconciler.connectors.items():
        await reconciler.observe(instance_id, connector)
    drifted = await all_pages(bridge, "technician", drift="true", limit=2)
    assert [d["serial"] for d in drifted] == [tampered.serial]
    assert drifted[0]["lock"] == "unlocked"
    assert drifted[0]["planned_actions"] == 1
    steady = await all_pages(bridge, "technician", drift="false")
    assert len(steady) == len(bridge.fleet.devices) - 1
    async with bridge.as_("technician") as client:
        device_id = bridge.device_ids[tampered.serial]
        detail = (await client.get(f"/api/v1/devices/{device_id}")).json()
        assert detail["plan"]["actions"] == [
            {"kind": "lock", "reason": "curfew", "profile": None, "lock_cause": "curfew"}
        ]
