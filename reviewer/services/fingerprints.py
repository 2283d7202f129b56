"""Render fingerprints in a library: made at import, looked up by ``check-image``.

Fingerprints are keyed by the render's SHA-256, so a render that two requests share is
fingerprinted once. The lookup index (every render's crop-grid hashes in numpy arrays) is
built once per process and library and rebuilt only when the fingerprints changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from reviewer.assets.fingerprints import (
    SCHEME,
    FingerprintError,
    HashIndex,
    RenderFingerprint,
    fingerprint_render,
    hex64,
    thumbnail_from_png,
    thumbnail_to_png,
    variants_from_bytes,
    variants_to_bytes,
)
from reviewer.assets.package import CheckedPackage, PackageError
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import assets, render_fingerprints


def fingerprint_package(package: CheckedPackage) -> dict[str, RenderFingerprint]:
    """Fingerprints of the package's renders by SHA-256; raises :class:`PackageError` naming
    the render that cannot be fingerprinted. CPU work: done before the import's transaction."""
    prints: dict[str, RenderFingerprint] = {}
    for asset in package.assets:
        if asset.entry.role.value != "render" or asset.file.sha256 in prints:
            continue
        try:
            prints[asset.file.sha256] = fingerprint_render(asset.file.local)
        except FingerprintError as exc:
            raise PackageError(package.name, f"cannot be fingerprinted: {exc}",
                               asset.file.path) from None
    return prints


def store_fingerprints(
    conn: sa.Connection, prints: dict[str, RenderFingerprint], *, at: str | None = None
) -> int:
    """Insert the fingerprints not stored yet (or stored by another scheme) in the caller's
    transaction; returns how many were written."""
    if not prints:
        return 0
    existing = dict(
        conn.execute(
            sa.select(render_fingerprints.c.sha256, render_fingerprints.c.scheme).where(
                render_fingerprints.c.sha256.in_(list(prints))
            )
        ).all()
    )
    now = at or audit.utc_now()
    written = 0
    for sha, fingerprint in prints.items():
        if existing.get(sha) == SCHEME:
            continue
        if sha in existing:
            conn.execute(render_fingerprints.delete().where(render_fingerprints.c.sha256 == sha))
        conn.execute(render_fingerprints.insert().values(
            sha256=sha,
            scheme=SCHEME,
            width=fingerprint.width,
            height=fingerprint.height,
            phash=hex64(fingerprint.phash),
            dhash=hex64(fingerprint.dhash),
            variants=variants_to_bytes(fingerprint.variants),
            thumbnail=thumbnail_to_png(fingerprint.thumbnail),
            created_at=now,
        ))
        written += 1
    return written


def missing_fingerprints(library: Library) -> list[str]:
    """Renders (by SHA-256) with no fingerprint of the current scheme."""
    with library.reader.connect() as conn:
        current = sa.select(render_fingerprints.c.sha256).where(
            render_fingerprints.c.scheme == SCHEME
        )
        return list(
            conn.execute(
                sa.select(assets.c.sha256)
                .where(assets.c.role == "render", assets.c.sha256.not_in(current))
                .distinct()
                .order_by(assets.c.sha256)
            ).scalars()
        )


def backfill(library: Library) -> tuple[int, list[str]]:
    """Fingerprint every render that has none (a library migrated without its objects at
    hand, a changed scheme). Returns how many were made and the renders that could not be
    read (their stored file is missing or damaged)."""
    missing = missing_fingerprints(library)
    if not missing:
        return 0, []
    prints: dict[str, RenderFingerprint] = {}
    unreadable: list[str] = []
    for sha in missing:
        path = library.objects.path_for(sha)
        try:
            prints[sha] = fingerprint_render(path)
        except FingerprintError:
            unreadable.append(sha)
    with library.engine.begin() as conn:
        written = store_fingerprints(conn, prints)
    return written, unreadable


# The lookup index -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Generation:
    count: int
    low: int | None
    high: int | None


class FingerprintIndex:
    """Every fingerprint of one library, ready for lookup; thumbnails fetched on demand."""

    THUMBNAILS_KEPT = 256

    def __init__(self, library: Library, index: HashIndex, generation: _Generation) -> None:
        self.library = library
        self.hashes = index
        self.generation = generation
        self._thumbnails: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.hashes)

    def thumbnails(self, shas: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(shas))
        with self._lock:
            out = {s: self._thumbnails[s] for s in wanted if s in self._thumbnails}
        missing = [s for s in wanted if s not in out]
        if missing:
            with self.library.reader.connect() as conn:
                rows = conn.execute(
                    sa.select(render_fingerprints.c.sha256, render_fingerprints.c.thumbnail)
                    .where(render_fingerprints.c.sha256.in_(missing))
                ).all()
            with self._lock:
                for sha, data in rows:
                    thumb = thumbnail_from_png(data)
                    out[sha] = thumb
                    self._thumbnails[sha] = thumb
                    while len(self._thumbnails) > self.THUMBNAILS_KEPT:
                        self._thumbnails.popitem(last=False)
        return out


_INDEXES: dict[Path, FingerprintIndex] = {}
_INDEXES_LOCK = threading.Lock()


def _generation(conn: sa.Connection) -> _Generation:
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(render_fingerprints.c.scheme),
            sa.func.max(render_fingerprints.c.scheme),
        )
    ).one()
    return _Generation(int(row[0]), row[1], row[2])


def load_index(library: Library) -> FingerprintIndex:
    """The library's fingerprint index, built once per process and rebuilt when fingerprints
    were added or redone since. Building it first fingerprints any render that has none
    (see :func:`backfill`)."""
    with library.reader.connect() as conn:
        generation = _generation(conn)
    with _INDEXES_LOCK:
        cached = _INDEXES.get(library.root)
    if cached is not None and cached.generation == generation:
        return cached
    if backfill(library)[0]:
        with library.reader.connect() as conn:
            generation = _generation(conn)
    with library.reader.connect() as conn:
        rows = conn.execute(
            sa.select(render_fingerprints.c.sha256, render_fingerprints.c.variants)
            .where(render_fingerprints.c.scheme == SCHEME)
            .order_by(render_fingerprints.c.sha256)
        ).all()
    index = FingerprintIndex(library, index_from_rows(rows), generation)
    with _INDEXES_LOCK:
        _INDEXES[library.root] = index
    return index


def index_from_rows(rows: Iterable[tuple[str, bytes]]) -> HashIndex:
    """A :class:`HashIndex` from (sha256, variants) rows; one ``frombuffer`` for them all."""
    rows = list(rows)
    if not rows:
        return HashIndex.build([])
    blob = b"".join(bytes(variants) for _, variants in rows)
    stacked = variants_from_bytes(blob).reshape(len(rows), -1, 2)
    return HashIndex(
        [sha for sha, _ in rows],
        np.ascontiguousarray(stacked[:, :, 0]),
        np.ascontiguousarray(stacked[:, :, 1]),
    )
