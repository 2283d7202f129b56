"""Fixtures of the misuse tests.

``wild_library``: the demo library (built once per session: it takes seconds) with the corpus
photographs imported as renders when ``../shared/corpus`` is present; read-only. The verdict
world (module fixture in the tests that need it) is small and built from generated images.

``REVIEWER_INSECURE_TEST_KDF=1`` lowers the Argon2 cost for the tests' sign-ins, as in the
consent tests (see services/signing_keys.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from misuse_set import CORPUS, import_corpus_photos, render_cases

os.environ["REVIEWER_INSECURE_TEST_KDF"] = "1"


@pytest.fixture(scope="session")
def wild_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from reviewer.services.demo import build_demo_library
    from reviewer.storage.library import Library

    base = tmp_path_factory.mktemp("misuse-wild")
    build_demo_library(base / "library")
    library = Library.open(base / "library")
    if CORPUS.is_dir():
        import_corpus_photos(library, CORPUS, base / "packages")
    yield library
    library.close()


@pytest.fixture(scope="session")
def wild_cases(wild_library: object) -> list:
    return render_cases(wild_library)


@pytest.fixture(scope="session")
def verdict_world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import verdict_world

    return verdict_world.build(tmp_path_factory.mktemp("verdict-world"))


@pytest.fixture
def world(verdict_world_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[object]:
    """A copy of the verdict world for one test (flags change it)."""
    import shutil

    import verdict_world

    from reviewer.storage.library import Library

    shutil.copytree(verdict_world_template / "library", tmp_path / "library")
    monkeypatch.setenv("REVIEWER_PASSPHRASE", verdict_world.PASSPHRASE)
    library = Library.open(tmp_path / "library")
    yield verdict_world.World(tmp_path / "library", library)
    library.close()
