"""Policy versions: the policy files as technicians changed them through the API.

The newest row, when there is one, is the school's policy; before the first change the files in
`policy_dir` (or the bundled defaults) are. Rows are never updated or deleted: each change adds
a version with who, when and why, and the audit trail records the same change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
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
