"""Test-side controls of the fake ASM, under `/_mock/asm/`.

What a test (or `mdm-bridge mock`) needs beyond the vendor API and the shared `/_mock/` knobs of
`mocks.common` (latency, 5xx, 429 bursts, token expiry, offline devices, request log): register an
API account's public key so a connector can sign assertions, change the request budgets, make the
next activities fail, and read ASM's own ground truth (assignments and activity outcomes).
"""

from __future__ import annotations

import json
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from mocks.asm.assertion import RegisteredClient
from mocks.asm.budget import BudgetRule, RequestBudget
from mocks.asm.guards import asm_state

router = APIRouter(prefix="/_mock/asm")


def _refuse(detail: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _json_object(request: Request) -> dict[str, object] | None:
    try:
        body = json.loads(await request.body() or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


@router.post("/clients", response_model=None)
async def register_client(request: Request) -> JSONResponse:
    body = await _json_object(request)
    if body is None:
        return _refuse("body must be a JSON object")
    client_id, key_id, pem = body.get("clientId"), body.get("keyId"), body.get("publicKeyPem")
    if not (isinstance(client_id, str) and isinstance(key_id, str) and isinstance(pem, str)):
        return _refuse("clientId, keyId and publicKeyPem are required strings")
    try:
        public_key = load_pem_public_key(pem.encode())
    except ValueError:
        return _refuse("publicKeyPem is not a PEM public key")
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        return _refuse("the key must be an EC P-256 public key")
    asm_state(request).register_client(
        RegisteredClient(client_id=client_id, key_id=key_id, public_key=public_key)
    )
    return JSONResponse({"clientId": client_id, "keyId": key_id}, status_code=201)


@router.put("/budgets", response_model=None)
async def set_budgets(request: Request) -> JSONResponse:
    """Change the GET-per-minute and POST-per-hour budgets; 0 switches a budget off."""
    body = await _json_object(request)
    state = asm_state(request)
    if body is None:
        return _refuse("body must be a JSON object")
    for key, window, attribute in (
        ("getPerMinute", timedelta(minutes=1), "get_budget"),
        ("postPerHour", timedelta(hours=1), "post_budget"),
    ):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return _refuse(f"{key} must be a whole number >= 0")
        setattr(state, attribute, RequestBudget(rule=BudgetRule(requests=value, window=window)))
    return JSONResponse(
        {
            "getPerMinute": state.get_budget.rule.requests,
            "postPerHour": state.post_budget.rule.requests,
        }
    )


@router.post("/activities/fail-next", response_model=None)
async def fail_next_activities(request: Request) -> JSONResponse:
    body = await _json_object(request)
    count = 1 if body is None else body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return _refuse("count must be a whole number >= 0")
    asm_state(request).activities.fail_next = count
    return JSONResponse({"failNext": count})


@router.get("/truth", response_model=None)
async def ground_truth(request: Request) -> JSONResponse:
    state = asm_state(request)
    state.settle()
    catalog = state.catalog
    return JSONResponse(
        {
            "homeServerId": catalog.home_server_id,
            "otherServerId": catalog.other_server_id,
            "servers": {sid: server.name for sid, server in catalog.sorted_servers()},
            "assignments": dict(sorted(catalog.assignment.items())),
            "activities": [
                {
                    "id": activity.activity_id,
                    "type": str(activity.activity_type),
                    "status": None if activity.outcome is None else activity.outcome.status,
                    "moved": [] if activity.outcome is None else list(activity.outcome.moved),
                }
                for activity in state.activities.all()
            ],
            "registeredClients": sorted(state.clients),
        }
    )


@router.get("/activityLogs/{activity_id}.csv", response_model=None)
async def activity_log(activity_id: str, request: Request) -> PlainTextResponse:
    """The per-device result file an activity's `downloadUrl` points at."""
    state = asm_state(request)
    activity = state.activities.get(activity_id, state.now())
    if activity is None or activity.outcome is None:
        return PlainTextResponse("Not Found", status_code=404)
    rows = ["serialNumber,result,reason"]
    rows += [f"{serial},SUCCESS," for serial in activity.outcome.moved]
    rows += [f"{serial},FAILED,{reason}" for serial, reason in activity.outcome.refused]
    return PlainTextResponse("\n".join(rows) + "\n", media_type="text/csv")
