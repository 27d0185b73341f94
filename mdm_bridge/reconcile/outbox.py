"""The durable outbox: queued with the run, claimed under a lease, finished with the answer.

- `queue` inserts one row per action in the caller's transaction; a row whose idempotency key
  is already open (queued or claimed) is skipped, never duplicated.
- `claim` hands a worker up to `limit` rows of one MDM instance: queued rows that are due, and
  claimed rows whose lease lapsed (their worker died). On PostgreSQL the rows are picked with
  `FOR UPDATE SKIP LOCKED`, so replicas draining the same instance never take the same row; on
  SQLite the single writer lock gives the same guarantee.
- `renew` extends the lease of rows a live worker is still sending, so the lease can be short:
  a killed worker's rows come due again soon after it died, not minutes later.
- `finish` records the MDM's answer: sent (accepted or pending), failed or refused; a temporary
  failure goes back to the queue, due again after the vendor's retry-after.
- `cancel` marks unsent rows superseded: a lock still queued at dawn never goes out.

A row claimed more than once may have reached the MDM before its worker died; the executor
re-reads the device before sending it again (see `executor.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import Connection, and_, or_, select, text, update

from connectors.base import ActionResult, FailureKind, Outcome
from mdm_bridge.model import Action
from mdm_bridge.reconcile import actions_json
from mdm_bridge.reconcile.plan import Unsent
from mdm_bridge.store.engine import upsert_insert
from mdm_bridge.store.engine_tables import OPEN_SQL, OPEN_STATUSES, OutboxRow

TABLE = OutboxRow.__table__  # type: ignore[attr-defined]
DEFAULT_LEASE = timedelta(seconds=120)


@dataclass(frozen=True, kw_only=True, slots=True)
class Claimed:
    row_id: int
    device_id: int
    action: Action
    attempts: int  # including this claim: above 1, the row may already have been sent


def queue(
    connection: Connection,
    rows: Iterable[tuple[int, int, Action]],
    *,
    run_id: int | None,
    now: datetime,
) -> int:
    """Insert (instance id, device id, action) rows; answer how many were new.

    Rows are built and written 2,000 at a time: a curfew edge queues one row per iPad, each
    with its action as JSON (an install carries the whole profile), so building all of them
    first would hold hundreds of megabytes at once."""
    builder = upsert_insert(connection)
    statement = (
        builder(TABLE)
        .on_conflict_do_nothing(index_elements=["idempotency_key"], index_where=text(OPEN_SQL))
        .returning(TABLE.c.id)
    )
    inserted = 0
    pending = iter(rows)
    while chunk := list(islice(pending, 2000)):
        values = [
            _row(instance_id, device_id, action, run_id, now)
            for instance_id, device_id, action in chunk
        ]
        inserted += len(connection.execute(statement, values).all())
    return inserted


def _row(
    instance_id: int, device_id: int, action: Action, run_id: int | None, now: datetime
) -> dict[str, object]:
    return {
        "run_id": run_id,
        "mdm_instance_id": instance_id,
        "device_id": device_id,
        "idempotency_key": action.idempotency_key,
        "kind": action.kind.value,
        "profile_identifier": action.profile.identifier if action.profile else None,
        "target_hash": action.target_hash,
        "reason": action.reason[:500],
        "payload": actions_json.dump(action),
        "status": "queued",
        "attempts": 0,
        "created_at": now,
        "available_at": now,
        "detail": "",
    }


def cancel(connection: Connection, keys: Sequence[str], *, now: datetime, why: str) -> int:
    """Supersede the queued (not yet claimed) rows with these keys."""
    cancelled = 0
    for start in range(0, len(keys), 500):
        result = connection.execute(
            update(TABLE)
            .where(TABLE.c.idempotency_key.in_(keys[start : start + 500]))
            .where(TABLE.c.status == "queued")
            .values(status="superseded", finished_at=now, detail=why[:1000])
        )
        cancelled += result.rowcount
    return cancelled


def unsent(
    connection: Connection, device_ids: Sequence[int] | None = None
) -> dict[int, list[Unsent]]:
    """Open rows by device (every device when `device_ids` is None)."""
    query = select(TABLE.c.device_id, TABLE.c.idempotency_key, TABLE.c.status).where(
        TABLE.c.status.in_(OPEN_STATUSES)
    )
    found: dict[int, list[Unsent]] = {}
    chunks: list[Sequence[int] | None] = [None]
    if device_ids is not None:
        chunks = [device_ids[i : i + 500] for i in range(0, len(device_ids), 500)]
    for chunk in chunks:
        scoped = query if chunk is None else query.where(TABLE.c.device_id.in_(chunk))
        for device_id, key, status in connection.execute(scoped):
            found.setdefault(device_id, []).append(Unsent(key=key, claimed=status == "claimed"))
    return found


def delivered(
    connection: Connection, device_ids: Sequence[int] | None = None
) -> dict[int, dict[str, str]]:
    """For each device (or only `device_ids`), the content hash of each profile the MDM last
    accepted for it."""
    query = (
        select(TABLE.c.device_id, TABLE.c.profile_identifier, TABLE.c.target_hash)
        .where(TABLE.c.kind == "install_profile", TABLE.c.status == "sent")
        .order_by(TABLE.c.id)
    )
    if device_ids is not None:
        query = query.where(TABLE.c.device_id.in_(list(device_ids)))
    found: dict[int, dict[str, str]] = {}
    for device_id, identifier, content_hash in connection.execute(query):
        found.setdefault(device_id, {})[identifier] = content_hash
    return found


def claim(
    connection: Connection,
    *,
    instance_id: int,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Claimed]:
    """Take up to `limit` due rows of one instance for `worker`, oldest first."""
    due = or_(
        and_(TABLE.c.status == "queued", TABLE.c.available_at <= now),
        and_(TABLE.c.status == "claimed", TABLE.c.lease_expires_at <= now),
    )
    pick = (
        select(TABLE.c.id)
        .where(TABLE.c.mdm_instance_id == instance_id, due)
        .order_by(TABLE.c.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(connection.execute(pick).scalars())
    if not ids:
        return []
    for start in range(0, len(ids), 1000):
        connection.execute(
            update(TABLE)
            .where(TABLE.c.id.in_(ids[start : start + 1000]))
            .values(
                status="claimed",
                lease_owner=worker,
                lease_expires_at=now + lease,
                attempts=TABLE.c.attempts + 1,
            )
        )
    claimed: list[Claimed] = []
    for start in range(0, len(ids), 1000):
        rows = connection.execute(
            select(TABLE.c.id, TABLE.c.device_id, TABLE.c.payload, TABLE.c.attempts)
            .where(TABLE.c.id.in_(ids[start : start + 1000]))
            .order_by(TABLE.c.id)
        )
        claimed += [
            Claimed(
                row_id=row_id,
                device_id=device_id,
                action=actions_json.load(payload),
                attempts=attempts,
            )
            for row_id, device_id, payload, attempts in rows
        ]
    return claimed


def renew(
    connection: Connection,
    claimed: Sequence[Claimed],
    *,
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> int:
    """Extend `worker`'s lease on the rows it still holds; answers how many it still held."""
    ids = [row.row_id for row in claimed]
    renewed = 0
    for start in range(0, len(ids), 1000):
        result = connection.execute(
            update(TABLE)
            .where(
                TABLE.c.id.in_(ids[start : start + 1000]),
                TABLE.c.status == "claimed",
                TABLE.c.lease_owner == worker,
            )
            .values(lease_expires_at=now + lease)
        )
        renewed += result.rowcount
    return renewed


