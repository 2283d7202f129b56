"""Request status: derived from the decisions on the latest revision, never stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class RequestStatus(StrEnum):
    PENDING = "pending"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class DecisionState:
    """What the status rule needs to know of the decision in force on the latest revision."""

    verdict: Verdict
    approved_until: dt.date | None = None
    revoked: bool = False


def derive_status(current: DecisionState | None, today: dt.date) -> RequestStatus:
    """Status of a request's latest revision on *today*.

    A revision with no decision is pending; a revoked approval stays revoked; an approval whose
    approved end date has passed is expired.
    """
    if current is None:
        return RequestStatus.PENDING
    if current.verdict is Verdict.APPROVED:
        if current.revoked:
            return RequestStatus.REVOKED
        if current.approved_until is not None and current.approved_until < today:
            return RequestStatus.EXPIRED
        return RequestStatus.APPROVED
    if current.verdict is Verdict.REJECTED:
        return RequestStatus.REJECTED
    return RequestStatus.CHANGES_REQUESTED
