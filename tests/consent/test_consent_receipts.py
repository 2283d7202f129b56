"""Receipts: round trip, one flipped byte anywhere fails, a changed asset is named, a
receipt signed by a key that is not the talent's fails, and the docs' example works."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from consent_world import INES, INES_REQUEST, KOFI_REQUEST, World
from package_factory import write_png, zip_folder

from reviewer.cli import main
from reviewer.domain.receipt import receipt_file_bytes, signed_bytes, talent_part, with_signature
from reviewer.services.receipts import ReceiptService, verify_receipt
from reviewer.services.refusals import NotFound
from reviewer.services.review import ReviewService
from reviewer.services.signing_keys import new_signing_key, public_key_bytes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "receipt.md"


def export(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "receipt.json"
    assert main(world.cli("receipt", INES_REQUEST, "--out", str(out))) == 0
    capsys.readouterr()
    return out


def test_round_trip(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = export(world, tmp_path, capsys)
    receipt = json.loads(out.read_bytes())
    assert receipt["kind"] == "decision" and receipt["request"]["id"] == INES_REQUEST
    assert main(world.cli("verify", str(out), "--package", str(world.packages[INES_REQUEST]))) == 0
    text = capsys.readouterr().out
    assert "signature: valid (Ed25519" in text
    assert "key: the active registered key of talent ines-duarte" in text
    assert "package: all 2 files match" in text and text.endswith("verified\n")
    # Without any library: the signature alone, and it says so.
    result = verify_receipt(out.read_bytes())
    assert result.ok and any("no library" in n for n in result.notes)


def test_every_single_flipped_byte_fails(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = export(world, tmp_path, capsys).read_bytes()
    assert verify_receipt(raw).ok
    for position in range(len(raw)):
        for mask in (0x01, 0x20, 0x80):
            flipped = bytearray(raw)
            flipped[position] ^= mask
            assert not verify_receipt(bytes(flipped)).ok, (position, mask, raw[position:][:20])


def test_a_changed_field_signature_or_key_is_named(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(world, tmp_path, capsys)
    original = out.read_bytes()
    document = json.loads(original)
    fingerprint = document["talent"]["key_fingerprint"]
    signature = document["signature"]["value"]
    cases = {
        "field": original.replace(b'"verdict":"approved"', b'"verdict":"rejected"'),
        # Change the signature itself (its first two hex digits), not the first place
        # elsewhere in the document where those two characters happen to occur.
        "signature": original.replace(
            signature.encode(),
            (("ff" if not signature.startswith("ff") else "00") + signature[2:]).encode(),
        ),
        "key": original.replace(fingerprint.encode(), fingerprint[::-1].encode()),
        "form": json.dumps(document, indent=1).encode(),
    }
    expected = {
        "field": "signature: does not match",
        "signature": "signature: does not match",
        "key": "key: the fingerprint does not belong",
        "form": "not in canonical form",
    }
    for name, data in cases.items():
        (tmp_path / f"{name}.json").write_bytes(data)
        assert main(world.cli("verify", str(tmp_path / f"{name}.json"))) == 1, name
        err = capsys.readouterr().err
        assert f"reviewer: {name}.json: " in err and expected[name] in err, err


def test_a_package_with_one_changed_asset_names_that_asset(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(world, tmp_path, capsys)
    package = tmp_path / "changed"
    shutil.copytree(world.packages[INES_REQUEST], package)
    write_png(package / "renders" / "look1-front.png", colour=(0, 0, 255))
    for target in (package, zip_folder(package, tmp_path / "changed.zip")):
        assert main(world.cli("verify", str(out), "--package", str(target))) == 1
        err = capsys.readouterr().err
        assert err.splitlines()[0].startswith(
            "reviewer: receipt.json: package: asset renders/look1-front.png does not match "
            "(receipt "
        )
        assert "look1-side" not in err and "NOT VERIFIED: 1 problem" in err


def test_missing_files_and_changed_terms_are_named(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(world, tmp_path, capsys)
    package = tmp_path / "p"
    shutil.copytree(world.packages[INES_REQUEST], package)
    (package / "renders" / "look1-side.jpg").unlink()
    manifest = json.loads((package / "request.json").read_text())
    manifest["fee"]["amount"] = "10.00"
    (package / "request.json").write_text(json.dumps(manifest))
    result = verify_receipt(out.read_bytes(), package=package)
    assert result.problems == [
        "package: asset renders/look1-side.jpg is missing",
        "package: request.json does not match: its terms differ from those decided on",
    ]
    # The same terms in another layout are the same terms.
    shutil.copytree(world.packages[INES_REQUEST], tmp_path / "q")
    manifest = json.loads((tmp_path / "q" / "request.json").read_text())
    (tmp_path / "q" / "request.json").write_text(json.dumps(manifest, indent=4))
    result = verify_receipt(out.read_bytes(), package=tmp_path / "q")
    assert result.ok and "package: request.json differs in layout, not in content" in result.notes


def test_a_receipt_signed_by_a_key_that_is_not_the_talents_fails(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(export(world, tmp_path, capsys).read_bytes())
    del document["signature"]
    impostor = new_signing_key()
    document["talent"] = talent_part(
        talent_id=INES, name="Ines Duarte", public_key=public_key_bytes(impostor)
    )
    forged = with_signature(document, impostor.sign(signed_bytes(document)))
    (tmp_path / "forged.json").write_bytes(receipt_file_bytes(forged))
    assert main(world.cli("verify", str(tmp_path / "forged.json"))) == 1
    out, err = capsys.readouterr()
    assert "signature: valid" in out  # the signature holds, for the wrong key
    assert (
        f"key: {document['talent']['key_fingerprint']} is not a registered key of talent "
        f"{INES}" in err
    )


def test_a_revoked_approval_is_reported_and_its_revocation_verifies(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    approval = export(world, tmp_path, capsys)
    ReviewService(world.library).revoke(world.session("talent"), INES_REQUEST, reason="Misused")
    assert main(world.cli("verify", str(approval))) == 0
    assert "status: this approval was REVOKED on" in capsys.readouterr().out
    assert main(world.cli("receipt", INES_REQUEST, "--out", str(tmp_path / "rev.json"))) == 0
    assert "wrote the revocation receipt" in capsys.readouterr().out
    assert main(world.cli("verify", str(tmp_path / "rev.json"))) == 0
    assert "revocation of receipt" in capsys.readouterr().out
    # The earlier receipt stays available by its id.
    receipt_id = json.loads(approval.read_bytes())["receipt_id"]
    assert (
        main(
            world.cli(
                "receipt", INES_REQUEST, "--id", receipt_id, "--out", str(tmp_path / "again.json")
            )
        )
        == 0
    )
    assert (tmp_path / "again.json").read_bytes() == approval.read_bytes()


def test_no_receipt_before_a_decision(world: World) -> None:
    with pytest.raises(NotFound, match="has no decision yet"):
        ReceiptService(world.library).receipt(KOFI_REQUEST)


def test_verify_in_a_separate_process_without_a_library(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(world, tmp_path, capsys)
    env = {k: v for k, v in os.environ.items() if k != "REVIEWER_LIBRARY"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "--library",
            str(tmp_path / "no-library-here"),
            "verify",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "checked against the key in the receipt only" in run.stdout
    assert not (tmp_path / "no-library-here").exists()  # verify never creates a library
    out.write_bytes(out.read_bytes().replace(b"approved", b"APPROVED", 1))
    run = subprocess.run(
        [sys.executable, "-m", "reviewer", "verify", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert "NOT VERIFIED" in run.stderr


def test_the_example_in_the_docs_verifies_a_receipt(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(world, tmp_path, capsys)
    [example] = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert len(example.splitlines()) <= 25
    script = tmp_path / "check.py"
    script.write_text(example)
    good = subprocess.run(
        [sys.executable, str(script), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert good.returncode == 0 and "valid signature by key" in good.stdout, good.stderr
    out.write_bytes(out.read_bytes().replace(b'"revision":1', b'"revision":2'))
    bad = subprocess.run(
        [sys.executable, str(script), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and "does NOT match" in bad.stderr
