"""Two `mdm-bridge serve` replicas on one PostgreSQL database and one mock Jamf Pro: exactly one
schedules (holds the `leases` row), the other stands by, and when the active one is killed with
SIGKILL in the middle of the curfew fan-out the standby takes over once the lease lapses and
finishes the night without sending any iPad a second lock (DESIGN.md §3 step 6).

PostgreSQL only: SQLite is one file on one host, not a deployment with replicas.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mdm_bridge.clock import SystemClock
from mdm_bridge.scheduler import lease_holder
from mdm_bridge.store.engine import create_database_engine
from tests.conftest import TEST_DATABASE_VARIABLE
from tests.process.procs import Proc, Processes, answers, wait_for_url, wait_until
from tests.process.rig import (
    Mock,
    ServiceSettings,
    curfew_now_policy,
    launch_service,
    now_utc,
    seed_school,
    start_mock,
)
from tests.reconcile.school import Home

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get(TEST_DATABASE_VARIABLE),
        reason=f"two replicas need PostgreSQL: set {TEST_DATABASE_VARIABLE} (.ci/run does)",
    ),
]

DEVICES = 200
BATCH = 5


def holder_pid(holder: str | None) -> int | None:
    """Lease holders are named host:pid."""
    return int(holder.rsplit(":", 1)[1]) if holder else None


def locked_serials(mock: Mock) -> set[str]:
    mock.check_in_pending()
    return {d["serialNumber"] for d in mock.devices() if d["lostMode"]}


async def test_one_replica_schedules_and_the_other_takes_over_when_it_dies(
    tmp_path: Path, database_url: str, processes: Processes
) -> None:
    now = now_utc()
    policy_dir = curfew_now_policy(tmp_path / "policy", now)
    mock = start_mock(processes, devices=DEVICES, latency_ms=100)
    engine = create_database_engine(database_url)
    clock = SystemClock()
    try:
        school = await seed_school(engine, mock, command_batch_size=BATCH, now=now)
        home = school.serials(Home.HOME_USE)
        settings = ServiceSettings(database_url=database_url, policy_dir=policy_dir)
        # A slow MDM until both replicas are up, so the fan-out cannot end before the standby
        # exists; then the usual 100 ms per request.
        mock.set_latency(1500)
        first, first_url = launch_service(processes, "replica-a", settings)
        second, second_url = launch_service(processes, "replica-b", settings)
        replicas: dict[int, tuple[Proc, str]] = {
            first.pid: (first, first_url),
            second.pid: (second, second_url),
        }
        for proc, url in replicas.values():
            wait_for_url(url + "/readyz", proc)

        # Both are ready; exactly one holds the lease, and keeps it while both live.
        for _, url in replicas.values():
            assert answers(url + "/readyz")
        active_pid = holder_pid(lease_holder(engine, now=clock.now()))
        assert active_pid in replicas
        mock.set_latency(100)
        wait_until(
            "the first Lost Mode requests of the fan-out",
            lambda: len(mock.lock_posts()) >= 2,
            timeout=30,
            interval=0.02,
            watch=[first, second],
        )
        assert holder_pid(lease_holder(engine, now=clock.now())) == active_pid
        active, _ = replicas.pop(active_pid)
        ((standby_pid, (standby, standby_url)),) = replicas.items()
        assert "this replica schedules" not in standby.log()

        active.sigkill()
        answered = len(mock.lock_posts())
        assert answered * BATCH < len(home), "the kill came after the whole fan-out"

        wait_until(
            "the standby to take the lease",
            lambda: holder_pid(lease_holder(engine, now=clock.now())) == standby_pid,
            timeout=settings.lease_seconds + 10,
            interval=0.2,
            watch=[standby],
        )
        assert answers(standby_url + "/readyz")
        wait_until(
            "every home-use iPad in Lost Mode",
            lambda: locked_serials(mock) == home,
            timeout=40,
            interval=0.5,
            watch=[standby],
        )
        sent = await mock.lock_commands_by_serial()
        twice = {serial: count for serial, count in sent.items() if count > 1}
        assert twice == {}, f"locked twice in one night: {twice}"
        assert {serial for serial, count in sent.items() if count} == home
        assert holder_pid(lease_holder(engine, now=clock.now())) == standby_pid
    finally:
        engine.dispose()
