"""Composition root: builds the service's components from settings and runs their life cycle.

The API's lifespan and the CLI call `Service.start`/`stop`; nothing starts at import. Components
start in order and stop in reverse; if one fails to start, those already started are stopped.
Later issues add the scheduler, the outbox workers and the connectors (named only here, through
the registry) as further components.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from mdm_bridge.clock import Clock
from mdm_bridge.settings import Settings
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine, database_reachable

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ready(self) -> bool: ...


@dataclass(kw_only=True)
class Database:
    """The store: migrated on start when asked, disposed on stop."""

    engine: Engine
    upgrade_on_start: bool
    name: str = "database"

    async def start(self) -> None:
        if self.upgrade_on_start:
            await asyncio.to_thread(migrate.upgrade, self.engine)
            log.info("database schema is at the newest revision")

    async def stop(self) -> None:
        await asyncio.to_thread(self.engine.dispose)

    async def ready(self) -> bool:
        return await asyncio.to_thread(database_reachable, self.engine)


@dataclass(kw_only=True)
class Service:
    settings: Settings
    clock: Clock
    components: list[Component] = field(default_factory=list)
    _started: list[Component] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, clock: Clock) -> Service:
        database = Database(
            engine=create_database_engine(settings.database_url),
            upgrade_on_start=settings.upgrade_on_start,
        )
        return cls(settings=settings, clock=clock, components=[database])

    async def start(self) -> None:
        for component in self.components:
            try:
                await component.start()
            except BaseException:
                log.error("component %s failed to start; stopping the others", component.name)
                await self.stop()
                raise
            self._started.append(component)
            log.debug("component %s started", component.name)

    async def stop(self) -> None:
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:
                log.exception("component %s failed to stop cleanly", component.name)

    async def readiness(self) -> dict[str, bool]:
        return {component.name: await component.ready() for component in self.components}
