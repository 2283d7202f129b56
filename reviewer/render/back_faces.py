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

The search is a z-buffer per direction, in numpy: the triangles are sampled densely enough
that every pixel they cover gets a sample, only front faces are drawn into the buffer (a
culled back face hides nothing), the buffer is widened by a pixel against gaps between
samples, and a back-facing sample in front of it is visible. Views come from
:data:`DIRECTIONS` directions spread evenly over the sphere, looking from afar; the triangles
next to a visible one count as visible too, for the camera between two directions.

How it can be wrong: a gap in the buffer makes a hidden back count as visible (a few more
triangles drawn, the safe way). The other way, a back seen only through an opening narrower
than a couple of pixels of the buffer (about a triangle of the proxy) or only within a cone
narrower than the spacing of the directions is missed; in a motion frame drawn at reduced
resolution that is a speck where a garment's inside shows. The full figure at rest is always
drawn two-sided.

Qt-free and without renderer state: it runs on worker threads, with the proxy it serves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DIRECTIONS = 128
"""Directions looked from, about 18 degrees apart. Through a hole a little wider than what
is behind it, the inside shows only within a narrow cone: 64 directions missed a tenth of
such a ring, 96 three triangles, 128 none. 128 take about 0.35 s for a 14 k-triangle proxy."""
_MAX_SAMPLES = 600_000  # samples of all triangles; pixels grow to stay within it
_MAX_SUBDIVISIONS = 24  # a long sliver is sampled along its longest edge at most this finely
_MAX_SIDE = 1536  # pixels across a view: a proxy's figure needs about 100-200


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
    outside the figure, or by a camera beside such a view (the triangles sharing a point
    with one)."""
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
    edges = np.stack(
        [
            np.linalg.norm(second - first, axis=1),
            np.linalg.norm(third - second, axis=1),
            np.linalg.norm(first - third, axis=1),
        ],
        axis=1,
    ).max(axis=1)
    centre = corners.reshape(-1, 3).mean(axis=0)
    radius = float(np.linalg.norm(corners.reshape(-1, 3) - centre, axis=1).max())
    # A pixel half the typical triangle, and as many samples along each triangle's longest
    # edge as it spans pixels; pixels grow if that would take too many samples.
    pixel = max(float(np.median(edges)) / 2.0, 1e-12)
    while True:
        steps = np.clip(np.ceil(edges / pixel), 1, _MAX_SUBDIVISIONS).astype(np.int64)
        if int(((steps + 1) * (steps + 2) // 2).sum()) <= _MAX_SAMPLES:
            break
        pixel *= 1.25
    samples, owner = _samples(corners - centre, steps)
    side = math.ceil(2.0 * radius / pixel) + 3
    if side > _MAX_SIDE:
        # Triangles tiny beside the whole (a stray point far off): a buffer fine enough would
        # not fit, and a coarse one would hide backs that show. Every back counts as seen.
        return [np.ones(n, dtype=bool) for n in counts]
    seen = np.zeros(total, dtype=bool)
    for view in directions(count):
        facing = normal @ view
        front = (facing > 1e-6) & ~degenerate
        back = (facing < -1e-6) & ~degenerate
        across, up = _perpendicular(view)
        column = np.floor((samples @ across + radius) / pixel).astype(np.int64) + 1
        row = np.floor((samples @ up + radius) / pixel).astype(np.int64) + 1
        depth = samples @ view  # larger is nearer the viewer
        cell = row * side + column
        drawn = front[owner]
        nearest = np.full(side * side, -np.inf)
        np.maximum.at(nearest, cell[drawn], depth[drawn])
        nearest = _widened(nearest.reshape(side, side)).reshape(-1)
        candidates = back[owner]
        showing = candidates.copy()
        showing[candidates] = depth[candidates] > nearest[cell[candidates]] + 0.25 * pixel
        seen[owner[showing]] = True
    seen = _with_neighbours(seen, np.concatenate(_global_faces(faces)))
    return list(np.split(seen, np.cumsum(counts)[:-1]))


def one_sided_with_backs(mesh: Any, backs: np.ndarray) -> Any:
    """*mesh* (pyvista triangles) with a turned-over copy of each triangle flagged in
    *backs*, on copies of its points with every point array copied and the normals negated:
    drawn one-sided it shows what *mesh* drawn two-sided shows wherever the flags are right.
    """
    import pyvista as pv

    faces = np.asarray(mesh.regular_faces, dtype=np.int64)
    points = np.asarray(mesh.points)
    turned = faces[np.asarray(backs, dtype=bool)][:, [0, 2, 1]]
    used, renumbered = np.unique(turned, return_inverse=True)
    result = pv.PolyData.from_regular_faces(
        np.concatenate([points, points[used]]),
        np.concatenate([faces, renumbered.reshape(-1, 3) + len(points)]),
    )
    normals = mesh.point_data.active_normals_name
    for name in mesh.point_data:
        values = np.asarray(mesh.point_data[name])
        copied = -values[used] if name == normals else values[used]
        result.point_data[name] = np.concatenate([values, copied])
    for name in mesh.cell_data:
        values = np.asarray(mesh.cell_data[name])
        result.cell_data[name] = np.concatenate([values, values[np.asarray(backs, dtype=bool)]])
    result.point_data.active_normals_name = normals
    coordinates = mesh.point_data.active_texture_coordinates_name
    if coordinates is not None:
        result.point_data.active_texture_coordinates_name = coordinates
    result.GetPointData().SetActiveScalars(None)
    return result


def _samples(corners: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points spread over each triangle of *corners* on a barycentric grid of *steps*
    divisions per edge, and the triangle each belongs to."""
    points: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for step in np.unique(steps):
        which = np.flatnonzero(steps == step)
        grid = np.array(
            [(i / step, j / step) for i in range(step + 1) for j in range(step + 1 - i)]
        )
        first = corners[which, 0][:, None, :]
        along = (corners[which, 1] - corners[which, 0])[:, None, :]
        across = (corners[which, 2] - corners[which, 0])[:, None, :]
        spread = first + grid[None, :, :1] * along + grid[None, :, 1:] * across
        points.append(spread.reshape(-1, 3))
        owners.append(np.repeat(which, len(grid)))
    return np.concatenate(points), np.concatenate(owners)


