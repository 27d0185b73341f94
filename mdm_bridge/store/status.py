"""The service's status in figures: the last run, tonight's curfew outcomes, the outbox.

Aggregates only (no pupil names), so it can be shown on a dashboard or printed by the demo.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from mdm_bridge.store.engine_tables import CurfewNight, OutboxRow, ReconcileRun
from mdm_bridge.store.tables import Device

RUNS = ReconcileRun.__table__  # type: ignore[attr-defined]
NIGHTS = CurfewNight.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
DEVICES = Device.__table__  # type: ignore[attr-defined]


def status(connection: Connection, now: datetime) -> dict[str, Any]:
    last = connection.execute(select(RUNS).order_by(RUNS.c.id.desc()).limit(1)).first()
    latest_night = connection.execute(
        select(func.max(NIGHTS.c.night)).where(NIGHTS.c.starts_at <= now)
    ).scalar_one_or_none()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    if latest_night is not None:
        for outcome, reason in connection.execute(
            select(NIGHTS.c.outcome, NIGHTS.c.reason).where(NIGHTS.c.night == latest_night)
        ):
            outcomes[outcome] += 1
            if outcome == "never":
                reasons[reason.split(" since ")[0]] += 1
    outbox: dict[str, int] = dict(
        connection.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)).all()
    )
    return {
        "at": now.isoformat(),
        "devices": connection.execute(select(func.count()).select_from(DEVICES)).scalar_one(),
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "trigger": last.trigger,
            "started_at": last.started_at.isoformat(),
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
            "status": last.status,
            "devices": last.devices,
            "converged": last.converged,
            "queued": last.queued,
            "sent": last.sent,
            "accepted": last.accepted,
            "pending": last.pending,
            "failed": last.failed,
            "blocked": last.blocked,
            "errors": last.errors,
        },
        "curfew_night": None
        if latest_night is None
        else {
            "night": latest_night.isoformat(),
            "outcomes": dict(sorted(outcomes.items())),
            "never_because": dict(reasons.most_common()),
        },
        "outbox": {str(k): int(v) for k, v in sorted(outbox.items())},
    }
