"""Misuse: what a match between a found image and a use request means, and misuse flags.

Pure rules: the verdict for a match (approved and in scope, out of scope, expired, revoked,
rejected, changes requested, pending, no match), the check of a sighting (where and when the
image was seen) against an approved scope, and who may move a flag from one status to
another. The services enforce them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from reviewer.domain.roles import Action, Actor, Role, refusal
from reviewer.domain.scope import (
    CHANNEL_LABELS,
    CHANNEL_ORDER,
    Scope,
    channel_phrase,
    covers,
    date_range,
    join_words,
    short_date,
    territory_phrase,
)
from reviewer.domain.status import RequestStatus

_TERRITORY = re.compile(r"^(?:[A-Z]{2}|EEA)$")
MAX_NOTES = 4000
MAX_SEEN_AT = 2000


class MisuseInputError(ValueError):
    """A sighting or flag field that cannot be accepted; one readable line."""


# Sightings and scope ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where and when an image was seen in the wild. Every part is optional."""

    seen_at: str | None = None  # a URL or a description ("billboard, Gare du Nord")
    seen_on: dt.date | None = None
    channel: str | None = None  # one of scope.CHANNEL_ORDER
    territory: str | None = None  # ISO 3166-1 alpha-2, or EU / EEA / WW

    @classmethod
    def checked(
        cls,
        *,
        seen_at: str | None = None,
        seen_on: dt.date | None = None,
        channel: str | None = None,
        territory: str | None = None,
        today: dt.date | None = None,
    ) -> Sighting:
        """A sighting with its fields cleaned and checked; raises :class:`MisuseInputError`."""
        seen_at = (seen_at or "").strip() or None
        if seen_at is not None and (len(seen_at) > MAX_SEEN_AT or _has_control(seen_at)):
            raise MisuseInputError(
                f"where it was seen is at most {MAX_SEEN_AT} characters, no control characters"
            )
        if seen_on is not None and today is not None and seen_on > today:
            raise MisuseInputError(f"seen on {seen_on.isoformat()} is in the future")
        channel = (channel or "").strip().lower() or None
        if channel is not None and channel not in CHANNEL_ORDER:
            raise MisuseInputError(
                f"channel {channel!r} is not one of {', '.join(CHANNEL_ORDER)}"
            )
        territory = (territory or "").strip().upper() or None
        if territory is not None and not _TERRITORY.match(territory):
            raise MisuseInputError(
                f"territory {territory!r} is not a two-letter country code, EU, EEA or WW"
            )
        return cls(seen_at, seen_on, channel, territory)

    def to_json(self) -> dict[str, str | None]:
        return {
            "seen_at": self.seen_at,
            "seen_on": self.seen_on.isoformat() if self.seen_on else None,
            "channel": self.channel,
            "territory": self.territory,
        }

    def describe(self) -> str:
        parts = []
        if self.channel:
            parts.append(f"on {CHANNEL_LABELS.get(self.channel, self.channel)}")
        if self.territory:
            parts.append(territory_phrase([self.territory]))
        if self.seen_on:
            parts.append(f"on {short_date(self.seen_on)}")
        if self.seen_at:
            parts.append(f"at {self.seen_at}")
        return "seen " + " ".join(parts) if parts else "no sighting recorded"


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t" for c in text)


@dataclass(frozen=True, slots=True)
class ScopeCheck:
    """A sighting against an approved scope. ``problems`` empty: within scope."""

    problems: tuple[str, ...]
    text: str

    @property
    def in_scope(self) -> bool:
        return not self.problems


def check_sighting(approved: Scope, sighting: Sighting, *, today: dt.date) -> ScopeCheck:
    """Does *sighting* (on its date, else *today*) lie within *approved*?

    The text reads like "approved for the EU and the UK; seen in the US: outside scope".
    """
    when = sighting.seen_on or today
    problems: list[str] = []
    if sighting.territory and not any(covers(t, sighting.territory) for t in approved.territories):
        problems.append(
            f"approved {territory_phrase(list(approved.territories)).replace('in ', 'for ', 1)}"
            f"; seen {territory_phrase([sighting.territory])}"
        )
    if sighting.channel and sighting.channel not in approved.channels:
        problems.append(
            f"approved for {join_words([CHANNEL_LABELS.get(c, c) for c in approved.channels])}"
            "; seen on "
            f"{CHANNEL_LABELS.get(sighting.channel, sighting.channel)}"
        )
    if when < approved.start or when > approved.end:
        seen = f"seen on {short_date(when)}" if sighting.seen_on else f"today is {short_date(when)}"
        where = "before the period starts" if when < approved.start else "after it ended"
        problems.append(
            f"approved for {date_range(approved.start, approved.end)}; {seen}, {where}"
        )
    if problems:
        return ScopeCheck(tuple(problems), "; ".join(problems) + ": outside scope")
    checked = [
        what
        for what, given in (
            ("channel", sighting.channel),
            ("territory", sighting.territory),
            ("date", True),
        )
        if given
    ]
    return ScopeCheck((), f"within the approved scope ({', '.join(checked)} checked)")


