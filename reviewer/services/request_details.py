"""Everything the review workspace shows about one request, read in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from reviewer.domain.audit import AuditEntry
from reviewer.domain.policy import Finding
from reviewer.domain.roles import Action
from reviewer.domain.scope import Scope
from reviewer.services.access import require_on_request
from reviewer.services.consent_records import DecisionRecord, load_revision
from reviewer.services.policy import PolicyService
from reviewer.services.profiles import Session
from reviewer.services.review import ReviewService
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import revisions


@dataclass(frozen=True, slots=True)
class RevisionLine:
    revision: int
    imported_at: str
    content_digest: str
    source_name: str


@dataclass(frozen=True, slots=True)
class RequestDetails:
    request_id: str
    revision: int
    talent_id: str
    campaign: str
    brief: str
    requester_name: str
    requester_email: str
    organisation: str
    scope: Scope
    fee: tuple
    due: dt.date
    findings: tuple[Finding, ...]
    revisions: tuple[RevisionLine, ...]
    decisions: tuple[DecisionRecord, ...]
    history: tuple[AuditEntry, ...]

    @property
    def scope_sentence(self) -> str:
        return self.scope.summary(self.fee)

    @property
    def decision_in_force(self) -> DecisionRecord | None:
        """The newest decision on the latest revision, if any."""
        current = [d for d in self.decisions if d.revision == self.revision]
        return max(current, key=lambda d: d.seq) if current else None


def request_details(library: Library, request_id: str, *, session: Session) -> RequestDetails:
    """Read a request's details as *session* may see them (refused and audited otherwise)."""
    context = require_on_request(library, session.actor, Action.READ_REQUEST, request_id)
    with library.reader.connect() as conn:
        terms = load_revision(conn, request_id, context.latest_revision)
        row = conn.execute(sa.select(revisions).where(
            revisions.c.request_id == request_id,
            revisions.c.revision == context.latest_revision)).one()
        revision_rows = conn.execute(
            sa.select(revisions.c.revision, revisions.c.imported_at, revisions.c.content_digest,
                      revisions.c.source_name)
            .where(revisions.c.request_id == request_id).order_by(revisions.c.revision)
        ).all()
        history = audit.entries(conn, subject=f"request:{request_id}")
    # Standing-terms findings reveal the terms: only those who may read them see them.
    try:
        findings = PolicyService(library).check_request(request_id, session=session)
    except Exception:
        findings = []
    decisions = ReviewService(library).history(request_id, session=session)
    return RequestDetails(
        request_id=request_id,
        revision=context.latest_revision,
        talent_id=context.talent_id,
        campaign=terms.campaign,
        brief=row.brief,
        requester_name=row.requester_name,
        requester_email=row.requester_email,
        organisation=row.requester_organisation,
        scope=terms.scope,
        fee=terms.fee,
        due=row.due_date,
        findings=tuple(findings),
        revisions=tuple(RevisionLine(r.revision, r.imported_at, r.content_digest, r.source_name)
                        for r in revision_rows),
        decisions=tuple(decisions),
        history=tuple(history),
    )


def describe_history_entry(entry: AuditEntry) -> str:
    """One plain line for the history list."""
    details = entry.details
    verbs = {
        "request.imported": lambda: f"Revision {details.get('revision')} imported"
        f" from {details.get('package')}",
        "decision.recorded": lambda: f"{str(details.get('verdict', 'decision')).replace('_', ' ')}"
        .capitalize() + f" (revision {details.get('revision')})",
        "decision.revoked": lambda: "Approval revoked" + (f": {details['reason']}"
                                                          if details.get("reason") else ""),
        "release.written": lambda: "Released for publication",
        "permission.refused": lambda: f"Refused: {details.get('reason', '')}",
    }
    text = verbs.get(entry.action, lambda: entry.action.replace(".", " ").capitalize())()
    return f"{entry.at.replace('T', ' ').removesuffix('Z')}  ·  {entry.actor}  ·  {text}"

