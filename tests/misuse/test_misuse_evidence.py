"""Evidence packs: what is in them, that their audit excerpt checks (and that tampering shows),
who may export one; and migration 0003 fingerprinting an existing library."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from verdict_world import PROFILES, request_id, unseen_image

from reviewer.cli import main
from reviewer.domain.misuse import Sighting
from reviewer.services.evidence import EvidenceService, verify_pack
from reviewer.services.flags import FlagService
from reviewer.services.refusals import PermissionRefused


def _flag(world, tmp_path: Path, state: str, data: bytes | None = None):  # type: ignore[no-untyped-def]
    image = world.image(request_id(state), tmp_path, data)
    return FlagService(world.library).flag(
        world.session("agent"), image,
        sighting=Sighting(seen_at="https://ads.example/42", channel="social", territory="US"),
        notes="Paid social ad <script>alert(1)</script>",
    )


def test_an_evidence_pack_holds_the_image_match_receipts_record_audit_and_summary(
    world, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    record = _flag(world, tmp_path, "approved")
    FlagService(world.library).change_status(world.session("agent"), record.id,
                                             "sent_to_brand")
    out = tmp_path / "pack.zip"
    export = EvidenceService(world.library).export(record.id, out,
                                                   session=world.session("agent"))
    with zipfile.ZipFile(out) as pack:
        names = set(pack.namelist())
        assert {"summary.html", "flag.json", "README.txt", "audit/excerpt.jsonl",
                "audit/chain.jsonl", "audit/head.json", "audit/verify.py"} <= names
        found = [n for n in names if n.startswith("found/")]
        assert len(found) == 1 and pack.read(found[0]) == (tmp_path / "ines-approved.png"
                                                            ).read_bytes()
        assert f"matched/{request_id('approved')}/r1/renders/look.png" in names
        receipts = [n for n in names if n.startswith("receipts/")]
        assert len(receipts) == 1
        receipt = json.loads(pack.read(receipts[0]))
        assert receipt["decision"]["verdict"] == "approved"
        document = json.loads(pack.read("flag.json"))
        assert document["flag"]["id"] == record.id
        assert [h["to"] for h in document["flag"]["history"]] == ["open", "sent_to_brand"]
        summary = pack.read("summary.html").decode()
        assert "outside scope" in summary and "seen in the US" in summary
        assert "<script>" not in summary and "&lt;script&gt;" in summary
        excerpt = [json.loads(line) for line in pack.read("audit/excerpt.jsonl").splitlines()]
        actions = {(e["action"], e["subject"]) for e in excerpt}
        assert ("flag.created", f"flag:{record.id}") in actions
        assert ("decision.recorded", f"request:{request_id('approved')}") in actions
    assert verify_pack(out) == []
    assert export.audit_entries == len(excerpt)
    # The stand-alone check in the pack agrees.
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as pack:
        pack.extractall(folder)
    run = subprocess.run([sys.executable, str(folder / "audit" / "verify.py"), str(folder)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.startswith("verified:")


def test_tampering_with_the_audit_excerpt_is_detected(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = _flag(world, tmp_path, "rejected")
    out = tmp_path / "pack.zip"
    EvidenceService(world.library).export(record.id, out)
    with zipfile.ZipFile(out) as pack:
        files = {n: pack.read(n) for n in pack.namelist()}
    entries = [json.loads(line) for line in files["audit/excerpt.jsonl"].splitlines()]
    entries[-1]["details"]["verdict"] = "approved_in_scope"
    files["audit/excerpt.jsonl"] = "".join(json.dumps(e) + "\n" for e in entries).encode()
    chain = [json.loads(line) for line in files["audit/chain.jsonl"].splitlines()]
    del chain[len(chain) // 2]
    files["audit/chain.jsonl"] = "".join(json.dumps(c) + "\n" for c in chain).encode()
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as pack:
        for name, data in files.items():
            pack.writestr(name, data)
    problems = verify_pack(forged)
    assert any("does not match its hash" in p for p in problems)
    assert any("chain broken" in p for p in problems)


def test_without_a_receipt_the_pack_says_none_exists(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pending = _flag(world, tmp_path, "pending")
    nothing = _flag(world, tmp_path, "unseen", unseen_image())
    for record, statement in ((pending, "No consent receipt exists for ines-pending revision 1"),
                              (nothing, "matches no render in this library")):
        out = tmp_path / f"pack-{record.id}.zip"
        EvidenceService(world.library).export(record.id, out)
        with zipfile.ZipFile(out) as pack:
            assert statement in pack.read("receipts/NONE.txt").decode()
            assert not [n for n in pack.namelist() if n.endswith(".json")
                        and n.startswith("receipts/")]


def test_who_may_export_and_the_export_is_audited(world, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    record = _flag(world, tmp_path, "revoked")
    with pytest.raises(PermissionRefused, match="may not export evidence about ines-duarte"):
        EvidenceService(world.library).export(record.id, tmp_path / "x.zip",
                                              session=world.session("director"))
    assert not (tmp_path / "x.zip").exists()
    out = tmp_path / "cli.zip"
    assert main(world.cli("evidence", str(record.id), "--out", str(out), "--as",
                          PROFILES["talent"])) == 0
    assert "wrote the evidence pack of flag" in capsys.readouterr().out
    with zipfile.ZipFile(out) as pack:
        revocations = [n for n in pack.namelist() if n.endswith("-revocation.json")]
    assert len(revocations) == 1
    assert main(world.cli("evidence", str(record.id), "--out", str(out), "--as",
                          PROFILES["other_agent"])) == 1
    assert "may not see flag" in capsys.readouterr().err
    from reviewer.storage import audit

    with world.library.engine.connect() as conn:
        exported = [e for e in audit.entries(conn, subject=f"flag:{record.id}")
                    if e.action == "evidence.exported"]
        assert audit.verify(conn) is None
    assert len(exported) == 1 and exported[0].actor == PROFILES["talent"]


def test_migration_0003_fingerprints_the_renders_of_an_existing_library(world) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from reviewer.storage import database
    from reviewer.storage.library import Library
    from reviewer.storage.schema import assets, render_fingerprints

    root = world.root
    world.library.close()
    engine = database.create_engine(f"sqlite:///{root / 'library.db'}")
    with engine.begin() as conn:
        command.downgrade(database.alembic_config(conn), "0002")
        tables = set(sa.inspect(conn).get_table_names())
        missing = conn.execute(sa.select(assets.c.sha256).where(
            assets.c.request_id == request_id("pending"))).scalar_one()
    engine.dispose()
    assert "render_fingerprints" not in tables and "flags" not in tables
    # One render's file has gone missing: the migration goes on without it.
    object_path = root / "objects" / missing[:2] / missing[2:]
    object_path.chmod(0o644)
    kept = object_path.read_bytes()
    object_path.unlink()
    with Library.open(root) as library, library.engine.connect() as conn:  # migrates
        done = set(conn.execute(sa.select(render_fingerprints.c.sha256)).scalars())
        renders = set(conn.execute(sa.select(assets.c.sha256).where(
            assets.c.role == "render")).scalars())
    assert done == renders - {missing}
    object_path.write_bytes(kept)
