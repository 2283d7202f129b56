"""An avatar as one flat block of arrays and a description of them, in a file or in memory.

Loading a 4-million-triangle GLB takes 0.6-0.8 s here, nearly all of it parsing and decoding
(its PNG texture alone ~0.3 s), while reading the same arrays from the page cache takes a few
milliseconds (see /work/shared/perf-notes.md). So an avatar is loaded from its original file
once, when it is imported, and kept as a *stored avatar*: every array the renderer needs
(points, triangle indices, normals, texture coordinates, vertex colours, the decoded textures
bottom row first, as VTK wants them) at aligned offsets after a JSON header. Opening it maps
the file (copy-on-write: nothing is read until used, nothing written back) and wraps the
arrays in VTK objects without copying them, so a second process, the renderer of full-detail
frames, can map the same file instead of receiving 250 MB through a pipe.

The stored file is derived and disposable: it lives in the library's cache, is named by the
digests of the files it was made from and :data:`FORMAT_VERSION`, and a file that is missing,
truncated or not what this version writes is simply made again from the original (which stays
what was approved). :func:`describe` and :func:`rebuild` are the same layout without the file,
for handing an avatar to the render process in shared memory.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar

FORMAT_VERSION = 2
"""Bumped whenever the layout, or what the loaders put in an avatar, changes: files of other
versions are made again."""
SUFFIX = ".twinavatar"
MAGIC = b"TWINAVT\x00"
ALIGN = 64
log = logging.getLogger(__name__)
_PREAMBLE = struct.Struct("<8sIQ")  # magic, version, header length
_DATA_ALIGN = 4096  # the arrays start on a page: mapped, they need no copy to be aligned
_DTYPES = {"<f4", "<i8", "<u1", "|u1", "<i4", "<u4", "<f8"}


class StoredAvatarError(Exception):
    """A stored avatar that cannot be used (truncated, another version, inconsistent)."""


@dataclass(frozen=True)
class ArraySpec:
    """Where one array lies in the block: byte offset, numpy dtype string, shape."""

    offset: int
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.dtype(self.dtype).itemsize * int(np.prod(self.shape, dtype=np.int64)))


def describe(
    avatar: Avatar, *, flipped: dict[int, np.ndarray] | None = None
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """A JSON-able description of *avatar* and the arrays it refers to by index.

    Textures go bottom row first; *flipped* maps ``id()`` of a texture to such a copy made
    already (VTK's), so it is not made again. Views of VTK's own memory where possible: the
    caller copies them where they must go.
    """
    arrays: list[np.ndarray] = []

    def place(array: np.ndarray) -> int:
        arrays.append(np.ascontiguousarray(array))
        return len(arrays) - 1

    texture_index: dict[int, int] = {}
    textures: list[dict[str, Any]] = []
    for part in avatar.parts:
        image = part.texture
        if image is None or id(image) in texture_index:
            continue
        ready = (flipped or {}).get(id(image))
        # A texture read from a stored avatar is a reversed view of a bottom-first array:
        # reversing it again is that array, and no copy is made.
        bottom_first = ready if ready is not None else np.ascontiguousarray(image[::-1])
        texture_index[id(image)] = len(textures)
        textures.append({"array": place(bottom_first.reshape(image.shape)), "shape": image.shape})

    parts = []
    for part in avatar.parts:
        mesh = _mesh_arrays(part.mesh)
        parts.append(
            {
                "name": part.name,
                "base_color": [float(c) for c in part.base_color],
                "points": place(mesh["points"]),
                "cell_size": mesh["cell_size"],
                "cells": place(mesh["cells"]),
                "point_data": {n: place(a) for n, a in mesh["point_data"].items()},
                "normals": mesh["normals"],
                "tcoords": mesh["tcoords"],
                "texture": None if part.texture is None else texture_index[id(part.texture)],
                "double_sided": part.double_sided,
            }
        )
    description = {
        "version": FORMAT_VERSION,
        "parts": parts,
        "textures": [{"array": t["array"], "shape": list(t["shape"])} for t in textures],
        "up_axis": avatar.up_axis,
        "upright_transform": np.asarray(avatar.upright_transform, dtype=float).tolist(),
        "units": avatar.units,
        "source": None if avatar.source is None else str(avatar.source),
        "format": avatar.format,
        "bounds": list(avatar.bounds),
    }
    return description, arrays


def layout(arrays: list[np.ndarray]) -> tuple[list[ArraySpec], int]:
    """Offsets for *arrays* packed one after another, each aligned; and the total size."""
    specs: list[ArraySpec] = []
    size = 0
    for array in arrays:
        specs.append(ArraySpec(size, array.dtype.str, tuple(array.shape)))
        size += -(-max(array.nbytes, 1) // ALIGN) * ALIGN
    return specs, size


def rebuild(
    description: dict[str, Any],
    specs: list[ArraySpec],
    buffer: Any,
    *,
    source: Path | None = None,
    stored: Path | None = None,
) -> Avatar:
    """The avatar *description* describes, on *buffer*'s memory (not copied).

    The numpy arrays made on the buffer keep it alive, and VTK's arrays keep those (VTK's
    ``numpy_to_vtk`` holds a reference), so the buffer lives as long as the meshes do.
    *source*, if given, replaces the recorded path of the original file; *stored* is the
    file *buffer* maps, if it does.
    """
    import pyvista as pv
    from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray

    from reviewer.assets.meshes import Avatar, AvatarPart

    def array(index: int) -> np.ndarray:
        spec = specs[index]
        count = int(np.prod(spec.shape, dtype=np.int64))
        flat = np.frombuffer(buffer, np.dtype(spec.dtype), count=count, offset=spec.offset)
        return flat.reshape(spec.shape)

    def to_vtk(values: np.ndarray) -> Any:
        if values.dtype == np.int64 and values.ndim == 1:
            made = numpy_to_vtkIdTypeArray(values, deep=False)
            made._numpy_reference = values  # as numpy_to_vtk does for other types
            return made
        return numpy_to_vtk(values, deep=False)

    textures = [array(entry["array"])[::-1] for entry in description["textures"]]
    parts = []
    for entry in description["parts"]:
        mesh = pv.PolyData()
        points = vtkPoints()
        points.SetData(to_vtk(array(entry["points"])))
        mesh.SetPoints(points)
        cells_array = array(entry["cells"])
        if entry["cell_size"]:
            cells = vtkCellArray()
            cells.SetData(entry["cell_size"], to_vtk(cells_array))
            mesh.SetPolys(cells)
        else:
            mesh.faces = cells_array
        for name, index in entry["point_data"].items():
            values = to_vtk(array(index))
            values.SetName(name)
            mesh.GetPointData().AddArray(values)
        if entry["normals"]:
            mesh.GetPointData().SetActiveNormals(entry["normals"])
        if entry["tcoords"]:
            mesh.GetPointData().SetActiveTCoords(entry["tcoords"])
        texture = None if entry["texture"] is None else textures[entry["texture"]]
        parts.append(
            AvatarPart(
                entry["name"],
                mesh,
                texture,
                tuple(entry["base_color"]),
                double_sided=bool(entry.get("double_sided", True)),
            )
        )
    recorded = description.get("source")
    return Avatar(
        parts=tuple(parts),
        up_axis=description["up_axis"],
        upright_transform=np.asarray(description["upright_transform"], dtype=float),
        units=description["units"],
        source=source if source is not None else (Path(recorded) if recorded else None),
        format=description["format"],
        stored=stored,
    )


def write_stored(avatar: Avatar, path: Path, *, originals: Sequence[Path] = ()) -> int:
    """Write *avatar* to *path* as a stored avatar (atomically: a reader never sees half of
    it); return its size in bytes. The size and modification time of each of *originals*
    (the files it was made from) are recorded, so :func:`read_stored` can tell when one was
    changed since."""
    description, arrays = describe(avatar)
    description["originals"] = _stamps(originals)
    specs, size = layout(arrays)
    description["arrays"] = [[s.offset, s.dtype, list(s.shape)] for s in specs]
    description["data_size"] = size
    header = json.dumps(description, separators=(",", ":")).encode()
    start = -(-(_PREAMBLE.size + len(header)) // _DATA_ALIGN) * _DATA_ALIGN
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".stored-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header)))
            out.write(header)
            out.write(b"\0" * (start - _PREAMBLE.size - len(header)))
            written = 0
            for array, spec in zip(arrays, specs, strict=True):
                out.write(b"\0" * (spec.offset - written))
                out.write(memoryview(array).cast("B"))
                written = spec.offset + array.nbytes
            out.write(b"\0" * (size - written))
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return start + size


def read_stored(
    path: Path,
    *,
    source: Path | None = None,
    originals: Sequence[Path] | None = None,
    check: bool = True,
) -> Avatar:
    """The avatar stored at *path*, its arrays on a private map of the file.

    Raises FileNotFoundError when there is none, :class:`StoredAvatarError` when the file is
    not one this version can use (the caller makes it again), or when *originals*, if given,
    are not the files it was made from as they were then (same size and modification time:
    a file changed on disk since must be read again, and found damaged if it is). *check*
    (default) also reads every triangle index, so a damaged file cannot make VTK read out of
    bounds (~15 ms at 4 M triangles); a second reader of a file checked already may skip it.
    """
    description, specs, buffer = _map(path)
    if originals is not None and description.get("originals") != _stamps(originals):
        raise StoredAvatarError(f"{path.name}: the files it was made from have changed")
    avatar = rebuild(description, specs, buffer, source=source, stored=path)
    if check:
        check_indices(avatar, path)
    return avatar


def load_through_store(
    path: Path,
    *,
    texture: Path | None = None,
    store: Path,
    originals: Sequence[Path] = (),
) -> Avatar:
    """The avatar at *path* (with *texture*, see :func:`~reviewer.assets.meshes.load_avatar`),
    read from its stored copy *store*, which is made first if it is missing or unusable, or
    if one of *originals* (the files behind *path* and *texture*, where they are kept) changed
    since it was made.

    Raises :class:`~reviewer.assets.meshes.MeshError` when the original cannot be shown. When
    the copy cannot be written (no room, a read-only library) the avatar loaded from the
    original is returned: slower to show, but shown.
    """
    from reviewer.assets.meshes import load_avatar

    try:
        return read_stored(store, source=path, originals=originals)
    except FileNotFoundError:
        pass
    except OSError as error:  # e.g. the cache folder is not a folder, or not readable
        log.warning("cannot read the stored copy of %s: %s", path.name, error)
    except StoredAvatarError as error:
        log.warning("storing %s again: %s", path.name, error)
    avatar = load_avatar(path, texture=texture)
    try:
        write_stored(avatar, store, originals=originals)
        # Its indices were checked as the original was loaded: no need to read them again.
        return read_stored(store, source=path, check=False)
    except (OSError, StoredAvatarError) as error:
        log.warning("could not store %s: %s", path.name, error)
        return avatar


def _stamps(originals: Sequence[Path]) -> list[list[object]]:
    stamps: list[list[object]] = []
    for original in originals:
        stat = original.stat()
        stamps.append([original.name, stat.st_size, stat.st_mtime_ns])
    return stamps


def _map(path: Path) -> tuple[dict[str, Any], list[ArraySpec], memoryview]:
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        preamble = file.read(_PREAMBLE.size)
        if len(preamble) < _PREAMBLE.size:
            raise StoredAvatarError(f"{path.name}: truncated")
        magic, version, header_length = _PREAMBLE.unpack(preamble)
        if magic != MAGIC:
            raise StoredAvatarError(f"{path.name}: not a stored avatar")
        if version != FORMAT_VERSION:
            raise StoredAvatarError(f"{path.name}: version {version}, not {FORMAT_VERSION}")
        if header_length > min(size, 64 << 20):
            raise StoredAvatarError(f"{path.name}: header runs past the end")
        try:
            description = json.loads(file.read(header_length))
            specs = [
                ArraySpec(int(o), str(d), tuple(int(n) for n in s))
                for o, d, s in description["arrays"]
            ]
            data_size = int(description["data_size"])
        except (ValueError, KeyError, TypeError) as error:
            raise StoredAvatarError(f"{path.name}: unreadable header ({error})") from None
        start = -(-(_PREAMBLE.size + header_length) // _DATA_ALIGN) * _DATA_ALIGN
        if start + data_size != size:
            raise StoredAvatarError(f"{path.name}: {size} bytes, expected {start + data_size}")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    buffer = memoryview(mapped)[start:]
    _check(path, description, specs, data_size)
    return description, specs, buffer


def _check(path: Path, description: dict[str, Any], specs: list[ArraySpec], size: int) -> None:
    """Refuse a description whose arrays overrun the block or do not fit together: VTK would
    read out of bounds rather than report it."""
    for spec in specs:
        if spec.dtype not in _DTYPES or min(spec.shape, default=1) < 0:
            raise StoredAvatarError(f"{path.name}: bad array {spec}")
        if spec.offset < 0 or spec.offset % ALIGN or spec.offset + spec.nbytes > size:
            raise StoredAvatarError(f"{path.name}: an array runs past the end")
    try:
        for part in description["parts"]:
            points = specs[part["points"]]
            if points.dtype not in ("<f4", "<f8") or len(points.shape) != 2 or points.shape[1] != 3:
                raise StoredAvatarError(f"{path.name}: bad points")
            cells = specs[part["cells"]]
            if part["cell_size"] and (cells.dtype != "<i8" or len(cells.shape) != 1):
                raise StoredAvatarError(f"{path.name}: bad triangles")
            for index in part["point_data"].values():
                if specs[index].shape[0] != points.shape[0]:
                    raise StoredAvatarError(f"{path.name}: a point array of the wrong length")
            if part["texture"] is not None:
                description["textures"][part["texture"]]
        for texture in description["textures"]:
            if tuple(specs[texture["array"]].shape) != tuple(texture["shape"]):
                raise StoredAvatarError(f"{path.name}: bad texture")
    except (KeyError, IndexError, TypeError) as error:
        raise StoredAvatarError(f"{path.name}: inconsistent header ({error})") from None


def check_indices(avatar: Avatar, path: Path) -> None:
    """Refuse triangles that name points the mesh does not have (a damaged file)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    from reviewer.assets.meshes import MeshError
    from reviewer.assets.meshes import check_indices as check_faces

    for part in avatar.parts:
        connectivity = vtk_to_numpy(part.mesh.GetPolys().GetConnectivityArray())
        try:
            check_faces(connectivity, part.mesh.GetNumberOfPoints())
        except MeshError:
            raise StoredAvatarError(
                f"{path.name}: a triangle names a point that is not there"
            ) from None


