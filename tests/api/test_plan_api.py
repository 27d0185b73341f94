"""Plan and reconcile over HTTP: the plan at 20:00 counts the locks a run would send; a
reconcile through the API locks the mock's iPads and is written in the audit trail."""

from __future__ import annotations

from sqlalchemy import func, select

from mdm_bridge.reconcile.run import RUNS
from mdm_bridge.store.audit import EVENTS as AUDIT
from tests.api.bridge import Bridge
from tests.api.test_devices_api import converge_daytime, homes
from tests.reconcile.school import TONIGHT_20, Home


def audit_actions(bridge: Bridge) -> list[tuple[str, str, str]]:
    with bridge.engine.connect() as connection:
        rows = connection.execute(
            select(AUDIT.c.action, AUDIT.c.actor, AUDIT.c.target).order_by(AUDIT.c.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_plan_at_20_counts_the_curfew_locks(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    home_use = [s for s, kind in homes(bridge).items() if kind is Home.HOME_USE]
    async with bridge.as_("technician") as client:
        now = (await client.get("/api/v1/plan")).json()
        assert now["in_curfew"] is False
        assert now["changing"] == 0
        assert now["converged"] == len(bridge.fleet.devices)
        assert now["entries"] == []
        at_20 = await client.get("/api/v1/plan", params={"at": TONIGHT_20.isoformat()})
        assert at_20.status_code == 200, at_20.text
        plan = at_20.json()
    assert plan["in_curfew"] is True
    assert plan["curfew_until"] == "2026-11-24T07:00:00Z"
    assert plan["actions"] == {
        "lock": len(home_use),
        "unlock": 0,
        "install_profile": 0,
        "remove_profile": 0,
    }
    assert plan["lock_causes"] == {"curfew": len(home_use)}
    assert plan["reasons"] == [{"kind": "lock", "reason": "curfew", "count": len(home_use)}]
    assert plan["verdicts"]["in_curfew"] == len(home_use)
    assert plan["verdicts"]["not_home_use"] == len(bridge.fleet.devices) - len(home_use)
    ids = {bridge.device_ids[serial] for serial in home_use}
    assert {entry["device_id"] for entry in plan["entries"]} == ids
    assert plan["more"] is False
    # the plan changes nothing: no iPad is locked, no run is recorded beyond the two
    assert all(d.lost_mode is None for d in bridge.fleet.devices)
    with bridge.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(RUNS)).scalar_one() == 2


async def test_plan_limits_its_entries_and_refuses_a_far_or_naive_time(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    async with bridge.as_("service") as client:
        two = await client.get("/api/v1/plan", params={"at": TONIGHT_20.isoformat(), "limit": 2})
        assert len(two.json()["entries"]) == 2
        assert two.json()["more"] is True
        for at in ("2028-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00"):
            far = await client.get("/api/v1/plan", params={"at": at})
            assert far.status_code == 422, at
            assert far.json()["errors"][0]["field"] == "at"
        naive = await client.get("/api/v1/plan", params={"at": "2026-11-23T20:00:00"})
        assert naive.status_code == 422
        assert naive.json()["errors"][0]["field"] == "at"
    async with bridge.as_("teacher") as client:
        assert (await client.get("/api/v1/plan")).status_code == 403


async def test_reconcile_and_wait_locks_the_ipads_and_is_audited(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    bridge.let_time_pass((TONIGHT_20 - bridge.clock.now()).total_seconds())
    home_use = {s for s, kind in homes(bridge).items() if kind is Home.HOME_USE}
    async with bridge.as_("technician") as client:
        response = await client.post(
            "/api/v1/reconcile", json={"wait": True, "reason": "curfew check"}
        )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["queued"] == len(home_use)
    assert summary["sent"] == len(home_use)
    assert summary["failed"] == 0
    assert summary["trigger"] == "api: t.tech"
    bridge.let_time_pass(3 * 60)
    locked = {d.serial for d in bridge.fleet.devices if d.lost_mode is not None}
    assert locked == home_use
    events = audit_actions(bridge)
    assert events == [("reconcile.run", "t.tech", "reconcile:all")]


async def test_reconcile_in_the_background_for_some_ipads(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    bridge.let_time_pass((TONIGHT_20 - bridge.clock.now()).total_seconds())
    home_use = sorted(s for s, kind in homes(bridge).items() if kind is Home.HOME_USE)
    chosen = [bridge.device_ids[home_use[0]], bridge.device_ids[home_use[1]]]
    async with bridge.as_("service") as client:
        response = await client.post("/api/v1/reconcile", json={"devices": chosen})
        assert response.status_code == 202
        assert response.json() == {"status": "started", "devices": sorted(chosen)}
        await bridge.service.settle()
        with bridge.engine.connect() as connection:
            run = connection.execute(select(RUNS).order_by(RUNS.c.id.desc())).first()
        assert run is not None
        assert run.trigger == "api: prometheus"
        assert (run.devices, run.queued, run.status) == (2, 2, "done")
        bridge.let_time_pass(3 * 60)
        locked = {d.serial for d in bridge.fleet.devices if d.lost_mode is not None}
        assert locked == set(home_use[:2])
        # no body at all: every iPad
        everything = await client.post("/api/v1/reconcile")
        assert everything.status_code == 202
        await bridge.service.settle()


async def test_reconcile_refuses_unknown_ipads_and_writes_nothing(bridge: Bridge) -> None:
    async with bridge.as_("technician") as client:
        unknown = await client.post("/api/v1/reconcile", json={"devices": [1, 99999]})
        assert unknown.status_code == 404
        assert unknown.json()["errors"][0]["field"] == "devices"
        assert "99999" in unknown.json()["detail"]
        extra = await client.post("/api/v1/reconcile", json={"wait": True, "force": True})
        assert extra.status_code == 422
    async with bridge.as_("senior_leader") as client:
        assert (await client.post("/api/v1/reconcile", json={})).status_code == 403
    assert audit_actions(bridge) == []
    with bridge.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(RUNS)).scalar_one() == 0
