"""A bridge served over real HTTP (uvicorn) from a thread with its own event loop.

For clients that are synchronous (schemathesis, the benchmark's load generator): the app, its
service, the mock MDM and the fake clock all live in the server thread's loop, exactly as in
production; the test talks to it through a socket.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from tests.api.bridge import Bridge, open_bridge


@dataclass(kw_only=True)
class Live:
    url: str
    bridge: Bridge
    loop: asyncio.AbstractEventLoop

    def run(self, work: Any, timeout: float = 60.0) -> Any:
        """Run a coroutine in the server's loop (e.g. `bridge.service.settle()`)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_bridge(database_url: str, **bridge_options: Any) -> Iterator[Live]:
    port = _free_port()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        try:
            async with open_bridge(database_url, **bridge_options) as bridge:
                config = uvicorn.Config(
                    bridge.app, host="127.0.0.1", port=port, log_config=None, lifespan="off"
                )
                server = uvicorn.Server(config)
                holder["server"] = server
                holder["live"] = Live(
                    url=f"http://127.0.0.1:{port}", bridge=bridge, loop=asyncio.get_running_loop()
                )
                serving = asyncio.create_task(server.serve())
                while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no started event
                    await asyncio.sleep(0.01)
                ready.set()
                await serving
        except BaseException as error:
            holder["error"] = error
            ready.set()
            raise

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="live-bridge", daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in holder or "live" not in holder:
        thread.join(5)
        raise RuntimeError(f"the live bridge did not start: {holder.get('error')!r}")
    try:
        yield holder["live"]
    finally:
        holder["server"].should_exit = True
        thread.join(60)
