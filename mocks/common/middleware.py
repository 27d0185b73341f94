"""ASGI middleware that makes a vendor front behave like a busy, imperfect server.

Wraps every vendor request (never ``/_mock/`` control calls): counts it in the connection gauge,
applies the connection-cap behaviour, latency, injected 429 bursts and 5xx answers, answers 409
when a second write reaches an object already being written, drops a share of connections
after the app acted, and logs the outcome. Written as
plain ASGI so that no request body is buffered or re-read.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.clock import to_epoch
from mocks.common.faults import FaultDecision, OverCapBehaviour
from mocks.common.requestlog import RequestRecord
from mocks.common.vendor import MockVendor
from mocks.truth import iso

CONTROL_PREFIX = "/_mock"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised mid-response: uvicorn then closes the socket, and an in-process httpx client
    sees the same error a real one would."""


def _dropping(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)
            return
        raise DroppedConnection("peer closed connection without sending complete message body")

    return send_headers_only


class MockMiddleware:
    def __init__(self, app: ASGIApp, vendor: MockVendor) -> None:
        self.app = app
        self.vendor = vendor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        vendor = self.vendor
        method: str = scope["method"]
        path: str = scope["path"]
        sequence = vendor.log.next_sequence()
        arrived = to_epoch(vendor.clock.now())
        in_flight = vendor.gauge.enter()
        status = 500
        fault: str | None = None
        claimed: str | None = None

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            settings = vendor.faults.settings
            over_cap = in_flight > settings.connection_cap
            if over_cap:
                vendor.gauge.over_cap += 1
                if settings.over_cap is OverCapBehaviour.REJECT:
                    fault = "over connection cap"
                    await self._answer(503, path, fault, None, scope, receive, send_and_note)
                    return
            delay = vendor.faults.latency_seconds()
            if over_cap and settings.over_cap is OverCapBehaviour.SLOW:
                delay += vendor.faults.over_cap_delay_seconds(in_flight)
            if method in WRITE_METHODS and settings.conflict_on_overlap:
                key = vendor.write_key(method, path)
                if key is not None and key in vendor.writes_in_flight:
                    fault = "overlapping write"
                    await self._answer(409, path, "Conflict", None, scope, receive, send_and_note)
                    return
                if key is not None:
                    vendor.writes_in_flight.add(key)
                    claimed = key
            if delay > 0:
                await vendor.sleep(delay)
            decision = vendor.faults.decide(to_epoch(vendor.clock.now()))
            if decision is not None:
                fault = decision.reason
                await self._answer_fault(decision, path, scope, receive, send_and_note)
                return
            if vendor.faults.drops_connection():
                fault = "dropped connection"
                await self.app(scope, receive, _dropping(send_and_note))
                return
            await self.app(scope, receive, send_and_note)
        finally:
            if claimed is not None:
                vendor.writes_in_flight.discard(claimed)
            vendor.gauge.leave()
            query = scope.get("query_string", b"").decode("latin-1")
            vendor.log.add(
                RequestRecord(
                    sequence=sequence,
                    at=iso(arrived) or "",
                    method=method,
                    path=path,
                    query=query,
                    status=status,
                    in_flight=in_flight,
                    fault=fault,
                )
            )

    async def _answer_fault(
        self, decision: FaultDecision, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        await self._answer(
            decision.status, path, decision.reason, decision.retry_after, scope, receive, send
        )

    async def _answer(
        self,
        status: int,
        path: str,
        message: str,
        retry_after: int | None,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        response = self.vendor.error_response(status, path, message)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        await response(scope, receive, send)
