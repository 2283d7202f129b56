"""Bodies for comparison tests: a generated capsule figure (no corpus needed), a smooth bump
displaced by a known amount at a known place, and the corpus body when it is there."""

from __future__ import annotations

import numpy as np
import pyvista as pv


def capsule_figure(resolution: int = 48) -> pv.PolyData:
    """A standing figure of capsules and ellipsoids, about 1.75 m tall, in metres, Y up,
    facing +Z: a torso, a head, two legs and two arms. Parts overlap, as garments and bodies
    of real looks do."""
    pieces = [
        _ellipsoid((0.0, 1.18, 0.0), (0.17, 0.32, 0.11), resolution),  # torso
        _ellipsoid((0.0, 1.63, 0.0), (0.095, 0.12, 0.105), resolution),  # head
        _capsule((0.09, 0.06, 0.0), (0.10, 0.92, 0.0), 0.065, resolution),  # the figure's left leg
        _capsule((-0.09, 0.06, 0.0), (-0.10, 0.92, 0.0), 0.065, resolution),
        _capsule((0.21, 1.44, 0.0), (0.29, 0.86, 0.02), 0.042, resolution),  # left arm
        _capsule((-0.21, 1.44, 0.0), (-0.29, 0.86, 0.02), 0.042, resolution),
    ]
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = merged.append_polydata(piece)
    return merged.triangulate().clean()


def _ellipsoid(
    centre: tuple[float, float, float], radii: tuple[float, float, float], resolution: int
) -> pv.PolyData:
    sphere = pv.Sphere(radius=1.0, theta_resolution=resolution * 2, phi_resolution=resolution)
    sphere.points = np.asarray(sphere.points) * np.array(radii) + np.array(centre)
    return sphere


def _capsule(
    start: tuple[float, float, float],
    end: tuple[float, float, float],
    radius: float,
    resolution: int,
) -> pv.PolyData:
    """A capsule: a closed tube with round ends, from *start* to *end*."""
    a = np.array(start, dtype=float)
    b = np.array(end, dtype=float)
    length = float(np.linalg.norm(b - a))
    sphere = pv.Sphere(radius=radius, theta_resolution=resolution, phi_resolution=resolution)
    points = np.asarray(sphere.points, dtype=float).copy()
    # Stretch the sphere along Z into a capsule: the upper half moves up by the length.
    points[:, 2] += np.where(points[:, 2] > 0, length / 2, -length / 2)
    direction = (b - a) / length
    points = points @ _rotation_from_z(direction).T + (a + b) / 2
    sphere.points = points
    return sphere


def _rotation_from_z(direction: np.ndarray) -> np.ndarray:
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, direction)
    sine = float(np.linalg.norm(axis))
    cosine = float(np.dot(z, direction))
    if sine < 1e-12:
        return np.eye(3) if cosine > 0 else np.diag([1.0, -1.0, -1.0])
    axis /= sine
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + sine * k + (1 - cosine) * (k @ k)


def outward_normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit point normals, each turned to point away from the figure's vertical axis."""
    from reviewer.assets.meshes import vertex_normals

    normals = vertex_normals(points, faces).astype(float)
    radial = np.asarray(points, dtype=float).copy()
    radial[:, 1] = 0.0
    flip = np.einsum("ij,ij->i", normals, radial) < 0
    normals[flip] *= -1.0
    return normals


def chest_front_index(points: np.ndarray, height: float, across: float = 0.06) -> int:
    """The vertex furthest forward (+Z) at about *height* (metres above the lowest point) and
    within *across* of the middle: the front of the chest on an upright figure."""
    points = np.asarray(points, dtype=float)
    floor = points[:, 1].min()
    near = (np.abs(points[:, 1] - floor - height) < 0.03) & (np.abs(points[:, 0]) < across)
    candidates = np.nonzero(near)[0]
    return int(candidates[np.argmax(points[candidates, 2])])


def with_bump(
    points: np.ndarray,
    normals: np.ndarray,
    index: int,
    *,
    height: float = 0.010,
    sigma: float = 0.02,
) -> np.ndarray:
    """*points* with a smooth bump raised along the normals: *height* (metres) at vertex
    *index*, falling off as a Gaussian of width *sigma* around it."""
    points = np.asarray(points, dtype=float)
    distance = np.linalg.norm(points - points[index], axis=1)
    weight = np.exp(-0.5 * (distance / sigma) ** 2)
    weight[distance > 4 * sigma] = 0.0
    return points + normals * (height * weight)[:, None]
