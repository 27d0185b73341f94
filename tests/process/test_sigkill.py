"""SIGKILL `mdm-bridge serve` in the middle of a curfew fan-out, restart it, and check that
nothing was lost and nothing was sent twice (DESIGN.md §3 steps 4-5, §7 "Faults").

Real processes over real HTTP: the mock Jamf Pro (100 ms per request) and the service, on the
test database (SQLite, or PostgreSQL when MDM_BRIDGE_TEST_DATABASE_URL is set). The curfew is in
force from the moment the service starts, so its first run locks every home-use iPad, a few
devices per Lost Mode request; the test kills it once some of those requests have been answered
and others have not. Ground truth is the mock's: its iPads and its command history.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select

from mdm_bridge.store.engine import create_database_engine
from policies import load_policy
from tests.process.procs import Processes, wait_until
from tests.process.rig import (
    BANS,
    Mock,
    ServiceSettings,
    curfew_now_policy,
    now_utc,
    seed_school,
    start_mock,
    start_service,
)
from tests.reconcile.school import Home

pytestmark = pytest.mark.slow

DEVICES = 200
BATCH = 5  # iPads per Lost Mode request


def converged_to(mock: Mock, expected: set[str]) -> bool:
    mock.check_in_pending()
    return set(locked(mock)) == expected


def locked(mock: Mock) -> dict[str, str]:
    """Serial -> Lost Mode message of every iPad in Lost Mode, from the mock's ground truth."""
    return {d["serialNumber"]: d["lostMode"]["message"] for d in mock.devices() if d["lostMode"]}


async def test_a_sigkill_mid_fan_out_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, database_url: str, processes: Processes
) -> None:
    now = now_utc()
    policy_dir = curfew_now_policy(tmp_path / "policy", now)
    policy = load_policy(policy_dir)
    mock = start_mock(processes, devices=DEVICES, latency_ms=100)
    engine = create_database_engine(database_url)
    try:
        school = await seed_school(engine, mock, command_batch_size=BATCH, now=now)
        home = school.serials(Home.HOME_USE)
        banned = sorted(school.serials(Home.SCHOOL_ONLY))[0]  # the curfew never locks it
        lock_requests = math.ceil(len(home) / BATCH)
        settings = ServiceSettings(database_url=database_url, policy_dir=policy_dir)

        first, _ = start_service(processes, "bridge-1", settings)
        wait_until(
            "the first Lost Mode requests of the fan-out",
            lambda: len(mock.lock_posts()) >= 2,
            timeout=30,
            interval=0.02,
            watch=[first],
        )
        ban_id = school.ban(banned, now=now_utc())  # issued while the fan-out runs
        first.sigkill()

        answered = len(mock.lock_posts())
        assert 2 <= answered < lock_requests, f"killed after {answered} of {lock_requests}"
        interrupted = [row for row in school.outbox_rows() if row.status == "claimed"]
        assert interrupted, "the kill left no claimed outbox row: it came too late"
        assert len(locked(mock)) < len(home)

        second, _ = start_service(processes, "bridge-2", settings)
        expected = home | {banned}
        wait_until(
            "every home-use iPad and the banned one in Lost Mode",
            lambda: converged_to(mock, expected),
            timeout=40,
            interval=0.5,
            watch=[second],
        )
        wait_until(
            "no lock left open in the outbox",
            lambda: (
                not [
                    row
                    for row in school.outbox_rows()
                    if row.kind == "lock" and row.status in ("queued", "claimed")
                ]
            ),
            timeout=10,
            watch=[second],
        )

        truth = locked(mock)
        assert truth[banned] == policy.ban_message
        assert all(truth[serial] == policy.curfew_message for serial in home)
        sent = await mock.lock_commands_by_serial()
        twice = {serial: count for serial, count in sent.items() if count > 1}
        histories = {serial: mock.commands(serial) for serial in sorted(twice)[:3]}
        assert twice == {}, f"locked twice in one night: {twice}; for example {histories}"
        assert {serial for serial, count in sent.items() if count} == expected
        with engine.connect() as connection:
            ban = connection.execute(select(BANS).where(BANS.c.id == ban_id)).one()
        assert ban.lifted_at is None
        assert second.running
    finally:
        engine.dispose()
