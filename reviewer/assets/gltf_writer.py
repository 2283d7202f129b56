"""Write triangle meshes with PBR materials as a binary glTF 2.0 file (``.glb``).

Only what the app's avatars need: one node and one mesh per part, float32 positions (with the
min/max bounds the specification requires), normals, an optional UV set, uint32 indices and a
metallic-roughness material that may embed a PNG base-colour texture. The output is
byte-for-byte deterministic for the same input, so content hashes of demo avatars are stable.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GLB_MAGIC = 0x46546C67  # "glTF"
GLB_VERSION = 2
CHUNK_JSON = 0x4E4F534A  # "JSON"
CHUNK_BIN = 0x004E4942  # "BIN\0"

_FLOAT = 5126
_UNSIGNED_INT = 5125
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_TRIANGLES = 4
_LINEAR = 9729
_LINEAR_MIPMAP_LINEAR = 9987
_REPEAT = 10497
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, eq=False)
class GltfPart:
    """One coloured piece of an avatar: a triangle mesh and its material.

    ``points`` are metres in glTF axes (Y up, +Z forward); ``faces`` index ``points`` and wind
    counter-clockwise seen from outside. ``normals`` are computed from the faces when omitted.
    ``uvs`` are glTF texture coordinates (origin at the image's top-left); they are required
    when ``texture_png`` is given.
    """

    name: str
    points: np.ndarray
    faces: np.ndarray
    normals: np.ndarray | None = None
    uvs: np.ndarray | None = None
    base_color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    roughness: float = 0.6
    metallic: float = 0.0
    texture_png: bytes | None = field(default=None, repr=False)

    @property
    def triangle_count(self) -> int:
        return int(np.asarray(self.faces).shape[0])


def vertex_normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of a triangle mesh (zero-area corners get +Y)."""
    pts = np.asarray(points, dtype=np.float64)
    tri = np.asarray(faces, dtype=np.int64)
    a, b, c = pts[tri[:, 0]], pts[tri[:, 1]], pts[tri[:, 2]]
    face_normals = np.cross(b - a, c - a)  # length is twice the area: the weighting we want
    normals = np.zeros_like(pts)
    for corner in range(3):
        np.add.at(normals, tri[:, corner], face_normals)
    return _unit_rows(normals)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    out = np.where(lengths > 1e-12, vectors / np.maximum(lengths, 1e-12), 0.0)
    # The specification requires unit normals; a degenerate vertex still needs one.
    out[lengths[:, 0] <= 1e-12] = (0.0, 1.0, 0.0)
    return out


def _checked_arrays(part: GltfPart) -> tuple[np.ndarray, ...]:
    points = np.ascontiguousarray(part.points, dtype=np.float32)
    faces = np.ascontiguousarray(part.faces)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"part {part.name!r}: points must be a non-empty (n, 3) array")
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise ValueError(f"part {part.name!r}: faces must be a non-empty (m, 3) array")
    if not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f"part {part.name!r}: faces must hold integers")
    if faces.min() < 0 or faces.max() >= len(points):
        raise ValueError(f"part {part.name!r}: a face refers to a point that does not exist")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"part {part.name!r}: points must be finite")
    indices = faces.astype(np.uint32)
    if part.normals is None:
        normals = vertex_normals(points, faces)
    else:
        normals = np.asarray(part.normals, dtype=np.float64)
        if normals.shape != points.shape:
            raise ValueError(f"part {part.name!r}: normals must match points in shape")
        normals = _unit_rows(normals)
    normals = np.ascontiguousarray(normals, dtype=np.float32)
    uvs = None
    if part.uvs is not None:
        uvs = np.ascontiguousarray(part.uvs, dtype=np.float32)
        if uvs.shape != (len(points), 2):
            raise ValueError(f"part {part.name!r}: uvs must be an (n, 2) array")
    if part.texture_png is not None:
        if uvs is None:
            raise ValueError(f"part {part.name!r}: a texture needs uvs")
        if not part.texture_png.startswith(_PNG_SIGNATURE):
            raise ValueError(f"part {part.name!r}: texture_png is not a PNG image")
    return points, normals, uvs, indices