def _perpendicular(view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([1.0, 0.0, 0.0]) if abs(view[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    across = np.cross(view, helper)
    across /= np.linalg.norm(across)
    return across, np.cross(view, across)


def _widened(buffer: np.ndarray) -> np.ndarray:
    """The nearest depth among each pixel and its eight neighbours."""
    widened = buffer.copy()
    rows, columns = buffer.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            target = widened[max(dy, 0) : rows + min(dy, 0), max(dx, 0) : columns + min(dx, 0)]
            source = buffer[max(-dy, 0) : rows + min(-dy, 0), max(-dx, 0) : columns + min(-dx, 0)]
            np.maximum(target, source, out=target)
    return widened


def _global_faces(faces: list[np.ndarray]) -> list[np.ndarray]:
    """Each mesh's faces numbered past the points of the meshes before it (a mesh's points
    are not shared with another's)."""
    offset = 0
    numbered = []
    for f in faces:
        numbered.append(f + offset)
        offset += int(f.max()) + 1 if len(f) else 0
    return numbered


def _with_neighbours(flags: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """*flags* and every triangle sharing a point with a flagged one."""
    if not flags.any():
        return flags
    touched = np.zeros(int(faces.max()) + 1, dtype=bool)
    touched[faces[flags].ravel()] = True
    return touched[faces].any(axis=1)


__all__ = ["DIRECTIONS", "directions", "one_sided_with_backs", "visible_backs"]
