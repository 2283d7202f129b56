"""Opening a request package (folder or .zip) safely and checking every file it names.

Nothing here writes to a library: :func:`open_package` yields a :class:`CheckedPackage` whose
files sit in the source folder or in a private temporary extraction, already hashed and
validated, ready for the import service to store in one go.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reviewer.assets.images import DEFAULT_MAX_PIXELS, ImageError, inspect_image
from reviewer.domain.canonical import canonical_json, sha256_hex
from reviewer.domain.manifest import (
    RENDER_SUFFIXES,
    AssetEntry,
    AssetRole,
    Manifest,
    ManifestError,
    check_relative_path,
    parse_manifest,
)

MANIFEST_NAME = "request.json"
_CHUNK = 1 << 20
# Folders nested deeper than this are refused: os.walk and Path.mkdir recurse once a level,
# so a hostile package of a thousand nested folders would crash them (RecursionError).
MAX_FOLDER_DEPTH = 64

MESH_MEDIA_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".obj": "model/obj",
    ".ply": "model/ply",
    ".stl": "model/stl",
    ".vtp": "application/vnd.vtk.vtp",
    ".vtk": "application/vnd.vtk.legacy",
}


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_files: int = 10_000
    max_total_bytes: int = 8 * 1024**3
    # A zip entry that inflates more than this many times over is treated as a bomb. Real
    # meshes and images compress 1-10×; text-heavy OBJ files rarely pass 30×.
    max_compression_ratio: float = 200.0
    max_manifest_bytes: int = 1 << 20
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    max_triangles: int = 20_000_000

    @classmethod
    def from_environment(cls, **overrides: int | None) -> ImportLimits:
        """Defaults, then ``$REVIEWER_MAX_*`` variables, then explicit *overrides*."""
        values: dict[str, int | float] = {}
        for name in (
            "max_files",
            "max_total_bytes",
            "max_manifest_bytes",
            "max_image_pixels",
            "max_triangles",
        ):
            env = os.environ.get(f"REVIEWER_{name.upper()}")
            if env:
                values[name] = int(env)
            if overrides.get(name) is not None:
                values[name] = int(overrides[name])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


class PackageError(Exception):
    """A refused package. ``str()`` is one line: package, file (when there is one), reason."""

    def __init__(self, package: str, reason: str, file: str | None = None) -> None:
        self.package = package
        self.file = file
        self.reason = reason
        package, reason = _one_line(package), _one_line(reason)
        message = f"{package}: {_one_line(file)}: {reason}" if file else f"{package}: {reason}"
        super().__init__(message)


_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    """*text* with control characters escaped (``\\n``), so a hostile name cannot add lines."""
    return _LINE_BREAKING.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


@dataclass(frozen=True, slots=True)
class PackageFile:
    path: str  # package-relative POSIX path
    local: Path  # where the bytes are now (source folder or temp extraction)
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class CheckedAsset:
    entry: AssetEntry
    file: PackageFile
    media_type: str
    companions: tuple[PackageFile, ...] = ()
    triangles: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class CheckedPackage:
    name: str
    manifest: Manifest
    manifest_sha256: str
    assets: tuple[CheckedAsset, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def content_digest(self) -> str:
        return package_digest(
            self.manifest,
            {a.file.path: a.file.sha256 for a in self.assets}
            | {c.path: c.sha256 for a in self.assets for c in a.companions},
        )


def package_digest(manifest: Manifest, files: dict[str, str]) -> str:
    """The digest a revision is known by: the manifest's content and every file's SHA-256."""
    document = {
        "manifest": manifest.model_dump(mode="json"),
        "files": sorted([path, sha] for path, sha in files.items()),
    }
    return sha256_hex(canonical_json(document))


@contextlib.contextmanager
def open_package(path: Path, limits: ImportLimits | None = None) -> Iterator[CheckedPackage]:
    """Open, bound, hash and validate the package at *path*; raise :class:`PackageError`."""
    limits = limits or ImportLimits()
    name = path.name or str(path)
    if path.is_symlink():
        raise PackageError(name, "is a link; give the package itself")
    if path.is_dir():
        files = _list_folder(path, name, limits)
        yield _check(name, path, files, limits)
    elif path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="reviewer-import-") as tmp:
            files = _extract_zip(path, name, Path(tmp), limits)
            yield _check(name, Path(tmp), files, limits)
    elif path.is_file() and path.suffix.lower() == ".zip":
        raise PackageError(name, "is not a readable zip archive (damaged or cut short?)")
    elif path.exists():
        raise PackageError(name, "is neither a folder nor a .zip package")
    else:
        raise PackageError(name, "does not exist")


def _list_folder(root: Path, name: str, limits: ImportLimits) -> dict[str, Path]:
    files: dict[str, Path] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for entry in (*dirnames, *filenames):
            full = Path(dirpath, entry)
            rel = full.relative_to(root).as_posix()
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise PackageError(name, "is a link; packages may not contain links", rel)
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise PackageError(name, "is not a regular file", rel)
            if stat.S_ISDIR(mode) and rel.count("/") >= MAX_FOLDER_DEPTH - 1:
                raise PackageError(name, f"lies more than {MAX_FOLDER_DEPTH} folders deep", rel)
            if stat.S_ISREG(mode):
                files[rel] = full
                total += full.stat().st_size
                _check_counts(name, len(files), total, limits)
    return files


def _check_counts(name: str, count: int, total: int, limits: ImportLimits) -> None:
    if count > limits.max_files:
        raise PackageError(name, f"holds more than {limits.max_files:,} files")
    if total > limits.max_total_bytes:
        raise PackageError(
            name, f"holds more than {_gib(limits.max_total_bytes)} of files (the size cap)"
        )


def _extract_zip(path: Path, name: str, dest: Path, limits: ImportLimits) -> dict[str, Path]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError(name, f"is not a readable zip archive ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_files:
            raise PackageError(name, f"holds more than {limits.max_files:,} files")
        seen: set[str] = set()
        declared = 0
        members: list[tuple[str, zipfile.ZipInfo]] = []
        for info in infos:
            raw = info.filename
            unix_mode = info.external_attr >> 16
            if stat.S_ISLNK(unix_mode):
                raise PackageError(name, "is a link; packages may not contain links", raw)
            if info.flag_bits & 0x1:
                raise PackageError(name, "is encrypted", raw)
            rel = raw.rstrip("/") if info.is_dir() else raw
            try:
                check_relative_path(rel)
            except ValueError:
                raise PackageError(
                    name, "lies outside the package (absolute path or '..')", raw
                ) from None
            if rel.count("/") >= MAX_FOLDER_DEPTH:
                raise PackageError(name, f"lies more than {MAX_FOLDER_DEPTH} folders deep", raw)
            key = rel.casefold()
            if key in seen:
                raise PackageError(name, "appears twice in the archive", raw)
            seen.add(key)
            if info.is_dir():
                continue
            declared += info.file_size
            if declared > limits.max_total_bytes:
                raise PackageError(
                    name, f"unpacks to more than {_gib(limits.max_total_bytes)} (the size cap)"
                )
            if info.file_size > _CHUNK and info.file_size > limits.max_compression_ratio * max(
                info.compress_size, 1
            ):
                raise PackageError(
                    name,
                    f"inflates {info.file_size / max(info.compress_size, 1):,.0f}× (a zip bomb?)",
                    raw,
                )
            members.append((rel, info))
        # Many entries of up to 1 MiB each escape the check above one by one; weigh them
        # together too, or a 9 MB zip of 8,000 such entries fills 8 GiB of disk.
        packed = sum(info.compress_size for _, info in members)
        if declared > _CHUNK and declared > limits.max_compression_ratio * max(packed, 1):
            raise PackageError(
                name, f"inflates {declared / max(packed, 1):,.0f}× as a whole (a zip bomb?)"
            )
        folders = {
            parent.as_posix().casefold()
            for rel, _ in members
            for parent in PurePosixPath(rel).parents
        }
        for rel, _ in members:
            if rel.casefold() in folders:
                raise PackageError(name, "is both a file and a folder in the archive", rel)
        files: dict[str, Path] = {}
        written = 0
        for rel, info in members:
            target = dest.joinpath(*PurePosixPath(rel).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, open(target, "wb") as out:
                    # Never trust the declared size: count what actually comes out.
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_total_bytes:
                            raise PackageError(
                                name,
                                "unpacks to more than "
                                f"{_gib(limits.max_total_bytes)} (the size cap)",
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
                raise PackageError(name, f"cannot be unpacked ({exc})", rel) from None
            files[rel] = target
        return files


def _check(name: str, root: Path, files: dict[str, Path], limits: ImportLimits) -> CheckedPackage:
    manifest_path = files.get(MANIFEST_NAME)
    if manifest_path is None:
        raise PackageError(name, f"has no {MANIFEST_NAME} at its top level")
    size = manifest_path.stat().st_size
    if size > limits.max_manifest_bytes:
        raise PackageError(
            name,
            f"is {size:,} bytes, over the {limits.max_manifest_bytes:,}-byte limit",
            MANIFEST_NAME,
        )
    raw = manifest_path.read_bytes()
    try:
        manifest = parse_manifest(raw)
    except ManifestError as exc:
        raise PackageError(name, str(exc), MANIFEST_NAME) from None

    by_key = {rel.casefold(): rel for rel in files}
    hashed: dict[str, PackageFile] = {}

    def package_file(rel: str, referer: str | None = None) -> PackageFile:
        actual = by_key.get(rel.casefold())
        if actual is None or (actual != rel and rel in files):
            what = (
                f"is named by {referer} but missing"
                if referer
                else "is named in the manifest but missing"
            )
            raise PackageError(name, what, rel)
        if actual != rel:
            raise PackageError(name, f"is named as {rel!r} but the file is {actual!r}", rel)
        if rel not in hashed:
            local = files[rel]
            hashed[rel] = PackageFile(rel, local, _sha256(local), local.stat().st_size)
        return hashed[rel]

    checked: list[CheckedAsset] = []
    used = {MANIFEST_NAME}
    for entry in manifest.assets:
        main = package_file(entry.path)
        used.add(entry.path)
        if entry.sha256 is not None and entry.sha256 != main.sha256:
            raise PackageError(
                name,
                f"does not match its sha256 in the manifest (is "
                f"{main.sha256[:12]}…, manifest says {entry.sha256[:12]}…)",
                entry.path,
            )
        if entry.role is AssetRole.RENDER:
            info = _image_info(name, main, limits)
            checked.append(
                CheckedAsset(entry, main, info.media_type, (), None, info.width, info.height)
            )
            continue
        companions = _avatar_companions(name, entry, main, package_file)
        for comp in companions:
            used.add(comp.path)
            if PurePosixPath(comp.path).suffix.lower() in RENDER_SUFFIXES:
                _image_info(name, comp, limits)
        triangles = _avatar_triangles(name, main, limits)
        suffix = PurePosixPath(entry.path).suffix.lower()
        checked.append(
            CheckedAsset(entry, main, MESH_MEDIA_TYPES[suffix], tuple(companions), triangles)
        )

    warnings = tuple(
        _one_line(f"{name}: {rel}: not named in the manifest; not stored")
        for rel in sorted(set(files) - used)
    )
    return CheckedPackage(name, manifest, sha256_hex(raw), tuple(checked), warnings)


def _avatar_companions(name, entry, main, package_file) -> list[PackageFile]:  # type: ignore[no-untyped-def]
    from reviewer.assets.meshes import MeshError, referenced_files

    base = PurePosixPath(entry.path).parent
    wanted: list[str] = []
    if entry.texture is not None:
        wanted.append(entry.texture)
    try:
        refs = referenced_files(main.local)
    except MeshError as exc:
        raise PackageError(name, str(exc), entry.path) from None
    for ref in refs:
        joined = _join_inside(base, ref)
        if joined is None:
            raise PackageError(name, f"refers to {ref!r}, outside the package", entry.path)
        wanted.append(joined)
    companions: list[PackageFile] = []
    for rel in dict.fromkeys(wanted):
        if rel == entry.path:
            continue
        companions.append(package_file(rel, referer=entry.path))
    return companions


def _join_inside(base: PurePosixPath, ref: str) -> str | None:
    """*ref* (as an avatar file writes it) resolved against *base*, or None if it escapes."""
    ref = ref.replace("\\", "/")
    if ref.startswith("/") or (len(ref) > 1 and ref[1] == ":"):
        return None
    parts: list[str] = list(base.parts)
    for part in PurePosixPath(ref).parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) if parts else None


def _avatar_triangles(name: str, file: PackageFile, limits: ImportLimits) -> int:
    from reviewer.assets.meshes import MeshError, inspect_avatar

    try:
        info = inspect_avatar(file.local, max_triangles=limits.max_triangles)
    except MeshError as exc:
        raise PackageError(name, str(exc), file.path) from None
    return int(info.triangles)


def _image_info(name: str, file: PackageFile, limits: ImportLimits):  # type: ignore[no-untyped-def]
    try:
        return inspect_image(file.local, max_pixels=limits.max_image_pixels)
    except ImageError as exc:
        raise PackageError(name, str(exc), file.path) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _gib(n: int) -> str:
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n:,} bytes"
