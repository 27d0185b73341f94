"""The audit trail over HTTP and the CLI: events, export, verify, and tampering found."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import text

from mdm_bridge.store import audit
from tests.api.bridge import Bridge
from tests.conftest import SECRET_KEY

KEY = audit.audit_key(SECRET_KEY)


def _seed(bridge: Bridge, count: int = 5) -> None:
    with bridge.engine.begin() as connection:
        for n in range(count):
            audit.append(
                connection,
                key=KEY,
                at=bridge.clock.now(),
                actor="h.head",
                role="senior_leader",
                action="ban.approve" if n % 2 else "policy.change",
                target=f"ban:{n}",
                reason=f"reason {n}",
                change={"n": n, "text": 'é, "quoted"\nnew line'},
            )


async def test_events_page_and_filter(bridge: Bridge) -> None:
    _seed(bridge)
    async with bridge.as_("auditor") as client:
        page = (await client.get("/api/v1/audit/events", params={"limit": 2})).json()
        assert [e["seq"] for e in page["events"]] == [1, 2]
        assert page["next_after"] == 2
        rest = (await client.get("/api/v1/audit/events", params={"after": 2})).json()
        assert [e["seq"] for e in rest["events"]] == [3, 4, 5]
        assert rest["next_after"] is None
        bans = (await client.get("/api/v1/audit/events", params={"action": "ban."})).json()
        assert {e["action"] for e in bans["events"]} == {"ban.approve"}


async def test_export_csv_and_json_round_trip_and_are_recorded(bridge: Bridge) -> None:
    _seed(bridge, 3)
    async with bridge.as_("dsl") as client:
        as_csv = await client.get("/api/v1/audit/export", params={"format": "csv"})
        assert as_csv.status_code == 200
        assert as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(as_csv.text)))
        # the export is recorded first, so the copy shows who took it
        assert [int(r["seq"]) for r in rows] == [1, 2, 3, 4]
        assert rows[-1]["action"] == "audit.export"
        assert rows[-1]["actor"] == "d.dsl"
        assert json.loads(rows[0]["change"])["text"] == 'é, "quoted"\nnew line'
        as_json = (await client.get("/api/v1/audit/export", params={"format": "json"})).json()
        assert [e["action"] for e in as_json][-2:] == ["audit.export", "audit.export"]
        assert as_json[0]["change"]["text"] == 'é, "quoted"\nnew line'


async def test_verify_passes_then_names_the_edited_event(bridge: Bridge) -> None:
    _seed(bridge, 4)
    async with bridge.as_("senior_leader") as client:
        ok = (await client.get("/api/v1/audit/verify")).json()
        assert ok == {"ok": True, "events": 4, "head_seq": 4, "problem": None, "seq": None}
        with bridge.engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET reason = 'nothing' WHERE seq = 2"))
        broken = (await client.get("/api/v1/audit/verify")).json()
        assert broken["ok"] is False
        assert broken["seq"] == 2
        assert "changed" in broken["problem"]


async def test_teacher_and_technician_cannot_read_the_trail(bridge: Bridge) -> None:
    for role in ("teacher", "technician"):
        async with bridge.as_(role) as client:
            response = await client.get("/api/v1/audit/events")
            assert response.status_code == 403, role
            assert response.headers["content-type"] == "application/problem+json"


async def test_no_expired_and_revoked_tokens_are_401(bridge: Bridge) -> None:
    async with bridge.client() as client:
        response = await client.get("/api/v1/audit/events")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    for name in ("expired", "revoked"):
        async with bridge.as_(name) as client:
            response = await client.get("/api/v1/audit/events")
            assert response.status_code == 401, name
            assert name in response.json()["title"]
    async with bridge.client("mdmb_AAAAAAAAAAAA_" + "x" * 43) as client:
        assert (await client.get("/api/v1/audit/events")).status_code == 401


async def test_an_unknown_query_parameter_is_named_not_ignored(bridge: Bridge) -> None:
    async with bridge.as_("auditor") as client:
        response = await client.get("/api/v1/audit/events", params={"actr": "h.head"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "actr"
    assert "actor" in response.json()["errors"][0]["message"]
