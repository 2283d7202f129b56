"""Loading and validating avatar meshes: glTF/GLB, OBJ (+MTL), PLY, STL, VTP and legacy VTK.

An avatar is untrusted input: it arrives in a request package from outside. Everything here
turns a file that cannot be shown (truncated, garbage, empty, absurdly large) into a
:class:`MeshError` with a one-line reason, never a crash, a hang or a huge allocation:

- Triangle counts are checked against the cap from the header wherever the format has one
  (PLY, binary STL, VTP, legacy VTK, glTF accessors) before any geometry is read.
- PLY and OBJ are parsed here with numpy. vtkPLYReader crashes the whole process on a
  truncated binary PLY, and vtkOBJReader splits every triangle corner into its own point
  (three times the memory, and no smooth shading); parsing ourselves is also several times
  faster (see /work/shared/perf-notes.md).
- The other formats go through VTK readers. VTK reports problems by printing to its output
  window and returning empty output, so reads run with the messages captured
  (:func:`_vtk_messages_captured`) and the first one becomes the reason.

The in-memory :class:`Avatar` is Qt-free: a tuple of :class:`AvatarPart` (triangulated
``pyvista.PolyData`` with point normals, texture coordinates when present, a decoded texture as
a numpy array and a base colour), plus the up axis and a transform that stands the figure
upright with Y up, its feet on y = 0 and centred on the vertical axis.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import numpy as np

if TYPE_CHECKING:
    import pyvista as pv

UpAxis = Literal["y", "z", "x", "-y", "-z", "-x"]
"""The file's axis that points up. Guesses are only ever "y" or "z"; people may pick any."""
UP_AXES: tuple[UpAxis, ...] = ("y", "z", "x", "-y", "-z", "-x")
Units = Literal["m", "cm", "mm"]

MAX_TRIANGLES = 20_000_000
AVATAR_SUFFIXES = frozenset({".glb", ".gltf", ".obj", ".ply", ".stl", ".vtp", ".vtk"})

# A figure whose file carries no colour is drawn in a light neutral grey.
DEFAULT_BASE_COLOR = (0.8, 0.8, 0.8, 1.0)

# Reasons are shown to people in one line; a reader's message can be a paragraph.
_MAX_REASON_CHARS = 240


class MeshError(Exception):
    """An avatar file cannot be shown. ``str()`` is one line with the reason.

    The reason reads as a predicate about the file, so callers can prefix the file's name:
    ``f"{name}: {error}"`` gives "look1.ply: not a valid PLY file: header ends early".
    """

    def __init__(self, reason: str) -> None:
        one_line = " ".join(reason.split())
        if len(one_line) > _MAX_REASON_CHARS:
            one_line = one_line[: _MAX_REASON_CHARS - 1] + "…"
        super().__init__(one_line)
        self.reason = one_line


@dataclass(frozen=True)
class AvatarInfo:
    """What :func:`inspect_avatar` learns about a valid avatar file."""

    format: str
    triangles: int
    points: int
    parts: int
    bounds: tuple[float, float, float, float, float, float]
    has_uvs: bool
    has_texture: bool
    up_axis: UpAxis
    height: float
    """Extent along the up axis, in the file's units."""
    units: Units | None
    """The unit the file is most likely in, or None when the size is not that of a person."""


@dataclass(frozen=True, eq=False)
class AvatarPart:
    """One material's worth of an avatar.

    ``mesh`` is all triangles with point normals (``"Normals"``, active) and, when the file has
    them, active texture coordinates and per-point colours (``"RGB"``/``"RGBA"``, uint8).
    ``texture`` is an (H, W, 3|4) uint8 array whose first row is the top of the image, as
    Pillow decodes it and as ``pyvista.Texture`` expects it. Parts that share an image share
    the same array object.

    ``double_sided`` is False only for a glTF material that says so (glTF's default): its back
    faces are not to be drawn (the glTF specification's back-face culling). Every other format
    says nothing about sides, and its parts are drawn from both.
    """

    name: str
    mesh: pv.PolyData
    texture: np.ndarray | None = None
    base_color: tuple[float, float, float, float] = DEFAULT_BASE_COLOR
    double_sided: bool = True

    @property
    def has_uvs(self) -> bool:
        return self.mesh.active_texture_coordinates is not None

    @property
    def colors_name(self) -> str | None:
        """Name of the per-point colour array, if the file carried vertex colours."""
        for name in ("RGBA", "RGB"):
            if name in self.mesh.point_data:
                return name
        return None


@dataclass(frozen=True, eq=False)
class Avatar:
    """A loaded avatar, ready to be put in a scene. Holds no Qt and no renderer state."""

    parts: tuple[AvatarPart, ...]
    up_axis: UpAxis
    upright_transform: np.ndarray
    """4x4 matrix: stands the figure with Y up, feet on y = 0, centred on x = z = 0."""
    units: Units | None = None
    source: Path | None = None
    format: str = ""
    stored: Path | None = None
    """The stored avatar file (:mod:`reviewer.assets.stored_avatar`) whose memory the parts'
    arrays are on, if they were read from one; another process can map it too."""
    bounds: tuple[float, float, float, float, float, float] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bounds", union_bounds(p.mesh.bounds for p in self.parts))

    @classmethod
    def from_polydata(
        cls,
        mesh: pv.PolyData,
        *,
        name: str = "mesh",
        texture: np.ndarray | None = None,
        base_color: tuple[float, float, float, float] = DEFAULT_BASE_COLOR,
        up_axis: UpAxis | None = None,
    ) -> Avatar:
        """Wrap an in-memory mesh (a generated shape, a cached derived mesh) as an avatar."""
        triangulated = mesh if mesh.is_all_triangles else mesh.triangulate()
        faces = np.asarray(triangulated.regular_faces, dtype=np.int64).reshape(-1, 3)
        uvs = triangulated.active_texture_coordinates
        normals = triangulated.point_data.active_normals
        raw = _RawPart(
            name=name,
            points=np.asarray(triangulated.points, dtype=np.float32),
            faces=faces,
            uvs=None if uvs is None else np.asarray(uvs, dtype=np.float32),
            normals=None if normals is None else np.asarray(normals, dtype=np.float32),
            texture=texture,
            base_color=base_color,
        )
        return _assemble_avatar([raw], fmt="mesh", source=None, up_axis=up_axis, units=None)

    def with_up_axis(self, up_axis: UpAxis) -> Avatar:
        """The same avatar (meshes shared, not copied) stood up along another axis of its file,
        for a person who overrides the guess. Units are judged again from the new height."""
        if up_axis not in UP_AXES:
            raise ValueError(f"unknown up axis {up_axis!r}; expected one of {', '.join(UP_AXES)}")
        if up_axis == self.up_axis:
            return self
        sample = _point_sample(self.parts)
        turned = _apply(_axis_to_y_up(up_axis), sample)
        transform = upright_transform_for(
            self.bounds, up_axis, turn_degrees=guess_facing_turn(turned)
        )
        units = self.units
        if self.format not in ("gltf", "glb"):
            units = guess_units(_extent(self.bounds, up_axis))
        return Avatar(
            parts=self.parts,
            up_axis=up_axis,
            upright_transform=transform,
            units=units,
            source=self.source,
            format=self.format,
            stored=self.stored,
        )

    @property
    def triangles(self) -> int:
        return sum(p.mesh.n_cells for p in self.parts)

    @property
    def points(self) -> int:
        return sum(p.mesh.n_points for p in self.parts)

    @property
    def height(self) -> float:
        """Extent along the up axis, in the file's units."""
        return _extent(self.bounds, self.up_axis)

    @property
    def height_metres(self) -> float | None:
        if self.units is None:
            return None
        return self.height * _METRES_PER_UNIT[self.units]

    @property
    def upright_bounds(self) -> tuple[float, float, float, float, float, float]:
        return transform_bounds(self.bounds, self.upright_transform)


# --------------------------------------------------------------------------------------------
# Public functions


def referenced_files(path: Path, *, package_root: Path | None = None) -> list[str]:
    """Files that the avatar at *path* refers to itself, as written, relative to its folder.

    OBJ: its ``mtllib`` files and every map those name (paths in an MTL are taken relative to
    the MTL's folder and reported relative to the OBJ's folder). glTF: buffer and image URIs
    that are not ``data:`` URIs, percent-decoding applied. Other formats: none.

    Nothing is read but *path* and the MTL files it names that lie inside *package_root*
    (default: the avatar's folder); an MTL named with an absolute path or one that climbs
    out is reported but not opened. Missing files are reported, not an error: the caller
    checks that every name is inside the package.
    """
    root = path.parent if package_root is None else package_root
    suffix = path.suffix.lower()
    if suffix == ".obj":
        return _obj_referenced_files(path, root)
    if suffix in (".gltf", ".glb"):
        document, _ = _read_gltf_document(path)
        with _malformed_gltf_refused():
            return _gltf_external_uris(document)
    return []


def inspect_avatar(
    path: Path, *, max_triangles: int = MAX_TRIANGLES, package_root: Path | None = None
) -> AvatarInfo:
    """Load and validate the avatar at *path*; raise :class:`MeshError` if it cannot be shown.

    Textures are checked to be readable images but not decoded. Files the avatar refers to
    must lie inside *package_root* (default: the avatar's folder).
    """
    parts, fmt = _read_parts(
        path, decode_textures=False, max_triangles=max_triangles, package_root=package_root
    )
    bounds = union_bounds(_raw_bounds(p) for p in parts)
    up_axis = guess_up_axis(bounds, prefer_y=fmt in ("gltf", "glb"))
    height = _extent(bounds, up_axis)
    return AvatarInfo(
        format=fmt,
        triangles=sum(len(p.faces) for p in parts),
        points=sum(len(p.points) for p in parts),
        parts=len(parts),
        bounds=bounds,
        has_uvs=any(p.uvs is not None for p in parts),
        has_texture=any(p.texture is not None or p.texture_file is not None for p in parts),
        up_axis=up_axis,
        height=height,
        units="m" if fmt in ("gltf", "glb") else guess_units(height),
    )


