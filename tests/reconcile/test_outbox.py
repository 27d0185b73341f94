"""The outbox on the configured database: once per key, leases, retries, cancellation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from connectors.base import ActionResult, FailureKind, Outcome
from mdm_bridge.model import Action, ActionKind, DeviceRef, LockCause, LockIntent
from mdm_bridge.reconcile import outbox
from mdm_bridge.store.engine_tables import OutboxRow
from tests.reconcile.conftest import NOW

CURFEW = LockIntent(cause=LockCause.CURFEW, message="Bedtime", until=NOW + timedelta(hours=12))


def lock(n: int, target: str = "night-1") -> Action:
    device = DeviceRef(mdm_instance="jamf", vendor_id=str(n), serial_number=f"SER{n}")
    return Action(
        kind=ActionKind.LOCK, device=device, target_hash=target, reason="curfew", lock=CURFEW
    )


def statuses(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(OutboxRow.status).order_by(OutboxRow.id)).scalars())  # type: ignore[arg-type]


def test_the_same_change_for_the_same_target_is_queued_once(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    rows = [(instance, device, lock(n + 1)) for n, device in enumerate(devices)]
    with engine.begin() as connection:
        assert outbox.queue(connection, rows, run_id=None, now=NOW) == 5
    with engine.begin() as connection:
        assert outbox.queue(connection, rows, run_id=None, now=NOW) == 0
        assert set(outbox.unsent(connection)) == set(devices)
    assert statuses(engine) == ["queued"] * 5


def test_a_claim_is_exclusive_until_its_lease_lapses(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    with engine.begin() as connection:
        outbox.queue(connection, [(instance, devices[0], lock(1))], run_id=None, now=NOW)
    with engine.begin() as connection:
        first = outbox.claim(connection, instance_id=instance, worker="a", now=NOW, limit=10)
    assert [c.action for c in first] == [lock(1)]
    assert first[0].attempts == 1
    with engine.begin() as connection:
        assert outbox.claim(connection, instance_id=instance, worker="b", now=NOW, limit=10) == []
    later = NOW + outbox.DEFAULT_LEASE
    with engine.begin() as connection:
        again = outbox.claim(connection, instance_id=instance, worker="b", now=later, limit=10)
    assert again[0].attempts == 2, "a re-claimed row says it may have been sent"
    # the first worker's late answer no longer counts: the lease is b's
    answer = ActionResult(action=lock(1), outcome=Outcome.ACCEPTED)
    with engine.begin() as connection:
        outbox.finish(connection, [(first[0], answer)], worker="a", now=later)
    assert statuses(engine) == ["claimed"]
    with engine.begin() as connection:
        outbox.finish(connection, [(again[0], answer)], worker="b", now=later)
    assert statuses(engine) == ["sent"]


def test_a_temporary_failure_comes_back_after_retry_after(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    with engine.begin() as connection:
        outbox.queue(connection, [(instance, devices[0], lock(1))], run_id=None, now=NOW)
        claimed = outbox.claim(connection, instance_id=instance, worker="a", now=NOW, limit=1)
        busy = ActionResult(
            action=lock(1), outcome=Outcome.FAILED, failure=FailureKind.TEMPORARY, retry_after=30
        )
        outbox.finish(connection, [(claimed[0], busy)], worker="a", now=NOW)
    with engine.begin() as connection:
        assert outbox.claim(connection, instance_id=instance, worker="a", now=NOW, limit=1) == []
        soon = NOW + timedelta(seconds=30)
        assert (
            len(outbox.claim(connection, instance_id=instance, worker="a", now=soon, limit=1)) == 1
        )


def test_a_sent_key_may_be_queued_again_and_a_queued_one_cancelled(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    with engine.begin() as connection:
        outbox.queue(connection, [(instance, devices[0], lock(1))], run_id=None, now=NOW)
        claimed = outbox.claim(connection, instance_id=instance, worker="a", now=NOW, limit=1)
        done = ActionResult(action=lock(1), outcome=Outcome.PENDING)
        outbox.finish(connection, [(claimed[0], done)], worker="a", now=NOW)
        assert (
            outbox.queue(connection, [(instance, devices[0], lock(1))], run_id=None, now=NOW) == 1
        )
        assert outbox.cancel(connection, [lock(1).idempotency_key], now=NOW, why="dawn") == 1
    assert statuses(engine) == ["sent", "superseded"]


def test_permanent_failures_and_refusals_are_final(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    with engine.begin() as connection:
        outbox.queue(
            connection,
            [(instance, devices[0], lock(1)), (instance, devices[1], lock(2))],
            run_id=None,
            now=NOW,
        )
        first, second = outbox.claim(connection, instance_id=instance, worker="a", now=NOW, limit=5)
        outbox.finish(
            connection,
            [
                (
                    first,
                    ActionResult(
                        action=lock(1), outcome=Outcome.FAILED, failure=FailureKind.PERMANENT
                    ),
                ),
                (second, ActionResult(action=lock(2), outcome=Outcome.REFUSED)),
            ],
            worker="a",
            now=NOW,
        )
    assert statuses(engine) == ["failed", "refused"]
