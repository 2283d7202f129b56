"""Status is derived from the decision in force and the date."""

from __future__ import annotations

import datetime as dt

import pytest

from reviewer.domain.status import DecisionState, RequestStatus, Verdict, derive_status

TODAY = dt.date(2026, 11, 28)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, RequestStatus.PENDING),
        (DecisionState(Verdict.REJECTED), RequestStatus.REJECTED),
        (DecisionState(Verdict.CHANGES_REQUESTED), RequestStatus.CHANGES_REQUESTED),
        (DecisionState(Verdict.APPROVED, TODAY), RequestStatus.APPROVED),
        (DecisionState(Verdict.APPROVED, TODAY - dt.timedelta(days=1)), RequestStatus.EXPIRED),
        (DecisionState(Verdict.APPROVED, TODAY, revoked=True), RequestStatus.REVOKED),
        (DecisionState(Verdict.APPROVED, TODAY - dt.timedelta(days=9), revoked=True),
         RequestStatus.REVOKED),
    ],
    ids=["none", "rejected", "changes", "approved-last-day", "expired", "revoked",
         "revoked-beats-expired"],
)
def test_derive_status(state: DecisionState | None, expected: RequestStatus) -> None:
    assert derive_status(state, TODAY) is expected
