"""Inventory sync: every iPad an MDM lists becomes (or updates) a row of `devices`.

Streams the connector's pages and writes in chunks, so 100,000 iPads never sit in memory twice.
New iPads start as not going home: the school's roster says which iPads are 1:1 home-use.
Supervision comes from each observation, which the reconcile run stores separately.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import Connection, Engine

from connectors.base import Inventory
from mdm_bridge.model import DeviceRef
from mdm_bridge.reconcile.facts import DEVICES
from mdm_bridge.store.engine import upsert_insert

CHUNK = 2000


async def sync_inventory(
    database: Engine, instance_id: int, connector: Inventory, *, now: datetime
) -> int:
    """Upsert every device `connector` lists into `devices`; answer how many it listed."""
    listed = 0
    chunk: list[DeviceRef] = []
    async for ref in connector.list_devices():
        chunk.append(ref)
        if len(chunk) >= CHUNK:
            await asyncio.to_thread(_write, database, instance_id, chunk, now)
            listed += len(chunk)
            chunk = []
    if chunk:
        await asyncio.to_thread(_write, database, instance_id, chunk, now)
        listed += len(chunk)
    return listed


def _write(database: Engine, instance_id: int, refs: list[DeviceRef], now: datetime) -> None:
    with database.begin() as connection:
        upsert_devices(connection, instance_id, refs, now=now)


def upsert_devices(
    connection: Connection, instance_id: int, refs: list[DeviceRef], *, now: datetime
) -> None:
    builder = upsert_insert(connection)
    statement = builder(DEVICES)
    upsert = statement.on_conflict_do_update(
        index_elements=["mdm_instance_id", "vendor_id"],
        set_={
            "serial_number": statement.excluded.serial_number,
            "udid": statement.excluded.udid,
            "management_id": statement.excluded.management_id,
        },
    )
    values = [
        {
            "mdm_instance_id": instance_id,
            "vendor_id": ref.vendor_id,
            "serial_number": ref.serial_number,
            "udid": ref.udid,
            "management_id": ref.management_id,
            "name": "",
            "supervised": False,
            "takes_home": False,
            "created_at": now,
        }
        for ref in refs
    ]
    connection.execute(upsert, values)
