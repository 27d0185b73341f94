"""The audit trail: append-only, hash-chained with an HMAC, verifiable (DESIGN.md §6, R80).

Every write the API or the CLI makes calls `append` in the same transaction as the change, so a
change and its record commit together or not at all. Each event's `hash` is an HMAC-SHA256,
keyed from the service's secret key, over its sequence number, its fields and the previous
event's hash. `verify` walks the chain and names the first event that was edited, reordered or
deleted; without the key nobody can write a row that verifies.

Appends are serialised through the one `audit_head` row: the first statement of an append
updates it, which takes the row lock on PostgreSQL and the write lock on SQLite until commit,
so two appenders can never both extend the same event. The head also remembers the last event,
so deleting the newest rows is caught unless the head is rewritten as well.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Column, Connection, Text, insert, select, update
from sqlmodel import Field, SQLModel

from mdm_bridge.store.tables import instant

GENESIS = "0" * 64


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_column=instant())
    actor: str = Field(max_length=100, index=True)
    role: str = Field(max_length=20)
    action: str = Field(max_length=60, index=True)
    target: str = Field(max_length=200)
    reason: str = Field(default="", max_length=1000)
    change: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON, as hashed
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the newest event's number and hash."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str = Field(max_length=64)


EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
HEAD = AuditHead.__table__  # type: ignore[attr-defined]


def audit_key(secret_key: str) -> bytes:
    """The HMAC key, derived from the secret key in its own context (not the credentials key)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mdm-bridge audit v1"
    ).derive(secret_key.encode())


def canonical(change: Mapping[str, Any]) -> str:
    return json.dumps(change, sort_keys=True, separators=(",", ":"), default=str)


def _hash(key: bytes, prev_hash: str, fields: Mapping[Any, Any]) -> str:
    message = json.dumps(
        [
            fields["seq"],
            fields["at"].isoformat(),
            fields["actor"],
            fields["role"],
            fields["action"],
            fields["target"],
            fields["reason"],
            fields["change"],
            prev_hash,
        ],
        separators=(",", ":"),
    )
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    reason: str
    change: dict[str, Any]
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "change": self.change,
            "hash": self.hash,
        }


def append(
    connection: Connection,
    *,
    key: bytes,
    at: datetime,
    actor: str,
    role: str,
    action: str,
    target: str,
    reason: str = "",
    change: Mapping[str, Any] | None = None,
) -> Entry:
    """Record one event in the caller's transaction; answers it with its number and hash."""
    head = connection.execute(
        update(HEAD)
        .where(HEAD.c.id == 1)
        .values(seq=HEAD.c.seq + 1)
        .returning(HEAD.c.seq, HEAD.c.hash)
    ).first()
    if head is None:
        raise RuntimeError("the audit_head row is missing: run the database migrations")
    fields: dict[str, Any] = {
        "seq": int(head.seq),
        "at": at.astimezone(UTC),
        "actor": actor[:100],
        "role": role[:20],
        "action": action[:60],
        "target": target[:200],
        "reason": reason[:1000],
        "change": canonical(change or {}),
    }
    digest = _hash(key, head.hash, fields)
    connection.execute(insert(EVENTS).values(**fields, prev_hash=head.hash, hash=digest))
    connection.execute(update(HEAD).where(HEAD.c.id == 1).values(hash=digest))
    return _entry_from(fields | {"hash": digest})


def lock_head(connection: Connection) -> None:
    """Take the audit head's lock for the rest of the caller's transaction (see `append`)."""
    connection.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=HEAD.c.seq))


def _entry_from(row: Mapping[Any, Any]) -> Entry:
    return Entry(
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        role=row["role"],
        action=row["action"],
        target=row["target"],
        reason=row["reason"],
        change=json.loads(row["change"]),
        hash=row["hash"],
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    ok: bool
    events: int  # events checked
    head_seq: int
    problem: str | None = None  # the first break found, naming the event
    seq: int | None = None  # the event at which the chain breaks

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "problem": self.problem,
            "seq": self.seq,
        }


def verify(connection: Connection, *, key: bytes, batch: int = 2000) -> Verdict:
    """Walk the whole chain; the first edited, reordered, inserted or deleted event fails it."""
    head = connection.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    if head is None:
        return Verdict(ok=False, events=0, head_seq=0, problem="the audit_head row is missing")
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    # Only the events the head had counted when it was read: an event appended while the walk
    # runs (head and event commit together) is for the next verify, not a false alarm.
    rows = connection.execution_options(yield_per=batch).execute(
        select(EVENTS).where(EVENTS.c.seq <= head.seq).order_by(EVENTS.c.seq)
    )
    try:  # a break found early leaves rows unread: close the (server-side) cursor either way
        for row in rows.mappings():
            seq = row["seq"]
            if seq != expected_seq:
                what = "deleted" if seq > expected_seq else "duplicated"
                return _broken(checked, head.seq, expected_seq, f"event {expected_seq} was {what}")
            if row["prev_hash"] != prev_hash:
                return _broken(
                    checked,
                    head.seq,
                    seq,
                    f"event {seq} does not follow event {seq - 1}: "
                    "an event before it was removed, replaced or the order changed",
                )
            if not hmac.compare_digest(row["hash"], _hash(key, prev_hash, row)):
                problem = f"event {seq} was changed after it was written"
                return _broken(checked, head.seq, seq, problem)
            prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1
    finally:
        rows.close()
    if checked != head.seq or prev_hash != head.hash:
        return _broken(
            checked,
            head.seq,
            checked + 1,
            f"the trail ends at event {checked} but {head.seq} were written: newer events deleted",
        )
    return Verdict(ok=True, events=checked, head_seq=head.seq)


def _broken(checked: int, head_seq: int, seq: int, problem: str) -> Verdict:
    return Verdict(ok=False, events=checked, head_seq=head_seq, problem=problem, seq=seq)


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." (e.g. "ban.")
    target: str | None = None  # substring
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0


def _select(query: AuditQuery) -> Any:
    statement = select(EVENTS).where(EVENTS.c.seq > query.after_seq)
    if query.actor:
        statement = statement.where(EVENTS.c.actor == query.actor)
    if query.action:
        if query.action.endswith("."):
            statement = statement.where(EVENTS.c.action.startswith(query.action, autoescape=True))
        else:
            statement = statement.where(EVENTS.c.action == query.action)
    if query.target:
        statement = statement.where(EVENTS.c.target.contains(query.target, autoescape=True))
    if query.since:
        statement = statement.where(EVENTS.c.at >= query.since)
    if query.until:
        statement = statement.where(EVENTS.c.at < query.until)
    return statement.order_by(EVENTS.c.seq)


def search(connection: Connection, query: AuditQuery, *, limit: int = 100) -> list[Entry]:
    rows = connection.execute(_select(query).limit(limit)).mappings()
    return [_entry_from(row) for row in rows]


def stream(connection: Connection, query: AuditQuery, *, batch: int = 2000) -> Iterator[Entry]:
    """Every matching event in order, fetched `batch` rows at a time (for exports)."""
    rows = connection.execution_options(yield_per=batch).execute(_select(query))
    try:  # an export the client abandons half-way still closes its cursor
        for row in rows.mappings():
            yield _entry_from(row)
    finally:
        rows.close()


CSV_COLUMNS = ("seq", "at", "actor", "role", "action", "target", "reason", "change", "hash")


def csv_row(entry: Entry) -> list[str]:
    return [
        str(entry.seq),
        entry.at.isoformat(),
        entry.actor,
        entry.role,
        entry.action,
        entry.target,
        entry.reason,
        canonical(entry.change),
        entry.hash,
    ]
