"""Authentication and authorisation for every `/api/v1` route.

`require(permission)` is the one dependency a route names: it reads the bearer token, finds the
`Principal` behind it (`store.access.authenticate`) and checks the role against the permission
matrix (`mdm_bridge.permissions`). No token, a malformed, unknown, expired or revoked one: 401
with `WWW-Authenticate: Bearer`. A valid token whose role lacks the permission: 403. The reason
a token was refused is logged by kind, never with the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mdm_bridge.permissions import Permission, Principal, allowed
from mdm_bridge.service import Service
from mdm_bridge.store.access import Rejection, authenticate

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `mdm-bridge token create`, sent as `Authorization: Bearer …`",
)

UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="mdm-bridge"'}
_REFUSALS = {
    Rejection.MALFORMED: "the token is not an mdm-bridge API token",
    Rejection.UNKNOWN: "the token is not known",
    Rejection.EXPIRED: "the token has expired; ask for a new one",
    Rejection.REVOKED: "the token has been revoked",
}


class NotAuthenticated(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers=UNAUTHENTICATED)


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from their bearer token; 401 when there is none or it does not hold."""
    if credentials is None:
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    service = service_of(request)
    token = credentials.credentials

    def look_up() -> Principal | Rejection:
        with service.engine.connect() as connection:
            return authenticate(connection, token, service.clock.now())

    found = await asyncio.to_thread(look_up)
    if isinstance(found, Rejection):
        log.info("refused an API token (%s) on %s", found.value, request.url.path)
        raise NotAuthenticated(_REFUSALS[found])
    return found


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold `permission` (else 403)."""

    async def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not allowed(caller.role, permission):
            raise HTTPException(
                403, f"the {caller.role.value} role may not do this ({permission.value})"
            )
        return caller

    check.__name__ = f"require_{permission.name.lower()}"
    return check


def forbidden(detail: str) -> HTTPException:
    """403 for a caller whose role may do this, but not to this pupil or iPad."""
    return HTTPException(403, detail)


Caller = Annotated[Principal, Depends(principal)]
__all__: list[Any] = ["Caller", "forbidden", "principal", "require", "service_of"]