def load_avatar(
    path: Path,
    *,
    texture: Path | None = None,
    max_triangles: int = MAX_TRIANGLES,
    package_root: Path | None = None,
) -> Avatar:
    """Load the avatar at *path* for display; raise :class:`MeshError` if it cannot be shown.

    *texture* is an image to apply to every part that has texture coordinates, for formats
    that carry no material (PLY, STL, VTP, VTK); given for an OBJ or glTF it replaces their
    own maps. A texture for a mesh without texture coordinates is an error, since the figure
    would be shown without the look that was asked for. Files the avatar refers to must lie
    inside *package_root* (default: the avatar's folder).
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        # A 4096² texture takes as long to decode as a 4 M triangle PLY to read: overlap them.
        decoding = pool.submit(_decode_texture, texture) if texture is not None else None
        parts, fmt = _read_parts(
            path, decode_textures=True, max_triangles=max_triangles, package_root=package_root
        )
        image = decoding.result() if decoding is not None else None
    if texture is not None:
        textured = [p for p in parts if p.uvs is not None]
        if not textured:
            raise MeshError(
                f"has no texture coordinates, so the texture {texture.name} cannot be applied"
            )
        for part in textured:
            part.texture = image
    units: Units | None = "m" if fmt in ("gltf", "glb") else None
    return _assemble_avatar(parts, fmt=fmt, source=path, up_axis=None, units=units)


def guess_up_axis(
    bounds: tuple[float, float, float, float, float, float], *, prefer_y: bool = False
) -> UpAxis:
    """Judge which axis a figure stands along from its extents: Y or Z, whichever is taller.

    X is never taken as up: a figure in a T-pose is as wide as it is tall. Y wins ties (the
    usual convention of scanners and of glTF); with *prefer_y* (formats that are Y-up by
    specification) Z must be more than twice as tall, which only a figure lying down is.
    """
    y_extent = _extent(bounds, "y")
    z_extent = _extent(bounds, "z")
    factor = 2.0 if prefer_y else 1.05
    return "z" if z_extent > factor * y_extent else "y"


def guess_units(height: float) -> Units | None:
    """The unit in which *height* is that of a person (0.3 to 2.6 m), or None."""
    for units, scale in (("m", 1.0), ("cm", 100.0), ("mm", 1000.0)):
        if 0.3 * scale <= height <= 2.6 * scale:
            return units  # type: ignore[return-value]
    return None


def upright_transform_for(
    bounds: tuple[float, float, float, float, float, float],
    up_axis: UpAxis,
    *,
    turn_degrees: float = 0.0,
) -> np.ndarray:
    """4x4 transform that stands a figure with *bounds* upright: Y up, feet on y = 0, centred.

    Z-up files are turned so their +Z becomes +Y and their +Y faces the camera at +Z; then
    the figure is turned *turn_degrees* about Y (see :func:`guess_facing_turn`). Any signed
    axis may be up (a person's override): see :func:`_axis_to_y_up` for where the others go.
    """
    rotation = np.eye(4)
    rotation[:3, :3] = _axis_to_y_up(up_axis)
    rotation = _turn_about_y(turn_degrees) @ rotation
    x0, x1, y0, _, z0, z1 = transform_bounds(bounds, rotation)
    translation = np.eye(4)
    translation[:3, 3] = [-(x0 + x1) / 2.0, -y0, -(z0 + z1) / 2.0]
    return translation @ rotation


def guess_facing_turn(points: np.ndarray) -> float:
    """Degrees to turn a standing figure about Y (points already Y-up) so it faces +Z.

    Feet give it away: toes reach much further in front of the ankles than heels reach
    behind. Only a clear difference counts (a statue on a plinth, a dress to the floor or
    an animal shows none, and is left as it is), so the answer is 0, 90, 180 or 270.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 16:
        return 0.0
    floor = points[:, 1].min()
    height = points[:, 1].max() - floor
    if height <= 0:
        return 0.0
    relative = (points[:, 1] - floor) / height
    feet = points[relative < 0.04]
    ankles = points[(relative > 0.07) & (relative < 0.12)]
    if len(feet) < 4 or len(ankles) < 4:
        return 0.0
    best_turn, best_ratio = 0.0, 0.0
    # (horizontal axis, turn that brings its positive direction to +Z)
    for axis, turn_towards_positive in ((2, 0.0), (0, -90.0)):
        ankle = float(np.median(ankles[:, axis]))
        ahead = feet[:, axis].max() - ankle
        behind = ankle - feet[:, axis].min()
        if min(ahead, behind) <= 0 or max(ahead, behind) < 0.02 * height:
            continue
        ratio = max(ahead, behind) / min(ahead, behind)
        if ratio > best_ratio:
            best_ratio = ratio
            best_turn = turn_towards_positive if ahead > behind else turn_towards_positive + 180.0
    if best_ratio < _CLEAR_FACING_RATIO:
        return 0.0
    return best_turn % 360.0


_CLEAR_FACING_RATIO = 1.6
# Z becomes Y, and +Y comes to face the camera at +Z (X flips to keep it a rotation). Scanned
# Z-up figures face +Y (Human.vtp and Lucy in the corpus); Blender's "front" is -Y instead,
# but a human figure is turned the right way by guess_facing_turn whatever its file does.
_Z_UP_TO_Y_UP = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


# Rotations that bring each signed file axis to +Y. Each keeps a horizontal axis of the file
# facing the camera at +Z: for Y up, +Z (glTF's forward); for Z up, +Y (scanners' forward,
# see above); for X up, +Z. The negative axes are the positive ones turned upside down about
# the horizontal axis that does not face the camera.
_AXIS_TO_Y_UP: dict[str, np.ndarray] = {
    "y": np.eye(3),
    "z": _Z_UP_TO_Y_UP,
    "x": np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    "-y": np.array([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]),
    "-z": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),
    "-x": np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
}


def _axis_to_y_up(up_axis: str) -> np.ndarray:
    if up_axis not in _AXIS_TO_Y_UP:
        raise ValueError(f"unknown up axis {up_axis!r}; expected one of {', '.join(UP_AXES)}")
    return _AXIS_TO_Y_UP[up_axis]


def _apply(rotation: np.ndarray, points: np.ndarray) -> np.ndarray:
    # Column by column: a (n, 3) @ (3, 3) product goes through BLAS, which is slower here
    # than three multiply-adds (and competes for the cores with a texture being decoded).
    points = np.asarray(points, dtype=np.float64)
    return (
        points[:, 0:1] * rotation[:, 0]
        + points[:, 1:2] * rotation[:, 1]
        + points[:, 2:3] * rotation[:, 2]
    )


def _point_sample(parts: tuple[AvatarPart, ...], limit: int = 400_000) -> np.ndarray:
    """Up to about *limit* points of all parts, evenly strided: enough to judge a figure's
    facing without touching every point of a 4-million-triangle scan."""
    total = sum(p.mesh.n_points for p in parts)
    step = max(1, total // limit)
    return np.concatenate([np.asarray(p.mesh.points)[::step] for p in parts])


def _turn_about_y(degrees: float) -> np.ndarray:
    radians = np.radians(degrees)
    cos, sin = float(np.cos(radians)), float(np.sin(radians))
    turn = np.eye(4)
    # Rounded so quarter turns are exact and the bounds stay tight.
    turn[:3, :3] = np.round([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]], 12)
    return turn


def transform_bounds(
    bounds: tuple[float, float, float, float, float, float], matrix: np.ndarray
) -> tuple[float, float, float, float, float, float]:
    """Axis-aligned bounds of the box *bounds* after the 4x4 *matrix*."""
    x0, x1, y0, y1, z0, z1 = bounds
    corners = np.array([[x, y, z, 1.0] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)])
    moved = corners @ np.asarray(matrix, dtype=float).T
    low = moved[:, :3].min(axis=0)
    high = moved[:, :3].max(axis=0)
    return (
        float(low[0]),
        float(high[0]),
        float(low[1]),
        float(high[1]),
        float(low[2]),
        float(high[2]),
    )


# --------------------------------------------------------------------------------------------
# Parts as read, before they become pyvista meshes


@dataclass(eq=False)
class _RawPart:
    name: str
    points: np.ndarray  # (N, 3) float32
    faces: np.ndarray  # (M, 3) integer indices into points
    uvs: np.ndarray | None = None  # (N, 2) float32
    normals: np.ndarray | None = None  # (N, 3) float32
    colors: np.ndarray | None = None  # (N, 3|4) uint8
    texture: np.ndarray | None = None
    texture_file: str | None = None  # set when textures were checked but not decoded
    base_color: tuple[float, float, float, float] = DEFAULT_BASE_COLOR
    double_sided: bool = True


_METRES_PER_UNIT: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001}


def _extent(bounds: tuple[float, ...], axis: str) -> float:
    index = "xyz".index(axis.lstrip("-"))
    return float(bounds[2 * index + 1] - bounds[2 * index])


def union_bounds(
    all_bounds: Iterator[tuple[float, ...]] | Any,
) -> tuple[float, float, float, float, float, float]:
    """The box around VTK-style (xmin, xmax, ymin, ymax, zmin, zmax) boxes; zeros if none."""
    boxes = np.array([tuple(b) for b in all_bounds], dtype=float).reshape(-1, 6)
    if len(boxes) == 0:
        return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    low = boxes[:, 0::2].min(axis=0)
    high = boxes[:, 1::2].max(axis=0)
    return (
        float(low[0]),
        float(high[0]),
        float(low[1]),
        float(high[1]),
        float(low[2]),
        float(high[2]),
    )


def _raw_bounds(part: _RawPart) -> tuple[float, float, float, float, float, float]:
    # Only points that triangles use count: some files carry stray unused vertices.
    used = part.points
    if len(part.faces):
        mask = np.zeros(len(part.points), dtype=bool)
        mask[part.faces.ravel()] = True
        used = part.points[mask]
    low = used.min(axis=0)
    high = used.max(axis=0)
    return (
        float(low[0]),
        float(high[0]),
        float(low[1]),
        float(high[1]),
        float(low[2]),
        float(high[2]),
    )


def _read_parts(
    path: Path, *, decode_textures: bool, max_triangles: int, package_root: Path | None
) -> tuple[list[_RawPart], str]:
    suffix = path.suffix.lower()
    if suffix not in AVATAR_SUFFIXES:
        raise MeshError(f"is not an avatar format this viewer reads ({suffix or 'no suffix'})")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MeshError("is missing") from None
    except OSError as error:
        raise MeshError(f"cannot be read: {error.strerror}") from None
    if not path.is_file():
        raise MeshError("is not a file")
    if size == 0:
        raise MeshError("is empty")

    fmt = suffix.lstrip(".")
    root = path.parent if package_root is None else package_root
    if suffix == ".obj":
        parts = _read_obj(path, root, decode_textures=decode_textures, max_triangles=max_triangles)
    elif suffix == ".ply":
        parts = _read_ply(path, max_triangles=max_triangles)
    elif suffix == ".stl":
        parts = _read_stl(path, max_triangles=max_triangles)
    elif suffix in (".vtp", ".vtk"):
        parts = _read_vtk_polydata(path, max_triangles=max_triangles)
    else:
        parts = _read_gltf(path, root, decode_textures=decode_textures, max_triangles=max_triangles)

    parts = [p for p in parts if len(p.faces)]
    triangles = sum(len(p.faces) for p in parts)
    if triangles == 0:
        raise MeshError("has no triangles")
    _check_triangle_cap(triangles, max_triangles)
    for part in parts:
        if not np.isfinite(part.points).all():
            raise MeshError("has vertex coordinates that are not finite numbers")
    return parts, fmt


def _check_triangle_cap(triangles: int, max_triangles: int, *, at_least: bool = False) -> None:
    if triangles > max_triangles:
        count = f"at least {triangles:,}" if at_least else f"{triangles:,}"
        raise MeshError(f"has {count} triangles, over the limit of {max_triangles:,}")


def check_indices(faces: np.ndarray, n_points: int) -> None:
    """Raise :class:`MeshError` if a face refers to a vertex that is not among *n_points*."""
    flat = np.asarray(faces).reshape(-1)
    if flat.size == 0:
        return
    # One pass over the indices: read as unsigned, a negative one is out of range too.
    unsigned = flat.view(np.dtype(f"u{flat.dtype.itemsize}")) if flat.dtype.kind == "i" else flat
    if int(unsigned.max()) < n_points:
        return
    low = int(flat.min())
    bad = low if low < 0 else int(flat.max())
    raise MeshError(
        f"has a face that refers to vertex {bad:,}, but there are only {n_points:,} vertices"
    )


# --------------------------------------------------------------------------------------------
# Building the Avatar


def _assemble_avatar(
    raw_parts: list[_RawPart],
    *,
    fmt: str,
    source: Path | None,
    up_axis: UpAxis | None,
    units: Units | None,
) -> Avatar:
    import pyvista as pv

    parts: list[AvatarPart] = []
    for raw in raw_parts:
        faces = np.asarray(raw.faces, dtype=np.int64)
        mesh = pv.PolyData.from_regular_faces(np.asarray(raw.points, dtype=np.float32), faces)
        normals = raw.normals
        if normals is None or len(normals) != len(raw.points):
            normals = vertex_normals(raw.points, faces)
        mesh.point_data["Normals"] = np.asarray(normals, dtype=np.float32)
        mesh.point_data.active_normals_name = "Normals"
        if raw.uvs is not None:
            mesh.point_data["TextureCoordinates"] = np.asarray(raw.uvs, dtype=np.float32)
            mesh.point_data.active_texture_coordinates_name = "TextureCoordinates"
        if raw.colors is not None:
            name = "RGBA" if raw.colors.shape[1] == 4 else "RGB"
            mesh.point_data[name] = np.ascontiguousarray(raw.colors, dtype=np.uint8)
        # pyvista makes the first array it is given the active scalars; normals are not
        # colours, and a renderer should not paint with them by default.
        mesh.GetPointData().SetActiveScalars(None)
        parts.append(AvatarPart(raw.name, mesh, raw.texture, raw.base_color, raw.double_sided))

    bounds = union_bounds(p.mesh.bounds for p in parts)
    if up_axis is None:
        up_axis = guess_up_axis(bounds, prefer_y=fmt in ("gltf", "glb"))
    if units is None:
        units = guess_units(_extent(bounds, up_axis))
    points = _apply(_axis_to_y_up(up_axis), _point_sample(tuple(parts)))
    return Avatar(
        parts=tuple(parts),
        up_axis=up_axis,
        upright_transform=upright_transform_for(
            bounds, up_axis, turn_degrees=guess_facing_turn(points)
        ),
        units=units,
        source=source,
        format=fmt,
    )