class _BinaryBuffer:
    """The GLB binary chunk under construction; every view starts 4-byte aligned."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._length = 0
        self.views: list[dict[str, object]] = []

    def add_view(self, payload: bytes, target: int | None) -> int:
        padding = (-self._length) % 4
        if padding:
            self._pieces.append(b"\x00" * padding)
            self._length += padding
        view: dict[str, object] = {
            "buffer": 0,
            "byteOffset": self._length,
            "byteLength": len(payload),
        }
        if target is not None:
            view["target"] = target
        self._pieces.append(payload)
        self._length += len(payload)
        self.views.append(view)
        return len(self.views) - 1

    def to_bytes(self) -> bytes:
        return b"".join(self._pieces)


def build_glb(parts: list[GltfPart], *, generator: str = "Twin Reviewer") -> bytes:
    """Return the bytes of a GLB file holding *parts* as children of one root node."""
    if not parts:
        raise ValueError("a glTF file needs at least one part")
    binary = _BinaryBuffer()
    accessors: list[dict[str, object]] = []
    meshes: list[dict[str, object]] = []
    materials: list[dict[str, object]] = []
    textures: list[dict[str, object]] = []
    images: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = [{"name": "avatar", "children": []}]

    def add_accessor(array: np.ndarray, kind: str, component: int, target: int) -> int:
        view = binary.add_view(array.tobytes(order="C"), target)
        accessor: dict[str, object] = {
            "bufferView": view,
            "componentType": component,
            "count": int(array.shape[0]) if kind != "SCALAR" else int(array.size),
            "type": kind,
        }
        if kind == "VEC3" and component == _FLOAT:
            accessor["min"] = [float(v) for v in array.min(axis=0)]
            accessor["max"] = [float(v) for v in array.max(axis=0)]
        accessors.append(accessor)
        return len(accessors) - 1

    for part in parts:
        points, normals, uvs, indices = _checked_arrays(part)
        attributes = {
            "POSITION": add_accessor(points, "VEC3", _FLOAT, _ARRAY_BUFFER),
            "NORMAL": add_accessor(normals, "VEC3", _FLOAT, _ARRAY_BUFFER),
        }
        if uvs is not None:
            attributes["TEXCOORD_0"] = add_accessor(uvs, "VEC2", _FLOAT, _ARRAY_BUFFER)
        index_accessor = add_accessor(
            indices.reshape(-1), "SCALAR", _UNSIGNED_INT, _ELEMENT_ARRAY_BUFFER
        )
        pbr: dict[str, object] = {
            "baseColorFactor": [float(min(max(c, 0.0), 1.0)) for c in part.base_color],
            "metallicFactor": float(min(max(part.metallic, 0.0), 1.0)),
            "roughnessFactor": float(min(max(part.roughness, 0.0), 1.0)),
        }
        if part.texture_png is not None:
            image_view = binary.add_view(part.texture_png, None)
            images.append({"bufferView": image_view, "mimeType": "image/png"})
            textures.append({"sampler": 0, "source": len(images) - 1})
            pbr["baseColorTexture"] = {"index": len(textures) - 1}
        material: dict[str, object] = {"name": part.name, "pbrMetallicRoughness": pbr}
        if part.base_color[3] < 1.0:
            material["alphaMode"] = "BLEND"
        materials.append(material)
        meshes.append(
            {
                "name": part.name,
                "primitives": [
                    {
                        "attributes": attributes,
                        "indices": index_accessor,
                        "material": len(materials) - 1,
                        "mode": _TRIANGLES,
                    }
                ],
            }
        )
        nodes.append({"name": part.name, "mesh": len(meshes) - 1})
        nodes[0]["children"].append(len(nodes) - 1)  # type: ignore[union-attr]

    bin_chunk = binary.to_bytes()
    bin_chunk += b"\x00" * ((-len(bin_chunk)) % 4)
    document: dict[str, object] = {
        "asset": {"version": "2.0", "generator": generator},
        "scene": 0,
        "scenes": [{"name": "avatar", "nodes": [0]}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": binary.views,
        "buffers": [{"byteLength": len(bin_chunk)}],
    }
    if images:
        document["images"] = images
        document["textures"] = textures
        document["samplers"] = [
            {
                "magFilter": _LINEAR,
                "minFilter": _LINEAR_MIPMAP_LINEAR,
                "wrapS": _REPEAT,
                "wrapT": _REPEAT,
            }
        ]
    json_chunk = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    json_chunk += b" " * ((-len(json_chunk)) % 4)  # the specification pads JSON with spaces

    total = 12 + 8 + len(json_chunk) + 8 + len(bin_chunk)
    return b"".join(
        [
            struct.pack("<III", GLB_MAGIC, GLB_VERSION, total),
            struct.pack("<II", len(json_chunk), CHUNK_JSON),
            json_chunk,
            struct.pack("<II", len(bin_chunk), CHUNK_BIN),
            bin_chunk,
        ]
    )


def write_glb(path: Path, parts: list[GltfPart]) -> None:
    """Write *parts* to *path* as a binary glTF 2.0 file."""
    Path(path).write_bytes(build_glb(parts))