def _mesh_arrays(mesh: Any) -> dict[str, Any]:
    """The arrays that make up a mesh, as numpy views of VTK's own memory where possible."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    polys = mesh.GetPolys()
    data = mesh.GetPointData()
    point_data = {}
    for index in range(data.GetNumberOfArrays()):
        array = data.GetArray(index)
        if array is not None and array.GetName():
            point_data[array.GetName()] = vtk_to_numpy(array)
    normals = data.GetNormals()
    coords = data.GetTCoords()
    connectivity = vtk_to_numpy(polys.GetConnectivityArray())
    if connectivity.size == 3 * polys.GetNumberOfCells():
        # All triangles (what reviewer.assets makes): the offsets follow from the size alone
        # (VTK keeps them as an implicit array, which has no memory to share).
        cell_size, cells = 3, connectivity.astype(np.int64, copy=False)
    else:
        cell_size, cells = 0, np.asarray(mesh.faces, dtype=np.int64)
    return {
        "points": vtk_to_numpy(mesh.GetPoints().GetData()),
        "cell_size": cell_size,
        "cells": cells,
        "point_data": point_data,
        "normals": None if normals is None else normals.GetName(),
        "tcoords": None if coords is None else coords.GetName(),
    }


__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "ArraySpec",
    "StoredAvatarError",
    "check_indices",
    "describe",
    "layout",
    "load_through_store",
    "read_stored",
    "rebuild",
    "write_stored",
]
