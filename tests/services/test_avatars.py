"""A library keeps each avatar stored, ready to map: made at import, remade when missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from package_factory import base_manifest, make_package

from reviewer.assets.meshes import load_avatar
from reviewer.services.avatars import STORE_FOLDER, open_avatar
from reviewer.services.imports import ImportService
from reviewer.services.queries import (
    asset_local_path,
    list_requests,
    request_assets,
    texture_local_path,
)


def _stored_files(root: Path) -> list[Path]:
    folder = root.joinpath(*STORE_FOLDER)
    return sorted(folder.rglob("*.twinavatar")) if folder.exists() else []


def _avatar_asset(library):  # type: ignore[no-untyped-def]
    summary = list_requests(library)[0]
    return next(a for a in request_assets(library, summary.id) if a.role == "avatar")


def _same_geometry(a, b) -> None:  # type: ignore[no-untyped-def]
    assert len(a.parts) == len(b.parts)
    for pa, pb in zip(a.parts, b.parts, strict=True):
        assert np.array_equal(np.asarray(pa.mesh.points), np.asarray(pb.mesh.points))
        assert np.array_equal(pa.mesh.regular_faces, pb.mesh.regular_faces)
    assert a.bounds == b.bounds and a.up_axis == b.up_axis


def test_an_import_stores_its_avatar_and_opening_maps_it(library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    package = make_package(tmp_path / "pkg", base_manifest())
    ImportService(library).import_package(package)
    stored = _stored_files(library.root)
    assert len(stored) == 1
    asset = _avatar_asset(library)
    avatar = open_avatar(library, asset)
    assert avatar.stored == stored[0]
    assert avatar.source == asset_local_path(library, asset)
    original = load_avatar(
        asset_local_path(library, asset), texture=texture_local_path(library, asset)
    )
    _same_geometry(original, avatar)
    # Imported again: nothing new to store.
    ImportService(library).import_package(package)
    assert _stored_files(library.root) == stored


def test_a_library_without_stored_avatars_makes_them_on_opening(library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ImportService(library).import_package(make_package(tmp_path / "pkg", base_manifest()))
    shutil.rmtree(library.root.joinpath(*STORE_FOLDER))
    asset = _avatar_asset(library)
    avatar = open_avatar(library, asset)
    assert avatar.stored is not None and avatar.stored.exists()
    assert _stored_files(library.root) == [avatar.stored]


def test_a_damaged_original_is_not_hidden_by_its_stored_copy(library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    from reviewer.assets.meshes import MeshError

    ImportService(library).import_package(make_package(tmp_path / "pkg", base_manifest()))
    asset = _avatar_asset(library)
    open_avatar(library, asset)
    path = library.objects.path_for(asset.sha256)
    os.chmod(path, 0o644)
    path.write_bytes(b"these bytes are not what was imported")
    shutil.rmtree(library.root / "cache" / "layout", ignore_errors=True)
    with pytest.raises(MeshError):
        open_avatar(library, asset)


def test_demo_library_avatars_are_all_stored(demo_library_dir: Path) -> None:
    from reviewer.storage.library import Library

    with Library.open(demo_library_dir) as library:
        avatars = [
            a
            for s in list_requests(library)
            for a in request_assets(library, s.id)
            if a.role == "avatar"
        ]
        before = _stored_files(library.root)
        opened = {open_avatar(library, a).stored for a in avatars}
        assert opened == set(before) and None not in opened
        assert _stored_files(library.root) == before


def test_an_import_stores_a_big_avatars_proxy_too(library, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import reviewer.services.avatars as avatars_service
    from reviewer.render.proxy import (
        PROXY_TEXTURE_SIZE,
        PROXY_TRIANGLES,
        prepare_for_display,
        stored_proxy_path,
    )

    # Every avatar counts as big here (a real one would need half a million triangles).
    monkeypatch.setattr(avatars_service, "PROXY_ABOVE_TRIANGLES", 0)
    ImportService(library).import_package(make_package(tmp_path / "pkg", base_manifest()))
    avatar = open_avatar(library, _avatar_asset(library))
    proxy_file = stored_proxy_path(avatar, PROXY_TRIANGLES, PROXY_TEXTURE_SIZE)
    assert proxy_file is not None and proxy_file.exists()
    made_at = proxy_file.stat().st_mtime_ns
    display = prepare_for_display(avatar, proxy_above=0)
    assert display.proxy is not None and proxy_file.stat().st_mtime_ns == made_at
