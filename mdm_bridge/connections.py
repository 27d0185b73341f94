"""MDM connections: stored with their credentials encrypted (Fernet), turned into connectors.

The Fernet key is derived from the secret key setting (HKDF-SHA256, its own context), so one
secret serves the audit HMAC and the credentials without the two keys being equal. Credentials
are decrypted only when a connector is built and never appear in a log line, an error or an
answer: `describe` shows which keys are set, not their values.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, select

from connectors.base import Connector, ConnectorConfig
from connectors.registry import load_connector_factory
from mdm_bridge.clock import Clock
from mdm_bridge.model import Vendor
from mdm_bridge.store.tables import MdmInstance

INSTANCES = MdmInstance.__table__  # type: ignore[attr-defined]
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class CredentialError(Exception):
    """Stored credentials cannot be read with this secret key (it changed, or the row did)."""


def fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mdm-bridge credentials v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, options: Mapping[str, str], secrets: Mapping[str, str]) -> str:
    body = json.dumps({"options": dict(options), "secrets": dict(secrets)}, sort_keys=True)
    return fernet(secret_key).encrypt(body.encode()).decode()


def unseal(secret_key: str, token: str, *, instance: str) -> tuple[dict[str, str], dict[str, str]]:
    try:
        body = json.loads(fernet(secret_key).decrypt(token.encode()))
    except (InvalidToken, ValueError):
        raise CredentialError(
            f"the stored credentials of {instance!r} cannot be decrypted: was the secret key "
            "changed? Register the connection again."
        ) from None
    return dict(body["options"]), dict(body["secrets"])


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredConnection:
    instance_id: int
    name: str
    vendor: Vendor
    config: ConnectorConfig


def add_instance(
    connection: Connection,
    *,
    secret_key: str,
    school_id: int,
    name: str,
    vendor: Vendor,
    base_url: str,
    options: Mapping[str, str],
    secrets: Mapping[str, str],
    now: datetime,
) -> int:
    """Register (or replace the settings of) one MDM connection; answers its id."""
    sealed = seal(secret_key, options, secrets)
    existing = connection.execute(
        select(INSTANCES.c.id).where(INSTANCES.c.school_id == school_id, INSTANCES.c.name == name)
    ).scalar_one_or_none()
    values = {
        "vendor": vendor.value,
        "base_url": base_url,
        "credentials_encrypted": sealed,
        "enabled": True,
    }
    if existing is not None:
        connection.execute(INSTANCES.update().where(INSTANCES.c.id == existing).values(**values))
        return int(existing)
    inserted = connection.execute(
        INSTANCES.insert()
        .values(school_id=school_id, name=name, created_at=now, **values)
        .returning(INSTANCES.c.id)
    )
    return int(inserted.scalar_one())


def load_instances(connection: Connection, *, secret_key: str) -> list[StoredConnection]:
    """Every enabled connection, with its configuration decrypted."""
    found = []
    rows = connection.execute(select(INSTANCES).where(INSTANCES.c.enabled.is_(True)))
    for row in rows:
        options, secrets = (
            unseal(secret_key, row.credentials_encrypted, instance=row.name)
            if row.credentials_encrypted
            else ({}, {})
        )
        found.append(
            StoredConnection(
                instance_id=row.id,
                name=row.name,
                vendor=Vendor(row.vendor),
                config=ConnectorConfig(
                    name=row.name, base_url=row.base_url, options=options, secrets=secrets
                ),
            )
        )
    return found


def build_connector(
    found: StoredConnection, *, client: httpx.AsyncClient, clock: Clock, identifier_prefix: str
) -> Connector:
    """The connector for one stored connection (named only here, through the registry)."""
    options = dict(found.config.options)
    options.setdefault("identifier_prefix", identifier_prefix)
    config = ConnectorConfig(
        name=found.config.name,
        base_url=found.config.base_url,
        options=options,
        secrets=found.config.secrets,
    )
    factory = load_connector_factory(found.vendor.value)
    connector: Connector = factory(config, client=client, clock=clock)
    return connector


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
