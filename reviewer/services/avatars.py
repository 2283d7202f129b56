"""Opening a request's avatars quickly: each is kept ready to map, in the library's cache.

Parsing a 4-million-triangle GLB and decoding its texture takes most of a second; mapping the
same arrays from a stored avatar (:mod:`reviewer.assets.stored_avatar`) a few milliseconds.
An import stores each avatar it brings in (:func:`store_package_avatars`), with the proxy a
big one moves as (:mod:`reviewer.render.proxy` keeps it beside the avatar's file); opening an
avatar (:func:`open_avatar`) stores it first if it is not stored yet (libraries made before
stored avatars existed, a cache someone emptied, a stored file that is damaged). The stored
file is named by the digests of the files the avatar is made of (the mesh and its companions:
MTL, maps, buffers, texture) and the format version, so it can never show another avatar's
content, and it is derived: deleting ``cache/avatars`` loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reviewer.assets.stored_avatar import FORMAT_VERSION, SUFFIX, load_through_store
from reviewer.domain.canonical import canonical_json, sha256_hex
from reviewer.render.proxy import PROXY_ABOVE_TRIANGLES, prepare_for_display
from reviewer.services.queries import AssetView, laid_out_avatar
from reviewer.storage.library import Library

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar
    from reviewer.assets.package import CheckedPackage

log = logging.getLogger(__name__)

STORE_FOLDER = ("cache", "avatars")


def stored_avatar_path(
    library: Library, files: dict[str, str], main: str, texture: str | None
) -> Path:
    """Where the stored copy of the avatar *main* (package path) lives: *files* maps each
    package path it is made of (itself and its companions) to its SHA-256; *texture* is the
    package path of the image applied to it, if any."""
    key = sha256_hex(
        canonical_json(
            {
                "version": FORMAT_VERSION,
                "main": main,
                "texture": texture,
                "files": sorted([path, sha] for path, sha in files.items()),
            }
        )
    )
    return library.root.joinpath(*STORE_FOLDER, key[:2], key + SUFFIX)


def open_avatar(library: Library, asset: AssetView) -> Avatar:
    """Load *asset* (an avatar) for display: from its stored copy, stored first if need be.

    Raises :class:`~reviewer.assets.meshes.MeshError` if the avatar cannot be shown.
    """
    laid_out = laid_out_avatar(library, asset)
    store = stored_avatar_path(library, laid_out.files, asset.path, asset.texture_path)
    return load_through_store(
        laid_out.path,
        texture=laid_out.texture,
        store=store,
        originals=_objects(library, laid_out.files),
    )


def store_package_avatars(library: Library, package: CheckedPackage) -> None:
    """Store each avatar of *package* (checked, still open) so its first opening is fast.

    Best effort: an avatar that cannot be stored now (no room, a loader problem that the
    viewer will name when it is opened) is stored, or explained, on its first opening.
    """
    from reviewer.assets.meshes import MeshError

    for asset in package.assets:
        if asset.entry.role.value != "avatar":
            continue
        files = {asset.file.path: asset.file.sha256, **{c.path: c.sha256 for c in asset.companions}}
        texture = None
        if asset.entry.texture is not None:
            texture = next(
                (c.local for c in asset.companions if c.path == asset.entry.texture), None
            )
        store = stored_avatar_path(library, files, asset.file.path, asset.entry.texture)
        try:
            if not store.exists():
                store_avatar(
                    asset.file.local,
                    texture=texture,
                    store=store,
                    originals=_objects(library, files),
                )
        except (MeshError, OSError, MemoryError) as error:
            log.warning("could not store %s of %s: %s", asset.file.path, package.name, error)


def store_avatar(
    path: Path, *, texture: Path | None, store: Path, originals: Sequence[Path] = ()
) -> Avatar:
    """Store the avatar at *path* (with *texture*) as *store*, and its proxy if it is big
    enough to move as one; return it, read from *store*. What an import does for each avatar.
    """
    avatar = load_through_store(path, texture=texture, store=store, originals=originals)
    if avatar.triangles > PROXY_ABOVE_TRIANGLES:
        # Stores the proxy beside the avatar's file.
        prepare_for_display(avatar, proxy_above=PROXY_ABOVE_TRIANGLES)
    return avatar


def _objects(library: Library, files: dict[str, str]) -> list[Path]:
    """The object store's files behind *files* (package path → SHA-256), in a fixed order."""
    return [library.objects.path_for(sha) for _path, sha in sorted(files.items())]


__all__ = [
    "STORE_FOLDER",
    "open_avatar",
    "store_avatar",
    "store_package_avatars",
    "stored_avatar_path",
]
