"""The consent side of the demo library: profiles, standing terms, signed decisions, a
revocation and releases, so that every state can be seen.

Every profile has the passphrase :data:`DEMO_PASSPHRASE` (printed by ``reviewer demo`` and
given in the README). Decisions follow the demo's request plan. An *expired* approval is made
as it would have been while its period ran (its receipt carries that time) and released then,
so that ``reviewer takedowns`` has something to say. The release gate refuses uses whose
approved period has not started, so an approved or revoked request is released only when its
period includes today. Running it again adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from reviewer.domain.policy import POLICY_FORMAT, parse_policy
from reviewer.domain.roles import Role
from reviewer.domain.status import RequestStatus
from reviewer.services.consent_records import current_policy, decision_in_force
from reviewer.services.policy import PolicyService
from reviewer.services.profiles import ProfileService, Session
from reviewer.services.refusals import PolicyRefused, Refusal
from reviewer.services.release import ReleaseService
from reviewer.services.review import ReviewService
from reviewer.storage.library import Library
from reviewer.storage.schema import requests, revisions

DEMO_PASSPHRASE = "twin-demo-2026"
DEMO_AGENT = "Noor Haddad"
RELEASES_FOLDER = "releases"

_REASONS = {
    RequestStatus.REJECTED: "Not a campaign I want my likeness in.",
    RequestStatus.CHANGES_REQUESTED: "Please fix the face in the front render and send a new "
    "revision.",
    RequestStatus.REVOKED: "The images are being used beyond what I approved.",
}
_CONDITIONS = "Credit the talent by name; no retouching of the face or body."

# Standing terms for the first demo talent, so that findings show on their requests.
EXAMPLE_TERMS = {
    "format": POLICY_FORMAT,
    "channels_allowed": ["ecommerce", "social", "print", "video"],
    "territories_denied": ["RU"],
    "categories_never": ["tobacco", "alcohol", "gambling"],
    "voice_allowed": False,
    "longest_term": {"months": 12},
    "minimum_fee": {"amount": "1500.00", "currency": "EUR"},
}


@dataclass(frozen=True, slots=True)
class _Request:
    id: str
    talent_id: str
    revision: int
    start: dt.date
    end: dt.date
    channels: tuple[str, ...]
    territories: tuple[str, ...]
    organisation: str
    requester: str


def apply_story(
    library: Library,
    talents: list[tuple[str, str]],
    plan: list[tuple[str, str]],
    reasons: dict[str, str] | None = None,
) -> list[str]:
    """Profiles, terms, decisions and releases for the demo; returns lines for the report."""
    profiles = ProfileService(library)
    sessions: dict[str, Session] = {}
    notes: list[str] = []
    known = {p.name: p for p in profiles.list()}
    talent_profiles = {p.talent_id: p.name for p in known.values() if p.role is Role.TALENT}
    for talent_id, name in talents:
        if talent_id in talent_profiles or name in known:
            continue
        _profile, sessions[talent_id] = profiles.add_and_sign_in(
            name, Role.TALENT, DEMO_PASSPHRASE, talent_id=talent_id, actor="demo"
        )
        talent_profiles[talent_id] = name
    if DEMO_AGENT not in known:
        represented = [t for t, _ in talents]
        profiles.add(DEMO_AGENT, Role.AGENT, DEMO_PASSPHRASE, represents=represented, actor="demo")
    demo_requests = _load_requests(library, [request_id for request_id, _ in plan])
    director = _director(demo_requests)
    if (
        director is not None
        and director[0] not in known
        and not any(
            p.role is Role.DIRECTOR and p.organisation == director[1] for p in known.values()
        )
    ):
        profiles.add(
            director[0], Role.DIRECTOR, DEMO_PASSPHRASE, organisation=director[1], actor="demo"
        )

    def session_for(talent_id: str) -> Session:
        if talent_id not in sessions:
            sessions[talent_id] = profiles.authenticate(talent_profiles[talent_id], DEMO_PASSPHRASE)
        return sessions[talent_id]

    try:
        _set_example_terms(library, talents, session_for)
        released_one = False
        for request_id, intended in plan:
            request = demo_requests.get(request_id)
            if (
                request is None
                or request.talent_id not in talent_profiles
                or intended == RequestStatus.PENDING
            ):
                continue
            with library.reader.connect() as conn:
                if decision_in_force(conn, request_id, request.revision) is not None:
                    continue
            try:
                released_one |= _decide(
                    library,
                    request,
                    RequestStatus(intended),
                    session_for(request.talent_id),
                    reason=(reasons or {}).get(request_id),
                    notes=notes,
                    release=not released_one,
                )
            except Refusal as exc:
                notes.append(f"could not make {request_id} {intended}: {exc}")
    except Refusal as exc:  # a demo profile whose passphrase someone changed, say
        notes.append(f"decisions left as they are: {exc}")
    notes.append(f"profiles (passphrase for all: {DEMO_PASSPHRASE}):")
    notes += [f"  {p.name:<14} {p.describe()}" for p in profiles.list()]
    return notes


def _load_requests(library: Library, wanted: list[str]) -> dict[str, _Request]:
    with library.reader.connect() as conn:
        rows = conn.execute(
            sa.select(requests.c.id, requests.c.talent_id, revisions)
            .join(
                revisions,
                sa.and_(
                    revisions.c.request_id == requests.c.id,
                    revisions.c.revision == requests.c.latest_revision,
                ),
            )
            .where(requests.c.id.in_(wanted))
        ).all()
    return {
        r.id: _Request(
            r.id,
            r.talent_id,
            r.revision,
            r.start_date,
            r.end_date,
            tuple(r.channels),
            tuple(r.territories),
            r.requester_organisation,
            r.requester_name,
        )
        for r in rows
    }


def _director(demo_requests: dict[str, _Request]) -> tuple[str, str] | None:
    """(name, organisation): the requester behind most demo requests."""
    if not demo_requests:
        return None
    counts = Counter((r.requester, r.organisation) for r in demo_requests.values())
    return max(sorted(counts), key=lambda pair: counts[pair])


def _at(day: dt.date) -> Callable[[], dt.datetime]:
    moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)
    return lambda: moment


def _approve(
    review: ReviewService, session: Session, request_id: str, notes: list[str], **narrowing: object
) -> None:
    try:
        review.approve(session, request_id, **narrowing)  # type: ignore[arg-type]
    except PolicyRefused:
        review.approve(session, request_id, override_policy=True, **narrowing)  # type: ignore[arg-type]
        notes.append(f"{request_id}: approved over the talent's standing terms (an override)")


def _decide(
    library: Library,
    request: _Request,
    intended: RequestStatus,
    session: Session,
    *,
    reason: str | None,
    notes: list[str],
    release: bool,
) -> bool:
    """Bring *request* to *intended*; True if it released an approved request."""
    today = dt.date.today()
    review = ReviewService(library)
    out = library.root / RELEASES_FOLDER / request.id
    running = request.start <= today <= request.end
    reason = reason or _REASONS.get(intended)
    if intended is RequestStatus.REJECTED:
        review.reject(session, request.id, reason=reason or "")
    elif intended is RequestStatus.CHANGES_REQUESTED:
        review.request_changes(session, request.id, reason=reason or "")
    elif intended is RequestStatus.APPROVED:
        narrowing: dict[str, object] = {}
        if release:  # the first approval shows a narrowed scope with conditions
            if len(request.territories) > 1:
                narrowing["territories"] = list(request.territories[:-1])
            elif len(request.channels) > 1:
                narrowing["channels"] = list(request.channels[:-1])
            narrowing["conditions"] = _CONDITIONS
        _approve(review, session, request.id, notes, **narrowing)
        if release and running:
            ReleaseService(library).release(request.id, out)
            return True
    elif intended is RequestStatus.REVOKED:
        _approve(review, session, request.id, notes)
        if running:
            ReleaseService(library).release(request.id, out)
        review.revoke(session, request.id, reason=reason or "")
    elif intended is RequestStatus.EXPIRED:
        until = min(request.end, today - dt.timedelta(days=1))
        if until < request.start:
            notes.append(f"{request.id}: cannot be shown expired, its period has not begun")
            return False
        decided = request.start - dt.timedelta(days=7)
        _approve(
            ReviewService(library, clock=_at(decided)), session, request.id, notes, until=until
        )
        ReleaseService(library, clock=_at(request.start)).release(request.id, out)
    return False


def _set_example_terms(
    library: Library, talents: list[tuple[str, str]], session_for: Callable[[str], Session]
) -> None:
    if not talents:
        return
    talent_id = talents[0][0]
    with library.reader.connect() as conn:
        if current_policy(conn, talent_id) is not None:
            return
    PolicyService(library).set(
        session_for(talent_id), talent_id, parse_policy(json.dumps(EXAMPLE_TERMS))
    )
