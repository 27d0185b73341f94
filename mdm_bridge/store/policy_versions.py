"""Policy versions: the policy files as technicians changed them through the API.

The newest row, when there is one, is the school's policy; before the first change the files in
`policy_dir` (or the bundled defaults) are. Rows are never updated or deleted: each change adds
a version with who, when and why, and the audit trail records the same change. The service
asks `newest_id` before each run to follow changes made on other replicas; the policy routes
add versions and read the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, func, insert, select
from sqlmodel import Field, SQLModel

from mdm_bridge.store.tables import instant


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_versions"

    id: int | None = Field(default=None, primary_key=True)
    # File name (relative to the policy folder) -> its full text, e.g. {"policy.yaml": "..."}.
    files: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    section: str = Field(max_length=40)  # what this version changed: curfew, profiles, ladder
    reason: str = Field(max_length=1000)
    changed_by: str = Field(max_length=100)
    changed_at: datetime = Field(sa_column=instant())


VERSIONS = PolicyVersion.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredVersion:
    id: int
    files: dict[str, str]
    section: str
    reason: str
    changed_by: str
    changed_at: datetime


def _stored(row: Any) -> StoredVersion:
    return StoredVersion(
        id=row.id,
        files=dict(row.files),
        section=row.section,
        reason=row.reason,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )


def newest_id(connection: Connection) -> int | None:
    """The id of the policy in force (None: the policy folder's files); one cheap query."""
    found = connection.execute(select(func.max(VERSIONS.c.id))).scalar_one_or_none()
    return None if found is None else int(found)


def newest(connection: Connection) -> StoredVersion | None:
    row = connection.execute(select(VERSIONS).order_by(VERSIONS.c.id.desc()).limit(1)).first()
    return None if row is None else _stored(row)


def add_version(
    connection: Connection,
    *,
    files: Mapping[str, str],
    section: str,
    reason: str,
    changed_by: str,
    changed_at: datetime,
) -> int:
    inserted = connection.execute(
        insert(VERSIONS)
        .values(
            files=dict(files),
            section=section,
            reason=reason,
            changed_by=changed_by,
            changed_at=changed_at,
        )
        .returning(VERSIONS.c.id)
    )
    return int(inserted.scalar_one())


def history(
    connection: Connection, *, limit: int, before_id: int | None = None
) -> list[StoredVersion]:
    """Versions newest first; `before_id` pages on to older ones."""
    query = select(VERSIONS).order_by(VERSIONS.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(VERSIONS.c.id < before_id)
    return [_stored(row) for row in connection.execute(query)]
