"""Actions to and from the outbox's JSON column, exactly: a rebuilt action has the same key.

Profile payloads are stored as given; a rebuilt document recomputes its content hash, and a
mismatch (an edited row) is refused rather than sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mdm_bridge.model import (
    Action,
    ActionKind,
    DeviceRef,
    LockCause,
    LockIntent,
    ProfileDocument,
    ProfileRef,
)


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dump(action: Action) -> dict[str, Any]:
    device = action.device
    body: dict[str, Any] = {
        "kind": action.kind.value,
        "device": {
            "mdm_instance": device.mdm_instance,
            "vendor_id": device.vendor_id,
            "serial_number": device.serial_number,
            "udid": device.udid,
            "management_id": device.management_id,
        },
        "target_hash": action.target_hash,
        "reason": action.reason,
    }
    if action.profile:
        body["profile"] = {
            "identifier": action.profile.identifier,
            "content_hash": action.profile.content_hash,
            "removal_date": _instant(action.profile.removal_date),
        }
    if action.lock:
        body["lock"] = {
            "cause": action.lock.cause.value,
            "message": action.lock.message,
            "until": _instant(action.lock.until),
        }
    if action.document:
        document = action.document
        body["document"] = {
            "identifier": document.identifier,
            "display_name": document.display_name,
            "description": document.description,
            "payloads": [dict(payload) for payload in document.payloads],
            "removal_date": _instant(document.removal_date),
        }
    return body


def load(body: dict[str, Any]) -> Action:
    profile = body.get("profile")
    lock = body.get("lock")
    document = body.get("document")
    rebuilt_document = None
    if document:
        rebuilt_document = ProfileDocument(
            identifier=document["identifier"],
            display_name=document["display_name"],
            description=document["description"],
            payloads=tuple(document["payloads"]),
            removal_date=_parse(document["removal_date"]),
        )
    return Action(
        kind=ActionKind(body["kind"]),
        device=DeviceRef(**body["device"]),
        target_hash=body["target_hash"],
        reason=body["reason"],
        profile=ProfileRef(
            identifier=profile["identifier"],
            content_hash=profile["content_hash"],
            removal_date=_parse(profile["removal_date"]),
        )
        if profile
        else None,
        lock=LockIntent(
            cause=LockCause(lock["cause"]), message=lock["message"], until=_parse(lock["until"])
        )
        if lock
        else None,
        document=rebuilt_document,
    )