def vertex_normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted smooth point normals, unit length (a stray unused point gets +Y)."""
    points64 = np.asarray(points, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    normals = np.zeros((len(points64), 3))
    if len(faces):
        corners = points64[faces]
        face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        flat = faces.ravel()
        for axis in range(3):
            # bincount is a much faster scatter-add than np.add.at.
            normals[:, axis] = np.bincount(
                flat, weights=np.repeat(face_normals[:, axis], 3), minlength=len(points64)
            )
    length = np.linalg.norm(normals, axis=1)
    degenerate = length == 0
    normals[degenerate] = (0.0, 1.0, 0.0)
    length[degenerate] = 1.0
    return (normals / length[:, None]).astype(np.float32)


def _decode_texture(
    source: Path | bytes | memoryview, *, name: str | None = None, decode: bool = True
) -> np.ndarray | None:
    """Decode an image file or image bytes to (H, W, 3|4) uint8, top row first; with
    ``decode=False`` only check that it opens as an image."""
    from PIL import Image, UnidentifiedImageError

    label = name or (source.name if isinstance(source, Path) else "an embedded image")
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(source if isinstance(source, Path) else io.BytesIO(source))
            with opened as image:
                if not decode:
                    return None
                image.load()
                has_alpha = "A" in image.getbands() or "transparency" in image.info
                converted = image.convert("RGBA" if has_alpha else "RGB")
                return np.asarray(converted, dtype=np.uint8)
    except FileNotFoundError:
        raise MeshError(f"refers to {label}, which is missing") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MeshError(f"refers to {label}, which is not a readable image") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise MeshError(f"refers to {label}, which cannot be decoded: {error}") from None


# --------------------------------------------------------------------------------------------
# Capturing VTK's messages

_VTK_MESSAGES_LOCK = threading.Lock()


@contextmanager
def _vtk_messages_captured() -> Iterator[list[str]]:
    """Collect VTK error messages instead of letting VTK print them.

    VTK prints errors to a process-wide output window and, in builds with logging, to stderr
    through vtkLogger. Both are swapped out for the duration, under a lock so two loads on
    worker threads do not restore each other's settings. Only messages raised on this thread
    are collected; another thread's (the GUI rendering meanwhile) go on to the previous
    output window, so a load is never blamed for them.
    """
    from vtkmodules.vtkCommonCore import (
        vtkCommand,
        vtkLogger,
        vtkOutputWindow,
        vtkStringOutputWindow,
    )

    errors: list[str] = []
    reading_thread = threading.get_ident()
    previous_window: Any = None

    def on_error(_caller: object, _event: str, text: str) -> None:
        if threading.get_ident() == reading_thread:
            errors.append(text)
        elif previous_window is not None:
            previous_window.DisplayErrorText(text)

    on_error.CallDataType = "string0"  # type: ignore[attr-defined]  # VTK passes the text
    window = vtkStringOutputWindow()
    window.AddObserver(vtkCommand.ErrorEvent, on_error)
    with _VTK_MESSAGES_LOCK:
        previous_window = vtkOutputWindow.GetInstance()
        previous_verbosity = vtkLogger.GetCurrentVerbosityCutoff()
        vtkOutputWindow.SetInstance(window)
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
        try:
            yield errors
        finally:
            vtkLogger.SetStderrVerbosity(previous_verbosity)
            vtkOutputWindow.SetInstance(previous_window)


def _vtk_reason(errors: list[str]) -> str:
    """The first VTK error, without its source-file preamble and object address."""
    if not errors:
        return ""
    text = errors[0].strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("ERROR: In "):
        lines = lines[1:]
    message = " ".join(lines)
    return re.sub(r"^\w+ \(0x[0-9a-fA-F]+\): ", "", message)


def _run_vtk_reader(reader: Any, path: Path, fmt_name: str) -> Any:
    """Update *reader* on *path* with its messages captured; its output, or MeshError."""
    reader.SetFileName(str(path))
    with _vtk_messages_captured() as errors:
        ok = reader.GetExecutive().Update()
    output = reader.GetOutputDataObject(0)
    if not ok or errors or output is None:
        # Readers name the file by its full local path, which means nothing to the person
        # reading the reason (and the caller names the file anyway).
        reason = _vtk_reason(errors).replace(str(path), path.name)
        reason = re.sub(
            r"\s*(?:for file|in file)?:?\s*" + re.escape(path.name) + r"\S*$", "", reason
        )
        raise MeshError(f"not a valid {fmt_name} file: {reason or 'the reader could not read it'}")
    return output


def _polydata_to_part(polydata: Any, name: str) -> _RawPart:
    """Triangles, points and point attributes of VTK polygonal data (lines and vertices are
    dropped: an avatar is a surface)."""
    import pyvista as pv
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter

    mesh = pv.wrap(polydata)
    if mesh.n_cells and not (polydata.GetNumberOfPolys() == mesh.n_cells and mesh.is_all_triangles):
        triangles = vtkTriangleFilter()
        triangles.PassLinesOff()
        triangles.PassVertsOff()
        triangles.SetInputData(polydata)
        triangles.Update()
        mesh = pv.wrap(triangles.GetOutput())
    faces = (
        np.asarray(mesh.regular_faces, dtype=np.int64).reshape(-1, 3)
        if mesh.n_cells
        else np.empty((0, 3), dtype=np.int64)
    )
    points = np.asarray(mesh.points, dtype=np.float32).reshape(-1, 3)
    uvs = mesh.active_texture_coordinates
    normals = mesh.point_data.active_normals
    colors = None
    scalars = mesh.point_data.active_scalars
    if (
        scalars is not None
        and scalars.dtype == np.uint8
        and scalars.ndim == 2
        and scalars.shape[1] in (3, 4)
    ):
        colors = np.asarray(scalars)
    return _RawPart(
        name=name,
        points=points,
        faces=faces,
        uvs=None if uvs is None else np.asarray(uvs, dtype=np.float32)[:, :2],
        normals=None if normals is None else np.asarray(normals, dtype=np.float32),
        colors=colors,
    )


# --------------------------------------------------------------------------------------------
# OBJ (Wavefront) and MTL


class _NeedsLineParser(Exception):
    """The vectorised OBJ parser met a construct that only the line-by-line parser handles."""


@dataclass
class _ObjMaterial:
    name: str
    diffuse: tuple[float, float, float] = (0.8, 0.8, 0.8)
    opacity: float = 1.0
    diffuse_map: str | None = None  # as written, relative to the MTL's folder
    maps: list[str] = field(default_factory=list)  # every map, as written


@dataclass
class _ObjContent:
    positions: np.ndarray  # (N, 3) float64
    texcoords: np.ndarray  # (T, 2) float64
    normals: np.ndarray  # (K, 3) float64
    corners: np.ndarray  # (C, 3) int64: 0-based v, vt, vn; -1 where absent
    corner_counts: np.ndarray  # (F,) corners of each face
    face_materials: np.ndarray  # (F,) index into material_names, -1 before any usemtl
    material_names: list[str]


_MAP_KEYWORDS = ("map_", "bump", "disp", "decal", "refl", "norm")
# Options of MTL map statements and how many arguments they take (None: 1 to 3 numbers).
_MAP_OPTION_ARGS: dict[str, int | None] = {
    "-blendu": 1,
    "-blendv": 1,
    "-boost": 1,
    "-mm": 2,
    "-o": None,
    "-s": None,
    "-t": None,
    "-texres": 1,
    "-clamp": 1,
    "-bm": 1,
    "-imfchan": 1,
    "-type": 1,
}


def _is_mni_object(path: Path) -> bool:
    # MNI/BIC surface objects share the .obj suffix (mni-surface-mesh.obj in the corpus is one):
    # their first statement is "P" (polygons), which Wavefront OBJ never uses.
    with path.open("rb") as handle:
        head = handle.read(256).lstrip()
    return re.match(rb"P\s+[-+0-9.eE]+\s", head) is not None


def _obj_referenced_files(path: Path, root: Path) -> list[str]:
    if _is_mni_object(path):
        return []
    names: list[str] = []
    for mtllib in _obj_mtllibs(_mtllib_lines(path.read_bytes()), path.parent, root):
        names.append(mtllib)
        mtl_path = _inside_folder(path.parent, mtllib, root)
        if mtl_path is None or not mtl_path.is_file():
            continue
        mtl_folder = PurePosixPath(mtllib).parent
        for material in _parse_mtl(mtl_path):
            for map_name in material.maps:
                names.append(_relative_name(mtl_folder, map_name))
    return list(dict.fromkeys(names))


def _relative_name(folder: PurePosixPath, name: str) -> str:
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or str(folder) == ".":
        return name
    return str(folder / name)


def _inside_folder(folder: Path, name: str, root: Path) -> Path | None:
    """*folder*/*name* if *name* is a relative path that stays inside *root*, else None.

    *root* is the package's folder when the caller knows it (so "../maps/skin.png" from
    "twin/look.obj" is fine), else the avatar's own folder.
    """
    name = name.replace("\\", "/")
    if not name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    candidate = folder.joinpath(*PurePosixPath(name).parts).resolve()
    if not candidate.is_relative_to(root.resolve()):
        return None
    return candidate


def _mtllib_lines(data: bytes) -> list[bytes]:
    """The ``mtllib`` statements of an OBJ (bytes.find is far faster than a regex here)."""
    lines: list[bytes] = []
    position = data.find(b"mtllib")
    while position >= 0:
        line_start = data.rfind(b"\n", 0, position) + 1
        line_end = data.find(b"\n", position)
        line = data[line_start : line_end if line_end >= 0 else len(data)]
        if line.lstrip().startswith(b"mtllib"):
            lines.append(line)
        position = data.find(b"mtllib", position + 6)
    return lines


def _obj_mtllibs(lines: list[bytes], folder: Path, root: Path) -> list[str]:
    names: list[str] = []
    for line in lines:
        statement = line.split(b"#", 1)[0].strip()
        if not statement.startswith(b"mtllib") or statement[6:7] not in (b" ", b"\t"):
            continue
        text = statement[6:].decode("utf-8", "replace").strip()
        if not text:
            continue
        # "mtllib a.mtl b.mtl" names several files, but a single file name may contain spaces.
        whole = _inside_folder(folder, text, root)
        if " " not in text or (whole is not None and whole.is_file()):
            names.append(text)
        else:
            names.extend(text.split())
    return names


def _parse_mtl(path: Path) -> list[_ObjMaterial]:
    materials: list[_ObjMaterial] = []
    current: _ObjMaterial | None = None
    text = path.read_bytes().decode("utf-8", "replace")
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        keyword_lower = keyword.lower()
        rest = rest.strip()
        if keyword_lower == "newmtl":
            current = _ObjMaterial(name=rest)
            materials.append(current)
        elif current is None:
            continue
        elif keyword_lower == "kd":
            numbers = _floats_or_none(rest.split()[:3])
            if numbers is not None and len(numbers) == 3:
                current.diffuse = (numbers[0], numbers[1], numbers[2])
        elif keyword_lower == "d":
            numbers = _floats_or_none(rest.split()[-1:])
            if numbers:
                current.opacity = min(max(numbers[0], 0.0), 1.0)
        elif keyword_lower == "tr":
            numbers = _floats_or_none(rest.split()[-1:])
            if numbers:
                current.opacity = min(max(1.0 - numbers[0], 0.0), 1.0)
        elif keyword_lower.startswith(_MAP_KEYWORDS):
            map_name = _map_file_name(rest)
            if map_name:
                current.maps.append(map_name)
                if keyword_lower == "map_kd":
                    current.diffuse_map = map_name
    return materials


def _map_file_name(arguments: str) -> str:
    """The file name of an MTL map statement, after its options (``-s 1 1 1 skin.png``)."""
    tokens = arguments.split()
    index = 0
    while index < len(tokens) and tokens[index].lower() in _MAP_OPTION_ARGS:
        count = _MAP_OPTION_ARGS[tokens[index].lower()]
        index += 1
        if count is None:
            taken = 0
            while taken < 3 and index < len(tokens) - 1 and _floats_or_none([tokens[index]]):
                index += 1
                taken += 1
        else:
            index += count
    return " ".join(tokens[index:])


def _floats_or_none(tokens: list[str]) -> list[float] | None:
    try:
        return [float(token) for token in tokens]
    except ValueError:
        return None


def _read_obj(
    path: Path, root: Path, *, decode_textures: bool, max_triangles: int
) -> list[_RawPart]:
    if _is_mni_object(path):
        return _read_mni_object(path)
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise MeshError("not a valid OBJ file: it is binary, not text")
    try:
        content = _parse_obj_vectorised(data, max_triangles)
    except _NeedsLineParser:
        content = _parse_obj_lines(data, max_triangles)

    materials: dict[str, _ObjMaterial] = {}
    mtl_folders: dict[str, Path] = {}
    for mtllib in _obj_mtllibs(_mtllib_lines(data), path.parent, root):
        mtl_path = _inside_folder(path.parent, mtllib, root)
        if mtl_path is None:
            raise MeshError(f"refers to {mtllib}, which is outside its folder")
        if not mtl_path.is_file():
            raise MeshError(f"refers to {mtllib}, which is missing")
        for material in _parse_mtl(mtl_path):
            materials.setdefault(material.name, material)
            mtl_folders.setdefault(material.name, mtl_path.parent)
    return _obj_parts(content, materials, mtl_folders, root, decode_textures=decode_textures)


def _obj_parts(
    content: _ObjContent,
    materials: dict[str, _ObjMaterial],
    mtl_folders: dict[str, Path],
    root: Path,
    *,
    decode_textures: bool,
) -> list[_RawPart]:
    n_positions = len(content.positions)
    corners = content.corners
    check_indices(corners[:, 0], n_positions)
    if (corners[:, 1] >= len(content.texcoords)).any() or (corners[:, 1] < -1).any():
        raise MeshError("has a face that refers to a texture coordinate that does not exist")
    if (corners[:, 2] >= len(content.normals)).any() or (corners[:, 2] < -1).any():
        raise MeshError("has a face that refers to a normal that does not exist")

    triangles_of_corners, triangle_faces = _fan_triangles(content.corner_counts)
    if not len(triangles_of_corners):
        return []
    triangle_materials = content.face_materials[triangle_faces]

    # Smooth normals are computed over positions, not over split (position, uv) corners, so
    # UV seams do not show as creases.
    has_file_normals = bool((corners[:, 2] >= 0).all()) and len(content.normals) > 0
    position_normals = None
    if not has_file_normals:
        position_normals = vertex_normals(content.positions, corners[triangles_of_corners, 0])

    images: dict[Path, np.ndarray | None] = {}
    parts: list[_RawPart] = []
    for material_index in np.unique(triangle_materials):
        selected = triangles_of_corners[triangle_materials == material_index]
        name = content.material_names[material_index] if material_index >= 0 else "default"
        part_corners = corners[selected.ravel()]
        use_uvs = bool((part_corners[:, 1] >= 0).any()) and len(content.texcoords) > 0
        columns = [0, 1] if use_uvs else [0]
        if has_file_normals:
            columns.append(2)
        unique_corners, corner_ids = _unique_rows(part_corners[:, columns])
        faces = corner_ids.reshape(-1, 3)
        points = content.positions[unique_corners[:, 0]].astype(np.float32)
        uvs = None
        if use_uvs:
            uv_index = unique_corners[:, 1]
            uvs = np.where(
                (uv_index >= 0)[:, None], content.texcoords[np.maximum(uv_index, 0)], 0.0
            ).astype(np.float32)
        if has_file_normals:
            normals = content.normals[unique_corners[:, -1]].astype(np.float32)
        else:
            assert position_normals is not None
            normals = position_normals[unique_corners[:, 0]]

        material = materials.get(name)
        base_color = DEFAULT_BASE_COLOR
        texture = None
        texture_file = None
        if material is not None:
            base_color = (*material.diffuse, material.opacity)
            if material.diffuse_map and uvs is not None:
                texture_path = _inside_folder(mtl_folders[name], material.diffuse_map, root)
                if texture_path is None:
                    raise MeshError(
                        f"refers to {material.diffuse_map}, which is outside its folder"
                    )
                texture_file = material.diffuse_map
                if texture_path not in images:
                    images[texture_path] = _decode_texture(texture_path, decode=decode_textures)
                texture = images[texture_path]
        parts.append(
            _RawPart(
                name=name,
                points=points,
                faces=faces,
                uvs=uvs,
                normals=normals,
                texture=texture,
                texture_file=texture_file,
                base_color=base_color,
            )
        )
    return parts


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a small-integer table (each value >= -1) and each row's index."""
    # One int64 key per row is much faster than np.unique(axis=0). Columns are folded in
    # pairs through np.unique so the key never overflows, whatever the counts.
    key = rows[:, 0].astype(np.int64)
    key_limit = int(key.max()) + 1 if len(key) else 1
    for column in range(1, rows.shape[1]):
        values = rows[:, column].astype(np.int64) + 1
        span = int(values.max()) + 1 if len(values) else 1
        if key_limit * span >= 1 << 62:
            key_ids = np.unique(key, return_inverse=True)[1].astype(np.int64).reshape(-1)
            key, key_limit = key_ids, int(key_ids.max()) + 1
        key = key * span + values
        key_limit *= span
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1)


def _fan_triangles(corner_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner indices (T, 3) of a fan triangulation of faces with the given corner counts,
    and the face each triangle comes from."""
    counts = corner_counts.astype(np.int64)
    if not len(counts):
        return np.empty((0, 3), dtype=np.int64), np.empty(0, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    per_face = np.maximum(counts - 2, 0)
    total = int(per_face.sum())
    face_of_triangle = np.repeat(np.arange(len(counts)), per_face)
    # Position of each triangle within its face's fan: 0, 1, ... k-3.
    first_triangle = np.concatenate(([0], np.cumsum(per_face)[:-1]))
    step = np.arange(total) - np.repeat(first_triangle, per_face)
    base = offsets[face_of_triangle]
    triangles = np.stack([base, base + step + 1, base + step + 2], axis=1)
    return triangles, face_of_triangle


def _parse_obj_vectorised(data: bytes, max_triangles: int) -> _ObjContent:
    """Parse an OBJ with numpy, handling whole runs of same-kind lines at once.

    Raises _NeedsLineParser for what it does not handle (indented statements, comments after
    numbers, faces whose corners mix formats inside a run); the line parser handles those.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 0x0A)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(buf)])).astype(np.int64)
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if not len(starts):
        raise MeshError("has no triangles")
    last = len(buf) - 1
    first_char = buf[starts]
    second_char = np.where(ends - starts > 1, buf[np.minimum(starts + 1, last)], 0x20)
    third_char = np.where(ends - starts > 2, buf[np.minimum(starts + 2, last)], 0x20)

    def is_blank(chars: np.ndarray) -> np.ndarray:
        return (chars == 0x20) | (chars == 0x09) | (chars == 0x0D)

    indented = is_blank(first_char) & (first_char != 0x0D)
    if indented.any():
        # Whitespace-only lines are harmless; statements after leading blanks are rare and
        # left to the line parser.
        for line in np.flatnonzero(indented):
            if data[starts[line] : ends[line]].strip():
                raise _NeedsLineParser
    is_v = (first_char == ord("v")) & is_blank(second_char)
    is_vt = (first_char == ord("v")) & (second_char == ord("t")) & is_blank(third_char)
    is_vn = (first_char == ord("v")) & (second_char == ord("n")) & is_blank(third_char)
    is_f = (first_char == ord("f")) & is_blank(second_char)
    is_usemtl = first_char == ord("u")

    face_lines = np.flatnonzero(is_f)
    _check_triangle_cap(len(face_lines), max_triangles, at_least=True)

    def vertex_numbers(mask: np.ndarray, keyword: bytes, wanted: int) -> np.ndarray:
        lines = np.flatnonzero(mask)
        return _obj_vertex_numbers(data, buf, starts, ends, lines, keyword=keyword, wanted=wanted)

    positions = vertex_numbers(is_v, b"v", 3)
    texcoords = vertex_numbers(is_vt, b"vt", 2)
    normals = vertex_numbers(is_vn, b"vn", 3)

    corners, corner_counts = _obj_face_corners(data, buf, starts, ends, face_lines)
    corners = _resolve_obj_indices(
        corners, lambda: np.repeat(face_lines, corner_counts), is_v, is_vt, is_vn
    )

    material_names: list[str] = []
    usemtl_lines: list[int] = []
    usemtl_ids: list[int] = []
    for line in np.flatnonzero(is_usemtl):
        text = data[starts[line] : ends[line]].decode("utf-8", "replace").strip()
        keyword, _, name = text.partition(" ")
        if keyword != "usemtl":
            continue
        name = name.split("#", 1)[0].strip()
        if name not in material_names:
            material_names.append(name)
        usemtl_lines.append(int(line))
        usemtl_ids.append(material_names.index(name))
    face_materials = np.full(len(face_lines), -1, dtype=np.int64)
    if usemtl_lines:
        preceding = np.searchsorted(np.array(usemtl_lines), face_lines, side="right") - 1
        ids = np.array(usemtl_ids, dtype=np.int64)
        face_materials = np.where(preceding >= 0, ids[np.maximum(preceding, 0)], -1)

    return _ObjContent(
        positions=positions,
        texcoords=texcoords,
        normals=normals,
        corners=corners,
        corner_counts=corner_counts,
        face_materials=face_materials,
        material_names=material_names,
    )


def _line_runs(lines: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) positions in *lines* of each run of consecutive line numbers."""
    if not len(lines):
        return []
    breaks = np.flatnonzero(np.diff(lines) != 1)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [len(lines) - 1]))
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _fields_per_line(buf: np.ndarray, start: int, end: int, line_starts: np.ndarray) -> np.ndarray:
    """Whitespace-separated fields on each line of buf[start:end] (line_starts relative)."""
    filled = buf[start:end] > 0x20
    field_starts = np.flatnonzero(filled[1:] > filled[:-1]) + 1
    if len(filled) and filled[0]:
        field_starts = np.concatenate(([0], field_starts))
    return np.diff(np.searchsorted(field_starts, np.append(line_starts, len(filled))))


def _obj_vertex_numbers(
    data: bytes,
    buf: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    lines: np.ndarray,
    *,
    keyword: bytes,
    wanted: int,
) -> np.ndarray:
    """The first *wanted* numbers of each ``v``/``vt``/``vn`` line, as an (n, wanted) array."""
    blocks: list[np.ndarray] = []
    for first, last in _line_runs(lines):
        run = lines[first : last + 1]
        start, end = int(starts[run[0]]), int(ends[run[-1]])
        try:
            numbers = np.fromstring(data[start:end].translate(None, keyword), sep=" ")
        except ValueError:
            raise _NeedsLineParser from None
        if len(numbers) == wanted * len(run):
            # The usual case: exactly "x y z" (or "u v") on every line. A malformed file
            # whose short and long lines happen to balance out would be misread here, but
            # only into wrong coordinates: indices are checked separately.
            blocks.append(numbers.reshape(-1, wanted))
            continue
        counts = _fields_per_line(buf, start, end, starts[run] - start) - 1
        if counts.sum() != len(numbers) or (counts < wanted).any():
            if keyword == b"vt" and (counts >= 1).all() and counts.sum() == len(numbers):
                # "vt u" alone is legal; v defaults to 0.
                offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
                padded = np.zeros((len(run), wanted))
                padded[:, 0] = numbers[offsets]
                has_v = counts >= 2
                padded[has_v, 1] = numbers[offsets[has_v] + 1]
                blocks.append(padded)
                continue
            raise MeshError(f"not a valid OBJ file: a '{keyword.decode()}' line is incomplete")
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        blocks.append(numbers[offsets[:, None] + np.arange(wanted)])
    if not blocks:
        return np.empty((0, wanted))
    return np.concatenate(blocks)


_FACE_SEPARATORS = bytes.maketrans(b"/", b" ")


def _obj_face_corners(
    data: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Corner index triples (v, vt, vn; 0 where absent, as written otherwise) of every face
    line, and the number of corners of each face."""
    corner_blocks: list[np.ndarray] = []
    count_blocks: list[np.ndarray] = []
    for first, last in _line_runs(lines):
        run = lines[first : last + 1]
        start, end = int(starts[run[0]]), int(ends[run[-1]])
        text = data[start:end]
        if text.count(b" ") == 3 * len(run):
            # Single-spaced triangles, as exporters write them: k corners need at least k
            # spaces, so 3 per line on average with no face below 3 corners means exactly 3.
            # (A broken two-corner face could hide here; it would only misplace triangles,
            # and indices are checked later.)
            counts = np.full(len(run), 3, dtype=np.int64)
        else:
            counts = _fields_per_line(buf, start, end, starts[run] - start) - 1
        n_corners = int(counts.sum())
        first_corner = data[starts[run[0]] : ends[run[0]]].split()[1:2]
        if not first_corner:
            raise _NeedsLineParser
        slashes = first_corner[0].count(b"/")
        # v, v/vt, v//vn, v/vt/vn: which of (v, vt, vn) each corner carries.
        if slashes == 0:
            layout = (0,)
        elif slashes == 1:
            layout = (0, 1)
        elif b"//" in first_corner[0]:
            layout = (0, 2)
        else:
            layout = (0, 1, 2)
        if text.count(b"/") != n_corners * slashes or (
            layout == (0, 2) and text.count(b"//") != n_corners
        ):
            raise _NeedsLineParser
        try:
            numbers = np.fromstring(text.translate(_FACE_SEPARATORS, b"f"), sep=" ", dtype=np.int64)
        except ValueError:
            raise _NeedsLineParser from None
        if len(numbers) != n_corners * len(layout):
            raise _NeedsLineParser
        block = np.zeros((n_corners, 3), dtype=np.int64)
        block[:, list(layout)] = numbers.reshape(n_corners, len(layout))
        corner_blocks.append(block)
        count_blocks.append(counts)
    if not corner_blocks:
        return np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(corner_blocks), np.concatenate(count_blocks)


def _resolve_obj_indices(
    corners: np.ndarray, corner_lines: Callable[[], np.ndarray], *is_kind: np.ndarray
) -> np.ndarray:
    """OBJ indices (1-based, or negative: relative to what is defined so far) to 0-based;
    absent (0) becomes -1. *is_kind* marks the v, vt and vn lines; *corner_lines* gives the
    line of each corner, needed only for relative indices, which few files use."""
    resolved = corners - 1
    if int(corners.min(initial=0)) >= 0:
        return resolved
    lines = corner_lines()
    for column, is_defining in enumerate(is_kind):
        values = corners[:, column]
        negative = values < 0
        if negative.any():
            defined = np.cumsum(is_defining)[lines[negative]]
            resolved[negative, column] = defined + values[negative]
            if (resolved[negative, column] < 0).any():
                raise MeshError("has a face with a relative index before the first vertex")
    return resolved


def _parse_obj_lines(data: bytes, max_triangles: int) -> _ObjContent:
    """Line-by-line OBJ parser for what the vectorised one does not handle."""
    positions: list[list[float]] = []
    texcoords: list[list[float]] = []
    normals: list[list[float]] = []
    corners: list[tuple[int, int, int]] = []
    corner_counts: list[int] = []
    face_materials: list[int] = []
    material_names: list[str] = []
    current_material = -1
    for number, raw_line in enumerate(data.splitlines(), start=1):
        line = raw_line.split(b"#", 1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        keyword = tokens[0]
        try:
            if keyword == b"v":
                positions.append([float(t) for t in tokens[1:4]])
                if len(positions[-1]) != 3:
                    raise ValueError
            elif keyword == b"vt":
                uv = [float(t) for t in tokens[1:3]]
                if not uv:
                    raise ValueError
                texcoords.append(uv + [0.0] * (2 - len(uv)))
            elif keyword == b"vn":
                normals.append([float(t) for t in tokens[1:4]])
                if len(normals[-1]) != 3:
                    raise ValueError
            elif keyword == b"f":
                for token in tokens[1:]:
                    fields = token.split(b"/")
                    triple = [int(f) if f else 0 for f in fields[:3]] + [0] * (3 - len(fields))
                    for column, defined in enumerate(
                        (len(positions), len(texcoords), len(normals))
                    ):
                        if triple[column] < 0:
                            triple[column] = defined + triple[column] + 1
                            if triple[column] <= 0:
                                raise MeshError(
                                    f"has a relative index before the first vertex on line {number}"
                                )
                    corners.append((triple[0], triple[1], triple[2]))
                corner_counts.append(len(tokens) - 1)
                face_materials.append(current_material)
                if len(corner_counts) > max_triangles:
                    _check_triangle_cap(len(corner_counts), max_triangles, at_least=True)
            elif keyword == b"usemtl":
                name = line[len(b"usemtl") :].decode("utf-8", "replace").strip()
                if name not in material_names:
                    material_names.append(name)
                current_material = material_names.index(name)
        except ValueError:
            raise MeshError(
                f"not a valid OBJ file: line {number} is not a valid '{keyword.decode()}' statement"
            ) from None
    corner_array = np.array(corners, dtype=np.int64).reshape(-1, 3) - 1
    return _ObjContent(
        positions=np.array(positions, dtype=np.float64).reshape(-1, 3),
        texcoords=np.array(texcoords, dtype=np.float64).reshape(-1, 2),
        normals=np.array(normals, dtype=np.float64).reshape(-1, 3),
        corners=corner_array,
        corner_counts=np.array(corner_counts, dtype=np.int64),
        face_materials=np.array(face_materials, dtype=np.int64),
        material_names=material_names,
    )


def _read_mni_object(path: Path) -> list[_RawPart]:
    from vtkmodules.vtkIOMINC import vtkMNIObjectReader

    # The header's point count is text, so a hostile count cannot outgrow the file's size by
    # much; still refuse one that the file cannot possibly hold before VTK allocates for it.
    with path.open("rb") as handle:
        header = handle.readline().split()
    try:
        declared_points = int(header[-1])
    except (IndexError, ValueError):
        raise MeshError("not a valid MNI object file: the header has no point count") from None
    if declared_points * 6 > path.stat().st_size:
        raise MeshError("not a valid MNI object file: it ends early")
    reader = vtkMNIObjectReader()
    output = _run_vtk_reader(reader, path, "MNI object")
    return [_polydata_to_part(output, "surface")]


# --------------------------------------------------------------------------------------------
# PLY

_PLY_TYPES: dict[str, str] = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}
_PLY_UV_NAMES = (("s", "t"), ("u", "v"), ("texture_u", "texture_v"), ("texture_s", "texture_t"))
_PLY_MAX_HEADER = 1 << 16


@dataclass
class _PlyProperty:
    name: str
    type: str  # numpy type code without byte order
    count_type: str | None = None  # set for list properties


@dataclass
class _PlyElement:
    name: str
    count: int
    properties: list[_PlyProperty] = field(default_factory=list)


def _parse_ply_header(data: bytes) -> tuple[str, list[_PlyElement], int]:
    if not data.startswith(b"ply") or data[3:4] not in (b"\n", b"\r"):
        raise MeshError("not a valid PLY file: it does not start with 'ply'")
    marker = re.search(rb"end_header[ \t]*\r?\n", data[:_PLY_MAX_HEADER])
    if marker is None:
        raise MeshError("not a valid PLY file: header ends early")
    header = data[: marker.start()].decode("ascii", "replace")
    fmt = ""
    elements: list[_PlyElement] = []
    for line in header.splitlines()[1:]:
        tokens = line.split()
        if not tokens or tokens[0] in ("comment", "obj_info"):
            continue
        try:
            if tokens[0] == "format":
                fmt = tokens[1]
            elif tokens[0] == "element":
                elements.append(_PlyElement(tokens[1], int(tokens[2])))
                if elements[-1].count < 0:
                    raise ValueError
            elif tokens[0] == "property":
                if not elements:
                    raise ValueError
                if tokens[1] == "list":
                    elements[-1].properties.append(
                        _PlyProperty(tokens[4], _PLY_TYPES[tokens[3]], _PLY_TYPES[tokens[2]])
                    )
                else:
                    elements[-1].properties.append(_PlyProperty(tokens[2], _PLY_TYPES[tokens[1]]))
            else:
                raise ValueError
        except (IndexError, KeyError, ValueError):
            raise MeshError(f"not a valid PLY file: bad header line {line.strip()!r}") from None
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise MeshError(f"not a valid PLY file: unknown format {fmt or 'none'!r}")
    return fmt, elements, marker.end()


def _read_ply(path: Path, *, max_triangles: int) -> list[_RawPart]:
    data = path.read_bytes()
    fmt, elements, body_start = _parse_ply_header(data)
    by_name = {element.name: element for element in elements}
    vertex = by_name.get("vertex")
    face = by_name.get("face")
    if vertex is None:
        raise MeshError("not a valid PLY file: it has no vertex element")
    if face is None or face.count == 0:
        raise MeshError("has no triangles")
    # Every face is at least one triangle: refuse a hostile count before reading anything.
    _check_triangle_cap(face.count, max_triangles, at_least=True)
    names = [p.name for p in vertex.properties]
    if not {"x", "y", "z"} <= set(names):
        raise MeshError("not a valid PLY file: its vertices have no x, y, z")
    index_property = next(
        (p for p in face.properties if p.count_type is not None and "vertex" in p.name), None
    )
    if index_property is None:
        raise MeshError("not a valid PLY file: its faces have no vertex_indices list")

    if fmt == "ascii":
        columns, polygons = _read_ply_ascii(data, body_start, elements, index_property)
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        columns, polygons = _read_ply_binary(data, body_start, elements, index_property, order)

    points = np.stack([columns["x"], columns["y"], columns["z"]], axis=1).astype(np.float32)
    faces = _triangulate_polygons(polygons)
    _check_triangle_cap(len(faces), max_triangles)
    check_indices(faces, len(points))
    uvs = None
    for u_name, v_name in _PLY_UV_NAMES:
        if u_name in columns and v_name in columns:
            uvs = np.stack([columns[u_name], columns[v_name]], axis=1).astype(np.float32)
            break
    normals = None
    if {"nx", "ny", "nz"} <= set(columns):
        normals = np.stack([columns["nx"], columns["ny"], columns["nz"]], axis=1)
        normals = normals.astype(np.float32)
    colors = None
    for channel_names in (("red", "green", "blue"), ("r", "g", "b")):
        if set(channel_names) <= set(columns):
            channels = [columns[name] for name in channel_names]
            alpha_name = "alpha" if channel_names[0] == "red" else "a"
            if alpha_name in columns:
                channels.append(columns[alpha_name])
            colors = _as_uint8_colors(np.stack(channels, axis=1))
            break
    return [_RawPart("mesh", points, faces, uvs=uvs, normals=normals, colors=colors)]


def _as_uint8_colors(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    if np.issubdtype(values.dtype, np.floating) and values.size and values.max() <= 1.0:
        values = values * 255.0
    return np.clip(values, 0, 255).astype(np.uint8)


def _triangulate_polygons(polygons: list[tuple[np.ndarray, int]] | np.ndarray) -> np.ndarray:
    """Triangles of PLY faces given as (indices (n, k), k) blocks of equal corner count."""
    if len(polygons) == 1 and polygons[0][1] == 3:  # type: ignore[index]
        # All triangles, as scanners write them: no fan to build, no copy to make.
        return np.ascontiguousarray(polygons[0][0], dtype=np.int64)  # type: ignore[index]
    blocks: list[np.ndarray] = []
    for indices, corners in polygons:  # type: ignore[misc]
        if corners < 3:
            continue
        fans = [indices[:, [0, i, i + 1]] for i in range(1, corners - 1)]
        # Interleave so the triangles of one polygon stay together.
        blocks.append(np.stack(fans, axis=1).reshape(-1, 3))
    if not blocks:
        return np.empty((0, 3), dtype=np.int64)
    return np.concatenate(blocks).astype(np.int64)


def _read_ply_binary(
    data: bytes,
    offset: int,
    elements: list[_PlyElement],
    index_property: _PlyProperty,
    order: str,
) -> tuple[dict[str, np.ndarray], list[tuple[np.ndarray, int]]]:
    columns: dict[str, np.ndarray] = {}
    polygons: list[tuple[np.ndarray, int]] = []
    for element in elements:
        if element.name not in ("vertex", "face") and columns and polygons:
            break  # nothing needed comes after vertices and faces
        has_lists = any(p.count_type is not None for p in element.properties)
        if not has_lists:
            dtype = np.dtype([(p.name, order + p.type) for p in element.properties])
            size = dtype.itemsize * element.count
            if offset + size > len(data):
                raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
            if element.name == "vertex":
                table = np.frombuffer(data, dtype=dtype, count=element.count, offset=offset)
                columns = {name: table[name] for name in dtype.names or ()}
            offset += size
            continue
        offset, element_polygons = _read_ply_list_element(
            data, offset, element, index_property if element.name == "face" else None, order
        )
        if element.name == "face":
            polygons = element_polygons
    if not columns:
        raise MeshError("not a valid PLY file: its vertex data ends early")
    return columns, polygons


def _read_ply_list_element(
    data: bytes,
    offset: int,
    element: _PlyElement,
    index_property: _PlyProperty | None,
    order: str,
) -> tuple[int, list[tuple[np.ndarray, int]]]:
    """Read (or skip) a binary element with list properties; returns the new offset and, for
    the face element, its polygons grouped by corner count."""
    # Fast path: every list in the element has the length of the first record's list, which
    # is what scanners and exporters write (all triangles). Then the element is one
    # structured array, checked against the file's size before it is viewed.
    fields: list[tuple[str, str] | tuple[str, str, tuple[int]]] = []
    probe = offset
    for index, prop in enumerate(element.properties):
        if prop.count_type is None:
            fields.append((f"p{index}", order + prop.type))
            probe += np.dtype(prop.type).itemsize
            continue
        count_dtype = np.dtype(order + prop.count_type)
        if probe + count_dtype.itemsize > len(data):
            raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
        length = int(np.frombuffer(data, dtype=count_dtype, count=1, offset=probe)[0])
        fields.append((f"n{index}", order + prop.count_type))
        if length > 0:
            fields.append((f"p{index}", order + prop.type, (length,)))
        probe += count_dtype.itemsize + length * np.dtype(prop.type).itemsize
    dtype = np.dtype(fields)  # type: ignore[arg-type]
    size = dtype.itemsize * element.count
    if offset + size <= len(data):
        table = np.frombuffer(data, dtype=dtype, count=element.count, offset=offset)
        uniform = True
        for index, prop in enumerate(element.properties):
            if prop.count_type is not None:
                expected = dtype[f"p{index}"].shape[0] if f"p{index}" in dtype.names else 0
                if not (table[f"n{index}"] == expected).all():
                    uniform = False
                    break
        if uniform:
            polygons: list[tuple[np.ndarray, int]] = []
            if index_property is not None:
                position = element.properties.index(index_property)
                name = f"p{position}"
                if name in (dtype.names or ()):
                    indices = np.asarray(table[name], dtype=np.int64)
                    polygons.append((indices, indices.shape[1]))
            return offset + size, polygons
    return _read_ply_list_element_slowly(data, offset, element, index_property, order)


def _read_ply_list_element_slowly(
    data: bytes,
    offset: int,
    element: _PlyElement,
    index_property: _PlyProperty | None,
    order: str,
) -> tuple[int, list[tuple[np.ndarray, int]]]:
    """Walk records one by one: mixed polygon sizes, or a file that ends early."""
    by_corners: dict[int, list[np.ndarray]] = {}
    sizes = [
        (
            np.dtype(order + p.type),
            None if p.count_type is None else np.dtype(order + p.count_type),
            p is index_property,
        )
        for p in element.properties
    ]
    end = len(data)
    for _ in range(element.count):
        for value_dtype, count_dtype, is_index in sizes:
            if count_dtype is None:
                offset += value_dtype.itemsize
                continue
            if offset + count_dtype.itemsize > end:
                raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
            length = int(np.frombuffer(data, dtype=count_dtype, count=1, offset=offset)[0])
            offset += count_dtype.itemsize
            if length < 0 or offset + length * value_dtype.itemsize > end:
                raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
            if is_index:
                values = np.frombuffer(data, dtype=value_dtype, count=length, offset=offset)
                by_corners.setdefault(length, []).append(values.astype(np.int64))
            offset += length * value_dtype.itemsize
    if offset > end:
        raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
    return offset, [(np.stack(rows), corners) for corners, rows in by_corners.items()]


def _read_ply_ascii(
    data: bytes, offset: int, elements: list[_PlyElement], index_property: _PlyProperty
) -> tuple[dict[str, np.ndarray], list[tuple[np.ndarray, int]]]:
    needed = [e for e in elements if e.name in ("vertex", "face")]
    last_needed = elements.index(needed[-1])
    try:
        numbers = np.fromstring(data[offset:], sep=" ")
    except ValueError:
        raise MeshError(
            "not a valid PLY file: its data holds something that is not a number"
        ) from None
    columns: dict[str, np.ndarray] = {}
    polygons: list[tuple[np.ndarray, int]] = []
    position = 0
    for element in elements[: last_needed + 1]:
        has_lists = any(p.count_type is not None for p in element.properties)
        if not has_lists:
            width = len(element.properties)
            size = width * element.count
            if position + size > len(numbers):
                raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
            if element.name == "vertex":
                table = numbers[position : position + size].reshape(element.count, width)
                columns = {p.name: table[:, i] for i, p in enumerate(element.properties)}
            position += size
            continue
        position, element_polygons = _read_ply_ascii_lists(
            numbers, position, element, index_property if element.name == "face" else None
        )
        if element.name == "face":
            polygons = element_polygons
    return columns, polygons


def _read_ply_ascii_lists(
    numbers: np.ndarray,
    position: int,
    element: _PlyElement,
    index_property: _PlyProperty | None,
) -> tuple[int, list[tuple[np.ndarray, int]]]:
    # Fast path for the usual single list per record with the same length everywhere.
    if len(element.properties) == 1 and element.count and position < len(numbers):
        corners = int(numbers[position])
        width = corners + 1
        size = width * element.count
        if corners >= 0 and position + size <= len(numbers):
            table = numbers[position : position + size].reshape(element.count, width)
            if (table[:, 0] == corners).all():
                polygons = []
                if index_property is not None:
                    polygons.append((table[:, 1:].astype(np.int64), corners))
                return position + size, polygons
    by_corners: dict[int, list[np.ndarray]] = {}
    for _ in range(element.count):
        for prop in element.properties:
            if position >= len(numbers):
                raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
            if prop.count_type is None:
                position += 1
                continue
            length = int(numbers[position])
            position += 1
            if length < 0 or position + length > len(numbers):
                raise MeshError(f"not a valid PLY file: its {element.name} data ends early")
            if prop is index_property:
                row = numbers[position : position + length].astype(np.int64)
                by_corners.setdefault(length, []).append(row)
            position += length
    return position, [(np.stack(rows), corners) for corners, rows in by_corners.items()]


# --------------------------------------------------------------------------------------------
# STL, VTP, legacy VTK


def _read_stl(path: Path, *, max_triangles: int) -> list[_RawPart]:
    from vtkmodules.vtkIOGeometry import vtkSTLReader

    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(84)
    declared = struct.unpack_from("<I", head, 80)[0] if len(head) == 84 else None
    # Binary STL files may begin with "solid" too; the size tells them apart.
    if declared is not None and 84 + 50 * declared == size:
        if declared == 0:
            raise MeshError("has no triangles")
        _check_triangle_cap(declared, max_triangles)
    elif head.lstrip().startswith(b"solid"):
        facets = path.read_bytes().count(b"endfacet")
        if facets == 0:
            raise MeshError("not a valid STL file: it has no facets")
        _check_triangle_cap(facets, max_triangles)
    elif declared is None:
        raise MeshError("not a valid STL file: it is too short to be one")
    elif 84 + 50 * declared > size:
        raise MeshError(
            f"not a valid STL file: too short for the {declared:,} triangles its header declares"
        )
    else:
        # Some exporters pad binary STL files after the triangles.
        _check_triangle_cap(declared, max_triangles)
    reader = vtkSTLReader()
    output = _run_vtk_reader(reader, path, "STL")
    return [_polydata_to_part(output, "mesh")]


def _read_vtk_polydata(path: Path, *, max_triangles: int) -> list[_RawPart]:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if path.suffix.lower() == ".vtp":
        from vtkmodules.vtkIOXML import vtkXMLPolyDataReader

        if not head.lstrip().startswith(b"<"):
            raise MeshError("not a valid VTP file: it is not XML")
        if b'type="PolyData"' not in head[:4096]:
            raise MeshError("not a valid VTP file: it does not hold polygonal data")
        header_end = head.find(b"<AppendedData")
        xml_head = head if header_end < 0 else head[:header_end]
        declared = sum(
            int(n) for n in re.findall(rb'Number(?:OfPolys|OfStrips)="\s*(\d+)', xml_head)
        )
        _check_triangle_cap(declared, max_triangles, at_least=True)
        reader: Any = vtkXMLPolyDataReader()
        fmt_name = "VTP"
    else:
        from vtkmodules.vtkIOLegacy import vtkPolyDataReader

        if not head.startswith(b"# vtk DataFile"):
            raise MeshError("not a valid VTK file: it does not start with '# vtk DataFile'")
        dataset = re.search(rb"^DATASET[ \t]+(\w+)", head, re.MULTILINE)
        if dataset is None:
            raise MeshError("not a valid VTK file: it names no dataset type")
        if dataset.group(1).upper() != b"POLYDATA":
            kind = dataset.group(1).decode("ascii", "replace")
            raise MeshError(f"is a VTK {kind} file, not polygonal data")
        declared = sum(
            int(n)
            for n in re.findall(rb"^(?:POLYGONS|TRIANGLE_STRIPS)[ \t]+(\d+)", head, re.MULTILINE)
        )
        # Format 5.1 writes offsets + 1 as the count.
        if b"OFFSETS" in head:
            declared = max(declared - 1, 0)
        _check_triangle_cap(declared, max_triangles, at_least=True)
        reader = vtkPolyDataReader()
        fmt_name = "VTK"
    output = _run_vtk_reader(reader, path, fmt_name)
    return [_polydata_to_part(output, "mesh")]


# --------------------------------------------------------------------------------------------
# glTF 2.0 / GLB

_GLB_MAGIC = b"glTF"
_GLB_JSON = 0x4E4F534A
_GLB_BIN = 0x004E4942
_GLTF_COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
_GLTF_TYPE_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
# Extensions a file may require and still be drawn faithfully by vtkGLTFReader (or that only
# change lighting, which the viewer sets itself).
_GLTF_READABLE_EXTENSIONS = frozenset(
    {"KHR_materials_unlit", "KHR_lights_punctual", "KHR_materials_emissive_strength"}
)


def _read_gltf_document(path: Path) -> tuple[dict[str, Any], memoryview | None]:
    """The JSON document of a .gltf/.glb file, and a GLB's binary chunk (a view of the file's
    bytes: slicing a copy of 200 MB out of them would hold the interpreter lock for ~0.1 s, and
    the GUI thread with it, while a big avatar loads on a worker)."""
    data = path.read_bytes()
    binary_chunk: memoryview | None = None
    if path.suffix.lower() == ".glb":
        if len(data) < 20 or data[:4] != _GLB_MAGIC:
            raise MeshError("not a valid GLB file: it does not start with the glTF magic bytes")
        version, length = struct.unpack_from("<II", data, 4)
        if version != 2:
            raise MeshError(f"not a valid GLB file: version {version}, only glTF 2 is read")
        if length > len(data):
            raise MeshError("not a valid GLB file: it ends early")
        json_length, json_type = struct.unpack_from("<II", data, 12)
        if json_type != _GLB_JSON or 20 + json_length > length:
            raise MeshError("not a valid GLB file: its JSON chunk is missing or cut short")
        json_bytes = data[20 : 20 + json_length]
        next_chunk = 20 + json_length + (-json_length % 4)
        if next_chunk + 8 <= length:
            chunk_length, chunk_type = struct.unpack_from("<II", data, next_chunk)
            if chunk_type == _GLB_BIN:
                if next_chunk + 8 + chunk_length > length:
                    raise MeshError("not a valid GLB file: its binary chunk ends early")
                binary_chunk = memoryview(data)[next_chunk + 8 : next_chunk + 8 + chunk_length]
    else:
        json_bytes = data
    try:
        document = json.loads(json_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        detail = f" ({error.msg}, line {error.lineno})" if hasattr(error, "lineno") else ""
        kind = "GLB" if path.suffix.lower() == ".glb" else "glTF"
        raise MeshError(f"not a valid {kind} file: its JSON cannot be read{detail}") from None
    if not isinstance(document, dict) or not isinstance(document.get("asset"), dict):
        raise MeshError("not a valid glTF file: it has no asset description")
    version = str(document["asset"].get("version", ""))
    if not version.startswith("2."):
        raise MeshError(f"not a valid glTF file: version {version or 'unknown'}, only 2.x")
    return document, binary_chunk


@contextmanager
def _malformed_gltf_refused() -> Iterator[None]:
    """Turn a JSON document of the wrong shape (a string where an object belongs, a count
    that is a list) into a MeshError instead of a Python error from deep inside a check."""
    try:
        yield
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        detail = type(error).__name__
        raise MeshError(f"not a valid glTF file: its structure is malformed ({detail})") from None


def _gltf_external_uris(document: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("buffers", "images"):
        for entry in _gltf_list(document, key):
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if isinstance(uri, str) and uri and not uri.startswith("data:"):
                names.append(unquote(uri))
    return list(dict.fromkeys(names))


def _gltf_list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise MeshError(f"not a valid glTF file: '{key}' is not a list")
    return value


def _gltf_declared_triangles(document: dict[str, Any]) -> int:
    """Triangles the document's meshes declare, counting each node that uses a mesh.
    Also checks that accessors stay inside their buffer views and buffers."""
    accessors = _gltf_list(document, "accessors")
    buffer_views = _gltf_list(document, "bufferViews")
    buffers = _gltf_list(document, "buffers")
    meshes = _gltf_list(document, "meshes")
    uses = [0] * len(meshes)
    for node in _gltf_list(document, "nodes"):
        mesh_index = node.get("mesh") if isinstance(node, dict) else None
        if isinstance(mesh_index, int) and 0 <= mesh_index < len(meshes):
            uses[mesh_index] += 1

    def accessor_count(index: Any) -> int:
        if not isinstance(index, int) or not 0 <= index < len(accessors):
            raise MeshError("not a valid glTF file: a primitive names an accessor that is absent")
        accessor = accessors[index]
        count = accessor.get("count", 0)
        if not isinstance(count, int) or count < 0:
            raise MeshError("not a valid glTF file: an accessor has a bad count")
        view_index = accessor.get("bufferView")
        if view_index is not None:
            if not isinstance(view_index, int) or not 0 <= view_index < len(buffer_views):
                raise MeshError("not a valid glTF file: an accessor names an absent bufferView")
            view = buffer_views[view_index]
            width = _GLTF_TYPE_WIDTHS.get(accessor.get("type", ""), 0)
            component = _GLTF_COMPONENT_SIZES.get(accessor.get("componentType", 0), 0)
            element = width * component
            stride = max(view.get("byteStride", element) or element, element)
            span = stride * (count - 1) + element if count else 0
            needed = accessor.get("byteOffset", 0) + span
            if not element or needed > view.get("byteLength", 0):
                raise MeshError("not a valid glTF file: an accessor reaches past its bufferView")
            buffer_index = view.get("buffer")
            if not isinstance(buffer_index, int) or not 0 <= buffer_index < len(buffers):
                raise MeshError("not a valid glTF file: a bufferView names an absent buffer")
            view_end = view.get("byteOffset", 0) + view.get("byteLength", 0)
            if view_end > buffers[buffer_index].get("byteLength", 0):
                raise MeshError("not a valid glTF file: a bufferView reaches past its buffer")
        return count

    triangles = 0
    for mesh_index, mesh in enumerate(meshes):
        for primitive in mesh.get("primitives", []) if isinstance(mesh, dict) else []:
            attributes = primitive.get("attributes", {})
            if "POSITION" not in attributes:
                continue
            vertices = accessor_count(attributes["POSITION"])
            for name in ("NORMAL", "TEXCOORD_0"):
                if name in attributes:
                    accessor_count(attributes[name])
            corners = accessor_count(primitive["indices"]) if "indices" in primitive else vertices
            mode = primitive.get("mode", 4)
            if mode == 4:
                count = corners // 3
            elif mode in (5, 6):
                count = max(corners - 2, 0)
            else:
                count = 0
            triangles += count * max(uses[mesh_index], 1)
    return triangles


def _read_gltf(
    path: Path, root: Path, *, decode_textures: bool, max_triangles: int
) -> list[_RawPart]:
    from vtkmodules.vtkIOGeometry import vtkGLTFReader

    document, binary_chunk = _read_gltf_document(path)
    with _malformed_gltf_refused():
        required = document.get("extensionsRequired", [])
        unreadable = [e for e in required if e not in _GLTF_READABLE_EXTENSIONS]
        if unreadable:
            raise MeshError(
                f"needs the glTF extension {unreadable[0]}, which this viewer cannot read"
            )
        buffers = _gltf_list(document, "buffers")
        for index, buffer in enumerate(buffers):
            length = buffer.get("byteLength", 0) if isinstance(buffer, dict) else 0
            uri = buffer.get("uri") if isinstance(buffer, dict) else None
            if uri is None:
                if path.suffix.lower() != ".glb" or index != 0:
                    raise MeshError("not a valid glTF file: a buffer has no data")
                if binary_chunk is None or len(binary_chunk) < length:
                    raise MeshError("not a valid GLB file: its binary chunk is missing or short")
            elif not str(uri).startswith("data:"):
                name = unquote(str(uri))
                buffer_path = _inside_folder(path.parent, name, root)
                if buffer_path is None:
                    raise MeshError(f"refers to {name}, which is outside its folder")
                if not buffer_path.is_file():
                    raise MeshError(f"refers to {name}, which is missing")
                if buffer_path.stat().st_size < length:
                    raise MeshError(f"refers to {name}, which is shorter than declared")
        declared = _gltf_declared_triangles(document)
        if declared == 0:
            raise MeshError("has no triangles")
        _check_triangle_cap(declared, max_triangles)

    with _malformed_gltf_refused():
        fast = _read_gltf_directly(document, binary_chunk, path, root, decode=decode_textures)
    if fast is not None:
        return fast

    reader = vtkGLTFReader()
    # No animation is enabled, so skinned figures come out in their rest pose: node transforms
    # (a Z-up file's root rotation included) and joints at their default, not an animation
    # frame. ApplyDeformationsToGeometry off would also drop the node transforms and leave
    # a Z-up export (the corpus CesiumMan) lying down.
    reader.SetApplyDeformationsToGeometry(True)
    output = _run_vtk_reader(reader, path, "GLB" if path.suffix.lower() == ".glb" else "glTF")

    import pyvista as pv

    images: dict[int, np.ndarray | None] = {}
    parts: list[_RawPart] = []
    blocks = pv.wrap(output)
    leaves = list(blocks.recursive_iterator()) if isinstance(blocks, pv.MultiBlock) else [blocks]
    for index, leaf in enumerate(leaves):
        if leaf is None or not isinstance(leaf, pv.PolyData) or leaf.n_cells == 0:
            continue
        part = _polydata_to_part(leaf, f"primitive {index}")
        if "NORMAL" in leaf.point_data and part.normals is None:
            part.normals = np.asarray(leaf.point_data["NORMAL"], dtype=np.float32)
        if "TEXCOORD_0" in leaf.point_data:
            uvs = np.array(leaf.point_data["TEXCOORD_0"], dtype=np.float32)[:, :2]
            # glTF puts v = 0 at the top of the image, VTK (and OBJ) at the bottom.
            uvs[:, 1] = 1.0 - uvs[:, 1]
            part.uvs = uvs
        field_data = leaf.field_data
        if "BaseColorMultiplier" in field_data:
            rgba = np.asarray(field_data["BaseColorMultiplier"], dtype=float).ravel()
            if len(rgba) >= 4:
                part.base_color = (rgba[0], rgba[1], rgba[2], rgba[3])
        texture_index = -1
        if "BaseColorTextureIndex" in field_data:
            texture_index = int(np.asarray(field_data["BaseColorTextureIndex"]).ravel()[0])
        if texture_index >= 0 and part.uvs is not None:
            if texture_index not in images:
                with _malformed_gltf_refused():
                    images[texture_index] = _gltf_texture_image(
                        document, texture_index, path, root, binary_chunk, decode=decode_textures
                    )
            part.texture = images[texture_index]
            part.texture_file = f"texture {texture_index}"
        parts.append(part)
    return parts


# The common glTF case read straight from the buffers with numpy: several times faster than
# vtkGLTFReader (0.1 s against 0.5 s for 4 M triangles), and the embedded texture is decoded
# once, by us, on another thread while the geometry is read (vtkGLTFReader decodes it as well,
# for nothing). Anything beyond plain static triangle meshes (skins, morph targets, sparse or
# normalised accessors, other primitive modes, texture transforms, a second UV set for the base
# colour) goes to vtkGLTFReader, whose rest-pose handling the corpus tests pin down.
_GLTF_NUMPY_TYPES = {5120: "i1", 5121: "u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}


def _read_gltf_directly(
    document: dict[str, Any],
    binary_chunk: memoryview | None,
    path: Path,
    root: Path,
    *,
    decode: bool,
) -> list[_RawPart] | None:
    """The parts of a plain static glTF, or None when it needs vtkGLTFReader."""
    from concurrent.futures import ThreadPoolExecutor

    if document.get("skins") or document.get("animations") or "scenes" not in document:
        return None
    scenes = _gltf_list(document, "scenes")
    scene_index = document.get("scene", 0)
    if not isinstance(scene_index, int) or not 0 <= scene_index < len(scenes):
        return None
    nodes = _gltf_list(document, "nodes")
    meshes = _gltf_list(document, "meshes")
    materials = _gltf_list(document, "materials")

    instances: list[tuple[dict[str, Any], np.ndarray]] = []  # (primitive, world matrix)
    stack = [(index, np.eye(4)) for index in scenes[scene_index].get("nodes", [])]
    visited = 0
    while stack:
        node_index, parent = stack.pop()
        visited += 1
        if visited > 100_000 or not isinstance(node_index, int):
            return None  # a cycle or a hostile tree: let VTK refuse it
        node = nodes[node_index]
        if "weights" in node:
            return None
        world = parent @ _gltf_local_matrix(node)
        mesh_index = node.get("mesh")
        if mesh_index is not None:
            mesh = meshes[mesh_index]
            if "weights" in mesh:
                return None
            for primitive in mesh.get("primitives", []):
                if primitive.get("mode", 4) != 4 or "targets" in primitive:
                    return None
                if "POSITION" not in primitive.get("attributes", {}):
                    continue
                instances.append((primitive, world))
        stack.extend((child, world) for child in node.get("children", []))

    def material_of(primitive: dict[str, Any]) -> tuple[tuple[float, ...], int, bool]:
        """Base colour factor, base colour texture (-1: none), double-sided."""
        index = primitive.get("material")
        if index is None:
            return (1.0, 1.0, 1.0, 1.0), -1, False  # glTF's default material is one-sided
        material = materials[index]
        double_sided = material.get("doubleSided", False) is True
        pbr = material.get("pbrMetallicRoughness", {})
        factor = tuple(float(x) for x in pbr.get("baseColorFactor", (1.0, 1.0, 1.0, 1.0)))
        texture = pbr.get("baseColorTexture")
        if texture is None:
            return factor, -1, double_sided
        if texture.get("texCoord", 0) != 0 or texture.get("extensions"):
            raise _NeedsVtkReader
        return factor, int(texture["index"]), double_sided

    try:
        looks = [material_of(primitive) for primitive, _ in instances]
    except _NeedsVtkReader:
        return None
    wanted = sorted(
        {
            texture
            for (_, texture, _), (primitive, _) in zip(looks, instances, strict=True)
            if texture >= 0 and "TEXCOORD_0" in primitive["attributes"]
        }
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Decoding a 4096² image takes longer than reading the geometry: overlap the two.
        pending = {
            index: pool.submit(
                _gltf_texture_image, document, index, path, root, binary_chunk, decode=decode
            )
            for index in wanted
        }
        parts: list[_RawPart] = []
        for number, ((primitive, world), (factor, texture_index, double_sided)) in enumerate(
            zip(instances, looks, strict=True)
        ):
            part = _gltf_primitive_part(document, primitive, world, binary_chunk, path, root)
            if part is None:
                return None
            part.name = f"primitive {number}"
            part.double_sided = double_sided
            if len(factor) >= 4:
                part.base_color = (factor[0], factor[1], factor[2], factor[3])
            if texture_index in pending and part.uvs is not None:
                part.texture = pending[texture_index].result()
                part.texture_file = f"texture {texture_index}"
            parts.append(part)
        for future in pending.values():
            future.result()  # a texture that cannot be decoded refuses the file either way
    return parts


class _NeedsVtkReader(Exception):
    """A glTF feature the direct reader leaves to vtkGLTFReader."""


def _gltf_local_matrix(node: dict[str, Any]) -> np.ndarray:
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
    matrix = np.eye(4)
    x, y, z, w = (float(v) for v in node.get("rotation", (0.0, 0.0, 0.0, 1.0)))
    matrix[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    matrix[:3, :3] *= np.asarray(node.get("scale", (1.0, 1.0, 1.0)), dtype=np.float64)[None, :]
    matrix[:3, 3] = np.asarray(node.get("translation", (0.0, 0.0, 0.0)), dtype=np.float64)
    return matrix


def _gltf_accessor(
    document: dict[str, Any],
    index: int,
    binary_chunk: memoryview | None,
    path: Path,
    root: Path,
    *,
    kinds: tuple[str, ...],
    float_only: bool,
) -> np.ndarray | None:
    """Accessor *index* as an (count, width) array viewing the buffer, or None if it needs
    VTK (sparse, normalised, an unexpected type)."""
    accessor = _gltf_list(document, "accessors")[index]
    kind = accessor.get("type")
    component = accessor.get("componentType")
    if (
        kind not in kinds
        or "sparse" in accessor
        or accessor.get("normalized", False)
        or "bufferView" not in accessor
        or component not in _GLTF_NUMPY_TYPES
        or (float_only and component != 5126)
    ):
        return None
    width = _GLTF_TYPE_WIDTHS[kind]
    dtype = np.dtype(_GLTF_NUMPY_TYPES[component])
    view = _gltf_list(document, "bufferViews")[accessor["bufferView"]]
    data = _gltf_buffer_bytes(document, view.get("buffer"), path, root, binary_chunk)
    count = int(accessor.get("count", 0))
    offset = int(view.get("byteOffset", 0)) + int(accessor.get("byteOffset", 0))
    element = dtype.itemsize * width
    stride = int(view.get("byteStride", 0) or element)
    if count == 0:
        return np.empty((0, width), dtype=dtype)
    if offset % dtype.itemsize or stride % dtype.itemsize:
        return None  # misaligned: legal only for some types, and rare
    # Bounds were checked by _gltf_declared_triangles; check again, cheaply, for safety.
    if offset + stride * (count - 1) + element > len(data):
        raise MeshError("not a valid glTF file: an accessor reaches past its buffer")
    flat = np.frombuffer(
        data, dtype=dtype, count=(stride * (count - 1) + element) // dtype.itemsize, offset=offset
    )
    if stride == element:
        return flat.reshape(count, width)
    return np.lib.stride_tricks.as_strided(
        flat, shape=(count, width), strides=(stride, dtype.itemsize), writeable=False
    )


def _gltf_primitive_part(  # noqa: PLR0917 - like _gltf_texture_image
    document: dict[str, Any],
    primitive: dict[str, Any],
    world: np.ndarray,
    binary_chunk: memoryview | None,
    path: Path,
    root: Path,
) -> _RawPart | None:
    attributes = primitive["attributes"]
    if "COLOR_0" in attributes:
        return None  # vertex colours: VTK turns them into scalars the scene can show

    def read(name: str, kinds: tuple[str, ...]) -> np.ndarray | None:
        return _gltf_accessor(
            document, attributes[name], binary_chunk, path, root, kinds=kinds, float_only=True
        )

    positions = read("POSITION", ("VEC3",))
    if positions is None:
        return None
    normals = read("NORMAL", ("VEC3",)) if "NORMAL" in attributes else None
    uvs = read("TEXCOORD_0", ("VEC2",)) if "TEXCOORD_0" in attributes else None
    if ("NORMAL" in attributes and normals is None) or ("TEXCOORD_0" in attributes and uvs is None):
        return None
    if "indices" in primitive:
        indices = _gltf_accessor(
            document,
            primitive["indices"],
            binary_chunk,
            path,
            root,
            kinds=("SCALAR",),
            float_only=False,
        )
        if indices is None or indices.dtype.kind not in "u":
            return None
        faces = indices.reshape(-1)[: len(indices) // 3 * 3].reshape(-1, 3)
    else:
        faces = np.arange(len(positions) // 3 * 3, dtype=np.int64).reshape(-1, 3)
    check_indices(faces, len(positions))
    linear = world[:3, :3]
    points = np.asarray(positions, dtype=np.float32)
    if not np.array_equal(world, np.eye(4)):
        points = (positions @ linear.T + world[:3, 3]).astype(np.float32)
    if np.linalg.det(linear) < 0:
        # A mirroring node turns the triangles' winding, and so which side is the front
        # (glTF 2.0, 3.7.4): turn it back, so one-sided parts keep their outside.
        faces = faces[:, ::-1]
    if normals is not None:
        normals = np.asarray(normals, dtype=np.float32)
        if not np.array_equal(linear, np.eye(3)):
            turned = normals @ np.linalg.inv(linear)  # (inverse transpose) applied to rows
            length = np.linalg.norm(turned, axis=1, keepdims=True)
            normals = (turned / np.where(length > 0, length, 1.0)).astype(np.float32)
    if uvs is not None:
        uvs = np.array(uvs, dtype=np.float32)
        # glTF puts v = 0 at the top of the image, VTK (and OBJ) at the bottom.
        uvs[:, 1] = 1.0 - uvs[:, 1]
    return _RawPart(
        name="",
        points=points,
        faces=np.asarray(faces, dtype=np.int64),
        uvs=uvs,
        normals=normals,
    )


def _gltf_texture_image(
    document: dict[str, Any],
    texture_index: int,
    path: Path,
    root: Path,
    binary_chunk: memoryview | None,
    *,
    decode: bool,
) -> np.ndarray | None:
    """glTF texture *texture_index* decoded with Pillow (top row first), or only checked.

    vtkGLTFReader decodes textures too, but hands them out as OpenGL texture objects whose
    rows follow glTF's flipped v; decoding the bytes ourselves gives a plain image.
    """
    textures = _gltf_list(document, "textures")
    images = _gltf_list(document, "images")
    if not 0 <= texture_index < len(textures) or not isinstance(textures[texture_index], dict):
        return None
    source = textures[texture_index].get("source")
    if not isinstance(source, int) or not 0 <= source < len(images):
        return None
    image = images[source]
    uri = image.get("uri") if isinstance(image, dict) else None
    if isinstance(uri, str):
        if uri.startswith("data:"):
            return _decode_texture(_data_uri_bytes(uri), name="an embedded image", decode=decode)
        image_path = _inside_folder(path.parent, unquote(uri), root)
        if image_path is None:
            raise MeshError(f"refers to {unquote(uri)}, which is outside its folder")
        return _decode_texture(image_path, name=unquote(uri), decode=decode)
    view_index = image.get("bufferView") if isinstance(image, dict) else None
    views = _gltf_list(document, "bufferViews")
    if not isinstance(view_index, int) or not 0 <= view_index < len(views):
        raise MeshError("not a valid glTF file: an image has neither a URI nor a bufferView")
    view = views[view_index]
    data = _gltf_buffer_bytes(document, view.get("buffer"), path, root, binary_chunk)
    start = int(view.get("byteOffset", 0))
    end = start + int(view.get("byteLength", 0))
    if end > len(data):
        raise MeshError("not a valid glTF file: an image reaches past its buffer")
    return _decode_texture(data[start:end], name="an embedded image", decode=decode)


def _gltf_buffer_bytes(
    document: dict[str, Any], index: Any, path: Path, root: Path, binary_chunk: memoryview | None
) -> bytes | memoryview:
    buffers = _gltf_list(document, "buffers")
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise MeshError("not a valid glTF file: a bufferView names an absent buffer")
    uri = buffers[index].get("uri") if isinstance(buffers[index], dict) else None
    if uri is None:
        return binary_chunk or b""
    if str(uri).startswith("data:"):
        return _data_uri_bytes(str(uri))
    buffer_path = _inside_folder(path.parent, unquote(str(uri)), root)
    if buffer_path is None:
        raise MeshError(f"refers to {unquote(str(uri))}, which is outside its folder")
    return buffer_path.read_bytes()


def _data_uri_bytes(uri: str) -> bytes:
    header, _, payload = uri.partition(",")
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=True)
        return unquote(payload).encode("latin-1")
    except ValueError:
        raise MeshError("not a valid glTF file: a data URI cannot be decoded") from None


__all__ = [
    "AVATAR_SUFFIXES",
    "DEFAULT_BASE_COLOR",
    "MAX_TRIANGLES",
    "UP_AXES",
    "Avatar",
    "AvatarInfo",
    "AvatarPart",
    "MeshError",
    "UpAxis",
    "check_indices",
    "guess_facing_turn",
    "guess_units",
    "guess_up_axis",
    "inspect_avatar",
    "load_avatar",
    "referenced_files",
    "transform_bounds",
    "upright_transform_for",
    "vertex_normals",
]
