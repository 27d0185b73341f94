"""MDM connections over HTTP: technicians register, change and try them (R70).

Senior leaders and auditors may list them (`MDM_READ`); only technicians change them
(`MDM_ADMIN`). The vendor's own connector judges the options and secrets before anything is
stored (`service.check_connection_settings`), so a mistake is a 422 naming the setting. Secrets
are sealed with Fernet (`connections.seal`) and never leave: answers and audit events name the
secrets that are set, never their values. After a change the service builds its connectors
again and syncs the inventory in the background. Connections are disabled, never deleted, so
history keeps its MDM.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, select

from connectors.base import ConnectorConfig, ConnectorError
from mdm_bridge.api.auth import require, service_of
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.policy import refuse_odd_text
from mdm_bridge.api.problems import AUTH_PROBLEMS, CONFLICT, NOT_FOUND
from mdm_bridge.api.types import MAX_ROW_ID
from mdm_bridge.connections import (
    INSTANCES,
    CredentialError,
    StoredConnection,
    add_instance,
    build_connector,
    seal,
    unseal,
)
from mdm_bridge.model import DeviceRef, Vendor
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.service import Service, check_connection_settings
from mdm_bridge.store.errors import Conflict, NotFound
from mdm_bridge.store.tables import School

router = APIRouter(prefix="/api/v1/mdm-instances", tags=["mdm"], responses=AUTH_PROBLEMS)
Reader = Annotated[Principal, Depends(require(Permission.MDM_READ))]
Admin = Annotated[Principal, Depends(require(Permission.MDM_ADMIN))]
InstanceId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SCHOOLS = School.__table__  # type: ignore[attr-defined]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
FIRST_PAGE = 100  # enough iPads to know the connection works, without paging the whole fleet
Settings = dict[str, Annotated[str, Field(max_length=10_000)]]


def _https(url: str) -> str:
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise ValueError("use the https:// address (http only for 127.0.0.1 or localhost)")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; send them as secrets")
    return url.rstrip("/")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstanceIn(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    vendor: Vendor
    base_url: str = Field(max_length=500)
    options: Settings = Field(default_factory=dict, max_length=50)
    secrets: Settings = Field(default_factory=dict, max_length=20)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _https(value)


class InstancePatch(_Strict):
    enabled: bool | None = None
    base_url: str | None = Field(default=None, max_length=500)
    options: dict[str, Annotated[str, Field(max_length=10_000)] | None] | None = Field(
        default=None, max_length=50, description="Merged in; null removes an option"
    )
    secrets: Settings | None = Field(
        default=None, max_length=20, description="Replaces the named secrets only"
    )
    reason: str = Field(default="", max_length=1000)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _https(value)


class InstanceOut(BaseModel):
    id: int
    name: str
    vendor: Vendor
    base_url: str
    enabled: bool
    created_at: datetime
    options: dict[str, str]
    secrets: list[str] = Field(description="Names of the secrets that are set (never values)")


class CheckOut(BaseModel):
    ok: bool
    kind: str | None = Field(description="temporary, permanent or auth; null when ok")
    message: str | None
    devices_seen: int = Field(description="iPads listed on the first inventory page looked at")


# -- the table -------------------------------------------------------------------------------------
def _row(connection: Connection, instance_id: int) -> Any:
    row = connection.execute(select(INSTANCES).where(INSTANCES.c.id == instance_id)).first()
    if row is None:
        raise NotFound("id", f"no MDM connection {instance_id}")
    return row


def _unsealed(secret_key: str, row: Any) -> tuple[dict[str, str], dict[str, str]]:
    if not row.credentials_encrypted:
        return {}, {}
    try:
        return unseal(secret_key, row.credentials_encrypted, instance=row.name)
    except CredentialError as error:
        raise Conflict("secrets", str(error)) from None


def _out(secret_key: str, row: Any) -> InstanceOut:
    options, secrets = _unsealed(secret_key, row)
    return InstanceOut(
        id=row.id,
        name=row.name,
        vendor=Vendor(row.vendor),
        base_url=row.base_url,
        enabled=row.enabled,
        created_at=row.created_at,
        options=options,
        secrets=sorted(secrets),
    )


def _school_id(connection: Connection, service: Service, now: datetime) -> int:
    """The school (there is one); made from the time-zone setting when there is none yet."""
    found = connection.execute(select(SCHOOLS.c.id).order_by(SCHOOLS.c.id).limit(1)).first()
    if found is not None:
        return int(found.id)
    inserted = connection.execute(
        SCHOOLS.insert()
        .values(name="School", timezone=service.settings.timezone, created_at=now)
        .returning(SCHOOLS.c.id)
    )
    return int(inserted.scalar_one())


def _secret_key(service: Service) -> str:
    return service.settings.secret_key.get_secret_value()


async def _after_change(service: Service) -> None:
    reconciling = service.reconciling
    assert reconciling is not None
    await reconciling.reconnect()
    service.spawn(reconciling.sync_inventory(), name="inventory sync after an MDM change")


# -- routes ---------------------------------------------------------------------------------------
@router.get("", summary="The MDM connections (secrets by name only)")
async def list_instances(request: Request, caller: Reader) -> list[InstanceOut]:
    key = _secret_key(service_of(request))
    rows = await read(
        request, lambda c: list(c.execute(select(INSTANCES).order_by(INSTANCES.c.id)))
    )
    return [_out(key, row) for row in rows]


@router.get("/{instance_id}", summary="One MDM connection", responses={**NOT_FOUND, **CONFLICT})
async def get_instance(request: Request, caller: Reader, instance_id: InstanceId) -> InstanceOut:
    key = _secret_key(service_of(request))
    return _out(key, await read(request, lambda c: _row(c, instance_id)))


@router.post("", status_code=201, summary="Register an MDM connection", responses={**CONFLICT})
async def add(request: Request, caller: Admin, body: InstanceIn) -> InstanceOut:
    refuse_odd_text(body.options, "options")
    refuse_odd_text(body.secrets, "secrets")
    service = service_of(request)
    await check_connection_settings(
        body.vendor.value,
        name=body.name,
        base_url=body.base_url,
        options=body.options,
        secrets=body.secrets,
        clock=service.clock,
    )
    key = _secret_key(service)

    def store(connection: Connection, trail: Audit) -> Any:
        taken = connection.execute(select(INSTANCES.c.id).where(INSTANCES.c.name == body.name))
        if taken.first() is not None:
            raise Conflict("name", f"an MDM connection named {body.name!r} exists: change it")
        instance_id = add_instance(
            connection,
            secret_key=key,
            school_id=_school_id(connection, service, trail.now),
            name=body.name,
            vendor=body.vendor,
            base_url=body.base_url,
            options=body.options,
            secrets=body.secrets,
            now=trail.now,
        )
        trail.record(
            "mdm.add",
            f"mdm:{instance_id} name:{body.name}",
            change={
                "vendor": body.vendor.value,
                "base_url": body.base_url,
                "options": body.options,
                "secrets": sorted(body.secrets),
            },
        )
        return _row(connection, instance_id)

    row = await write(request, caller, store)
    await _after_change(service)
    return _out(key, row)


@router.patch(
    "/{instance_id}",
    summary="Change or disable an MDM connection",
    responses={**NOT_FOUND, **CONFLICT},
)
async def change(
    request: Request, caller: Admin, instance_id: InstanceId, body: InstancePatch
) -> InstanceOut:
    refuse_odd_text(body.options or {}, "options")
    refuse_odd_text(body.secrets or {}, "secrets")
    refuse_odd_text(body.reason, "reason")
    service = service_of(request)
    key = _secret_key(service)
    row = await read(request, lambda c: _row(c, instance_id))
    options, secrets = _unsealed(key, row)
    for name, value in (body.options or {}).items():
        if value is None:
            options.pop(name, None)
        else:
            options[name] = value
    secrets |= body.secrets or {}
    base_url = body.base_url or row.base_url
    await check_connection_settings(
        row.vendor,
        name=row.name,
        base_url=base_url,
        options=options,
        secrets=secrets,
        clock=service.clock,
    )
    enabled = row.enabled if body.enabled is None else body.enabled

    def store(connection: Connection, trail: Audit) -> Any:
        before = _row(connection, instance_id)
        if before.credentials_encrypted != row.credentials_encrypted:
            raise Conflict("id", "the connection changed meanwhile: read it again and retry")
        connection.execute(
            INSTANCES.update()
            .where(INSTANCES.c.id == instance_id)
            .values(
                base_url=base_url,
                enabled=enabled,
                credentials_encrypted=seal(key, options, secrets),
            )
        )
        was, _ = _unsealed(key, before)
        trail.record(
            "mdm.change",
            f"mdm:{instance_id} name:{row.name}",
            reason=body.reason,
            change={
                "enabled": {"before": before.enabled, "after": enabled},
                "base_url": {"before": before.base_url, "after": base_url},
                "options": {"before": was, "after": options},
                "secrets_replaced": sorted(body.secrets or {}),
            },
        )
        return _row(connection, instance_id)

    updated = await write(request, caller, store)
    await _after_change(service)
    return _out(key, updated)


@router.post(
    "/{instance_id}/check",
    summary="Try the connection: read the first inventory page",
    responses={**NOT_FOUND, **CONFLICT},
)
async def check(request: Request, caller: Admin, instance_id: InstanceId) -> CheckOut:
    service = service_of(request)
    reconciling = service.reconciling
    assert reconciling is not None
    row = await read(request, lambda c: _row(c, instance_id))
    options, secrets = _unsealed(_secret_key(service), row)
    found = StoredConnection(
        instance_id=row.id,
        name=row.name,
        vendor=Vendor(row.vendor),
        config=ConnectorConfig(
            name=row.name, base_url=row.base_url, options=options, secrets=secrets
        ),
    )
    client = reconciling.client_factory()
    seen = 0
    try:
        connector = build_connector(
            found,
            client=client,
            clock=service.clock,
            identifier_prefix=reconciling.current_policy().identifier_prefix + ".",
        )
        listing = cast(AsyncGenerator[DeviceRef, None], connector.list_devices())
        try:
            async with aclosing(listing):
                async for _device in listing:
                    seen += 1
                    if seen >= FIRST_PAGE:
                        break
        finally:
            await connector.aclose()
    except ConnectorError as error:
        return CheckOut(ok=False, kind=error.kind.value, message=error.message, devices_seen=seen)
    except (ValueError, TypeError) as error:
        kind = type(error).__name__
        return CheckOut(ok=False, kind="auth", message=f"{kind}: settings", devices_seen=seen)
    finally:
        await client.aclose()
    return CheckOut(ok=True, kind=None, message=None, devices_seen=seen)
