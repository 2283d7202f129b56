"""Misuse flags: who may flag, see and move them, through the services and the command line;
the evidence stays in the library; everything is audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from verdict_world import INES, KOFI_REQUEST, PROFILES, request_id, unseen_image

from reviewer.cli import main
from reviewer.domain.misuse import FlagStatus, Severity, Sighting
from reviewer.services.flags import FlagRefused, FlagService
from reviewer.services.refusals import PermissionRefused
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import flags


def _entries(world, action: str) -> list:  # type: ignore[no-untyped-def]
    with world.library.engine.connect() as conn:
        return [e for e in audit.entries(conn) if e.action == action]


def _flag(world, tmp_path: Path, part: str = "agent", state: str = "rejected", **kw):  # type: ignore[no-untyped-def]
    image = world.image(request_id(state), tmp_path)
    return FlagService(world.library).flag(world.session(part), image, **kw)


def test_an_agent_flags_misuse_of_a_talent_they_represent(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = _flag(world, tmp_path, sighting=Sighting(
        seen_at="https://shop.example/p/1", seen_on=None, channel="social", territory="US"),
        notes="Seen in a paid post.")
    assert record.status is FlagStatus.OPEN
    assert record.talent_id == INES and record.organisation == "Brand Studio"
    assert (record.request_id, record.revision) == (request_id("rejected"), 1)
    assert record.verdict == "rejected" and record.severity is Severity.HIGH
    assert record.sighting.territory == "US" and record.notes == "Seen in a paid post."
    assert record.evidence_sha256 in world.library.objects
    assert [(e.from_status, e.to_status) for e in record.history] == [(None, FlagStatus.OPEN)]
    created = _entries(world, "flag.created")
    assert [(e.actor, e.subject) for e in created] == [(PROFILES["agent"], f"flag:{record.id}")]
    assert created[0].details["evidence_sha256"] == record.evidence_sha256


def test_the_talent_flags_for_themselves_and_no_one_else(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = _flag(world, tmp_path, part="talent", state="revoked")
    assert record.verdict == "revoked"
    with pytest.raises(PermissionRefused, match="may not flag misuse of kofi-mensah"):
        FlagService(world.library).flag(world.session("talent"),
                                         world.image(KOFI_REQUEST, tmp_path))


@pytest.mark.parametrize("part", ["other_agent", "director", "other_talent"])
def test_others_may_not_flag_and_the_refusal_is_audited(world, tmp_path: Path, part: str  # type: ignore[no-untyped-def]
                                                        ) -> None:
    before = len(_entries(world, "permission.refused"))
    with pytest.raises(PermissionRefused, match="may not flag misuse of ines-duarte"):
        FlagService(world.library).flag(world.session(part),
                                        world.image(request_id("pending"), tmp_path),
                                        talent_id=INES if part != "director" else None)
    refused = _entries(world, "permission.refused")
    assert len(refused) == before + 1
    assert refused[-1].actor == PROFILES[part] and refused[-1].details["attempted"] == "flag"
    with world.library.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(flags)).scalar_one() == 0


def test_an_image_matching_nothing_is_flagged_for_the_talent_named(world, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                  ) -> None:
    image = world.image("unseen", tmp_path, unseen_image())
    record = FlagService(world.library).flag(world.session("agent"), image)  # one talent
    assert record.request_id is None and record.verdict == "no_match"
    assert record.verdict_text == "No approved use matches: possible misuse"
    with pytest.raises(FlagRefused, match="matches ines-approved of talent ines-duarte, not kofi"):
        FlagService(world.library).flag(world.session("other_agent"),
                                        world.image(request_id("approved"), tmp_path),
                                        talent_id="kofi-mensah")


def test_status_moves_with_history_and_directors_only_answer(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = FlagService(world.library)
    record = _flag(world, tmp_path)
    agent, director = world.session("agent"), world.session("director")
    service.change_status(agent, record.id, "sent_to_brand", note="Emailed Mara.")
    with pytest.raises(PermissionRefused, match="may only mark a flag answered"):
        service.change_status(director, record.id, "dismissed")
    with pytest.raises(PermissionRefused, match="a director of the brand does that"):
        service.change_status(agent, record.id, "answered")
    service.change_status(director, record.id, FlagStatus.ANSWERED, note="Taken down today.")
    with pytest.raises(FlagRefused, match="the flag is answered; nothing more can be done"):
        service.change_status(director, record.id, "answered")
    done = service.change_status(agent, record.id, "resolved")
    assert done.status is FlagStatus.RESOLVED
    assert [(e.actor, e.to_status.value, e.note) for e in done.history] == [
        (PROFILES["agent"], "open", None),
        (PROFILES["agent"], "sent_to_brand", "Emailed Mara."),
        (PROFILES["director"], "answered", "Taken down today."),
        (PROFILES["agent"], "resolved", None),
    ]
    assert len(_entries(world, "flag.status_changed")) == 3
    refusals = [e for e in _entries(world, "permission.refused")
                if e.subject == f"flag:{record.id}"]
    assert [e.details["attempted"] for e in refusals] == [
        "flag.status:dismissed", "flag.status:answered", "flag.status:answered"]
    assert service.change_status(agent, record.id, "open").status is FlagStatus.OPEN


def test_directors_see_only_their_organisations_flags(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = FlagService(world.library)
    ines_flag = _flag(world, tmp_path)
    kofi_flag = FlagService(world.library).flag(world.session("other_agent"),
                                                world.image(KOFI_REQUEST, tmp_path))
    assert [f.id for f in service.list(session=world.session("director"))] == [ines_flag.id]
    assert [f.id for f in service.list(session=world.session("other_director"))] == [
        kofi_flag.id]
    assert [f.id for f in service.list(session=world.session("agent"))] == [ines_flag.id]
    assert {f.id for f in service.list()} == {ines_flag.id, kofi_flag.id}
    with pytest.raises(PermissionRefused, match="may not see flag"):
        service.get(ines_flag.id, session=world.session("other_director"))
    with pytest.raises(PermissionRefused, match="not from their organisation"):
        service.change_status(world.session("other_director"), ines_flag.id, "answered")


def test_evidence_images_survive_the_clean_up_of_unreferenced_objects(world, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                     ) -> None:
    record = _flag(world, tmp_path)
    world.library.close()
    with Library.open(world.root) as reopened:
        assert record.evidence_sha256 in reopened.objects
        assert reopened.objects.verify(record.evidence_sha256)


def test_flag_commands(world, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    image = world.image(request_id("approved"), tmp_path)
    assert main(world.cli("flag", str(image), "--as", PROFILES["agent"],
                          "--seen-at", "https://billboards.example/ny-42",
                          "--seen-on", "2026-11-20", "--channel", "ooh", "--territory", "US",
                          "--notes", "Times Square billboard")) == 0
    out = capsys.readouterr().out
    assert out.startswith("flag 1 [open, medium] ines-duarte: Approved use ines-approved")
    assert "outside scope" in out
    assert main(world.cli("flags", "--json", "--as", PROFILES["director"])) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(f["id"], f["status"], f["sighting"]["territory"]) for f in listed] == [
        (1, "open", "US")]
    assert main(world.cli("flag-status", "1", "resolved", "--as", PROFILES["director"])) == 1
    assert "may only mark a flag answered" in capsys.readouterr().err
    assert main(world.cli("flag-status", "1", "answered", "--as", PROFILES["director"],
                          "--note", "Pulled the billboard.")) == 0
    capsys.readouterr()
    assert main(world.cli("flags", "1")) == 0
    shown = capsys.readouterr().out
    assert "open → answered: Pulled the billboard." in shown
    assert main(world.cli("flags", "--as", PROFILES["other_director"])) == 0
    assert capsys.readouterr().out.strip() == "no flags"
    assert main(world.cli("flag", str(image), "--as", PROFILES["other_agent"])) == 1
    assert "may not flag misuse of ines-duarte" in capsys.readouterr().err
    assert main(world.cli("flag", str(tmp_path / "nope.png"), "--as", PROFILES["agent"])) == 1
    assert "nope.png" in capsys.readouterr().err
    assert main(world.cli("flag", str(image), "--as", PROFILES["agent"],
                          "--channel", "radio")) == 1
    assert "channel 'radio'" in capsys.readouterr().err
