"""Running a request's database work: reads, and writes recorded in the audit trail.

Routes hand a plain function of a SQLAlchemy `Connection` to `read` or `write`; it runs in a
worker thread (the store is synchronous) inside one transaction. `write` also hands the function
an `Audit` bound to the caller and to one instant from the injected clock, so the change and its
audit event commit together or not at all: an error anywhere leaves neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Connection

from mdm_bridge.api.auth import service_of
from mdm_bridge.permissions import Principal
from mdm_bridge.store import audit

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Audit:
    """Records events for one caller, in one transaction, at one instant."""

    connection: Connection
    key: bytes
    caller: Principal
    now: datetime

    def record(
        self,
        action: str,
        target: str,
        *,
        reason: str = "",
        change: Mapping[str, Any] | None = None,
    ) -> audit.Entry:
        return audit.append(
            self.connection,
            key=self.key,
            at=self.now,
            actor=self.caller.user,
            role=self.caller.role.value,
            action=action,
            target=target,
            reason=reason,
            change=change,
        )


async def read(request: Request, work: Callable[[Connection], T]) -> T:
    engine = service_of(request).engine

    def run() -> T:
        with engine.connect() as connection:
            return work(connection)

    return await asyncio.to_thread(run)


async def write(request: Request, caller: Principal, work: Callable[[Connection, Audit], T]) -> T:
    service = service_of(request)
    now = service.clock.now()

    def run() -> T:
        with service.engine.begin() as connection:
            # Writes check state, then change it (approve what awaits approval, lift what is
            # active). Taking the audit head's lock first makes them one at a time, so two
            # requests cannot both pass the same check; they queue on this row at commit anyway.
            audit.lock_head(connection)
            return work(
                connection,
                Audit(connection=connection, key=service.audit_key, caller=caller, now=now),
            )

    return await asyncio.to_thread(run)
