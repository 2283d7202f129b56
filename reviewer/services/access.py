"""Who may touch which request: the role rules of ``domain.roles``, enforced and audited.

A refusal is written to the audit log in its own transaction (the refused action's own
transaction, if any, never starts), then raised as :class:`PermissionRefused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reviewer.domain.roles import Action, Actor, Role, refusal
from reviewer.services.refusals import NotFound, PermissionRefused
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import requests, revisions, talents


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What the role rules need of a request: whose twin, and from which organisation."""

    request_id: str
    talent_id: str
    talent_name: str
    latest_revision: int
    organisation: str


def load_request_context(conn: sa.Connection, request_id: str) -> RequestContext:
    row = conn.execute(
        sa.select(
            requests.c.talent_id,
            requests.c.latest_revision,
            talents.c.display_name,
            revisions.c.requester_organisation,
        )
        .join(talents, talents.c.id == requests.c.talent_id)
        .join(
            revisions,
            sa.and_(
                revisions.c.request_id == requests.c.id,
                revisions.c.revision == requests.c.latest_revision,
            ),
        )
        .where(requests.c.id == request_id)
    ).first()
    if row is None:
        raise NotFound(f"no request {request_id!r} in this library")
    return RequestContext(
        request_id, row.talent_id, row.display_name, row.latest_revision, row.requester_organisation
    )


def require(
    library: Library,
    actor: Actor | None,
    action: Action,
    *,
    talent_id: str,
    subject: str,
    organisation: str | None = None,
) -> None:
    """Return when *actor* may take *action*; else audit the refusal and raise.

    ``actor=None`` is the library's local operator (command-line reads without ``--as``),
    who may read and release but never decide, revoke or set terms: those need a signature.
    """
    if actor is None:
        if action in (Action.DECIDE, Action.REVOKE, Action.SET_POLICY):
            reason = f"{action.phrase.capitalize()} {talent_id} needs a signed-in talent profile"
            _audit_refusal(library, "(no profile)", action, subject, reason)
            raise PermissionRefused(reason)
        return
    reason = refusal(actor, action, talent_id=talent_id, organisation=organisation)
    if reason is not None:
        _audit_refusal(library, actor.name, action, subject, reason)
        raise PermissionRefused(reason)


def require_on_request(
    library: Library, actor: Actor | None, action: Action, request_id: str
) -> RequestContext:
    """Load *request_id*'s context and :func:`require` *action* on it; return the context."""
    with library.reader.connect() as conn:
        context = load_request_context(conn, request_id)
    require(
        library,
        actor,
        action,
        talent_id=context.talent_id,
        organisation=context.organisation,
        subject=f"request:{request_id}",
    )
    return context


def _audit_refusal(library: Library, actor: str, action: Action, subject: str, reason: str) -> None:
    with library.engine.begin() as conn:
        audit.append(
            conn,
            actor=actor,
            action="permission.refused",
            subject=subject,
            details={"attempted": action.value, "reason": reason},
        )


def visible_to(actor: Actor) -> dict[str, Any]:
    """Filters for ``queries.list_requests`` that keep what *actor* may read."""
    if actor.role is Role.TALENT:
        return {"talent_ids": [actor.talent_id]}
    if actor.role is Role.AGENT:
        return {"talent_ids": list(actor.represents)}
    return {"organisation": actor.organisation}
