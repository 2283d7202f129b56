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
    "requester": {"name": "Mara Lind", "organisation": "Brand Studio",
                  "email": "mara@example.com"},
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
    lines = ["ply", "format ascii 1.0", f"element vertex {n_points}", "property float x",
             "property float y", "property float z", f"element face {triangles}",
             "property list uchar int vertex_indices", "end_header"]
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
