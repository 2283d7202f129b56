"""Decisions: latest revision only, reasons, narrowing, conditions, supersession, standing
terms and overrides, revocation, expiry; each with its receipt and audit entry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from consent_world import (
    INES_REQUEST,
    KOFI,
    KOFI_REQUEST,
    TODAY,
    World,
    request_manifest,
)
from package_factory import make_package, write_png

from reviewer.cli import main
from reviewer.domain.policy import POLICY_FORMAT, parse_policy
from reviewer.domain.status import RequestStatus, Verdict
from reviewer.services.imports import ImportService
from reviewer.services.policy import PolicyService
from reviewer.services.queries import list_requests
from reviewer.services.receipts import verify_receipt
from reviewer.services.refusals import DecisionRefused, PolicyRefused
from reviewer.services.review import ReviewService
from reviewer.storage import audit
from reviewer.storage.schema import decisions


def status(world: World, request_id: str) -> RequestStatus:
    [row] = [r for r in list_requests(world.library) if r.id == request_id]
    return row.status


def audit_actions(world: World) -> list[str]:
    with world.library.engine.connect() as conn:
        assert audit.verify(conn) is None
        return [e.action for e in audit.entries(conn)]


def decision_count(world: World) -> int:
    with world.library.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(decisions)).scalar_one()


def test_an_approval_narrows_and_adds_conditions(world: World) -> None:
    kofi = world.session("other_talent")
    result = ReviewService(world.library).approve(
        kofi,
        KOFI_REQUEST,
        channels=["social"],
        territories=["FR", "GB"],
        until=TODAY + dt.timedelta(days=20),
        conditions="  No retouching of the face.  ",
    )
    assert status(world, KOFI_REQUEST) is RequestStatus.APPROVED
    decision = result.receipt["decision"]
    assert decision["scope_approved"]["channels"] == ["social"]
    assert decision["scope_approved"]["territories"] == ["FR", "GB"]
    assert decision["scope_requested"]["channels"] == ["ecommerce", "social"]
    assert decision["approved_until"] == (TODAY + dt.timedelta(days=20)).isoformat()
    assert decision["conditions"] == "No retouching of the face."
    assert result.receipt["talent"]["id"] == KOFI
    assert verify_receipt(result.receipt_bytes, library=world.library).ok
    assert audit_actions(world)[-1] == "decision.recorded"
    assert "Social in France and the UK" in result.summary()


@pytest.mark.parametrize(
    ("verdict", "word"), [("--reject", "reject"), ("--changes", "request changes")]
)
def test_a_reason_is_required_to_reject_or_ask_for_changes(
    world: World, verdict: str, word: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = world.cli("decide", KOFI_REQUEST, verdict, "--as", "Kofi Mensah")
    assert main(args) == 1
    assert capsys.readouterr().err == f"reviewer: a reason is required to {word}\n"
    assert main([*args, "--reason", "   "]) == 1
    assert decision_count(world) == 1
    assert main([*args, "--reason", "Not my style"]) == 0
    expected = RequestStatus.REJECTED if verdict == "--reject" else RequestStatus.CHANGES_REQUESTED
    assert status(world, KOFI_REQUEST) is expected


def test_only_the_latest_revision_can_be_decided(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = world.packages[KOFI_REQUEST]
    write_png(package / "renders" / "look1-front.png", colour=(1, 2, 3))
    ImportService(world.library).import_package(package)
    assert status(world, KOFI_REQUEST) is RequestStatus.PENDING
    assert (
        main(
            world.cli("decide", KOFI_REQUEST, "--approve", "--revision", "1", "--as", "Kofi Mensah")
        )
        == 1
    )
    assert "revision 1 is not the latest; decide on revision 2" in capsys.readouterr().err
    assert (
        main(
            world.cli("decide", KOFI_REQUEST, "--approve", "--revision", "2", "--as", "Kofi Mensah")
        )
        == 0
    )
    assert "approved fw27-knit-0007 revision 2" in capsys.readouterr().out


def test_a_later_decision_supersedes_and_both_stay(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    kofi = world.session("other_talent")
    review = ReviewService(world.library)
    first = review.request_changes(kofi, KOFI_REQUEST, reason="Fix the jaw in the render")
    second = review.approve(kofi, KOFI_REQUEST)
    assert second.supersedes == first.receipt_id
    assert second.receipt["decision"]["supersedes"] == first.receipt_id
    history = review.history(KOFI_REQUEST)
    assert [d.verdict for d in history] == [Verdict.CHANGES_REQUESTED, Verdict.APPROVED]
    assert status(world, KOFI_REQUEST) is RequestStatus.APPROVED
    assert main(world.cli("history", KOFI_REQUEST)) == 0
    out = capsys.readouterr().out
    assert "[superseded]" in out and "[in force]" in out and "Fix the jaw" in out


def test_decisions_in_the_same_second_keep_their_order(world: World) -> None:
    moment = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)
    review = ReviewService(world.library, clock=lambda: moment)
    kofi = world.session("other_talent")
    for _ in range(5):
        review.reject(kofi, KOFI_REQUEST, reason="no")
        review.request_changes(kofi, KOFI_REQUEST, reason="change")
    assert status(world, KOFI_REQUEST) is RequestStatus.CHANGES_REQUESTED


def test_an_approval_in_force_is_withdrawn_only_by_revoking(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    ines = world.session("talent")
    review = ReviewService(world.library)
    with pytest.raises(DecisionRefused, match="revoke the approval to withdraw consent"):
        review.reject(ines, INES_REQUEST, reason="changed my mind")
    assert (
        main(
            world.cli(
                "revoke", INES_REQUEST, "--as", "Ines Duarte", "--reason", "Seen outside the EU"
            )
        )
        == 0
    )
    assert "revoked the approval of ss27-denim-0042 revision 1" in capsys.readouterr().out
    assert status(world, INES_REQUEST) is RequestStatus.REVOKED
    assert main(world.cli("revoke", INES_REQUEST, "--as", "Ines Duarte", "--reason", "again")) == 1
    assert "has no approval in force to revoke" in capsys.readouterr().err
    review.reject(ines, INES_REQUEST, reason="No, after all")
    assert status(world, INES_REQUEST) is RequestStatus.REJECTED
    actions = audit_actions(world)
    assert actions.count("decision.revoked") == 1


def test_revoking_needs_a_reason_and_writes_a_signed_revocation(world: World) -> None:
    ines = world.session("talent")
    review = ReviewService(world.library)
    with pytest.raises(DecisionRefused, match="a reason is required to revoke"):
        review.revoke(ines, INES_REQUEST, reason=" ")
    result = review.revoke(ines, INES_REQUEST, reason="Used in an ad I never saw")
    check = verify_receipt(result.receipt_bytes, library=world.library)
    assert check.ok, check.problems
    assert result.receipt["revocation"]["revokes"] == result.revokes
    with world.library.engine.connect() as conn:
        row = conn.execute(sa.select(decisions).where(decisions.c.id == result.revokes)).one()
    assert row.revoked_by == "Ines Duarte" and row.revocation_reason.startswith("Used in")
    assert json.loads(row.revocation_json) == result.receipt


def test_revoking_reaches_an_older_revision_still_approved(world: World) -> None:
    package = world.packages[INES_REQUEST]
    write_png(package / "renders" / "look1-front.png", colour=(9, 9, 9))
    ImportService(world.library).import_package(package)  # revision 2, pending
    result = ReviewService(world.library).revoke(
        world.session("talent"), INES_REQUEST, reason="Revision 1 was misused"
    )
    assert result.revision == 1
    assert status(world, INES_REQUEST) is RequestStatus.PENDING  # revision 2 is undecided


def test_narrowing_beyond_the_request_is_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    base = world.cli("decide", KOFI_REQUEST, "--approve", "--as", "Kofi Mensah")
    end = (TODAY + dt.timedelta(days=91)).isoformat()
    for extra, message in [
        (["--channels", "tv"], "channel 'tv' was not requested"),
        (["--territories", "US"], "territory 'US' lies outside"),
        (["--until", end], "after the requested end"),
    ]:
        assert main([*base, *extra]) == 1
        assert message in capsys.readouterr().err
    past = (TODAY - dt.timedelta(days=1)).isoformat()
    assert main([*base, "--until", past]) == 1
    assert "which has passed" in capsys.readouterr().err
    assert decision_count(world) == 1


def test_usage_errors_exit_2(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            world.cli(
                "decide",
                KOFI_REQUEST,
                "--reject",
                "--reason",
                "x",
                "--channels",
                "social",
                "--as",
                "Kofi Mensah",
            )
        )
        == 2
    )
    for args in (
        ["decide", KOFI_REQUEST, "--as", "Kofi Mensah"],
        ["decide", KOFI_REQUEST, "--approve", "--reject", "--as", "Kofi Mensah"],
        ["decide", KOFI_REQUEST, "--approve"],
        ["decide", KOFI_REQUEST, "--approve", "--as", "K", "--until", "soon"],
        ["revoke", KOFI_REQUEST, "--as", "Kofi Mensah"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(world.cli(*args))
        assert exit_info.value.code == 2
    assert decision_count(world) == 1


def test_an_unknown_request_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(world.cli("decide", "nope", "--approve", "--as", "Kofi Mensah")) == 1
    assert capsys.readouterr().err == "reviewer: no request 'nope' in this library\n"


# Standing terms -----------------------------------------------------------------------------

KOFI_TERMS = {
    "format": POLICY_FORMAT,
    "channels_allowed": ["ecommerce"],
    "territories_denied": ["FR"],
    "minimum_fee": {"amount": "5000.00", "currency": "EUR"},
}


def test_breaking_the_terms_needs_an_override_that_the_receipt_records(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "terms.json").write_text(json.dumps(KOFI_TERMS))
    assert (
        main(
            world.cli(
                "policy", "set", KOFI, "--file", str(tmp_path / "terms.json"), "--as", "Kofi Mensah"
            )
        )
        == 0
    )
    assert main(world.cli("policy", "check", KOFI_REQUEST)) == 0
    out = capsys.readouterr().out
    assert "violation  Channel 'social' is not among the channels you allow" in out
    assert "violation  The fee of €1,800 is below your minimum of €5,000" in out
    base = world.cli("decide", KOFI_REQUEST, "--approve", "--as", "Kofi Mensah")
    assert main(base) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "reviewer: approving fw27-knit-0007 breaks your standing terms: "
        "Channel 'social' is not among the channels you allow;"
    )
    assert decision_count(world) == 1
    assert main([*base, "--override-policy"]) == 0
    assert "you overrode your standing terms" in capsys.readouterr().out
    receipt = ReviewService(world.library).history(KOFI_REQUEST)[-1]
    assert receipt.policy_override
    document = json.loads(receipt.receipt_json)
    assert document["decision"]["policy"]["overridden"] is True
    assert document["decision"]["policy"]["version"] == 1
    assert {
        "level": "violation",
        "rule": "channels",
        "text": "Channel 'social' is not among the channels you allow",
    } in document["decision"]["policy"]["findings"]


def test_narrowing_can_bring_a_request_within_the_terms(world: World) -> None:
    kofi = world.session("other_talent")
    terms = {**KOFI_TERMS, "minimum_fee": {"amount": "1000.00", "currency": "EUR"}}
    PolicyService(world.library).set(kofi, KOFI, parse_policy(json.dumps(terms)))
    review = ReviewService(world.library)
    with pytest.raises(PolicyRefused) as refused:
        review.approve(kofi, KOFI_REQUEST)
    assert [f.text for f in refused.value.findings if f.level.value == "violation"] == [
        "Channel 'social' is not among the channels you allow",
        "Territory 'EU' (the EU) includes 'FR' (France), which you never allow",
    ]
    result = review.approve(kofi, KOFI_REQUEST, channels=["ecommerce"], territories=["DE", "GB"])
    assert not result.policy_override


def test_policy_show_and_set_versions(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(world.cli("policy", "show", KOFI)) == 0
    assert "has set no standing terms" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text('{"format": "reviewer.standing-terms/1", "x": 1}')
    assert (
        main(
            world.cli(
                "policy", "set", KOFI, "--file", str(tmp_path / "bad.json"), "--as", "Kofi Mensah"
            )
        )
        == 1
    )
    assert capsys.readouterr().err.endswith("bad.json: x: unknown key\n")
    (tmp_path / "terms.json").write_text(json.dumps(KOFI_TERMS))
    for _ in range(2):
        assert (
            main(
                world.cli(
                    "policy",
                    "set",
                    KOFI,
                    "--file",
                    str(tmp_path / "terms.json"),
                    "--as",
                    "Kofi Mensah",
                )
            )
            == 0
        )
    capsys.readouterr()
    assert main(world.cli("policy", "show", KOFI, "--json")) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 2 and shown["terms"]["channels_allowed"] == ["ecommerce"]
    assert audit_actions(world).count("policy.set") == 2


# Expiry -------------------------------------------------------------------------------------


def test_an_approval_past_its_end_is_expired(world: World, tmp_path: Path) -> None:
    manifest = request_manifest(
        "old-0001", KOFI, "Other House", start=(TODAY - dt.timedelta(days=60)).isoformat()
    )
    ImportService(world.library).import_package(make_package(tmp_path / "old", manifest))
    back_then = dt.datetime.combine(TODAY - dt.timedelta(days=50), dt.time(9), tzinfo=dt.UTC)
    ReviewService(world.library, clock=lambda: back_then).approve(
        world.session("other_talent"), "old-0001", until=TODAY - dt.timedelta(days=1)
    )
    assert status(world, "old-0001") is RequestStatus.EXPIRED


def test_audit_verify_catches_an_edited_decision_entry(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    ReviewService(world.library).reject(world.session("other_talent"), KOFI_REQUEST, reason="no")
    assert main(world.cli("audit", "verify")) == 0
    capsys.readouterr()
    with world.library.engine.begin() as conn:
        conn.execute(
            sa.update(audit.audit_log)
            .where(audit.audit_log.c.action == "decision.recorded")
            .values(details=sa.func.replace(audit.audit_log.c.details, "rejected", "approved"))
        )
    assert main(world.cli("audit", "verify")) == 1
    assert "was edited after it was written" in capsys.readouterr().err
