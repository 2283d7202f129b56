"""Content-addressed files: ``objects/ab/cdef…`` named by the SHA-256 of their bytes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ObjectStore:
    """Immutable blobs keyed by SHA-256. Writing is atomic: a temp file, fsync, rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def __contains__(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_file(self, source: Path, expected_sha256: str | None = None) -> str:
        """Copy *source* in and return its digest; verify it against *expected_sha256*."""
        digest = hashlib.sha256()
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            if expected_sha256 is not None and sha != expected_sha256:
                raise ValueError(f"{source.name} changed while it was being stored")
            final = self.path_for(sha)
            if final.exists():
                tmp.unlink()
            else:
                final.parent.mkdir(exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, final)
                _fsync_dir(final.parent)
            return sha
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def verify(self, sha256: str) -> bool:
        """True when the stored bytes still hash to their name."""
        path = self.path_for(sha256)
        return path.is_file() and file_sha256(path) == sha256

    def all_digests(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {
            sub.name + f.name
            for sub in self.root.iterdir()
            if sub.is_dir() and len(sub.name) == 2
            for f in sub.iterdir()
            if _SHA256.match(sub.name + f.name)
        }

    def remove_incoming_leftovers(self) -> int:
        """Delete temp files left by a process that died while writing; returns how many."""
        if not self.root.is_dir():
            return 0
        leftovers = list(self.root.glob(".incoming-*"))
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    def remove(self, sha256: str) -> None:
        path = self.path_for(sha256)
        if path.exists():
            os.chmod(path, 0o644)
            path.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
