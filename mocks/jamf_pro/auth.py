"""Jamf Pro authentication: user tokens (Basic -> bearer), API-client OAuth tokens, checks.

Routes here issue tokens; ``require_api_token`` and ``require_classic_token`` guard every other
route and raise ``JamfProError`` in the right shape (ApiError JSON for ``/api``, an HTML page for
``/JSSResource``). Client tokens cannot be kept alive; disabling a client stops new tokens only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from mocks.jamf_pro.errors import (
    CLASSIC_PREFIX,
    JamfProError,
    api_error,
    classic_page,
    oauth_error,
)
from mocks.jamf_pro.privileges import granted, route_privilege
from mocks.jamf_pro.state import JamfProState, jamf_state
from mocks.jamf_pro.tokens import Token, TokenKind
from mocks.jamf_pro.wire import jamf_time

router = APIRouter()
DEPRECATED = {"deprecation": "true"}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def check_api_token(request: Request) -> Token:
    state = jamf_state(request)
    value = _bearer(request)
    token = state.tokens.valid(value, state.now()) if value else None
    if token is None:
        raise JamfProError(api_error(401, "INVALID_TOKEN", "Unauthorized"))
    return token


def check_classic_token(request: Request) -> Token:
    state = jamf_state(request)
    value = _bearer(request)  # Basic auth is switched off on Classic since 11.5
    token = state.tokens.valid(value, state.now()) if value else None
    if token is None:
        raise JamfProError(classic_page(401, "The request requires user authentication"))
    return token


async def require_api_token(request: Request) -> Token:
    """Route dependency; async so that FastAPI does not hop to a worker thread per request."""
    token = check_api_token(request)
    privilege = route_privilege(request.method, request.url.path)
    if privilege is not None:
        check_privilege(request, token, privilege)
    return token


async def require_classic_token(request: Request) -> Token:
    token = check_classic_token(request)
    privilege = route_privilege(request.method, request.url.path)
    if privilege is not None:
        check_privilege(request, token, privilege)
    return token


def check_privilege(request: Request, token: Token, privilege: str) -> None:
    """403 in the route's own error shape when the token's roles lack ``privilege``."""
    if granted(token, privilege, jamf_state(request).settings.api_roles):
        return
    if request.url.path.startswith(CLASSIC_PREFIX):
        raise JamfProError(classic_page(403, f"The API client lacks the privilege {privilege}"))
    raise JamfProError(api_error(403, "INVALID_PRIVILEGE", f"Requires privilege: {privilege}"))


def _token_answer(token: Token, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"token": token.value, "expires": jamf_time(token.expires_at)}, headers=headers
    )


def _basic_user(request: Request, state: JamfProState) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    expected = state.settings.users.get(username)
    if expected is None or not hmac.compare_digest(expected, password):
        return None
    return username


@router.post("/api/v1/auth/token")
async def create_user_token(request: Request) -> Response:
    state = jamf_state(request)
    username = _basic_user(request, state)
    if username is None:
        raise JamfProError(api_error(401, "INVALID_CREDENTIALS", "Unauthorized"))
    token = state.tokens.issue(
        kind=TokenKind.USER,
        subject=username,
        now=state.now(),
        lifetime=state.settings.user_token_lifetime_seconds,
    )
    return _token_answer(token)


async def _keep_alive(request: Request, headers: dict[str, str] | None = None) -> Response:
    state = jamf_state(request)
    old = check_api_token(request)
    if old.kind is not TokenKind.USER:
        raise JamfProError(
            api_error(401, "INVALID_TOKEN", "API client tokens cannot be kept alive")
        )
    state.tokens.invalidate(old.value)
    token = state.tokens.issue(
        kind=TokenKind.USER,
        subject=old.subject,
        now=state.now(),
        lifetime=state.settings.user_token_lifetime_seconds,
    )
    return _token_answer(token, headers)


async def _invalidate(request: Request, headers: dict[str, str] | None = None) -> Response:
    token = check_api_token(request)
    jamf_state(request).tokens.invalidate(token.value)
    return Response(status_code=204, headers=headers)


async def _details(request: Request, headers: dict[str, str] | None = None) -> Response:
    token = check_api_token(request)
    body: dict[str, Any] = {
        "account": {"username": token.subject, "accessLevel": "FullAccess"},
        "authenticationType": str(token.kind),
        "scope": list(token.scope),
    }
    return JSONResponse(body, headers=headers)


@router.post("/api/v1/auth/keep-alive")
async def keep_alive(request: Request) -> Response:
    return await _keep_alive(request)


@router.post("/api/auth/keepAlive")
async def keep_alive_deprecated(request: Request) -> Response:
    return await _keep_alive(request, DEPRECATED)


@router.post("/api/v1/auth/invalidate-token")
async def invalidate(request: Request) -> Response:
    return await _invalidate(request)


@router.post("/api/auth/invalidateToken")
async def invalidate_deprecated(request: Request) -> Response:
    return await _invalidate(request, DEPRECATED)


@router.get("/api/v1/auth")
async def details(request: Request) -> Response:
    return await _details(request)


@router.get("/api/auth")
async def details_deprecated(request: Request) -> Response:
    return await _details(request, DEPRECATED)


@router.post("/api/v1/oauth/token")
async def client_token(request: Request) -> Response:
    return await _client_token(request)


@router.post("/api/oauth/token")
async def client_token_unversioned(request: Request) -> Response:
    # Missing from the 11.30.1 schema yet still served: keep it working, flag it deprecated.
    response = await _client_token(request)
    response.headers.update(DEPRECATED)
    return response


async def _client_token(request: Request) -> Response:
    state = jamf_state(request)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return oauth_error("invalid_request", "Expected an application/x-www-form-urlencoded body")
    try:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return oauth_error("invalid_request", "Body is not valid form data")
    if form.get("grant_type") != "client_credentials":
        return oauth_error("unsupported_grant_type", "Only client_credentials is supported")
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    client = state.settings.api_clients.get(client_id)
    if client is None or not hmac.compare_digest(client.secret, secret):
        return oauth_error("invalid_client", "Client authentication failed")
    if client_id in state.disabled_clients:
        return oauth_error("invalid_client", "Client is disabled")
    requested = tuple(form.get("scope", "").split()) or client.roles
    if not set(requested) <= set(client.roles):
        return oauth_error("invalid_scope", "The client does not hold every requested role")
    token = state.tokens.issue(
        kind=TokenKind.CLIENT,
        subject=client_id,
        now=state.now(),
        lifetime=client.token_lifetime_seconds,
        scope=requested,
    )
    return JSONResponse(
        {
            "access_token": token.value,
            "token_type": "Bearer",
            "scope": " ".join(requested),
            "expires_in": client.token_lifetime_seconds,
        }
    )
