"""Fixtures shared by every test: an isolated user data folder, a library, the corpus."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_API", "pyside6")
# Test-only: Argon2 at almost no cost, so that profiles and the demo library build quickly.
# Never set outside tests (see reviewer/services/signing_keys.py).
os.environ["REVIEWER_INSECURE_TEST_KDF"] = "1"

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory: pytest.TempPathFactory,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's real library, settings or caches."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("REVIEWER_LIBRARY", raising=False)
    monkeypatch.delenv("REVIEWER_PASSPHRASE", raising=False)


@pytest.fixture
def corpus() -> Path:
    """``../shared/corpus``; the test is skipped when it is absent (a clone elsewhere)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


@pytest.fixture
def library(tmp_path: Path) -> Iterator[object]:
    from reviewer.storage.library import Library

    lib = Library.open(tmp_path / "library")
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def demo_library_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reviewer.services.demo import build_demo_library

    root = tmp_path_factory.mktemp("demo-template") / "library"
    build_demo_library(root)
    return root


@pytest.fixture
def demo_library_dir(demo_library_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "demo-library"
    shutil.copytree(demo_library_template, target)
    return target
