"""The OAuth token endpoint of the fake ASM (Apple's account service in real life).

Served on both paths clients are seen to use. The form body is parsed here by hand (the mock has
no multipart support and must answer malformed bodies in the OAuth error shape, never with a
framework 422); `mocks.asm.assertion` does the checking.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.asm.assertion import AssertionRejected, verify_client_assertion
from mocks.asm.errors import oauth_error_response
from mocks.asm.guards import asm_state

router = APIRouter()


@router.post("/auth/oauth2/token")
@router.post("/auth/oauth2/v2/token")
async def issue_token(request: Request) -> JSONResponse:
    state = asm_state(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return oauth_error_response(
            "invalid_request", "body must be application/x-www-form-urlencoded"
        )
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return oauth_error_response("invalid_request", "body is not UTF-8")
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        return oauth_error_response("invalid_request", "a parameter appears more than once")
    try:
        verified = verify_client_assertion(
            dict(pairs),
            clients=state.clients,
            spent_jtis=state.spent_jtis,
            now=state.now(),
            rules=state.options.assertion_rules,
        )
    except AssertionRejected as rejected:
        return oauth_error_response(rejected.error, rejected.description)
    token = state.tokens.issue(verified.client_id, state.now())
    return JSONResponse(
        {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": int(state.tokens.lifetime.total_seconds()),
            "scope": "school.api",
        },
        headers={"Cache-Control": "no-store"},
    )
