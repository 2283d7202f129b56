"""No file in a library (nor anything released from it) holds a private key in the clear.

Every consent test is followed by this scan of all it wrote (conftest.py); here a full cycle
runs through the command line in separate processes, then the scan, and the scanner is shown
to find what it looks for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from consent_world import INES_REQUEST, PASSPHRASE, World, find_plain_private_keys, seeds_in
from cryptography.hazmat.primitives import serialization

from reviewer.services.signing_keys import new_signing_key


def run(world: World, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", *world.cli(*args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "REVIEWER_PASSPHRASE": PASSPHRASE, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_full_cycle_leaves_no_private_key_in_the_clear(world: World, tmp_path: Path) -> None:
    world.library.close()
    out = run(
        world,
        "decide",
        INES_REQUEST,
        "--approve",
        "--as",
        "Ines Duarte",
        "--channels",
        "social",
        "--conditions",
        "Credit me",
    )
    assert "approved ss27-denim-0042 revision 1" in out
    run(world, "receipt", INES_REQUEST, "--out", str(tmp_path / "receipt.json"))
    run(
        world,
        "verify",
        str(tmp_path / "receipt.json"),
        "--package",
        str(world.packages[INES_REQUEST]),
    )
    run(world, "release", INES_REQUEST, "--out", str(tmp_path / "released"))
    run(
        world,
        "profile",
        "passphrase",
        "Ines Duarte",
        env={"REVIEWER_NEW_PASSPHRASE": "a new passphrase 2"},
    )
    run(
        world,
        "revoke",
        INES_REQUEST,
        "--as",
        "Ines Duarte",
        "--reason",
        "Misused",
        env={"REVIEWER_PASSPHRASE": "a new passphrase 2"},
    )
    assert "TAKE DOWN" in run(world, "takedowns")
    assert "audit log intact" in run(world, "audit", "verify")
    seeds = seeds_in(tmp_path)
    assert len(seeds) == 2  # both talents' keys were found and opened for the scan
    assert find_plain_private_keys(tmp_path, seeds) == []


def test_the_scanner_finds_plain_keys(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("leaky")  # not tmp_path: the autouse scan would object
    key = new_signing_key()
    seed = key.private_bytes_raw()
    (folder / "a.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "b.bin").write_bytes(b"xx" + seed + b"yy")
    (folder / "c.txt").write_text(f"seed: {seed.hex()}")
    (folder / "ok.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"a passphrase"),
        )
    )
    found = sorted(Path(f.split(":")[0]).name for f in find_plain_private_keys(folder, [seed]))
    assert found == ["a.pem", "b.bin", "c.txt"]
