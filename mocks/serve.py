"""Serving mock apps over real HTTP with uvicorn: the CLI's runner and a test/bench helper.

``serve_forever`` runs every vendor app on its own port in one event loop until SIGINT/SIGTERM;
``running_app`` serves one app on a free loopback port for the duration of an ``async with``
(tests of the connection cap, benchmarks) and shuts it down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Iterator, Mapping

import uvicorn
from fastapi import FastAPI

STARTUP_POLLS = 500  # x 10 ms: how long to wait for a server to start listening


class _SharedSignalServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the runner, which serves several."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: FastAPI, host: str, port: int) -> _SharedSignalServer:
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", access_log=False
    )
    return _SharedSignalServer(config)


async def _wait_started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    for _ in range(STARTUP_POLLS):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # re-raise why it failed to start
    if not server.started:
        raise RuntimeError("the mock server did not start in time")


def bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def running_app(app: FastAPI, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` on a free port; yields its base URL and stops it on exit."""
    server = _server(app, host, 0)
    task = asyncio.create_task(server.serve(), name="mock-uvicorn")
    try:
        await _wait_started(server, task)
        yield f"http://{host}:{bound_port(server)}"
    finally:
        server.should_exit = True
        await task


async def serve_forever(
    apps: Mapping[str, FastAPI],
    ports: Mapping[str, int],
    *,
    host: str,
    on_ready: Callable[[dict[str, str]], None],
) -> None:
    """Serve each app on its port until SIGINT or SIGTERM, then stop them all gracefully."""
    servers = {name: _server(app, host, ports[name]) for name, app in apps.items()}
    tasks = {
        name: asyncio.create_task(s.serve(), name=f"mock-{name}") for name, s in servers.items()
    }

    def stop_all() -> None:
        for server in servers.values():
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_all)
    try:
        for name, server in servers.items():
            await _wait_started(server, tasks[name])
        on_ready({name: f"http://{host}:{bound_port(s)}" for name, s in servers.items()})
        await asyncio.gather(*tasks.values())
    finally:
        stop_all()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
