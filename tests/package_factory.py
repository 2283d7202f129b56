"""Building request packages on disk for tests (folders and zips)."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

BASE_MANIFEST: dict[str, Any] = {
    "format": "reviewer.use-request/1",
    "id": "ss27-denim-0042",
    "talent": "ines-duarte",
    "requester": {"name": "Mara Lind", "organisation": "Brand Studio", "email": "mara@example.com"},
    "campaign": "SS27 Denim",
    "brief": "Twin wears look 2 in a studio render for product pages.",
    "use": {
        "channels": ["ecommerce", "social"],
        "territories": ["EU", "GB"],
        "start": "2027-02-01",
        "end": "2027-07-31",
        "categories": ["denim"],
        "voice": False,
    },
    "fee": {"amount": "1800.00", "currency": "EUR"},
    "due": "2026-12-15",
    "assets": [
        {"path": "twin/look1.ply", "role": "avatar", "label": "Look 1"},
        {"path": "renders/look1-front.png", "role": "render", "label": "Look 1, front"},
    ],
}


def base_manifest(**changes: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(BASE_MANIFEST)
    manifest.update(changes)
    return manifest


def write_png(path: Path, size: tuple[int, int] = (64, 80), colour=(180, 120, 90)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, colour)
    # A little structure so that images differ and thumbnails are not flat.
    for x in range(0, size[0], 8):
        for y in range(size[1]):
            img.putpixel((x, y), (20, 20, 20))
    img.save(path)
    return path


def write_ply(path: Path, *, triangles: int = 2) -> Path:
    """A small ASCII PLY strip of *triangles* triangles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n_points = triangles + 2
    lines = [
        "ply",
        "format ascii 1.0",
        f"element vertex {n_points}",
        "property float x",
        "property float y",
        "property float z",
        f"element face {triangles}",
        "property list uchar int vertex_indices",
        "end_header",
    ]
    for i in range(n_points):
        lines.append(f"{i // 2 * 0.1:.3f} {(i % 2) * 1.7:.3f} 0.0")
    for t in range(triangles):
        lines.append(f"3 {t} {t + 1} {t + 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


def make_package(root: Path, manifest: dict[str, Any] | None = None) -> Path:
    """A valid package folder at *root* (the base manifest's files, written)."""
    manifest = manifest if manifest is not None else base_manifest()
    root.mkdir(parents=True, exist_ok=True)
    for asset in manifest["assets"]:
        target = root / asset["path"]
        if asset["path"].endswith(".ply"):
            write_ply(target)
        elif asset["path"].endswith(".png"):
            write_png(target)
        elif asset["path"].endswith((".jpg", ".jpeg")):
            write_jpeg(target)
        elif asset["path"].endswith(".obj"):
            write_obj(target)
    (root / "request.json").write_text(json.dumps(manifest, indent=2))
    return root


def zip_folder(folder: Path, zip_path: Path) -> Path:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return zip_path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below *root* with its bytes, to check that nothing changed."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- Hostile and unusual packages ------------------------------------------------------------


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "request.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path


def render_only_manifest(*paths: str, **changes: Any) -> dict[str, Any]:
    """The base manifest with only renders (no avatar)."""
    assets = [
        {"path": p, "role": "render", "label": f"Render {i}"}
        for i, p in enumerate(paths or ("renders/look1-front.png",), 1)
    ]
    return base_manifest(assets=assets, **changes)


def write_jpeg(path: Path, size: tuple[int, int] = (64, 80), colour=(90, 120, 180)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, colour)
    for y in range(0, size[1], 6):
        for x in range(size[0]):
            img.putpixel((x, y), (240, 240, 240))
    img.save(path, "JPEG", quality=90)
    return path


def write_noise_png(path: Path, size: tuple[int, int], seed: int) -> Path:
    """Random RGB noise: a PNG that does not compress (about 3 bytes a pixel)."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(path, compress_level=0)
    return path


def png_chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def tiny_png_declaring(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header claims *width* × *height* pixels."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # One scan line of real data; a decoder that trusted the header would allocate it all.
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def write_obj(
    path: Path, *, mtllib: str | None = None, triangles: int = 2, usemtl: str = "skin"
) -> Path:
    """A small OBJ strip; with *mtllib*, a ``mtllib`` line and a ``usemtl`` before the faces."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"mtllib {mtllib}"] if mtllib else []
    for i in range(triangles + 2):
        lines.append(f"v {i // 2 * 0.1:.3f} {(i % 2) * 1.7:.3f} 0.0")
        lines.append(f"vt {i // 2 * 0.1:.3f} {i % 2:.1f}")
    if mtllib:
        lines.append(f"usemtl {usemtl}")
    for t in range(triangles):
        a, b, c = t + 1, t + 2, t + 3
        lines.append(f"f {a}/{a} {b}/{b} {c}/{c}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_mtl(path: Path, *, map_kd: str | None = None, name: str = "skin") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"newmtl {name}", "Kd 0.8 0.7 0.6"]
    if map_kd:
        lines.append(f"map_Kd {map_kd}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_zip(
    zip_path: Path,
    entries: dict[str, bytes] | list[tuple[str, bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    links: dict[str, str] | None = None,
) -> Path:
    """A zip holding *entries* under exactly the names given (no checks, no normalising).

    A list of pairs may repeat a name. *links* adds symbolic-link entries (name → target), as
    ``zip --symlinks`` stores them: the mode says link, the data is the target path.
    """
    import stat
    import warnings

    pairs = list(entries.items()) if isinstance(entries, dict) else list(entries)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names; we mean them
        with zipfile.ZipFile(zip_path, "w", compression) as archive:
            for name, data in pairs:
                info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 12, 0, 0))
                info.compress_type = compression
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data)
            for name, target in (links or {}).items():
                info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 12, 0, 0))
                info.create_system = 3  # Unix, so the mode bits are read
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, target)
    return zip_path


def folder_entries(folder: Path) -> dict[str, bytes]:
    """Every file below *folder* by package-relative path, for :func:`write_zip`."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
