"""Profiles: adding and listing, Argon2id passphrases, sealed signing keys, signing in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from consent_world import INES, PASSPHRASE, PROFILES, World, find_plain_private_keys
from package_factory import snapshot

from reviewer.cli import main
from reviewer.services.profiles import ProfileService
from reviewer.services.refusals import AuthenticationFailed
from reviewer.services.signing_keys import (
    DEFAULT_COST,
    TEST_KDF_VARIABLE,
    WrongPassphrase,
    kdf_cost,
    open_sealed_key,
)
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import profiles, talent_keys


def library_state(library: Library) -> dict[str, bytes]:
    library.close()  # checkpoints the WAL, so that the files say everything
    files = snapshot(library.root)
    files.pop(".write.lock", None)
    return files


def test_profiles_are_added_and_listed_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REVIEWER_PASSPHRASE", PASSPHRASE)
    lib = ["--library", str(tmp_path / "lib")]
    assert main([*lib, "profile", "add", "Ines Duarte", "--role", "talent", "--talent", INES]) == 0
    assert (
        main(
            [
                *lib,
                "profile",
                "add",
                "Sam Okafor",
                "--role",
                "agent",
                "--represents",
                f"{INES},kofi-mensah",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                *lib,
                "profile",
                "add",
                "Mara Lind",
                "--role",
                "director",
                "--organisation",
                "Brand Studio",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main([*lib, "profile", "list", "--json"]) == 0
    listed = {p["name"]: p for p in map(json.loads, capsys.readouterr().out.splitlines())}
    assert listed["Ines Duarte"]["role"] == "talent"
    assert listed["Ines Duarte"]["talent"] == INES
    assert len(listed["Ines Duarte"]["key_fingerprint"]) == 64
    assert listed["Sam Okafor"]["represents"] == [INES, "kofi-mensah"]
    assert listed["Mara Lind"]["organisation"] == "Brand Studio"
    assert main([*lib, "profile", "list"]) == 0
    table = capsys.readouterr().out
    assert "director at Brand Studio" in table and "agent for ines-duarte, kofi-mensah" in table
    with Library.open(tmp_path / "lib") as library, library.engine.connect() as conn:
        hashes = conn.execute(sa.select(profiles.c.passphrase_hash)).scalars().all()
        actions = [e.action for e in audit.entries(conn)]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert actions.count("profile.added") == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Ines Duarte", "--role", "agent", "--represents", "x"], "already exists"),
        (["Ines Again", "--role", "talent", "--talent", INES], "already has a profile"),
        (["Nobody", "--role", "talent"], "needs --talent"),
        (["Nobody", "--role", "talent", "--talent", "../etc"], "needs --talent"),
        (["Nobody", "--role", "agent"], "needs --represents"),
        (["Nobody", "--role", "director"], "needs --organisation"),
        (["Nobody", "--role", "director", "--organisation", "X", "--talent", INES], "no --talent"),
    ],
)
def test_bad_profiles_are_refused_and_change_nothing(
    world: World, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = library_state(world.library)
    assert main(world.cli("profile", "add", *args)) == 1
    assert message in capsys.readouterr().err
    assert library_state(world.library) == before


def test_a_short_passphrase_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REVIEWER_PASSPHRASE", "short")
    assert (
        main(world.cli("profile", "add", "New", "--role", "director", "--organisation", "X")) == 1
    )
    assert "at least 8 characters" in capsys.readouterr().err


def test_a_wrong_passphrase_is_refused_and_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AuthenticationFailed, match="wrong passphrase for profile 'Ines Duarte'"):
        ProfileService(world.library).authenticate("Ines Duarte", "not the passphrase")
    before = library_state(world.library)
    monkeypatch.setenv("REVIEWER_PASSPHRASE", "not the passphrase")
    code = main(world.cli("decide", "fw27-knit-0007", "--approve", "--as", "Kofi Mensah"))
    assert code == 1
    assert capsys.readouterr().err == "reviewer: wrong passphrase for profile 'Kofi Mensah'\n"
    assert main(world.cli("profile", "passphrase", "Kofi Mensah")) == 1
    assert library_state(world.library) == before


def test_an_unknown_profile_is_refused_before_any_passphrase(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REVIEWER_PASSPHRASE")
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("asked"))
    assert main(world.cli("decide", "fw27-knit-0007", "--approve", "--as", "Nobody")) == 1
    assert "no profile named 'Nobody'" in capsys.readouterr().err


def test_the_passphrase_is_prompted_for_without_echo(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REVIEWER_PASSPHRASE")
    prompts = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return PASSPHRASE

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(world.cli("decide", "fw27-knit-0007", "--approve", "--as", "Kofi Mensah")) == 0
    assert prompts == ["Passphrase for Kofi Mensah: "]
    assert (
        main(world.cli("profile", "add", "Eve", "--role", "director", "--organisation", "X")) == 0
    )
    assert prompts[1:] == ["New passphrase for Eve: ", "Again: "]
    prompts.clear()
    monkeypatch.setattr("getpass.getpass", lambda p: prompts.append(p) or f"typo {len(prompts)}!")
    assert (
        main(world.cli("profile", "add", "Eve2", "--role", "director", "--organisation", "X")) == 1
    )
    assert "the two passphrases differ" in capsys.readouterr().err


def test_changing_the_passphrase_reseals_the_same_key(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = ProfileService(world.library)
    with world.library.engine.connect() as conn:
        old_row = conn.execute(sa.select(talent_keys).where(talent_keys.c.talent_id == INES)).one()
    monkeypatch.setenv("REVIEWER_NEW_PASSPHRASE", "a new passphrase 2")
    assert main(world.cli("profile", "passphrase", "Ines Duarte")) == 0
    with world.library.engine.connect() as conn:
        new_row = conn.execute(sa.select(talent_keys).where(talent_keys.c.talent_id == INES)).one()
        entries = [e.action for e in audit.entries(conn)]
    assert new_row.public_key == old_row.public_key
    assert new_row.sealed_private_key != old_row.sealed_private_key
    assert entries[-1] == "profile.passphrase_changed"
    with pytest.raises(AuthenticationFailed):
        service.authenticate("Ines Duarte", PASSPHRASE)
    session = service.authenticate("Ines Duarte", "a new passphrase 2")
    assert session.public_key.hex() == old_row.public_key
    with pytest.raises(WrongPassphrase):
        open_sealed_key(new_row.sealed_private_key, PASSPHRASE)
    # A wrong current passphrase changes nothing.
    before = library_state(world.library)
    with Library.open(world.root) as again, pytest.raises(AuthenticationFailed):
        ProfileService(again).change_passphrase(
            "Ines Duarte", "wrong passphrase", "whatever else 3"
        )
    assert library_state(world.library) == before


def test_a_sealed_key_opens_only_with_its_passphrase_and_for_its_own_key(world: World) -> None:
    with world.library.engine.connect() as conn:
        blobs = (
            conn.execute(sa.select(talent_keys.c.sealed_private_key).order_by(talent_keys.c.id))
            .scalars()
            .all()
        )
    ines, kofi = (json.loads(b) for b in blobs)
    assert ines["kdf"] == "argon2id" and ines["cipher"] == "aes-256-gcm"
    with pytest.raises(WrongPassphrase):
        open_sealed_key(blobs[0], "correct horse battery!")
    # Ines's ciphertext under Kofi's fingerprint (a swapped blob) does not open.
    swapped = json.dumps({**ines, "fingerprint": kofi["fingerprint"]})
    with pytest.raises(WrongPassphrase):
        open_sealed_key(swapped, PASSPHRASE)


def test_argon2_is_never_cheap_unless_the_tests_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEST_KDF_VARIABLE)
    assert kdf_cost() == DEFAULT_COST
    assert DEFAULT_COST.memory_cost >= 64 * 1024 and DEFAULT_COST.time_cost >= 3
    monkeypatch.setenv(TEST_KDF_VARIABLE, "yes")  # only exactly "1" lowers it
    assert kdf_cost() == DEFAULT_COST


def test_only_a_talent_session_can_sign(world: World) -> None:
    agent = world.session("agent")
    assert agent.public_key is None
    with pytest.raises(AuthenticationFailed):
        agent.sign(b"x")
    assert "signing" not in repr(world.session("talent"))  # the key is never in a repr


def test_profile_add_in_a_separate_process(tmp_path: Path) -> None:
    env = {**os.environ, "REVIEWER_PASSPHRASE": PASSPHRASE}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "--library",
            str(tmp_path / "lib"),
            "profile",
            "add",
            PROFILES["talent"],
            "--role",
            "talent",
            "--talent",
            INES,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("added profile Ines Duarte: talent ines-duarte, key ")
    assert find_plain_private_keys(tmp_path, []) == []
