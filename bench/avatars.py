"""Body-shaped benchmark avatars: 0.1, 1 and 4 million triangles with a 4096² texture.

The demo mannequin (``reviewer.assets.figure``) is merged into one surface, thinned to a base
size and subdivided (each level quarters every triangle) up to the wanted count, so the big
files have the shape and the triangle distribution of a scanned figure. UVs are a cylindrical
projection about the vertical axis; the texture is a procedural woven pattern with noise that
neither compresses nor decodes unrealistically fast.

Each avatar is written as a GLB (texture embedded as PNG, which is what ``write_glb`` embeds)
and as a binary PLY with float32 x, y, z, nx, ny, nz, u, v and uint32 triangle indices, next to
a JPEG of the same texture. Files are cached in a folder keyed by ``GENERATOR_VERSION``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 1
TEXTURE_SIZE = 4096
SIZES: dict[str, int] = {"100k": 100_000, "1M": 1_000_000, "4M": 4_000_000}


@dataclass(frozen=True)
class BenchAvatar:
    label: str
    triangles: int
    glb: Path
    ply: Path
    texture_jpeg: Path
    texture_png: Path


def build_avatars(folder: Path, labels: list[str]) -> list[BenchAvatar]:
    """Write (or reuse) the benchmark avatars named in *labels* under *folder*."""
    folder = folder / f"v{GENERATOR_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    texture_png = folder / "texture.png"
    texture_jpeg = folder / "texture.jpg"
    if not (texture_png.is_file() and texture_jpeg.is_file()):
        _write_texture(texture_png, texture_jpeg)
    made: list[BenchAvatar] = []
    base: tuple[np.ndarray, np.ndarray] | None = None
    for label in labels:
        glb = folder / f"avatar-{label}.glb"
        ply = folder / f"avatar-{label}.ply"
        count_file = folder / f"avatar-{label}.count"
        if not (glb.is_file() and ply.is_file() and count_file.is_file()):
            if base is None:
                base = _merged_figure()
            points, faces = _subdivided(*base, SIZES[label])
            normals = _normals(points, faces)
            uvs = _cylindrical_uvs(points)
            _write_ply(ply, points, normals, uvs, faces)
            _write_glb(glb, points, normals, uvs, faces, texture_png.read_bytes())
            count_file.write_text(str(len(faces)))
        made.append(
            BenchAvatar(
                label=label,
                triangles=int(count_file.read_text()),
                glb=glb,
                ply=ply,
                texture_jpeg=texture_jpeg,
                texture_png=texture_png,
            )
        )
    return made


def _merged_figure() -> tuple[np.ndarray, np.ndarray]:
    from reviewer.assets.figure import BodySpec, Garment, OutfitSpec, build_figure

    parts = build_figure(
        BodySpec(),
        OutfitSpec(
            top=Garment("longsleeve", (0.55, 0.16, 0.14)),
            bottom=Garment("slim", (0.16, 0.22, 0.36), pattern="denim"),
            shoes="boot",
        ),
    )
    points: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    offset = 0
    for part in parts:
        points.append(np.asarray(part.points, dtype=np.float64))
        faces.append(np.asarray(part.faces, dtype=np.int64) + offset)
        offset += len(part.points)
    return np.concatenate(points), np.concatenate(faces)


def _subdivided(points: np.ndarray, faces: np.ndarray, target: int) -> tuple[np.ndarray, ...]:
    """Thin the base to target / 4**k triangles (k as large as the base allows), then
    subdivide k times."""
    import pyvista as pv

    levels = 0
    while target / 4 ** (levels + 1) >= 20_000 and target / 4**levels > len(faces):
        levels += 1
    base_count = target / 4**levels
    mesh = pv.PolyData.from_regular_faces(points, faces)
    if base_count < mesh.n_cells:
        mesh = mesh.decimate(1.0 - base_count / mesh.n_cells)
    mesh = mesh.clean()
    if levels:
        mesh = mesh.subdivide(levels, subfilter="linear")
    return (
        np.asarray(mesh.points, dtype=np.float32),
        np.asarray(mesh.regular_faces, dtype=np.int64),
    )


def _normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    from reviewer.assets.meshes import vertex_normals

    return vertex_normals(points, faces)


def _cylindrical_uvs(points: np.ndarray) -> np.ndarray:
    """u around the vertical axis, v up the figure; OBJ/VTK convention (v = 0 at the bottom)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    u = (np.arctan2(x, z) / (2 * np.pi) + 0.5).astype(np.float32)
    low, high = float(y.min()), float(y.max())
    v = ((y - low) / max(high - low, 1e-9)).astype(np.float32)
    return np.column_stack([u, v])


