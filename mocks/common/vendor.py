"""One vendor front's mock context: its fleet, clock, faults, log, gauge and token stores.

Each vendor app keeps a ``MockVendor`` in ``app.state.mock_vendor``; the shared middleware and
the control API find it there. Fronts plug in their error shape (``error_response``), which
write requests touch the same object (``write_key``), and how to expire their tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi.responses import JSONResponse, Response

from mocks.clock import Clock
from mocks.common.faults import FaultInjector
from mocks.common.requestlog import ConnectionGauge, RequestLog
from mocks.fleet import Fleet

Sleep = Callable[[float], Awaitable[None]]
# (status, request path, message) -> the vendor's own error response
ErrorRenderer = Callable[[int, str, str], Response]
# (method, path) -> a key naming the object a write changes, or None for reads/uncontended writes
WriteKey = Callable[[str, str], str | None]


def plain_error(status: int, path: str, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def no_write_key(method: str, path: str) -> str | None:
    return None


@dataclass(kw_only=True)
class MockVendor:
    name: str
    fleet: Fleet
    clock: Clock
    faults: FaultInjector = field(default_factory=FaultInjector)
    log: RequestLog = field(default_factory=RequestLog)
    gauge: ConnectionGauge = field(default_factory=ConnectionGauge)
    sleep: Sleep = asyncio.sleep
    error_response: ErrorRenderer = plain_error
    write_key: WriteKey = no_write_key
    token_expirers: list[Callable[[], int]] = field(default_factory=list)
    writes_in_flight: set[str] = field(default_factory=set)

    def expire_all_tokens(self) -> int:
        """Kill every token this vendor has issued; returns how many were alive."""
        return sum(expire() for expire in self.token_expirers)
