"""API tokens: created (shown once), looked up on every request, expired or revoked.

Called by `mdm-bridge token create|list|revoke` and by the API's authentication
(`api.auth`). A token reads `mdmb_<key>_<secret>`: the key finds the row, and only the SHA-256
of the whole token is stored, so a stolen database yields no usable token. The secret has 256
bits of entropy, so a fast hash is enough (a slow password hash is for guessable passwords).
Tokens belong to one person and one role (R72: no shared accounts); a person with two roles
holds two tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Connection, insert, select, update
from sqlmodel import Field, SQLModel

from mdm_bridge.permissions import Principal
from mdm_bridge.store.errors import FieldError
from mdm_bridge.store.tables import instant
from policies import Role

PREFIX = "mdmb"
_ROLES_SQL = ", ".join(f"'{role.value}'" for role in Role)
_TOKEN = re.compile(rf"^{PREFIX}_([A-Za-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLES_SQL})", name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=12, unique=True)
    token_hash: str = Field(max_length=64)
    user: str = Field(max_length=100, index=True)
    role: str = Field(max_length=20)
    classes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_column=instant())
    expires_at: datetime = Field(sa_column=instant())
    revoked_by: str | None = Field(default=None, max_length=100)
    revoked_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))


TOKENS = ApiToken.__table__  # type: ignore[attr-defined]


class TokenError(FieldError):
    """A token request that cannot be carried out; `field` names what to correct."""


class Rejection(StrEnum):
    """Why a presented token does not authenticate (all answered 401; logged by kind)."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenInfo:
    id: int
    user: str
    role: Role
    classes: tuple[str, ...]
    description: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    connection: Connection,
    *,
    user: str,
    role: Role,
    expires_at: datetime,
    now: datetime,
    created_by: str,
    classes: tuple[str, ...] = (),
    description: str = "",
) -> tuple[str, TokenInfo]:
    """Store a new token; answers the token text (shown once, never again) and its record."""
    if not _USER.match(user):
        raise TokenError("user", "use the person's school login: letters, digits, . _ @ + -")
    if expires_at <= now:
        raise TokenError("expires", "must be in the future")
    cleaned = tuple(sorted({name.strip() for name in classes if name.strip()}))
    if role is Role.TEACHER and not cleaned:
        raise TokenError("classes", "a teacher's token names the classes they teach")
    if role is not Role.TEACHER and cleaned:
        raise TokenError("classes", f"only teachers are limited to classes, not {role.value}")
    key = "".join(
        secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        for _ in range(12)
    )
    token = f"{PREFIX}_{key}_{secrets.token_urlsafe(32)}"
    token_id = connection.execute(
        insert(TOKENS)
        .values(
            key=key,
            token_hash=_digest(token),
            user=user,
            role=role.value,
            classes=list(cleaned),
            description=description[:200],
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(TOKENS.c.id)
    ).scalar_one()
    info = TokenInfo(
        id=int(token_id),
        user=user,
        role=role,
        classes=cleaned,
        description=description[:200],
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
        revoked_at=None,
    )
    return token, info


def authenticate(connection: Connection, token: str, now: datetime) -> Principal | Rejection:
    """The principal a presented token stands for, or why it does not authenticate."""
    match = _TOKEN.match(token)
    if match is None:
        return Rejection.MALFORMED
    row = connection.execute(select(TOKENS).where(TOKENS.c.key == match.group(1))).first()
    if row is None or not hmac.compare_digest(row.token_hash, _digest(token)):
        return Rejection.UNKNOWN
    if row.revoked_at is not None:
        return Rejection.REVOKED
    if row.expires_at <= now:
        return Rejection.EXPIRED
    return Principal(
        user=row.user, role=Role(row.role), classes=frozenset(row.classes), token_id=row.id
    )


def _info(row: object) -> TokenInfo:
    return TokenInfo(
        id=row.id,  # type: ignore[attr-defined]
        user=row.user,  # type: ignore[attr-defined]
        role=Role(row.role),  # type: ignore[attr-defined]
        classes=tuple(row.classes),  # type: ignore[attr-defined]
        description=row.description,  # type: ignore[attr-defined]
        created_by=row.created_by,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        expires_at=row.expires_at,  # type: ignore[attr-defined]
        revoked_at=row.revoked_at,  # type: ignore[attr-defined]
    )


def list_tokens(connection: Connection, *, user: str | None = None) -> list[TokenInfo]:
    query = select(TOKENS).order_by(TOKENS.c.id)
    if user is not None:
        query = query.where(TOKENS.c.user == user)
    return [_info(row) for row in connection.execute(query)]


def revoke_token(
    connection: Connection, *, token_id: int, revoked_by: str, now: datetime
) -> TokenInfo:
    row = connection.execute(select(TOKENS).where(TOKENS.c.id == token_id)).first()
    if row is None:
        raise TokenError("token", f"no token {token_id}")
    if row.revoked_at is not None:
        raise TokenError("token", f"token {token_id} was already revoked")
    connection.execute(
        update(TOKENS).where(TOKENS.c.id == token_id).values(revoked_by=revoked_by, revoked_at=now)
    )
    return _info(connection.execute(select(TOKENS).where(TOKENS.c.id == token_id)).one())
