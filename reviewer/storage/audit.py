"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from reviewer.domain.audit import GENESIS_HASH, AuditEntry, ChainProblem, check_chain
from reviewer.storage.schema import audit_head, audit_log


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def append(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
    at: str | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (which must hold the write lock)."""
    head = conn.execute(sa.select(audit_head.c.count, audit_head.c.hash)).first()
    count, prev = (head.count, head.hash) if head else (0, GENESIS_HASH)
    entry = AuditEntry(
        seq=count + 1,
        at=at or utc_now(),
        actor=actor,
        action=action,
        subject=subject,
        details=details or {},
        prev_hash=prev,
    )
    entry = AuditEntry(**{**_fields(entry), "hash": entry.computed_hash()})
    conn.execute(
        audit_log.insert().values(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            details=json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
    )
    if head:
        conn.execute(audit_head.update().values(count=entry.seq, hash=entry.hash))
    else:
        conn.execute(audit_head.insert().values(id=1, count=entry.seq, hash=entry.hash))
    return entry


def entries(conn: sa.Connection, *, subject: str | None = None) -> list[AuditEntry]:
    query = sa.select(audit_log).order_by(audit_log.c.seq)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    return [_row_to_entry(row) for row in conn.execute(query)]


def verify(conn: sa.Connection) -> ChainProblem | None:
    head = conn.execute(sa.select(audit_head.c.count, audit_head.c.hash)).first()
    return check_chain(entries(conn), (head.count, head.hash) if head else None)


def _row_to_entry(row: sa.Row) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except json.JSONDecodeError:
        details = {"unreadable": row.details}
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__slots__}
