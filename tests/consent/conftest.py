"""Fixtures of the consent tests: the world (see consent_world.py), copied for each test,
and after every test a scan of everything it wrote for a private key in the clear.

``REVIEWER_INSECURE_TEST_KDF=1`` (set in consent_world.py) lowers the Argon2 cost for the
tests' hundreds of sign-ins; see services/signing_keys.py. Subprocesses inherit it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from consent_world import (
    BRAND,
    INES,
    INES_REQUEST,
    KOFI,
    KOFI_REQUEST,
    OTHER_BRAND,
    PASSPHRASE,
    PROFILES,
    World,
    find_plain_private_keys,
    request_manifest,
    seeds_in,
)
from package_factory import make_package


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reviewer.services.imports import ImportService
    from reviewer.services.profiles import ProfileService
    from reviewer.services.review import ReviewService
    from reviewer.storage.library import Library

    base = tmp_path_factory.mktemp("consent-world")
    packages = base / "packages"
    make_package(packages / INES_REQUEST, request_manifest(INES_REQUEST, INES, BRAND))
    make_package(packages / KOFI_REQUEST, request_manifest(KOFI_REQUEST, KOFI, OTHER_BRAND))
    with Library.open(base / "library") as library:
        for path in sorted(packages.iterdir()):
            ImportService(library).import_package(path)
        profiles = ProfileService(library)
        profiles.add(PROFILES["talent"], "talent", PASSPHRASE, talent_id=INES)
        profiles.add(PROFILES["other_talent"], "talent", PASSPHRASE, talent_id=KOFI)
        profiles.add(PROFILES["agent"], "agent", PASSPHRASE, represents=[INES])
        profiles.add(PROFILES["other_agent"], "agent", PASSPHRASE, represents=[KOFI])
        profiles.add(PROFILES["director"], "director", PASSPHRASE, organisation=BRAND)
        profiles.add(PROFILES["other_director"], "director", PASSPHRASE, organisation=OTHER_BRAND)
        ines = profiles.authenticate(PROFILES["talent"], PASSPHRASE)
        ReviewService(library).approve(ines, INES_REQUEST)
    return base


@pytest.fixture
def world(world_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from reviewer.storage.library import Library

    shutil.copytree(world_template / "library", tmp_path / "library")
    shutil.copytree(world_template / "packages", tmp_path / "packages")
    monkeypatch.setenv("REVIEWER_PASSPHRASE", PASSPHRASE)
    library = Library.open(tmp_path / "library")
    packages = {p.name: p for p in (tmp_path / "packages").iterdir()}
    yield World(tmp_path / "library", packages, library)
    library.close()


@pytest.fixture(autouse=True)
def _no_private_key_in_the_clear(tmp_path: Path) -> Iterator[None]:
    yield
    assert find_plain_private_keys(tmp_path, seeds_in(tmp_path)) == []
