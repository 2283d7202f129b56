"""``reviewer audit verify`` on a real library whose log is tampered with through sqlite3."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from package_factory import make_package, render_only_manifest

from reviewer.cli import main


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library whose log holds 6 entries: 3 talents registered, 3 requests imported."""
    work = tmp_path_factory.mktemp("audit")
    library = work / "library"
    for i in range(3):
        package = make_package(
            work / f"pkg{i}",
            render_only_manifest(id=f"req-{i}", talent=f"talent-{i}", campaign=f"Campaign {i}"),
        )
        assert main(["--library", str(library), "import", str(package)]) == 0
    return library


@pytest.fixture
def library_dir(template: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(template, tmp_path / "library"))


@pytest.fixture
def db(library_dir: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(library_dir / "library.db", isolation_level=None)
    yield conn
    conn.close()


def verify(library_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--library", str(library_dir), "audit", "verify"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_log_has_what_the_fixture_expects(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT seq, action FROM audit_log ORDER BY seq").fetchall()
    assert [a for _, a in rows] == ["talent.registered", "request.imported"] * 3
    assert [s for s, _ in rows] == [1, 2, 3, 4, 5, 6]
    assert db.execute("SELECT count FROM audit_head").fetchone() == (6,)


def test_an_intact_log_verifies(library_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(library_dir, capsys)
    assert (code, err) == (0, "")
    assert "intact" in out and "6 entries" in out


def test_an_intact_log_verifies_in_a_real_process(library_dir: Path) -> None:
    script = Path(sys.executable).with_name("reviewer")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reviewer"]
    result = subprocess.run(
        [*command, "--library", str(library_dir), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


TAMPERING = [  # (SQL, the first bad entry verify must name, a word of its reason)
    pytest.param(
        (
            "UPDATE audit_log SET details = replace(details, '\"revision\": 1', "
            "'\"revision\": 7') WHERE seq = 4",
            4,
            "edited",
        ),
        id="edit-details",
    ),
    pytest.param(
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", 2, "edited"), id="edit-actor"
    ),
    pytest.param(
        ("UPDATE audit_log SET at = '2020-01-01T00:00:00Z' WHERE seq = 1", 1, "edited"),
        id="edit-time-of-first",
    ),
    pytest.param(
        ("UPDATE audit_log SET subject = 'request:other' WHERE seq = 6", 6, "edited"),
        id="edit-last",
    ),
    pytest.param(
        ("UPDATE audit_log SET hash = 'ab' || substr(hash, 3) WHERE seq = 3", 3, None),
        id="edit-stored-hash",
    ),
    pytest.param(("DELETE FROM audit_log WHERE seq = 3", 3, "missing"), id="delete-middle"),
    pytest.param(("DELETE FROM audit_log WHERE seq = 1", 1, "missing"), id="delete-first"),
    pytest.param(("DELETE FROM audit_log WHERE seq = 6", 6, "missing"), id="delete-last"),
    pytest.param(("DELETE FROM audit_log WHERE seq >= 5", 5, "missing"), id="delete-tail"),
    pytest.param(
        (
            "UPDATE audit_log SET seq = -1 WHERE seq = 2; "
            "UPDATE audit_log SET seq = 2 WHERE seq = 3; "
            "UPDATE audit_log SET seq = 3 WHERE seq = -1",
            2,
            None,
        ),
        id="swap-2-and-3",
    ),
    pytest.param(
        (
            "UPDATE audit_log SET seq = -1 WHERE seq = 5; "
            "UPDATE audit_log SET seq = 5 WHERE seq = 6; "
            "UPDATE audit_log SET seq = 6 WHERE seq = -1",
            5,
            None,
        ),
        id="swap-last-two",
    ),
    pytest.param(("DELETE FROM audit_head", 6, "head"), id="delete-head-record"),
]


@pytest.mark.parametrize("tampering", TAMPERING)
def test_tampering_is_found_and_the_first_bad_entry_named(
    tampering: tuple[str, int, str | None],
    db: sqlite3.Connection,
    library_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sql, first_bad, reason = tampering
    db.executescript(sql)
    assert db.total_changes > 0  # the tampering took effect
    code, out, err = verify(library_dir, capsys)
    assert code == 1
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert f"audit entry {first_bad}:" in err
    assert "audit log broken" in err
    if reason is not None:
        assert reason in err


def test_deleting_the_last_entry_and_fixing_the_head_is_caught(
    db: sqlite3.Connection, library_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The head remembers the hash of the last entry, not only the count.
    prev = db.execute("SELECT hash FROM audit_log WHERE seq = 5").fetchone()[0]
    db.executescript("DELETE FROM audit_log WHERE seq = 6")
    db.execute("UPDATE audit_head SET count = 5, hash = ?", (prev + "x",))
    code, _, err = verify(library_dir, capsys)
    assert code == 1
    assert "audit entry 5:" in err


def test_a_tampered_log_is_refused_in_a_real_process(
    db: sqlite3.Connection, library_dir: Path
) -> None:
    db.executescript("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
    script = Path(sys.executable).with_name("reviewer")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reviewer"]
    result = subprocess.run(
        [*command, "--library", str(library_dir), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "audit entry 4:" in result.stderr
    assert "Traceback" not in result.stderr
