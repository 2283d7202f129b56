"""Roles and who may do what. Pure rules; the services enforce them and audit refusals.

- A *talent* profile is bound to one talent id: it reads, decides, revokes, sets standing
  terms, releases and flags for that twin only.
- An *agent* represents one or more talents: reads their requests and terms, and flags.
- A *director* belongs to an organisation: reads that organisation's requests and releases
  them once approved. Never decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    TALENT = "talent"
    AGENT = "agent"
    DIRECTOR = "director"


class Action(StrEnum):
    READ_REQUEST = "read_request"
    DECIDE = "decide"
    REVOKE = "revoke"
    READ_POLICY = "read_policy"
    SET_POLICY = "set_policy"
    RELEASE = "release"
    FLAG = "flag"

    @property
    def phrase(self) -> str:
        return _PHRASES[self]


_PHRASES = {
    Action.READ_REQUEST: "see requests for",
    Action.DECIDE: "decide on requests for",
    Action.REVOKE: "revoke approvals for",
    Action.READ_POLICY: "see the standing terms of",
    Action.SET_POLICY: "set the standing terms of",
    Action.RELEASE: "release uses of",
    Action.FLAG: "flag misuse of",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in profile."""

    name: str
    role: Role
    talent_id: str | None = None
    represents: tuple[str, ...] = ()
    organisation: str | None = None

    def describe(self) -> str:
        if self.role is Role.TALENT:
            return f"{self.name} (talent {self.talent_id})"
        if self.role is Role.AGENT:
            return f"{self.name} (agent for {', '.join(self.represents) or 'nobody'})"
        return f"{self.name} (director at {self.organisation})"


def refusal(
    actor: Actor, action: Action, *, talent_id: str, organisation: str | None = None
) -> str | None:
    """Why *actor* may not take *action* on *talent_id*'s twin (a request from *organisation*
    where that matters), or None when they may."""
    own = actor.role is Role.TALENT and actor.talent_id == talent_id
    represented = actor.role is Role.AGENT and talent_id in actor.represents
    of_organisation = (
        actor.role is Role.DIRECTOR
        and organisation is not None
        and actor.organisation == organisation
    )
    allowed = {
        Action.READ_REQUEST: own or represented or of_organisation,
        Action.DECIDE: own,
        Action.REVOKE: own,
        Action.SET_POLICY: own,
        Action.READ_POLICY: own or represented,
        Action.RELEASE: own or of_organisation,
        Action.FLAG: own or represented,
    }[action]
    if allowed:
        return None
    who = actor.describe()
    if action in (Action.DECIDE, Action.REVOKE, Action.SET_POLICY):
        if actor.role is Role.TALENT:
            return f"{who} may not {action.phrase} {talent_id}: only {talent_id} may"
        return f"{who} may not {action.phrase} {talent_id}: only the talent themselves may"
    if actor.role is Role.DIRECTOR and action in (Action.READ_REQUEST, Action.RELEASE):
        return (
            f"{who} may not {action.phrase} {talent_id} from "
            f"{organisation or 'another organisation'}: only their own organisation's"
        )
    if actor.role is Role.DIRECTOR:
        return f"{who} may not {action.phrase} {talent_id}: directors cannot"
    if actor.role is Role.AGENT and action is Action.RELEASE:
        return f"{who} may not {action.phrase} {talent_id}: agents do not release uses"
    return f"{who} may not {action.phrase} {talent_id}"


def may(actor: Actor, action: Action, *, talent_id: str, organisation: str | None = None) -> bool:
    return refusal(actor, action, talent_id=talent_id, organisation=organisation) is None