# Verdicts --------------------------------------------------------------------------------------


class MatchVerdict(StrEnum):
    APPROVED_IN_SCOPE = "approved_in_scope"
    OUT_OF_SCOPE = "out_of_scope"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    PENDING = "pending"
    NO_MATCH = "no_match"

    @property
    def approved(self) -> bool:
        return self is MatchVerdict.APPROVED_IN_SCOPE

    @property
    def default_severity(self) -> Severity:
        return _DEFAULT_SEVERITY[self]


# The order in which equally good matches are listed: an approval in scope first, then the
# most nearly approved state.
VERDICT_PRECEDENCE = (
    MatchVerdict.APPROVED_IN_SCOPE,
    MatchVerdict.OUT_OF_SCOPE,
    MatchVerdict.EXPIRED,
    MatchVerdict.REVOKED,
    MatchVerdict.CHANGES_REQUESTED,
    MatchVerdict.PENDING,
    MatchVerdict.REJECTED,
    MatchVerdict.NO_MATCH,
)


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    """What the verdict needs of the decision in force on the matched revision."""

    status: RequestStatus
    scope: Scope | None = None  # the approved scope, for an approval
    approved_until: dt.date | None = None
    revoked_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: MatchVerdict
    text: str  # the banner, e.g. "Approved use: ss27-denim-0043, e-commerce in the EU ..."
    scope_check: ScopeCheck | None = None


def verdict_for(
    request_id: str, facts: ApprovalFacts, sighting: Sighting, *, today: dt.date
) -> Verdict:
    """The verdict for an image that matches *request_id* whose decision is *facts*.

    An approval counts when it was in force on the day the image was seen (``seen_on``, else
    today): an image seen before an approval expired or was revoked was approved then.
    """
    status = facts.status
    when = sighting.seen_on or today
    approval_then = facts.scope is not None and (
        status is RequestStatus.APPROVED
        or (
            status is RequestStatus.EXPIRED
            and facts.approved_until is not None
            and when <= facts.approved_until
        )
        or (status is RequestStatus.REVOKED and facts.revoked_on is not None
            and when < facts.revoked_on)
    )
    if approval_then:
        assert facts.scope is not None
        check = check_sighting(facts.scope, sighting, today=today)
        summary = (
            f"{channel_phrase(facts.scope.channels)} "
            f"{territory_phrase(list(facts.scope.territories))} until "
            f"{short_date(facts.scope.end)}"
        )
        if check.in_scope:
            since = ""
            if status is RequestStatus.EXPIRED:
                since = " (expired since)"
            elif status is RequestStatus.REVOKED:
                since = " (revoked since)"
            return Verdict(
                MatchVerdict.APPROVED_IN_SCOPE,
                f"Approved use: {request_id}, {summary}{since}",
                check,
            )
        return Verdict(
            MatchVerdict.OUT_OF_SCOPE,
            f"Approved use {request_id} ({summary}), but {check.text}",
            check,
        )
    if status is RequestStatus.EXPIRED:
        ended = f" on {short_date(facts.approved_until)}" if facts.approved_until else ""
        return Verdict(MatchVerdict.EXPIRED, f"Approved use has EXPIRED: {request_id} ended{ended}")
    if status is RequestStatus.REVOKED:
        on = f" on {short_date(facts.revoked_on)}" if facts.revoked_on else ""
        return Verdict(MatchVerdict.REVOKED, f"Matches a REVOKED use: {request_id} (revoked{on})")
    if status is RequestStatus.REJECTED:
        return Verdict(MatchVerdict.REJECTED, f"Matches a REJECTED request: {request_id}")
    if status is RequestStatus.CHANGES_REQUESTED:
        return Verdict(
            MatchVerdict.CHANGES_REQUESTED,
            f"Matches a request sent back for CHANGES, never approved: {request_id}",
        )
    return Verdict(
        MatchVerdict.PENDING, f"Matches a PENDING request, not approved yet: {request_id}"
    )


