"""The verdict of check-image for each state of the matched use, and the scope check of a
sighting ("approved for the EU and UK; seen in the US: outside scope")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from verdict_world import KOFI_REQUEST, TODAY, request_id, unseen_image

from reviewer.domain.misuse import MatchVerdict, Sighting
from reviewer.services.misuse import MisuseChecker, found_image_from_bytes


def _check(world, data: bytes, sighting: Sighting | None = None):  # type: ignore[no-untyped-def]
    return MisuseChecker(world.library).check(found_image_from_bytes("seen.png", data),
                                              sighting=sighting)


@pytest.mark.parametrize(("state", "verdict", "banner"), [
    ("approved", MatchVerdict.APPROVED_IN_SCOPE, "Approved use: ines-approved, "),
    ("expired", MatchVerdict.EXPIRED, "Approved use has EXPIRED: ines-expired ended on "),
    ("revoked", MatchVerdict.REVOKED, "Matches a REVOKED use: ines-revoked"),
    ("rejected", MatchVerdict.REJECTED, "Matches a REJECTED request: ines-rejected"),
    ("changes", MatchVerdict.CHANGES_REQUESTED, "Matches a request sent back for CHANGES"),
    ("pending", MatchVerdict.PENDING, "Matches a PENDING request, not approved yet"),
])
def test_the_verdict_for_each_state(world, state: str, verdict: MatchVerdict,  # type: ignore[no-untyped-def]
                                    banner: str) -> None:
    from verdict_world import render_of

    result = _check(world, render_of(request_id(state)))
    assert [m.request_id for m in result.matches] == [request_id(state)]
    assert result.verdict.kind is verdict
    assert result.verdict.text.startswith(banner)


def test_approved_in_scope_names_the_scope_and_its_end(world) -> None:  # type: ignore[no-untyped-def]
    from verdict_world import render_of

    result = _check(world, render_of(request_id("approved")),
                    Sighting(channel="social", territory="FR", seen_on=TODAY))
    end = TODAY + dt.timedelta(days=90)
    assert result.verdict.kind is MatchVerdict.APPROVED_IN_SCOPE
    assert "E-commerce and social in the EU and UK until" in result.verdict.text
    assert str(end.year) in result.verdict.text
    assert result.verdict.scope_check is not None and result.verdict.scope_check.in_scope


def test_seen_outside_the_approved_territory_or_channel_is_out_of_scope(world) -> None:  # type: ignore[no-untyped-def]
    from verdict_world import render_of

    result = _check(world, render_of(request_id("approved")), Sighting(territory="US"))
    assert result.verdict.kind is MatchVerdict.OUT_OF_SCOPE
    assert result.verdict.scope_check is not None
    assert result.verdict.scope_check.text == (
        "approved for the EU and UK; seen in the US: outside scope")
    result = _check(world, render_of(request_id("approved")), Sighting(channel="tv"))
    assert result.verdict.kind is MatchVerdict.OUT_OF_SCOPE
    assert "approved for e-commerce and social; seen on TV" in result.verdict.text


def test_an_image_seen_while_an_approval_ran_was_approved_then(world) -> None:  # type: ignore[no-untyped-def]
    from verdict_world import render_of

    seen = TODAY - dt.timedelta(days=250)
    result = _check(world, render_of(request_id("expired")), Sighting(seen_on=seen))
    assert result.verdict.kind is MatchVerdict.APPROVED_IN_SCOPE
    assert "(expired since)" in result.verdict.text
    after = _check(world, render_of(request_id("expired")),
                   Sighting(seen_on=TODAY - dt.timedelta(days=20)))
    assert after.verdict.kind is MatchVerdict.EXPIRED


def test_no_match(world) -> None:  # type: ignore[no-untyped-def]
    result = _check(world, unseen_image())
    assert result.matches == ()
    assert result.verdict.kind is MatchVerdict.NO_MATCH
    assert result.verdict.text == "No approved use matches: possible misuse"


def test_a_profile_only_sees_matches_it_may_see(world) -> None:  # type: ignore[no-untyped-def]
    from verdict_world import render_of

    found = found_image_from_bytes("seen.png", render_of(KOFI_REQUEST))
    checker = MisuseChecker(world.library)
    assert [m.request_id for m in checker.check(found).matches] == [KOFI_REQUEST]
    assert checker.check(found, session=world.session("agent")).matches == ()
    assert [m.request_id for m in checker.check(
        found, session=world.session("other_agent")).matches] == [KOFI_REQUEST]


def test_a_library_missing_fingerprints_is_fingerprinted_before_a_lookup(world) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa
    from verdict_world import render_of

    from reviewer.storage.schema import render_fingerprints

    with world.library.engine.begin() as conn:
        conn.execute(sa.delete(render_fingerprints))
    result = _check(world, render_of(request_id("pending")))
    assert [m.request_id for m in result.matches] == [request_id("pending")]


def test_sighting_input_is_checked(tmp_path: Path) -> None:
    from reviewer.services.flags import FlagRefused, check_sighting_input

    assert check_sighting_input(channel="Social", territory="us").territory == "US"
    for bad in ({"channel": "radio"}, {"territory": "Mars"},
                {"seen_on": TODAY + dt.timedelta(days=2), "today": TODAY}):
        with pytest.raises(FlagRefused):
            check_sighting_input(**bad)