def _write_texture(png: Path, jpeg: Path) -> None:
    from PIL import Image

    size = TEXTURE_SIZE
    rng = np.random.default_rng(7)
    v = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None]
    u = np.linspace(0.0, 1.0, size, dtype=np.float32)[None, :]
    # Bands down the figure (hair, skin, top, trousers, boots), read from the top row.
    bands = np.array(
        [
            (0.00, (0.10, 0.08, 0.07)),
            (0.12, (0.80, 0.62, 0.50)),
            (0.20, (0.55, 0.16, 0.14)),
            (0.52, (0.16, 0.22, 0.36)),
            (0.93, (0.20, 0.17, 0.15)),
        ],
        dtype=object,
    )
    image = np.zeros((size, size, 3), dtype=np.float32)
    for start, colour in bands:
        image[v[:, 0] >= start] = colour
    weave = 0.5 + 0.5 * np.sin(u * 2 * np.pi * 700) * np.sin(v * 2 * np.pi * 700)
    image *= (0.85 + 0.15 * weave)[..., None]
    image += rng.normal(0.0, 0.025, size=(size, size, 1)).astype(np.float32)
    pixels = (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    picture = Image.fromarray(pixels)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=6)
    png.write_bytes(buffer.getvalue())
    picture.save(jpeg, format="JPEG", quality=90)


def _write_ply(
    path: Path, points: np.ndarray, normals: np.ndarray, uvs: np.ndarray, faces: np.ndarray
) -> None:
    vertex = np.empty(
        len(points),
        dtype=[(n, "<f4") for n in ("x", "y", "z", "nx", "ny", "nz", "u", "v")],
    )
    for index, name in enumerate(("x", "y", "z")):
        vertex[name] = points[:, index]
        vertex["n" + name] = normals[:, index]
    vertex["u"] = uvs[:, 0]
    vertex["v"] = uvs[:, 1]
    face = np.empty(len(faces), dtype=[("n", "u1"), ("i", "<u4", (3,))])
    face["n"] = 3
    face["i"] = faces
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment Twin Reviewer benchmark avatar\n"
        f"element vertex {len(points)}\n"
        + "".join(f"property float {n}\n" for n in ("x", "y", "z", "nx", "ny", "nz", "u", "v"))
        + f"element face {len(faces)}\nproperty list uchar uint vertex_indices\nend_header\n"
    )
    with path.open("wb") as handle:
        handle.write(header.encode("ascii"))
        handle.write(vertex.tobytes())
        handle.write(face.tobytes())


def _write_glb(  # noqa: PLR0917 - one call site, the arrays in file order
    path: Path,
    points: np.ndarray,
    normals: np.ndarray,
    uvs: np.ndarray,
    faces: np.ndarray,
    texture_png: bytes,
) -> None:
    from reviewer.assets.gltf_writer import GltfPart, write_glb

    gltf_uvs = uvs.copy()
    gltf_uvs[:, 1] = 1.0 - gltf_uvs[:, 1]  # glTF: v = 0 at the top of the image
    write_glb(
        path,
        [
            GltfPart(
                name="figure",
                points=points,
                faces=faces,
                normals=normals,
                uvs=gltf_uvs,
                texture_png=texture_png,
            )
        ],
    )
