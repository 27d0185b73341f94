"""The checks every ASM API call passes before its route runs: Accept, bearer token, budget.

`mocks.asm.routes_devices` and `mocks.asm.routes_activities` attach `api_guard` to every `/v1`
route. Apple does not document the order of these checks; the fake refuses a wrong `Accept`
before it looks at the token, and spends budget only on authenticated requests, so an
unauthenticated client cannot use up a school's budget.
"""

from __future__ import annotations

from fastapi import Request

from mocks.asm.errors import AsmError
from mocks.asm.state import AsmState

_JSON = "application/json"
_WILDCARDS = frozenset({"*/*", "application/*"})


def asm_state(request: Request) -> AsmState:
    state: AsmState = request.app.state.asm
    return state


def accepts_json(accept_header: str | None, *, refuse_wildcards: bool) -> bool:
    """True when the `Accept` header lets the API answer JSON (no header at all does)."""
    if accept_header is None or not accept_header.strip():
        return True
    media_types = {part.split(";")[0].strip().lower() for part in accept_header.split(",")}
    if _JSON in media_types:
        return True
    return not refuse_wildcards and not media_types.isdisjoint(_WILDCARDS)


def authenticated_client(request: Request, state: AsmState) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    client_id = (
        state.tokens.client_for(token.strip(), state.now()) if scheme.lower() == "bearer" else None
    )
    if client_id is None:
        error = AsmError.unauthorized()
        error.headers["WWW-Authenticate"] = 'Bearer realm="api-school.apple.com"'
        raise error
    return client_id


async def api_guard(request: Request) -> None:
    state = asm_state(request)
    if not accepts_json(
        request.headers.get("accept"), refuse_wildcards=state.options.refuse_wildcard_accept
    ):
        raise AsmError.not_acceptable()
    client_id = authenticated_client(request, state)
    budget = state.post_budget if request.method == "POST" else state.get_budget
    wait = budget.spend(client_id, state.now())
    if wait is not None:
        raise AsmError.rate_limited(wait)
    state.settle()
