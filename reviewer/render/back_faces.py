"""Which back faces of a figure can be seen from outside it, so a proxy can skip the rest.

A format that says nothing about sides (PLY, STL, OBJ, a glTF material marked double-sided) is
drawn from both sides, so that a garment's inside shows through its openings and a skirt
modelled as a single sheet has a back. Software OpenGL pays for every back face it draws
(rasterising, depth-testing and often shading it under the front ones): a 14 k-triangle proxy
of a dressed 1 M-triangle figure turned at 29 frames a second drawn two-sided and at 34 with
its back faces culled (llvmpipe, 1280×800, side by side in one process). Yet most back faces
of a body can never be seen: they face into the body, behind its own front.

:func:`visible_backs` finds the triangles whose back can be seen from some direction outside
the figure; :func:`one_sided_with_backs` turns a mesh into one drawn one-sided (back faces
culled) plus a turned-over copy of just those triangles, which looks the same from outside.

The search rasterises the figure from :data:`DIRECTIONS` directions spread evenly over the
sphere and from those of the viewer's named views, looking from afar, in numpy: a z-buffer of
the front faces only (a culled back face hides nothing), then every pixel centre a back face
covers that is nearer than that buffer shows the back face (a triangle seen edge-on, covering
no pixel centre, is looked for at its own centre). For a closed surface no back face is ever
nearest, whatever its shape; they show through openings, and where binning turned a triangle
over (a proxy of a scan has many at folds and thin parts: drawn one-sided each would be a
hole).

Measured against the same proxies drawn two-sided (off screen at 400×520, seven views each):
on four figures binned to an eighth (a human, Lucy, a cow and a dressed test figure) it found
54-67 % of the triangles (binning turns many over at folds and thin parts), and 0-21 pixels
of the figures differed. Sampling points on the triangles instead, with the buffer widened
against gaps between them, found 2-12 % and left 637-4,382 pixels different; a pixel of half a
triangle instead of a third, 0-91. On the 1 M bench figure's 14 k proxy it finds 4.7 k
(1.5 s), and the proxy drawn one-sided with them orbits at 32.6 frames a second against 29.8
drawn two-sided (48 against 55 ms of CPU a frame; llvmpipe, 1280×800, side by side in one
process): the copies only cost where they face the camera.

How it can be wrong: a back seen only through an opening narrower than a pixel of the search
(a third of a typical triangle) or only within a cone narrower than the spacing of the
directions is missed; in a motion frame that is a speck where a garment's inside shows. The
full figure at rest is always drawn two-sided.

Qt-free and without renderer state: it runs on worker threads, with the proxy it serves.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

DIRECTIONS = 128
"""Directions looked from besides :data:`_NAMED_VIEWS`, about 18 degrees apart. Through a
hole a little wider than what is behind it, the inside shows only within a narrow cone: 64
directions missed a tenth of such a ring of triangles, 128 none."""
_NAMED_VIEWS = np.array(
    [v for v in itertools.product((-1.0, 0.0, 1.0), repeat=3) if 1 <= sum(map(abs, v)) <= 2]
)
_NAMED_VIEWS /= np.linalg.norm(_NAMED_VIEWS, axis=1, keepdims=True)
"""The 6 directions along the axes and the 12 half-way between two of them, looked from as
well: the viewer's named views (front, back, sides, three-quarter, and from above or below)
look along them for a figure upright along any axis, so a back seen only from there within a
narrow cone is not missed."""
_MAX_SIDE = 1536  # pixels across a view: a proxy's figure needs about 150-300
_MAX_PIXELS = 3_000_000  # pixel centres looked at per direction; pixels grow to stay within it
_MARGIN = 0.1  # how much nearer than the front (in pixels) a back face must be to show


def directions(count: int) -> np.ndarray:
    """*count* unit vectors spread evenly over the sphere (a Fibonacci lattice)."""
    index = np.arange(count) + 0.5
    polar = np.arccos(1.0 - 2.0 * index / count)
    azimuth = math.pi * (1.0 + math.sqrt(5.0)) * index
    return np.stack(
        [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)], axis=1
    )


def visible_backs(meshes: list[Any], count: int = DIRECTIONS) -> list[np.ndarray]:
    """For each triangle mesh in *meshes* (drawn together, in the same space), a boolean per
    triangle: True when its back (the side its winding turns away from) can be seen from
    outside the figure."""
    faces = [np.asarray(mesh.regular_faces, dtype=np.int64).reshape(-1, 3) for mesh in meshes]
    counts = [len(f) for f in faces]
    total = sum(counts)
    if total == 0:
        return [np.zeros(n, dtype=bool) for n in counts]
    corners = np.concatenate(
        [
            np.asarray(mesh.points, dtype=np.float64)[f]
            for mesh, f in zip(meshes, faces, strict=True)
        ]
    )  # (triangles, 3 corners, xyz)
    first, second, third = corners[:, 0], corners[:, 1], corners[:, 2]
    normal = np.cross(second - first, third - first)
    length = np.linalg.norm(normal, axis=1)
    normal /= np.maximum(length, 1e-300)[:, None]
    degenerate = length == 0.0  # faces no way: neither drawn into the buffer nor visible
    edges = longest_edges(corners)
    centred = corners - corners.reshape(-1, 3).mean(axis=0)
    radius = float(np.linalg.norm(centred.reshape(-1, 3), axis=1).max())
    # A pixel a third of the typical triangle; larger if the triangles would cover too many.
    pixel = max(float(np.median(edges)) / 3.0, 1e-12)
    while float(((edges / pixel + 1.0) ** 2).sum()) > _MAX_PIXELS:
        pixel *= 1.25
    side = math.ceil(2.0 * radius / pixel) + 3
    if side > _MAX_SIDE:
        # Triangles tiny beside the whole (a stray point far off): a buffer fine enough would
        # not fit, and a coarse one would hide backs that show. Every back counts as seen.
        return [np.ones(n, dtype=bool) for n in counts]
    seen = np.zeros(total, dtype=bool)
    for view in np.concatenate([_NAMED_VIEWS, directions(count)]):
        facing = normal @ view
        front = (facing > 1e-6) & ~degenerate
        back = (facing < -1e-6) & ~degenerate
        across, up = _perpendicular(view)
        x = (centred @ across + radius) / pixel + 1.0
        y = (centred @ up + radius) / pixel + 1.0
        z = centred @ view  # larger is nearer the viewer
        owner, cell, depth = _rasterised(x, y, z, side)
        # A triangle seen edge-on may cover no pixel centre: its own centre stands in for it.
        covered = np.bincount(owner, minlength=total) > 0
        middle = np.floor(y.mean(axis=1)).astype(np.int64) * side + np.floor(x.mean(axis=1)).astype(
            np.int64
        )
        centre_depth = z.mean(axis=1)
        nearest = np.full(side * side, -np.inf)
        drawn = front[owner]
        np.maximum.at(nearest, cell[drawn], depth[drawn])
        thin = front & ~covered
        np.maximum.at(nearest, middle[thin], centre_depth[thin])
        behind = back[owner]
        showing = np.zeros(owner.size, dtype=bool)
        showing[behind] = depth[behind] > nearest[cell[behind]] + _MARGIN * pixel
        seen[owner[showing]] = True
        # A thin back face's centre is looked for against the buffer with its empty pixels
        # filled from their neighbours, so that one at the outline of a closed surface stays
        # behind it.
        thin = back & ~covered
        if thin.any():
            filled = _gaps_filled(nearest.reshape(side, side)).reshape(-1)
            seen |= thin & (centre_depth > filled[middle] + _MARGIN * pixel)
    return list(np.split(seen, np.cumsum(counts)[:-1]))


def one_sided_with_backs(mesh: Any, backs: np.ndarray) -> Any:
    """*mesh* (pyvista triangles) with a turned-over copy of each triangle flagged in
    *backs*, on copies of its points with every point array copied and the normals negated:
    drawn one-sided it shows what *mesh* drawn two-sided shows wherever the flags are right.
    """
    faces = np.asarray(mesh.regular_faces, dtype=np.int64)
    flagged = np.flatnonzero(np.asarray(backs, dtype=bool))
    used, renumbered = np.unique(faces[flagged][:, [0, 2, 1]], return_inverse=True)
    result = with_point_copies(
        mesh,
        used,
        np.concatenate([faces, renumbered.reshape(-1, 3) + mesh.n_points]),
        cell_rows=np.concatenate([np.arange(len(faces)), flagged]),
    )
    normals = mesh.point_data.active_normals_name
    if normals is not None:
        result.point_data[normals][mesh.n_points :] *= -1
    return result


def with_point_copies(
    mesh: Any, copies: np.ndarray, faces: np.ndarray, *, cell_rows: np.ndarray | None = None
) -> Any:
    """A new pyvista mesh of triangles *faces* on *mesh*'s points followed by copies of its
    points *copies* (indices, in that order), every point array copied along; its cell arrays
    are *mesh*'s rows *cell_rows* (all of them, in order, by default). The active normals and
    texture coordinates stay active; no array is active as colours."""
    import pyvista as pv

    points = np.asarray(mesh.points)
    result = pv.PolyData.from_regular_faces(np.concatenate([points, points[copies]]), faces)
    for name in mesh.point_data:
        values = np.asarray(mesh.point_data[name])
        result.point_data[name] = np.concatenate([values, values[copies]])
    for name in mesh.cell_data:
        values = np.asarray(mesh.cell_data[name])
        result.cell_data[name] = values if cell_rows is None else values[cell_rows]
    result.point_data.active_normals_name = mesh.point_data.active_normals_name
    coordinates = mesh.point_data.active_texture_coordinates_name
    if coordinates is not None:
        result.point_data.active_texture_coordinates_name = coordinates
    result.GetPointData().SetActiveScalars(None)
    return result


def longest_edges(corners: np.ndarray) -> np.ndarray:
    """The length of each triangle's longest edge, its corners given as rows of three
    (of points, or of texture coordinates)."""
    return np.linalg.norm(corners[:, [1, 2, 0]] - corners, axis=2).max(axis=1)


def _rasterised(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, side: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pixel centre inside each triangle, its corners at (*x*, *y*) in pixels with
    depths *z* (each of shape triangles × 3): the triangle, the pixel's index in a buffer
    *side* pixels wide, and the triangle's depth there. A centre on an edge counts for both
    triangles that share it, so a surface has no cracks."""
    left = np.ceil(x.min(axis=1) - 0.5).astype(np.int64)
    bottom = np.ceil(y.min(axis=1) - 0.5).astype(np.int64)
    width = np.maximum(np.floor(x.max(axis=1) - 0.5).astype(np.int64) - left + 1, 0)
    height = np.maximum(np.floor(y.max(axis=1) - 0.5).astype(np.int64) - bottom + 1, 0)
    area = width * height
    owner = np.repeat(np.arange(len(x)), area)
    within = np.arange(owner.size) - np.repeat(np.cumsum(area) - area, area)
    columns = np.maximum(width[owner], 1)
    column = left[owner] + within % columns
    row = bottom[owner] + within // columns
    px, py = column + 0.5, row + 0.5
    (x0, x1, x2), (y0, y1, y2) = x[owner].T, y[owner].T
    twice = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)  # twice the signed area
    w0 = (x1 - px) * (y2 - py) - (y1 - py) * (x2 - px)
    w1 = (x2 - px) * (y0 - py) - (y2 - py) * (x0 - px)
    w2 = twice - w0 - w1
    sign = np.sign(twice)
    inside = (twice != 0) & (w0 * sign >= 0) & (w1 * sign >= 0) & (w2 * sign >= 0)
    owner, twice = owner[inside], twice[inside]
    corner = z[owner]
    depth = (
        w0[inside] * corner[:, 0] + w1[inside] * corner[:, 1] + w2[inside] * corner[:, 2]
    ) / twice
    return owner, row[inside] * side + column[inside], depth


def _gaps_filled(buffer: np.ndarray) -> np.ndarray:
    """*buffer* with each empty pixel (-inf) given the nearest depth among its neighbours."""
    rows, columns = buffer.shape
    widened = buffer.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            target = widened[max(dy, 0) : rows + min(dy, 0), max(dx, 0) : columns + min(dx, 0)]
            source = buffer[max(-dy, 0) : rows + min(-dy, 0), max(-dx, 0) : columns + min(-dx, 0)]
            np.maximum(target, source, out=target)
    return np.where(np.isfinite(buffer), buffer, widened)


def _perpendicular(view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([1.0, 0.0, 0.0]) if abs(view[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    across = np.cross(view, helper)
    across /= np.linalg.norm(across)
    return across, np.cross(view, across)


__all__ = [
    "DIRECTIONS",
    "directions",
    "longest_edges",
    "one_sided_with_backs",
    "visible_backs",
    "with_point_copies",
]
