"""The audit trail over HTTP: query, export (CSV or JSON) and verify the chain.

For senior leaders, the DSL and auditors (`Permission.AUDIT_READ`). Exports stream from the
database in batches, so a year of events never sits in memory, and are themselves recorded in
the trail (who took a copy, and of what).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from mdm_bridge.api.auth import require, service_of
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.problems import AUTH_PROBLEMS
from mdm_bridge.api.types import MAX_ROW_ID, NO_CONTROL, Instant
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.store import audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=AUTH_PROBLEMS)
Reader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


class AuditEventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    reason: str
    change: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


class VerifyOut(BaseModel):
    ok: bool
    events: int
    head_seq: int
    problem: str | None
    seq: int | None


def _query(
    actor: Annotated[str | None, Query(max_length=100, pattern=NO_CONTROL)] = None,
    action: Annotated[
        str | None,
        Query(max_length=60, pattern=NO_CONTROL, description="Exact, or a prefix ending in '.'"),
    ] = None,
    target: Annotated[
        str | None, Query(max_length=200, pattern=NO_CONTROL, description="Part of the target")
    ] = None,
    since: Annotated[Instant | None, Query()] = None,
    until: Annotated[Instant | None, Query()] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Only events after this one")] = 0,
) -> audit.AuditQuery:
    return audit.AuditQuery(
        actor=actor, action=action, target=target, since=since, until=until, after_seq=after
    )


Filters = Annotated[audit.AuditQuery, Depends(_query)]


def _out(entry: audit.Entry) -> AuditEventOut:
    return AuditEventOut(**entry.as_json())


@router.get("/events", summary="Audit events, oldest first, a page at a time")
async def list_events(
    request: Request,
    caller: Reader,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    entries = await read(request, lambda c: audit.search(c, filters, limit=limit))
    following = entries[-1].seq if len(entries) == limit else None
    return AuditPage(events=[_out(entry) for entry in entries], next_after=following)


@router.get("/verify", summary="Walk the hash chain; names the first edited or missing event")
async def verify_chain(request: Request, caller: Reader) -> VerifyOut:
    key = service_of(request).audit_key
    verdict = await read(request, lambda c: audit.verify(c, key=key))
    return VerifyOut(**verdict.as_json())


def _export_lines(
    request: Request, filters: audit.AuditQuery, form: Literal["csv", "json"]
) -> Iterator[str]:
    engine = service_of(request).engine
    with engine.connect() as connection:
        if form == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(audit.CSV_COLUMNS)
            for entry in audit.stream(connection, filters):
                writer.writerow(audit.csv_row(entry))
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
            return
        yield "["
        first = True
        for entry in audit.stream(connection, filters):
            yield ("" if first else ",\n") + json.dumps(entry.as_json())
            first = False
        yield "]\n"


@router.get(
    "/export",
    summary="Every matching event as CSV or JSON (for governors, inspectors, the LA)",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
            "description": "The events, oldest first",
        }
    },
    response_class=StreamingResponse,
)
async def export(
    request: Request,
    caller: Reader,
    filters: Filters,
    format: Annotated[Literal["csv", "json"], Query()] = "json",
) -> StreamingResponse:
    described = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in asdict(filters).items()
        if value not in (None, 0)
    }

    def record(_connection: Any, trail: Audit) -> None:
        trail.record("audit.export", "audit", change={"format": format, "filters": described})

    await write(request, caller, record)
    media = "text/csv" if format == "csv" else "application/json"
    stamp = service_of(request).clock.now().strftime("%Y%m%dT%H%M%SZ")
    # A plain iterator: Starlette steps it in a worker thread, so the database read never blocks.
    return StreamingResponse(
        _export_lines(request, filters, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"'},
    )
