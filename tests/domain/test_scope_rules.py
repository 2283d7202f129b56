"""Scope narrowing and plain-language summaries; property tests with hypothesis."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewer.domain.scope import (
    CHANNEL_ORDER,
    EU_MEMBERS,
    Scope,
    ScopeError,
    covers,
    is_narrowing,
    money,
    narrow,
    narrowing_problems,
)

REQUESTED = Scope(
    ("ecommerce", "social"),
    ("EU", "GB"),
    dt.date(2027, 2, 1),
    dt.date(2027, 7, 31),
    ("denim",),
    False,
)


def test_the_summary_reads_as_a_sentence() -> None:
    assert REQUESTED.summary((Decimal("1800.00"), "EUR")) == (
        "E-commerce and social in the EU and UK, 1 Feb – 31 Jul 2027, denim, no voice, €1,800"
    )
    ww = Scope(("tv",), ("WW",), dt.date(2026, 12, 1), dt.date(2027, 1, 31), (), True)
    assert ww.summary() == "TV worldwide, 1 Dec 2026 – 31 Jan 2027, with voice"
    assert money(Decimal("950.5"), "CHF") == "950.50 CHF"


def test_an_approval_may_narrow_channels_territories_and_end() -> None:
    approved = narrow(REQUESTED, channels=["social"], territories=["FR"], end=dt.date(2027, 5, 31))
    assert approved.channels == ("social",)
    assert approved.territories == ("FR",)  # France lies in the requested EU
    assert approved.end == dt.date(2027, 5, 31)
    assert approved.start == REQUESTED.start
    assert narrow(REQUESTED) == REQUESTED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channels": ["ooh"]}, "channel 'ooh' was not requested"),
        ({"channels": []}, "at least one channel"),
        ({"channels": ["social", "social"]}, "listed twice"),
        ({"territories": ["US"]}, "territory 'US' lies outside"),
        ({"territories": ["WW"]}, "territory 'WW' lies outside"),
        ({"territories": []}, "at least one territory"),
        ({"end": dt.date(2027, 8, 1)}, "after the requested end"),
        ({"end": dt.date(2027, 1, 31)}, "before the start"),
    ],
)
def test_widening_is_refused_with_a_reason(change: dict, message: str) -> None:
    with pytest.raises(ScopeError, match=message):
        narrow(REQUESTED, **change)


def test_territory_groups_cover_their_members() -> None:
    assert covers("WW", "US") and covers("EEA", "NO") and covers("EEA", "EU")
    assert covers("EU", "DE") and not covers("EU", "NO") and not covers("EU", "GB")
    assert not covers("FR", "EU")


# Properties -----------------------------------------------------------------------------------

TERRITORIES = ["EU", "EEA", "WW", "GB", "US", "FR", "DE", "NO", "JP"]
dates = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def scopes(draw: st.DrawFn) -> Scope:
    channels = draw(st.lists(st.sampled_from(CHANNEL_ORDER), min_size=1, unique=True))
    territories = draw(st.lists(st.sampled_from(TERRITORIES), min_size=1, unique=True))
    start = draw(dates)
    end = draw(st.dates(min_value=start, max_value=start + dt.timedelta(days=800)))
    categories = draw(st.lists(st.sampled_from(["denim", "knitwear", "shoes"]), unique=True))
    return Scope(
        tuple(channels), tuple(territories), start, end, tuple(categories), draw(st.booleans())
    )


@given(scopes(), st.data())
def test_any_subset_and_earlier_end_is_a_narrowing(requested: Scope, data: st.DataObject) -> None:
    channels = data.draw(st.lists(st.sampled_from(requested.channels), min_size=1, unique=True))
    territories = data.draw(
        st.lists(st.sampled_from(requested.territories), min_size=1, unique=True)
    )
    end = data.draw(st.dates(min_value=requested.start, max_value=requested.end))
    approved = narrow(requested, channels=channels, territories=territories, end=end)
    assert is_narrowing(requested, approved)
    assert set(approved.channels) <= set(requested.channels)
    assert approved.start <= approved.end <= requested.end


@given(scopes(), scopes())
def test_a_narrowing_never_reaches_beyond_the_request(requested: Scope, approved: Scope) -> None:
    if is_narrowing(requested, approved):
        assert set(approved.channels) <= set(requested.channels)
        assert all(any(covers(r, t) for r in requested.territories) for t in approved.territories)
        assert requested.start == approved.start <= approved.end <= requested.end
    else:
        assert narrowing_problems(requested, approved)


@given(scopes(), st.sampled_from(CHANNEL_ORDER), st.sampled_from(sorted(EU_MEMBERS | {"US"})))
def test_adding_something_not_requested_is_never_a_narrowing(
    requested: Scope, channel: str, territory: str
) -> None:
    if channel not in requested.channels:
        with pytest.raises(ScopeError):
            narrow(requested, channels=[*requested.channels, channel])
    if not any(covers(r, territory) for r in requested.territories):
        with pytest.raises(ScopeError):
            narrow(requested, territories=[*requested.territories, territory])
    with pytest.raises(ScopeError):
        narrow(requested, end=requested.end + dt.timedelta(days=1))


@given(scopes())
def test_narrowing_is_transitive_and_round_trips_through_json(requested: Scope) -> None:
    once = narrow(requested, channels=requested.channels[:1])
    twice = narrow(once, end=once.start)
    assert is_narrowing(requested, twice)
    assert Scope.from_json(twice.to_json()) == twice