NO_MATCH_TEXT = "No approved use matches: possible misuse"


def no_match() -> Verdict:
    return Verdict(MatchVerdict.NO_MATCH, NO_MATCH_TEXT)


def overall(verdicts: list[Verdict]) -> Verdict:
    """The verdict for an image with these matches, best match first: an approval in scope
    among them covers the image; otherwise the best match speaks."""
    if not verdicts:
        return no_match()
    return next((v for v in verdicts if v.kind.approved), verdicts[0])


# Flags ---------------------------------------------------------------------------------------


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


_DEFAULT_SEVERITY = {
    MatchVerdict.APPROVED_IN_SCOPE: Severity.LOW,
    MatchVerdict.OUT_OF_SCOPE: Severity.MEDIUM,
    MatchVerdict.EXPIRED: Severity.MEDIUM,
    MatchVerdict.REVOKED: Severity.HIGH,
    MatchVerdict.REJECTED: Severity.HIGH,
    MatchVerdict.CHANGES_REQUESTED: Severity.HIGH,
    MatchVerdict.PENDING: Severity.HIGH,
    MatchVerdict.NO_MATCH: Severity.HIGH,
}


class FlagStatus(StrEnum):
    OPEN = "open"
    SENT_TO_BRAND = "sent_to_brand"
    ANSWERED = "answered"  # the brand's director answered
    RESOLVED = "resolved"
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# What the talent's side (the talent, their agents) may do, from each status. Nothing deletes a
# flag; a closed flag can be opened again.
_SIDE_TRANSITIONS = {
    FlagStatus.OPEN: {FlagStatus.SENT_TO_BRAND, FlagStatus.RESOLVED, FlagStatus.DISMISSED},
    FlagStatus.SENT_TO_BRAND: {FlagStatus.RESOLVED, FlagStatus.DISMISSED},
    FlagStatus.ANSWERED: {FlagStatus.SENT_TO_BRAND, FlagStatus.RESOLVED, FlagStatus.DISMISSED},
    FlagStatus.RESOLVED: {FlagStatus.OPEN},
    FlagStatus.DISMISSED: {FlagStatus.OPEN},
}
# What a director of the matched request's organisation may do: answer, nothing else.
_DIRECTOR_TRANSITIONS = {
    FlagStatus.OPEN: {FlagStatus.ANSWERED},
    FlagStatus.SENT_TO_BRAND: {FlagStatus.ANSWERED},
}


def may_see_flag(actor: Actor, *, talent_id: str, organisation: str | None) -> bool:
    """Talents see their own flags, agents those of the talents they represent, directors the
    flags whose matched request comes from their organisation."""
    if actor.role is Role.DIRECTOR:
        return organisation is not None and actor.organisation == organisation
    return refusal(actor, Action.FLAG, talent_id=talent_id) is None


def flag_refusal(actor: Actor, *, talent_id: str) -> str | None:
    """Why *actor* may not flag misuse of *talent_id*'s likeness (None: they may)."""
    return refusal(actor, Action.FLAG, talent_id=talent_id)


def change_refusal(
    actor: Actor, target: FlagStatus, *, talent_id: str, organisation: str | None
) -> str | None:
    """Why *actor* may not set a flag about *talent_id* (matched request from *organisation*)
    to *target* at all, whatever its status (None: they may)."""
    who = actor.describe()
    if actor.role is Role.DIRECTOR:
        if organisation is None or actor.organisation != organisation:
            return (
                f"{who} may not change flags about {talent_id}: the matched request is not "
                "from their organisation"
            )
        if target is not FlagStatus.ANSWERED:
            return (
                f"{who} may only mark a flag answered: sending, resolving and dismissing are "
                "for the talent and their agents"
            )
        return None
    reason = refusal(actor, Action.FLAG, talent_id=talent_id)
    if reason is not None:
        return reason.replace("flag misuse of", "change flags about")
    if target is FlagStatus.ANSWERED:
        return f"{who} may not mark a flag answered: a director of the brand does that"
    return None


def transition_problem(role: Role, current: FlagStatus, target: FlagStatus) -> str | None:
    """Why a flag that is *current* cannot become *target* (None: it can)."""
    allowed = (_DIRECTOR_TRANSITIONS if role is Role.DIRECTOR else _SIDE_TRANSITIONS).get(
        current, set()
    )
    if target in allowed:
        return None
    if not allowed:
        return f"the flag is {current.label}; nothing more can be done to it from this side"
    names = ", ".join(sorted(s.label for s in allowed))
    return f"the flag is {current.label}; it can become: {names}"
