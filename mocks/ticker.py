"""Background check-ins while the mock serves on the real clock.

``attach_ticker(app, FleetTicker(fleet))`` wraps the app's lifespan so the ticker starts when the
server starts and stops (its task awaited) when the server stops; nothing runs at import. Tests
drive time with a ``ManualClock`` and ``Fleet.tick`` instead, or inject ``sleep`` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from mocks.fleet import Fleet

log = logging.getLogger(__name__)


class FleetTicker:
    def __init__(
        self,
        fleet: Fleet,
        *,
        interval_seconds: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.fleet = fleet
        self.interval_seconds = interval_seconds
        self.ticks = 0
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="mock-fleet-ticker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            try:
                self.fleet.tick()
            except Exception:  # a bad tick must not stop every later check-in
                log.exception("fleet tick failed")
            self.ticks += 1
            await self._sleep(self.interval_seconds)


def attach_ticker(app: FastAPI, ticker: FleetTicker) -> None:
    """Run ``ticker`` for as long as ``app``'s lifespan lasts, inside any existing lifespan."""
    existing: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with existing(served) as state:
            ticker.start()
            try:
                yield state
            finally:
                await ticker.stop()

    app.router.lifespan_context = lifespan
    app.state.fleet_ticker = ticker
