"""Standing terms: show, set (a new version each time, audited) and check a request."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from reviewer.domain.canonical import canonical_json
from reviewer.domain.policy import Finding, Policy, check_request
from reviewer.domain.roles import Action
from reviewer.services.access import require, require_on_request
from reviewer.services.consent_records import PolicyVersion, current_policy, load_revision
from reviewer.services.profiles import Session
from reviewer.services.refusals import NotFound
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import policies, talents


class PolicyService:
    def __init__(self, library: Library) -> None:
        self.library = library

    def show(self, talent_id: str, *, session: Session | None = None) -> PolicyVersion | None:
        """The terms in force for *talent_id*, or None when they set none."""
        self._require_talent(talent_id)
        require(
            self.library,
            session.actor if session else None,
            Action.READ_POLICY,
            talent_id=talent_id,
            subject=f"talent:{talent_id}",
        )
        with self.library.reader.connect() as conn:
            return current_policy(conn, talent_id)

    def set(self, session: Session, talent_id: str, policy: Policy) -> PolicyVersion:
        """Record *policy* as the talent's new terms; only the talent may."""
        self._require_talent(talent_id)
        require(
            self.library,
            session.actor,
            Action.SET_POLICY,
            talent_id=talent_id,
            subject=f"talent:{talent_id}",
        )
        document = policy.to_json()
        now = audit.utc_now()
        with self.library.engine.begin() as conn:
            previous = current_policy(conn, talent_id)
            version = 1 if previous is None else previous.version + 1
            text = canonical_json(document).decode("utf-8")
            conn.execute(
                policies.insert().values(
                    talent_id=talent_id,
                    version=version,
                    policy_json=text,
                    set_by=session.name,
                    set_at=now,
                )
            )
            audit.append(
                conn,
                actor=session.name,
                action="policy.set",
                subject=f"talent:{talent_id}",
                at=now,
                details={"version": version, "terms": document},
            )
        return PolicyVersion(talent_id, version, policy, session.name, now)

    def check_request(
        self,
        request_id: str,
        *,
        session: Session | None = None,
        revision: int | None = None,
        today: dt.date | None = None,
    ) -> list[Finding]:
        """Findings for a request's (latest) revision against its talent's terms."""
        # Findings reveal the terms (a minimum fee, say), so they need the right to read them.
        context = require_on_request(
            self.library, session.actor if session else None, Action.READ_POLICY, request_id
        )
        with self.library.reader.connect() as conn:
            terms = load_revision(conn, request_id, revision or context.latest_revision)
            version = current_policy(conn, context.talent_id)
        return check_request(
            version.policy if version else None,
            terms.scope,
            terms.fee,
            today=today or dt.date.today(),
        )

    def _require_talent(self, talent_id: str) -> None:
        with self.library.reader.connect() as conn:
            if conn.execute(sa.select(talents.c.id).where(talents.c.id == talent_id)).first():
                return
        raise NotFound(f"no talent {talent_id!r} in this library")
