"""Reading what the consent services work on: a revision's terms and files, the decisions on
it, a talent's standing terms and keys. Called inside the caller's connection or transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from reviewer.domain.policy import Policy, parse_policy
from reviewer.domain.receipt import request_part
from reviewer.domain.scope import Scope
from reviewer.domain.status import DecisionState, Verdict
from reviewer.services.refusals import NotFound
from reviewer.storage.schema import asset_files, assets, decisions, policies, revisions


@dataclass(frozen=True, slots=True)
class RevisionTerms:
    request_id: str
    revision: int
    campaign: str
    requester_name: str
    organisation: str
    scope: Scope
    fee: tuple[Decimal, str]
    manifest_sha256: str
    content_digest: str
    assets: tuple[tuple[str, str, str], ...]  # (path, role, sha256) in manifest order
    files: dict[str, str]  # every stored file (assets and their companions) by path

    def receipt_part(self) -> dict[str, Any]:
        return request_part(
            request_id=self.request_id,
            revision=self.revision,
            campaign=self.campaign,
            requester_name=self.requester_name,
            requester_organisation=self.organisation,
            manifest_sha256=self.manifest_sha256,
            content_digest=self.content_digest,
            assets=list(self.assets),
            files=self.files,
        )


def load_revision(conn: sa.Connection, request_id: str, revision: int) -> RevisionTerms:
    row = conn.execute(
        sa.select(revisions).where(
            revisions.c.request_id == request_id, revisions.c.revision == revision
        )
    ).first()
    if row is None:
        raise NotFound(f"request {request_id} has no revision {revision}")
    asset_rows = conn.execute(
        sa.select(assets.c.id, assets.c.path, assets.c.role, assets.c.sha256)
        .where(assets.c.request_id == request_id, assets.c.revision == revision)
        .order_by(assets.c.position)
    ).all()
    files = {a.path: a.sha256 for a in asset_rows}
    if asset_rows:
        files |= dict(
            conn.execute(
                sa.select(asset_files.c.path, asset_files.c.sha256).where(
                    asset_files.c.asset_id.in_([a.id for a in asset_rows])
                )
            ).all()
        )
    categories = tuple(json.loads(row.manifest_json)["use"].get("categories", ()))
    scope = Scope(
        tuple(row.channels),
        tuple(row.territories),
        row.start_date,
        row.end_date,
        categories,
        bool(row.voice),
    )
    return RevisionTerms(
        request_id=request_id,
        revision=revision,
        campaign=row.campaign,
        requester_name=row.requester_name,
        organisation=row.requester_organisation,
        scope=scope,
        fee=(Decimal(row.fee_amount), row.fee_currency),
        manifest_sha256=row.manifest_sha256,
        content_digest=row.content_digest,
        assets=tuple((a.path, a.role, a.sha256) for a in asset_rows),
        files=files,
    )


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: str
    request_id: str
    revision: int
    seq: int
    verdict: Verdict
    decided_by: str
    decided_at: str
    reason: str | None
    conditions: str | None
    scope: Scope | None
    approved_until: dt.date | None
    policy_override: bool
    receipt_json: str
    revoked_at: str | None
    revoked_by: str | None
    revocation_reason: str | None
    revocation_json: str | None

    @property
    def state(self) -> DecisionState:
        return DecisionState(self.verdict, self.approved_until, self.revoked_at is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "receipt_id": self.id,
            "request_id": self.request_id,
            "revision": self.revision,
            "verdict": self.verdict.value,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "reason": self.reason,
            "conditions": self.conditions,
            "scope": self.scope.to_json() if self.scope else None,
            "approved_until": self.approved_until.isoformat() if self.approved_until else None,
            "policy_override": self.policy_override,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
            "revocation_reason": self.revocation_reason,
        }


def _decision(row: sa.Row) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        request_id=row.request_id,
        revision=row.revision,
        seq=row.seq,
        verdict=Verdict(row.verdict),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        conditions=row.conditions,
        scope=Scope.from_json(row.scope) if row.scope else None,
        approved_until=row.approved_until,
        policy_override=bool(row.policy_override),
        receipt_json=row.receipt_json,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revocation_reason=row.revocation_reason,
        revocation_json=row.revocation_json,
    )


def decision_history(conn: sa.Connection, request_id: str) -> list[DecisionRecord]:
    """Every decision on every revision of *request_id*, oldest first."""
    rows = conn.execute(
        sa.select(decisions).where(decisions.c.request_id == request_id).order_by(decisions.c.seq)
    )
    return [_decision(row) for row in rows]


def decision_in_force(conn: sa.Connection, request_id: str, revision: int) -> DecisionRecord | None:
    """The newest decision on *revision*: the one that supersedes all before it."""
    row = conn.execute(
        sa.select(decisions)
        .where(decisions.c.request_id == request_id, decisions.c.revision == revision)
        .order_by(decisions.c.seq.desc())
        .limit(1)
    ).first()
    return _decision(row) if row else None


def decision_by_id(conn: sa.Connection, decision_id: str) -> DecisionRecord | None:
    row = conn.execute(sa.select(decisions).where(decisions.c.id == decision_id)).first()
    return _decision(row) if row else None


def next_decision_seq(conn: sa.Connection) -> int:
    return (
        int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(decisions.c.seq), 0))).scalar_one())
        + 1
    )


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    talent_id: str
    version: int
    policy: Policy
    set_by: str
    set_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "talent": self.talent_id,
            "version": self.version,
            "set_by": self.set_by,
            "set_at": self.set_at,
            "terms": self.policy.to_json(),
        }


def current_policy(conn: sa.Connection, talent_id: str) -> PolicyVersion | None:
    row = conn.execute(
        sa.select(policies)
        .where(policies.c.talent_id == talent_id)
        .order_by(policies.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PolicyVersion(
        talent_id, row.version, parse_policy(row.policy_json), row.set_by, row.set_at
    )
