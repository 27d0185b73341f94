"""Serve one or several ASGI apps from one process, and stop them all on SIGINT/SIGTERM.

`serve` runs the service alone; `demo` runs the service beside the mock MDM's vendor apps.
uvicorn's own signal capture handles one server per process, so the signals are taken here and
passed to every server at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Listener:
    name: str
    app: ASGIApp
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals are handled once for all servers in `serve_all`


async def serve_all(
    listeners: list[Listener], *, beside: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Serve every listener until a signal; `beside` runs once every server has started
    (the demo's night player) and its end does not stop the servers."""
    servers = [
        _Server(
            uvicorn.Config(
                listener.app,
                host=listener.host,
                port=listener.port,
                log_config=None,  # keep the process's own (redacting) logging
                server_header=False,
                lifespan="on",
            )
        )
        for listener in listeners
    ]
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_all)

    async def run_beside() -> None:
        if beside is None:
            return
        while not all(server.started for server in servers):
            if any(server.should_exit for server in servers):
                return
            await asyncio.sleep(0.05)
        try:
            await beside()
        except Exception:
            log.exception("the task beside the servers failed")

    try:
        helper = asyncio.create_task(run_beside())
        results = await asyncio.gather(
            *(server.serve() for server in servers), return_exceptions=True
        )
        helper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await helper
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    if any(not server.started for server in servers):
        raise SystemExit(1)  # uvicorn already logged why (e.g. the port is taken)


def run(listeners: list[Listener], *, beside: Callable[[], Awaitable[None]] | None = None) -> None:
    asyncio.run(serve_all(listeners, beside=beside))
