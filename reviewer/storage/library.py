"""A library: one folder holding the database and the content-addressed asset store."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import sqlalchemy as sa

from reviewer.domain.canonical import canonical_json, sha256_hex
from reviewer.storage import database
from reviewer.storage.objects import ObjectStore
from reviewer.storage.schema import asset_files, assets, flags

DB_NAME = "library.db"
APP_NAME = "twin-reviewer"
STALE_CACHE_FILE_S = 3600.0


def default_library_dir() -> Path:
    """``$REVIEWER_LIBRARY``, else ``<user data dir>/twin-reviewer/library``."""
    env = os.environ.get("REVIEWER_LIBRARY")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "library"


class LibraryError(Exception):
    pass


class Library:
    """Open with :meth:`open` (creates and migrates) or :meth:`open_existing`."""

    def __init__(self, root: Path, engine: sa.Engine) -> None:
        self.root = root
        self.engine = engine
        self.reader = database.reader(engine)
        self.objects = ObjectStore(root / "objects")

    @classmethod
    def open(cls, root: Path, *, url: str | None = None) -> Library:
        root = root.expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        engine = database.create_engine(url or f"sqlite:///{root / DB_NAME}")
        database.upgrade(engine)
        library = cls(root, engine)
        library.remove_leftovers()
        return library

    @classmethod
    def exists_at(cls, root: Path) -> bool:
        return (root / DB_NAME).is_file()

    @classmethod
    def open_existing(cls, root: Path) -> Library:
        if not cls.exists_at(root):
            raise LibraryError(f"{root}: no library here (run `reviewer demo` or import a package)")
        return cls.open(root)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Writes to the object store happen under this lock, so that clean-up of objects left by
    # a killed import never races a live one.
    @contextlib.contextmanager
    def write_lock(self, *, blocking: bool = True) -> Iterator[bool]:
        lock_path = self.root / ".write.lock"
        with open(lock_path, "a+b") as handle:
            flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(handle, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_leftovers(self) -> None:
        """Remove what a killed import may have left: temp files and unreferenced objects."""
        if not (
            (self.root / ".write.lock").exists()
            or self.objects.root.exists()
            or (self.root / "cache").exists()
        ):
            return
        with self.write_lock(blocking=False) as locked:
            if not locked:
                return
            self.objects.remove_incoming_leftovers()
            staging = self.root / "staging"
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
            self._remove_stale_cache_files()
            stored = self.objects.all_digests()
            if not stored:
                return
            for sha in stored - self.referenced_digests():
                self.objects.remove(sha)

    def _remove_stale_cache_files(self) -> None:
        """Temporary files in ``cache`` (a stored avatar being written, see
        ``reviewer.assets.stored_avatar``) that nobody finished: their writer was killed. A
        writer that is still at it is never an hour old."""
        cache = self.root / "cache"
        if not cache.is_dir():
            return
        cutoff = time.time() - STALE_CACHE_FILE_S
        for leftover in cache.rglob(".*.tmp"):
            with contextlib.suppress(OSError):
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def referenced_digests(self) -> set[str]:
        with self.reader.connect() as conn:
            digests = set(conn.execute(sa.select(assets.c.sha256)).scalars())
            digests |= set(conn.execute(sa.select(asset_files.c.sha256)).scalars())
        return digests | self.extra_referenced_digests()

    def extra_referenced_digests(self) -> set[str]:
        """Objects kept by other features (evidence images, ...); extended as they arrive."""
        with self.reader.connect() as conn:
            return set(conn.execute(sa.select(flags.c.evidence_sha256)).scalars())


def lay_out_files(library: Library, files: dict[str, str]) -> Path:
    """Hard-link (or copy) stored objects into a folder under their package-relative paths.

    An OBJ finds its MTL and maps, a glTF its buffers, exactly where the package put them.
    The folder is derived and disposable (``cache/layout``); the objects stay the truth.
    """
    key = sha256_hex(canonical_json(sorted([p, s] for p, s in files.items())))
    folder = library.root / "cache" / "layout" / key[:32]
    done = folder / ".complete"
    if done.exists():
        return folder
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, sha in files.items():
        target = tmp.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        source = library.objects.path_for(sha)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    (tmp / ".complete").touch()
    try:
        os.replace(tmp, folder)
    except OSError:  # another process laid it out first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
