"""Jamf Cloud's clustering, as far as a client can notice it: reads that lag behind writes.

Jamf Cloud runs several nodes that sync about once a minute; a client that does not keep the
sticky ``jpro-ingress`` cookie may read a group from a node that has not seen its own write yet.
With ``JamfProSettings.cluster_lag_seconds`` set, the Jamf Pro mock sets that cookie on every
answer, and group reads without it show the membership from before the latest writes until the
lag has passed. The simulated iPads themselves change at once: only the API view lags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.groups import Group

STICKY_COOKIE = "jpro-ingress"


@dataclass(frozen=True, kw_only=True)
class StaleView:
    members: frozenset[int]
    until: float


@dataclass(kw_only=True)
class ClusterLag:
    seconds: float = 0.0
    _stale: dict[int, StaleView] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def before_write(self, group: Group, now: float) -> None:
        """Remember what the other nodes still show; call before changing membership."""
        if not self.enabled:
            return
        current = self._stale.get(group.group_id)
        members = current.members if current and current.until > now else frozenset(group.members)
        self._stale[group.group_id] = StaleView(members=members, until=now + self.seconds)

    def members_seen(self, group: Group, request: Request, now: float) -> frozenset[int]:
        """The membership this request sees: stale without the sticky cookie, inside the lag."""
        view = self._stale.get(group.group_id)
        if view is None or view.until <= now or STICKY_COOKIE in request.cookies:
            return frozenset(group.members)
        return view.members


class StickyCookieMiddleware:
    """Adds the ``jpro-ingress`` cookie to every answer, as Jamf Cloud's load balancer does."""

    def __init__(self, app: ASGIApp, node: str = "node-1") -> None:
        self.app = app
        self.cookie = f"{STICKY_COOKIE}={node}; Path=/; HttpOnly".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", self.cookie)]
            await send(message)

        await self.app(scope, receive, with_cookie)
