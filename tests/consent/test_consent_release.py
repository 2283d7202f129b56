"""The release gate: every refusal, what a release writes, the disclosure in released images
(read back with Pillow), the audit, and takedowns."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from consent_world import (
    INES_REQUEST,
    KOFI,
    KOFI_REQUEST,
    TODAY,
    World,
    read_json_lines,
    request_manifest,
)
from package_factory import make_package
from PIL import Image

from reviewer.cli import main
from reviewer.services.imports import ImportService
from reviewer.services.receipts import verify_receipt
from reviewer.services.refusals import ReleaseRefused
from reviewer.services.release import ReleaseService
from reviewer.services.review import ReviewService
from reviewer.services.takedowns import list_takedowns
from reviewer.storage import audit
from reviewer.storage.schema import decisions, releases


def audit_entries(world: World, action: str) -> list[audit.AuditEntry]:
    with world.library.engine.connect() as conn:
        assert audit.verify(conn) is None
        return [e for e in audit.entries(conn) if e.action == action]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def at(day: dt.date):  # type: ignore[no-untyped-def]
    moment = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    return lambda: moment


def test_a_release_writes_the_approved_files_marked_with_the_receipt(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(world.cli("release", INES_REQUEST, "--out", str(out))) == 0
    assert "2 images marked as a synthetic likeness" in capsys.readouterr().out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "assets/renders/look1-front.png",
        "assets/renders/look1-side.jpg",
        "receipt.json",
        "release.json",
    ]
    manifest = json.loads((out / "release.json").read_text())
    receipt = json.loads((out / "receipt.json").read_bytes())
    receipt_id = receipt["receipt_id"]
    assert manifest["receipt_id"] == receipt_id and manifest["request_id"] == INES_REQUEST
    assert verify_receipt((out / "receipt.json").read_bytes(), library=world.library).ok
    package = world.packages[INES_REQUEST]
    for entry in manifest["files"]:
        original = package / entry["path"].removeprefix("assets/")
        released = out / entry["path"]
        assert entry["original_sha256"] == sha256(original)
        assert entry["released_sha256"] == sha256(released) != entry["original_sha256"]
        with Image.open(original) as a, Image.open(released) as b:
            assert a.tobytes() == b.tobytes()  # only metadata was added
    with Image.open(out / "assets/renders/look1-front.png") as png:
        xmp = png.info["XML:com.adobe.xmp"]
        assert png.text["Disclosure"].startswith("Synthetic likeness of Ines Duarte (ines-duarte)")
    with Image.open(out / "assets/renders/look1-side.jpg") as jpeg:
        jpeg_xmp = jpeg.info["xmp"].decode()
        assert b"under receipt " + receipt_id.encode() in jpeg.info["comment"]
    for packet in (xmp, jpeg_xmp):
        assert f'twin:ReceiptId="{receipt_id}"' in packet
        assert 'twin:TalentId="ines-duarte"' in packet
        assert "digitalsourcetype/trainedAlgorithmicMedia" in packet
    [written] = audit_entries(world, "release.written")
    assert written.details["out_dir"] == str(out)
    [record] = ReleaseService(world.library).releases(INES_REQUEST)
    assert record.out_dir == out and record.receipt_id == receipt_id
    assert main(world.cli("history", INES_REQUEST)) == 0
    assert f"released by (local) to {out}" in capsys.readouterr().out


def test_avatars_and_their_files_are_released_byte_for_byte(world: World, tmp_path: Path) -> None:
    manifest = request_manifest("avatar-0001", KOFI, "Other House")
    manifest["assets"].insert(0, {"path": "twin/look1.ply", "role": "avatar", "label": "Look"})
    package = make_package(tmp_path / "avatar", manifest)
    ImportService(world.library).import_package(package)
    ReviewService(world.library).approve(world.session("other_talent"), "avatar-0001")
    record = ReleaseService(world.library).release(
        "avatar-0001", tmp_path / "out", session=world.session("other_director")
    )
    [avatar] = [f for f in record.files if f.role == "avatar"]
    assert avatar.disclosure is None and avatar.released_sha256 == avatar.original_sha256
    assert (tmp_path / "out/assets/twin/look1.ply").read_bytes() == (
        package / "twin/look1.ply"
    ).read_bytes()
    assert record.released_by == "Otto Weiss"


def refusal_case(world: World, tmp_path: Path, case: str) -> tuple[str, str]:
    """Bring a request into the state *case*; return (request id, expected reason)."""
    kofi = world.session("other_talent")
    review = ReviewService(world.library)
    if case == "pending":
        return KOFI_REQUEST, "fw27-knit-0007 revision 1 is not approved (status: pending)"
    if case == "rejected":
        review.reject(kofi, KOFI_REQUEST, reason="no")
        return KOFI_REQUEST, "is not approved (status: rejected)"
    if case == "changes":
        review.request_changes(kofi, KOFI_REQUEST, reason="fix it")
        return KOFI_REQUEST, "is not approved (status: changes requested)"
    if case == "revoked":
        ReviewService(world.library).revoke(world.session("talent"), INES_REQUEST, reason="Misused")
        return INES_REQUEST, "its approval was revoked on"
    if case == "expired":
        ReviewService(world.library, clock=at(TODAY - dt.timedelta(days=20))).approve(
            kofi, KOFI_REQUEST, until=TODAY - dt.timedelta(days=1)
        )
        return KOFI_REQUEST, "its approval expired on"
    if case == "not yet":
        manifest = request_manifest(
            "later-0001", KOFI, "Other House", start=(TODAY + dt.timedelta(days=3)).isoformat()
        )
        ImportService(world.library).import_package(make_package(tmp_path / "later", manifest))
        review.approve(kofi, "later-0001")
        return "later-0001", "outside its approved period, which starts on"
    if case == "tampered":
        [entry] = json.loads(ReviewService(world.library).history(INES_REQUEST)[0].receipt_json)[
            "request"
        ]["files"][:1]
        stored = world.library.objects.path_for(entry["sha256"])
        os.chmod(stored, 0o644)
        stored.write_bytes(stored.read_bytes() + b"\x00")
        return INES_REQUEST, (
            f"the stored file {entry['path']} no longer matches its SHA-256 {entry['sha256'][:12]}"
        )
    if case == "edited row":
        review.reject(kofi, KOFI_REQUEST, reason="no")
        with world.library.engine.begin() as conn:  # someone edits the database directly
            conn.execute(
                decisions.update()
                .where(decisions.c.request_id == KOFI_REQUEST)
                .values(
                    verdict="approved",
                    scope={
                        "channels": ["social"],
                        "territories": ["EU"],
                        "start": "2000-01-01",
                        "end": "2099-01-01",
                    },
                    approved_until=dt.date(2099, 1, 1),
                )
            )
        return KOFI_REQUEST, "the approval's receipt does not match the stored decision"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["pending", "rejected", "changes", "revoked", "expired", "not yet", "tampered", "edited row"],
)
def test_the_gate_refuses_with_one_clear_reason(
    world: World, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    request_id, reason = refusal_case(world, tmp_path, case)
    out = tmp_path / "out"
    assert main(world.cli("release", request_id, "--out", str(out))) == 1
    err = capsys.readouterr().err
    assert err.startswith("reviewer: ") and reason in err and err.count("\n") == 1, err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.release-*"))
    [refused] = audit_entries(world, "release.refused")
    assert reason in refused.details["reason"]
    with world.library.engine.connect() as conn:
        assert conn.execute(sa.select(releases)).all() == []


def test_the_gate_never_overwrites(world: World, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseRefused, match="already exists and is not an empty folder"):
        ReleaseService(world.library).release(INES_REQUEST, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    ReleaseService(world.library).release(INES_REQUEST, tmp_path / "empty")
    assert (tmp_path / "empty" / "release.json").exists()


# Takedowns ----------------------------------------------------------------------------------


def test_takedowns_list_revoked_expired_and_superseded_releases(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kofi, ines = world.session("other_talent"), world.session("talent")
    release = ReleaseService(world.library)
    release.release(INES_REQUEST, tmp_path / "ines")
    assert list_takedowns(world.library) == []
    ReviewService(world.library).revoke(ines, INES_REQUEST, reason="Seen in the US")
    # Kofi's: approved until yesterday, released while it ran; it has expired since.
    ReviewService(world.library, clock=at(TODAY - dt.timedelta(days=20))).approve(
        kofi, KOFI_REQUEST, until=TODAY - dt.timedelta(days=1)
    )
    ReleaseService(world.library, clock=at(TODAY - dt.timedelta(days=10))).release(
        KOFI_REQUEST, tmp_path / "kofi"
    )
    # A third: released, then approved again more narrowly (the first receipt is superseded).
    manifest = request_manifest("third-0001", KOFI, "Other House")
    ImportService(world.library).import_package(make_package(tmp_path / "third", manifest))
    ReviewService(world.library).approve(kofi, "third-0001")
    release.release("third-0001", tmp_path / "third-out")
    ReviewService(world.library).approve(kofi, "third-0001", channels=["social"])
    items = {t.release.request_id: t for t in list_takedowns(world.library)}
    assert {k: v.reason for k, v in items.items()} == {
        INES_REQUEST: "revoked",
        KOFI_REQUEST: "expired",
        "third-0001": "superseded",
    }
    assert "Seen in the US" in items[INES_REQUEST].detail
    assert main(world.cli("takedowns")) == 0
    text = capsys.readouterr().out
    assert f"TAKE DOWN {INES_REQUEST} revision 1 (revoked)" in text
    assert str(tmp_path / "kofi") in text and "assets/renders/look1-front.png" in text
    assert main(world.cli("takedowns", "--json")) == 0
    listed = read_json_lines(capsys.readouterr().out)
    assert {item["out_dir"] for item in listed} == {
        str(tmp_path / "ines"),
        str(tmp_path / "kofi"),
        str(tmp_path / "third-out"),
    }
    assert all(item["files"] for item in listed)
    assert [i["request_id"] for i in listed if i["talent"] == KOFI] == [KOFI_REQUEST, "third-0001"]
