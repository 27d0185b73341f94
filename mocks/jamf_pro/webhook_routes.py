"""Classic ``/JSSResource/webhooks`` routes, and the control route listing deliveries.

Records are XML on the way in (``POST /id/0``, ``PUT /id/{id}``) and XML or JSON on the way out,
like every Classic object; ``mocks.jamf_pro.webhooks`` turns fleet events into deliveries.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any
from xml.etree.ElementTree import Element

from fastapi import APIRouter, Depends, Request, Response

from mocks.jamf_pro.auth import require_classic_token
from mocks.jamf_pro.errors import JamfProError, classic_page
from mocks.jamf_pro.webhooks import EVENTS, Webhook, WebhookDispatcher
from mocks.jamf_pro.wire import json_response
from mocks.jamf_pro.xmlio import classic_answer, parse_xml, text_of, xml_answer

router = APIRouter(dependencies=[Depends(require_classic_token)])
control = APIRouter()
BASE = "/JSSResource/webhooks"


def dispatcher_of(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.jamf_pro_webhooks
    return dispatcher


def _record(hook: Webhook) -> dict[str, Any]:
    fields = asdict(hook)
    fields["id"] = fields.pop("webhook_id")
    fields.pop("password")  # Jamf never echoes secrets
    return {"id": fields.pop("id"), **fields}


def _find(dispatcher: WebhookDispatcher, key: str, value: str) -> Webhook:
    hook = None
    if key == "id" and value.isdigit():
        hook = dispatcher.hooks.get(int(value))
    elif key == "name":
        hook = next((h for h in dispatcher.hooks.values() if h.name == value), None)
    if hook is None:
        raise JamfProError(classic_page(404, "Not Found"))
    return hook


def _merge(root: Element, hook: Webhook) -> Webhook:
    changes: dict[str, Any] = {}
    for field in ("name", "url", "content_type", "event", "authentication_type"):
        value = text_of(root, field)
        if value is not None:
            changes[field] = value
    for field in ("username", "password", "header"):
        value = text_of(root, field)
        if value is not None:
            changes[field] = value
    enabled = text_of(root, "enabled")
    if enabled is not None:
        changes["enabled"] = enabled.casefold() == "true"
    for field in ("connection_timeout", "read_timeout"):
        value = text_of(root, field)
        if value is not None:
            if not value.isdigit() or not 1 <= int(value) <= 15:
                raise JamfProError(classic_page(409, f"Error: {field} must be 1-15 seconds"))
            changes[field] = int(value)
    merged = replace(hook, **changes)
    if merged.event not in EVENTS:
        raise JamfProError(classic_page(409, f"Error: unsupported event {merged.event!r}"))
    if merged.content_type not in ("application/json", "text/xml"):
        raise JamfProError(classic_page(409, "Error: content_type must be JSON or XML"))
    if merged.authentication_type not in ("NONE", "BASIC", "HEADER"):
        raise JamfProError(classic_page(409, "Error: unknown authentication_type"))
    if not merged.name or not merged.url.startswith(("http://", "https://")):
        raise JamfProError(classic_page(409, "Error: name and an http(s) url are required"))
    return merged


@router.get(BASE)
async def list_webhooks(request: Request) -> Response:
    hooks = dispatcher_of(request).hooks.values()
    return classic_answer(
        request, "webhooks", [{"id": h.webhook_id, "name": h.name} for h in hooks]
    )


@router.get(f"{BASE}/{{key}}/{{value}}")
async def get_webhook(request: Request, key: str, value: str) -> Response:
    return classic_answer(request, "webhook", _record(_find(dispatcher_of(request), key, value)))


@router.post(f"{BASE}/id/{{value}}")
async def create_webhook(request: Request, value: str) -> Response:
    dispatcher = dispatcher_of(request)
    blank = Webhook(webhook_id=dispatcher.next_id(), name="", url="", event="")
    hook = _merge(parse_xml(await request.body()), blank)
    if any(other.name == hook.name for other in dispatcher.hooks.values()):
        raise JamfProError(classic_page(409, "Error: Duplicate name"))
    dispatcher.hooks[hook.webhook_id] = hook
    return xml_answer("webhook", {"id": hook.webhook_id})


@router.put(f"{BASE}/{{key}}/{{value}}")
async def update_webhook(request: Request, key: str, value: str) -> Response:
    dispatcher = dispatcher_of(request)
    hook = _merge(parse_xml(await request.body()), _find(dispatcher, key, value))
    dispatcher.hooks[hook.webhook_id] = hook
    return xml_answer("webhook", {"id": hook.webhook_id})


@router.delete(f"{BASE}/{{key}}/{{value}}")
async def delete_webhook(request: Request, key: str, value: str) -> Response:
    dispatcher = dispatcher_of(request)
    hook = _find(dispatcher, key, value)
    del dispatcher.hooks[hook.webhook_id]
    return xml_answer("webhook", {"id": hook.webhook_id}, status=200)


@control.get("/_mock/jamf-pro/webhook-deliveries")
async def deliveries(request: Request) -> Response:
    dispatcher = dispatcher_of(request)
    return json_response(
        {
            "dropped": dispatcher.dropped,
            "deliveries": [asdict(delivery) for delivery in dispatcher.deliveries],
        }
    )


@control.post("/_mock/jamf-pro/webhook-deliveries/flush")
async def flush_deliveries(request: Request) -> Response:
    """Deliver everything queued now (tests without a running lifespan use this)."""
    return json_response({"attempted": await dispatcher_of(request).deliver_queued()})
