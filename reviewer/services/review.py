"""Decisions and revocations: the talent's signed yes, no, "change this" and "no longer".

Each decision is checked, signed and written together with its receipt and its audit entry
in one transaction (SQLite with ``synchronous=FULL``: once this returns, it is on disk).

Rules:

- Only the talent decides or revokes, and only for their own twin (``domain.roles``).
- A decision is on the latest revision; a caller that names an older one is refused.
- Rejecting and requesting changes need a reason.
- An approval may narrow the scope (channels, territories, an earlier end) and add
  conditions. If the approved scope breaks the talent's standing terms, approving needs
  ``override_policy=True``, and the receipt records the override and the findings.
- A later decision on the same revision supersedes the earlier one; both stay. An approval
  in force is withdrawn only by revoking it (a signed revocation, which takedowns see), not by
  a later rejection.
- Revoking withdraws the approval in force on the newest revision that has one.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reviewer.domain.canonical import sha256_hex
from reviewer.domain.policy import Finding, check_request, violations
from reviewer.domain.receipt import (
    decision_document,
    receipt_file_bytes,
    revocation_document,
    signed_bytes,
    talent_part,
    utc_timestamp,
    with_signature,
)
from reviewer.domain.roles import Action
from reviewer.domain.scope import Scope, ScopeError, narrow, short_date
from reviewer.domain.status import Verdict
from reviewer.services.access import (
    RequestContext,
    load_request_context,
    require,
    require_on_request,
)
from reviewer.services.consent_records import (
    DecisionRecord,
    current_policy,
    decision_history,
    decision_in_force,
    load_revision,
    next_decision_seq,
)
from reviewer.services.profiles import Session
from reviewer.services.refusals import DecisionRefused, PolicyRefused
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import decisions, talent_keys

MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class DecisionResult:
    receipt_id: str
    request_id: str
    revision: int
    verdict: Verdict
    decided_by: str
    decided_at: str
    scope: Scope | None  # as approved; None unless approved
    reason: str | None
    conditions: str | None
    findings: tuple[Finding, ...]
    policy_override: bool
    supersedes: str | None
    receipt: dict[str, Any]

    @property
    def receipt_bytes(self) -> bytes:
        return receipt_file_bytes(self.receipt)

    def summary(self) -> str:
        verdict = {
            Verdict.APPROVED: "approved",
            Verdict.REJECTED: "rejected",
            Verdict.CHANGES_REQUESTED: "asked for changes to",
        }[self.verdict]
        lines = [
            f"{verdict} {self.request_id} revision {self.revision} (receipt {self.receipt_id})"
        ]
        if self.scope is not None:
            lines.append(f"  scope: {self.scope.summary()}")
        if self.conditions:
            lines.append(f"  conditions: {self.conditions}")
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        if self.policy_override:
            lines.append("  you overrode your standing terms:")
            lines += [f"    - {f.text}" for f in violations(list(self.findings))]
        if self.supersedes:
            lines.append(f"  supersedes receipt {self.supersedes}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class RevocationResult:
    receipt_id: str
    revokes: str
    request_id: str
    revision: int
    revoked_by: str
    revoked_at: str
    reason: str
    receipt: dict[str, Any]

    @property
    def receipt_bytes(self) -> bytes:
        return receipt_file_bytes(self.receipt)

    def summary(self) -> str:
        return (
            f"revoked the approval of {self.request_id} revision {self.revision} "
            f"(receipt {self.revokes}); revocation receipt {self.receipt_id}"
        )


class ReviewService:
    def __init__(self, library: Library, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.library = library
        self._clock = clock

    # Decisions ----------------------------------------------------------------------------

    def approve(
        self,
        session: Session,
        request_id: str,
        *,
        revision: int | None = None,
        channels: Sequence[str] | None = None,
        territories: Sequence[str] | None = None,
        until: dt.date | None = None,
        conditions: str | None = None,
        reason: str | None = None,
        override_policy: bool = False,
    ) -> DecisionResult:
        return self._decide(
            session,
            request_id,
            Verdict.APPROVED,
            revision=revision,
            reason=reason,
            conditions=conditions,
            channels=channels,
            territories=territories,
            until=until,
            override_policy=override_policy,
        )

    def reject(
        self, session: Session, request_id: str, *, reason: str, revision: int | None = None
    ) -> DecisionResult:
        return self._decide(session, request_id, Verdict.REJECTED, revision=revision, reason=reason)

    def request_changes(
        self, session: Session, request_id: str, *, reason: str, revision: int | None = None
    ) -> DecisionResult:
        return self._decide(
            session, request_id, Verdict.CHANGES_REQUESTED, revision=revision, reason=reason
        )

    def _decide(
        self,
        session: Session,
        request_id: str,
        verdict: Verdict,
        *,
        revision: int | None,
        reason: str | None,
        conditions: str | None = None,
        channels: Sequence[str] | None = None,
        territories: Sequence[str] | None = None,
        until: dt.date | None = None,
        override_policy: bool = False,
    ) -> DecisionResult:
        context = self._context(request_id)
        require(
            self.library,
            session.actor,
            Action.DECIDE,
            talent_id=context.talent_id,
            organisation=context.organisation,
            subject=f"request:{request_id}",
        )
        reason = _clean(reason, "reason")
        conditions = _clean(conditions, "conditions")
        if verdict is not Verdict.APPROVED:
            if reason is None:
                word = "reject" if verdict is Verdict.REJECTED else "request changes"
                raise DecisionRefused(f"a reason is required to {word}")
            if conditions or channels is not None or territories is not None or until:
                raise DecisionRefused("conditions and a narrowed scope belong to an approval")
        now = self._now()
        today = self._today()
        with self.library.engine.begin() as conn:
            context = load_request_context(conn, request_id)  # again, inside the transaction
            if revision is not None and revision != context.latest_revision:
                raise DecisionRefused(
                    f"{request_id}: revision {revision} is not the latest; decide on revision "
                    f"{context.latest_revision}"
                )
            revision = context.latest_revision
            public_key = self._check_key(conn, session, context.talent_id)
            terms = load_revision(conn, request_id, revision)
            current = decision_in_force(conn, request_id, revision)
            if (
                verdict is not Verdict.APPROVED
                and current is not None
                and current.verdict is Verdict.APPROVED
                and current.revoked_at is None
            ):
                raise DecisionRefused(
                    f"{request_id} revision {revision} is approved (receipt {current.id}); "
                    "revoke the approval to withdraw consent"
                )
            approved: Scope | None = None
            if verdict is Verdict.APPROVED:
                try:
                    approved = narrow(
                        terms.scope, channels=channels, territories=territories, end=until
                    )
                except ScopeError as exc:
                    raise DecisionRefused(f"cannot approve {request_id} so: {exc}") from None
                if approved.end < today:
                    raise DecisionRefused(
                        f"{request_id}: the approved period would end on "
                        f"{short_date(approved.end)}, which has passed"
                    )
            policy = current_policy(conn, context.talent_id)
            findings = check_request(
                policy.policy if policy else None, approved or terms.scope, terms.fee, today=today
            )
            broken = violations(findings) if verdict is Verdict.APPROVED else []
            if broken and not override_policy:
                raise PolicyRefused(
                    f"approving {request_id} breaks your standing terms: "
                    + "; ".join(f.text for f in broken)
                    + " (override explicitly to approve anyway)",
                    findings,
                )
            overridden = bool(broken)
            receipt_id = str(uuid.uuid4())
            decided_at = utc_timestamp(now)
            document = decision_document(
                receipt_id=receipt_id,
                request=terms.receipt_part(),
                talent=talent_part(
                    talent_id=context.talent_id, name=context.talent_name, public_key=public_key
                ),
                decision={
                    "verdict": verdict.value,
                    "decided_by": session.name,
                    "decided_at": decided_at,
                    "reason": reason,
                    "conditions": conditions,
                    "scope_requested": terms.scope.to_json(),
                    "scope_approved": approved.to_json() if approved else None,
                    "approved_until": approved.end.isoformat() if approved else None,
                    "fee": {"amount": str(terms.fee[0]), "currency": terms.fee[1]},
                    "policy": {
                        "version": policy.version if policy else None,
                        "findings": [f.to_json() for f in findings],
                        "overridden": overridden,
                    },
                    "supersedes": current.id if current else None,
                },
            )
            document = with_signature(document, session.sign(signed_bytes(document)))
            receipt_text = receipt_file_bytes(document).decode("utf-8").rstrip("\n")
            conn.execute(
                decisions.insert().values(
                    id=receipt_id,
                    request_id=request_id,
                    revision=revision,
                    verdict=verdict.value,
                    decided_by=session.name,
                    decided_at=decided_at,
                    reason=reason,
                    conditions=conditions,
                    scope=approved.to_json() if approved else None,
                    approved_until=approved.end if approved else None,
                    policy_override=overridden,
                    receipt_json=receipt_text,
                    seq=next_decision_seq(conn),
                )
            )
            audit.append(
                conn,
                actor=session.name,
                action="decision.recorded",
                subject=f"request:{request_id}",
                details={
                    "receipt_id": receipt_id,
                    "revision": revision,
                    "verdict": verdict.value,
                    "receipt_sha256": sha256_hex(receipt_text.encode("utf-8")),
                    "supersedes": current.id if current else None,
                    "policy_override": overridden,
                },
            )
        return DecisionResult(
            receipt_id,
            request_id,
            revision,
            verdict,
            session.name,
            decided_at,
            approved,
            reason,
            conditions,
            tuple(findings),
            overridden,
            current.id if current else None,
            document,
        )

    # Revocation ---------------------------------------------------------------------------

    def revoke(self, session: Session, request_id: str, *, reason: str) -> RevocationResult:
        context = self._context(request_id)
        require(
            self.library,
            session.actor,
            Action.REVOKE,
            talent_id=context.talent_id,
            organisation=context.organisation,
            subject=f"request:{request_id}",
        )
        cleaned = _clean(reason, "reason")
        if cleaned is None:
            raise DecisionRefused("a reason is required to revoke")
        now = self._now()
        with self.library.engine.begin() as conn:
            context = load_request_context(conn, request_id)
            public_key = self._check_key(conn, session, context.talent_id)
            target = self._approval_to_revoke(conn, context)
            terms = load_revision(conn, request_id, target.revision)
            revoked_at = utc_timestamp(now)
            receipt_id = str(uuid.uuid4())
            revoked_document = _parse_stored(target.receipt_json)
            document = revocation_document(
                receipt_id=receipt_id,
                request=terms.receipt_part(),
                talent=talent_part(
                    talent_id=context.talent_id, name=context.talent_name, public_key=public_key
                ),
                revoked=revoked_document,
                reason=cleaned,
                revoked_by=session.name,
                revoked_at=revoked_at,
            )
            document = with_signature(document, session.sign(signed_bytes(document)))
            text = receipt_file_bytes(document).decode("utf-8").rstrip("\n")
            updated = conn.execute(
                decisions.update()
                .where(decisions.c.id == target.id, decisions.c.revoked_at.is_(None))
                .values(
                    revoked_at=revoked_at,
                    revoked_by=session.name,
                    revocation_reason=cleaned,
                    revocation_json=text,
                )
            )
            if updated.rowcount != 1:
                raise DecisionRefused(f"receipt {target.id} was revoked meanwhile")
            audit.append(
                conn,
                actor=session.name,
                action="decision.revoked",
                subject=f"request:{request_id}",
                details={
                    "receipt_id": receipt_id,
                    "revokes": target.id,
                    "revision": target.revision,
                    "reason": cleaned,
                    "receipt_sha256": sha256_hex(text.encode("utf-8")),
                },
            )
        return RevocationResult(
            receipt_id,
            target.id,
            request_id,
            target.revision,
            session.name,
            revoked_at,
            cleaned,
            document,
        )

    @staticmethod
    def _approval_to_revoke(conn: sa.Connection, context: RequestContext) -> DecisionRecord:
        for revision in range(context.latest_revision, 0, -1):
            current = decision_in_force(conn, context.request_id, revision)
            if current is None or current.verdict is not Verdict.APPROVED:
                continue
            if current.revoked_at is None:
                return current
        raise DecisionRefused(f"{context.request_id} has no approval in force to revoke")

    # Reading ------------------------------------------------------------------------------

    def history(self, request_id: str, *, session: Session | None = None) -> list[DecisionRecord]:
        """Every decision on the request, oldest first, superseded ones included."""
        require_on_request(
            self.library, session.actor if session else None, Action.READ_REQUEST, request_id
        )
        with self.library.reader.connect() as conn:
            return decision_history(conn, request_id)

    # Helpers ------------------------------------------------------------------------------

    def _context(self, request_id: str) -> RequestContext:
        with self.library.reader.connect() as conn:
            return load_request_context(conn, request_id)

    def _now(self) -> dt.datetime:
        return self._clock() if self._clock else dt.datetime.now(dt.UTC)

    def _today(self) -> dt.date:
        return self._clock().date() if self._clock else dt.date.today()

    @staticmethod
    def _check_key(conn: sa.Connection, session: Session, talent_id: str) -> bytes:
        """The session's public key, if it is the talent's active registered key."""
        public_key = session.public_key
        active = conn.execute(
            sa.select(talent_keys.c.public_key).where(
                talent_keys.c.talent_id == talent_id, talent_keys.c.active
            )
        ).scalar()
        if public_key is None or active is None or active != public_key.hex():
            raise DecisionRefused(
                f"{session.name}'s signing key is not the registered key of talent {talent_id}"
            )
        return public_key


def _clean(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise DecisionRefused(f"the {what} is longer than {MAX_TEXT} characters")
    return text or None


def _parse_stored(receipt_json: str) -> dict[str, Any]:
    return json.loads(receipt_json)
