"""Takedowns: every released use that may no longer be published, with where its files went.

A release must come down when the approval it went out under was revoked, has expired, or
was superseded by a later decision on the same revision (its receipt is no longer the one in
force; release again under the new one if it is an approval).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reviewer.domain.roles import Action, may
from reviewer.domain.scope import short_date
from reviewer.services.consent_records import DecisionRecord, decision_by_id, decision_in_force
from reviewer.services.profiles import Session
from reviewer.services.release import ReleaseRecord, release_record
from reviewer.storage.library import Library
from reviewer.storage.schema import releases, requests, revisions


@dataclass(frozen=True, slots=True)
class Takedown:
    release: ReleaseRecord
    talent_id: str
    organisation: str
    reason: str  # revoked, expired or superseded
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.release.request_id,
            "revision": self.release.revision,
            "talent": self.talent_id,
            "organisation": self.organisation,
            "reason": self.reason,
            "detail": self.detail,
            "release_id": self.release.id,
            "receipt_id": self.release.receipt_id,
            "released_at": self.release.released_at,
            "released_by": self.release.released_by,
            "out_dir": str(self.release.out_dir),
            "files": [f.path for f in self.release.files],
        }


def list_takedowns(
    library: Library, *, session: Session | None = None, today: dt.date | None = None
) -> list[Takedown]:
    """Releases to take down, oldest first; with *session*, only those it may see."""
    today = today or dt.date.today()
    out: list[Takedown] = []
    with library.reader.connect() as conn:
        rows = conn.execute(
            sa.select(releases, requests.c.talent_id, revisions.c.requester_organisation)
            .join(requests, requests.c.id == releases.c.request_id)
            .join(
                revisions,
                sa.and_(
                    revisions.c.request_id == releases.c.request_id,
                    revisions.c.revision == releases.c.revision,
                ),
            )
            .order_by(releases.c.released_at, releases.c.id)
        ).all()
        for row in rows:
            if session is not None and not may(
                session.actor,
                Action.READ_REQUEST,
                talent_id=row.talent_id,
                organisation=row.requester_organisation,
            ):
                continue
            decision = decision_by_id(conn, row.decision_id)
            assert decision is not None
            in_force = decision_in_force(conn, row.request_id, row.revision)
            why = _why(decision, in_force, today)
            if why is not None:
                out.append(
                    Takedown(release_record(row), row.talent_id, row.requester_organisation, *why)
                )
    return out


def _why(
    decision: DecisionRecord, in_force: DecisionRecord | None, today: dt.date
) -> tuple[str, str] | None:
    if decision.revoked_at is not None:
        return "revoked", (
            f"revoked by {decision.revoked_by} on {decision.revoked_at}: "
            f"{decision.revocation_reason}"
        )
    if decision.approved_until is not None and decision.approved_until < today:
        return "expired", f"the approval ended on {short_date(decision.approved_until)}"
    if in_force is not None and in_force.id != decision.id:
        verdict = in_force.verdict.value.replace("_", " ")
        return "superseded", (
            f"superseded on {in_force.decided_at} by receipt {in_force.id} ({verdict})"
        )
    return None