def finish(
    connection: Connection,
    answers: Iterable[tuple[Claimed, ActionResult]],
    *,
    worker: str,
    now: datetime,
) -> None:
    """Record the MDM's answer for each claimed row this worker still holds."""
    for claimed, result in answers:
        values: dict[str, object] = {
            "outcome": result.outcome.value,
            "detail": result.detail[:1000],
            "vendor_reference": result.vendor_reference,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if result.outcome in (Outcome.ACCEPTED, Outcome.PENDING):
            values.update(status="sent", finished_at=now)
        elif result.outcome is Outcome.REFUSED:
            values.update(status="refused", finished_at=now)
        elif result.failure is FailureKind.TEMPORARY:
            retry = timedelta(seconds=result.retry_after or 30)
            values.update(status="queued", available_at=now + retry)
        else:
            values.update(status="failed", finished_at=now)
        connection.execute(
            update(TABLE)
            .where(TABLE.c.id == claimed.row_id, TABLE.c.lease_owner == worker)
            .values(**values)
        )


def settle_unneeded(
    connection: Connection, claimed: Sequence[Claimed], *, worker: str, now: datetime, why: str
) -> None:
    """Close rows a re-read showed are no longer needed (the change is already there)."""
    ids = [row.row_id for row in claimed]
    for start in range(0, len(ids), 1000):
        connection.execute(
            update(TABLE)
            .where(TABLE.c.id.in_(ids[start : start + 1000]), TABLE.c.lease_owner == worker)
            .values(
                status="superseded",
                finished_at=now,
                detail=why,
                lease_owner=None,
                lease_expires_at=None,
            )
        )
