"""A procedural mannequin with outfits, for the demo library and for tests.

The figure is sculpted as a signed distance field: ellipsoids and round cones blended with a
smooth minimum, so shoulders, hips and knees flow into each other the way a mannequin's do.
Garments are the body's field inflated by the cloth's thickness and clipped by planes (hems,
necklines, sleeve ends); skirts add a flared cone. Every part is meshed separately with VTK's
flying edges, so an outfit can change colour, texture and cut while the body stays the same.

The head and hands are meshed on finer grids than the rest of the body (a face and fingers need
millimetres, a torso does not); the meshes overlap by a margin so no crack shows at the seams.
Faces of a part that lie inside another part (skin under a sleeve, trousers under a jacket) are
dropped; should a look still pass its triangle budget (a floor-length gown, tight curls), its
larger parts are thinned where they are flattest. A look has about 65k-76k triangles.

``build_looks`` dresses one body in several outfits and is much faster than ``build_figure``
per outfit, since the body's fields, skin and hair are made once.

Coordinates follow glTF: metres, Y up, the figure faces +Z and stands with its soles on y = 0.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from reviewer.assets.gltf_writer import GltfPart

RGB = tuple[float, float, float]

_FAR = np.float32(1.0)  # "no surface near here", in metres
_REFERENCE_HEIGHT = 1.75  # the landmarks below are for a figure of this height


# --------------------------------------------------------------------------------------------
# Public specifications


@dataclass(frozen=True)
class BodySpec:
    """The body of one talent's twin.

    ``build`` scales widths and depths (0.94 slender, 1.06 athletic); ``hips`` widens the
    pelvis on its own. Colours are sRGB in 0..1. ``hair_style`` is one of ``HAIR_STYLES``.
    """

    height: float = 1.76
    build: float = 1.0
    hips: float = 1.0
    bust: float = 1.0
    skin_color: RGB = (0.80, 0.62, 0.50)
    hair_style: str = "long"
    hair_color: RGB = (0.20, 0.13, 0.08)


@dataclass(frozen=True)
class Garment:
    """One piece of clothing: its cut (``kind``), colour and optional woven pattern.

    Tops: ``TOP_KINDS``; bottoms: ``BOTTOM_KINDS``; dresses: ``DRESS_KINDS``. ``pattern`` is
    one of ``PATTERNS``; the pattern's second colour is ``accent``.
    """

    kind: str
    color: RGB
    pattern: str | None = None
    accent: RGB = (0.96, 0.95, 0.92)
    roughness: float = 0.85
    metallic: float = 0.0


@dataclass(frozen=True)
class OutfitSpec:
    """A look: either a top and a bottom, or a dress; shoes; optional sunglasses.

    ``inner`` is the colour of the layer that shows in a jacket's or coat's neckline.
    """

    top: Garment | None = None
    bottom: Garment | None = None
    dress: Garment | None = None
    shoes: str = "sneaker"
    shoe_color: RGB = (0.95, 0.95, 0.93)
    inner: RGB = (0.96, 0.96, 0.94)
    sunglasses: bool = False


HAIR_STYLES = ("long", "bob", "bun", "curls")
TOP_KINDS = ("tee", "longsleeve", "knit", "camisole", "jacket", "coat")
BOTTOM_KINDS = ("slim", "wide", "leggings", "joggers", "skirt")
DRESS_KINDS = ("slip", "gown", "shirtdress")
SHOE_KINDS = ("sneaker", "flat", "boot")
PATTERNS = ("denim", "stripes", "gingham", "rib")


# --------------------------------------------------------------------------------------------
# Signed distance primitives. Each evaluates on coordinate arrays that broadcast against each
# other: (nx,1,1), (1,ny,1), (1,1,nz) for a block of a grid. Parameters are turned into Python
# floats first so that float32 coordinates are not promoted to float64 (twice the work).


@dataclass(frozen=True)
class _RoundCone:
    """A capsule whose radius changes linearly from ``ra`` at ``a`` to ``rb`` at ``b``."""

    a: np.ndarray
    b: np.ndarray
    ra: float
    rb: float

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.minimum(self.a - self.ra, self.b - self.rb)
        hi = np.maximum(self.a + self.ra, self.b + self.rb)
        return lo, hi

    def distance(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        # Inigo Quilez's exact round-cone distance, vectorised.
        ax, ay, az = (float(v) for v in self.a)
        bx, by, bz = (float(v) for v in self.b - self.a)
        ra, rb = float(self.ra), float(self.rb)
        l2 = bx * bx + by * by + bz * bz
        rr = ra - rb
        a2 = l2 - rr * rr
        il2 = 1.0 / l2
        px, py, pz = x - ax, y - ay, z - az
        along = px * bx + py * by + pz * bz
        past = along - l2
        x2 = (px * l2 - bx * along) ** 2 + (py * l2 - by * along) ** 2
        x2 += (pz * l2 - bz * along) ** 2
        y2 = along * along * l2
        z2 = past * past * l2
        k = math.copysign(1.0, rr) * rr * rr * x2
        side = (np.sqrt(np.maximum(x2 * (a2 * il2), 0.0)) + along * rr) * il2 - ra
        end_b = np.sqrt(x2 + z2) * il2 - rb
        end_a = np.sqrt(x2 + y2) * il2 - ra
        out = np.where(np.sign(along) * a2 * y2 < k, end_a, side)
        return np.where(np.sign(past) * a2 * z2 > k, end_b, out)


@dataclass(frozen=True)
class _Ellipsoid:
    """An ellipsoid with semi-axes ``radii`` along the columns of ``frame`` (world axes if None).

    The distance is Quilez's first-order bound: exact enough near the surface, which is all
    that meshing and blending need.
    """

    centre: np.ndarray
    radii: np.ndarray
    frame: np.ndarray | None = None

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        reach = self.radii if self.frame is None else np.abs(self.frame) @ self.radii
        return self.centre - reach, self.centre + reach

    def distance(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        cx, cy, cz = (float(v) for v in self.centre)
        px, py, pz = x - cx, y - cy, z - cz
        if self.frame is not None:
            f = [[float(v) for v in row] for row in self.frame]
            px, py, pz = (
                px * f[0][0] + py * f[1][0] + pz * f[2][0],
                px * f[0][1] + py * f[1][1] + pz * f[2][1],
                px * f[0][2] + py * f[1][2] + pz * f[2][2],
            )
        rx, ry, rz = (float(v) for v in self.radii)
        qx, qy, qz = px * (1.0 / rx), py * (1.0 / ry), pz * (1.0 / rz)
        k0 = np.sqrt(qx * qx + qy * qy + qz * qz)
        qx *= 1.0 / rx
        qy *= 1.0 / ry
        qz *= 1.0 / rz
        k1 = np.sqrt(qx * qx + qy * qy + qz * qz)
        return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)


_Shape = _RoundCone | _Ellipsoid


def _smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) * (1.0 / k), 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def _smooth_max(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    return -_smooth_min(-a, -b, k)


@dataclass(frozen=True)
class _Step:
    shape: _Shape
    blend: float
    carve: bool = False  # subtract the shape instead of adding it


Block = tuple[slice, slice, slice]


@dataclass
class _Grid:
    """A regular lattice of sample points; ``owns`` picks the faces this grid's meshes keep."""

    lo: np.ndarray
    spacing: float
    shape: tuple[int, int, int]
    owns: Callable[[np.ndarray], np.ndarray]

    @classmethod
    def covering(
        cls, lo: np.ndarray, hi: np.ndarray, spacing: float, owns: Callable[..., np.ndarray]
    ) -> _Grid:
        shape = tuple(math.ceil((hi[i] - lo[i]) / spacing) + 1 for i in range(3))
        return cls(lo.astype(np.float64), spacing, shape, owns)  # type: ignore[arg-type]

    def axis(self, i: int) -> np.ndarray:
        return (self.lo[i] + self.spacing * np.arange(self.shape[i])).astype(np.float32)

    def block(self, lo: np.ndarray, hi: np.ndarray) -> Block | None:
        first = np.maximum(np.floor((lo - self.lo) / self.spacing).astype(int), 0)
        last = np.minimum(np.ceil((hi - self.lo) / self.spacing).astype(int) + 1, self.shape)
        if np.any(last <= first):
            return None
        sx, sy, sz = (slice(int(f), int(e)) for f, e in zip(first, last, strict=True))
        return sx, sy, sz

    def sampler(self, points: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """Trilinear interpolation at ``points`` (clamped to the grid) of any field on it.

        The corner indices and weights are worked out once, so testing one mesh against the
        fields of several parts costs a gather per part.
        """
        f = (points - self.lo) / self.spacing
        base = np.clip(np.floor(f).astype(np.int64), 0, np.array(self.shape) - 2)
        t = np.clip(f - base, 0.0, 1.0).astype(np.float32)
        _, ny, nz = self.shape
        flat = (base[:, 0] * ny + base[:, 1]) * nz + base[:, 2]
        corners, weights = [], []
        for di in (0, 1):
            wx = t[:, 0] if di else 1.0 - t[:, 0]
            for dj in (0, 1):
                wy = t[:, 1] if dj else 1.0 - t[:, 1]
                for dk in (0, 1):
                    wz = t[:, 2] if dk else 1.0 - t[:, 2]
                    corners.append(flat + (di * ny + dj) * nz + dk)
                    weights.append(wx * wy * wz)
        index = np.stack(corners)
        weight = np.stack(weights)

        def sample(values: np.ndarray) -> np.ndarray:
            return np.einsum("ij,ij->j", np.ravel(values)[index], weight)

        return sample


def _sculpt(steps: list[_Step], grid: _Grid) -> np.ndarray | None:
    """Evaluate a list of blended shapes on ``grid``, touching only each shape's block."""
    values: np.ndarray | None = None
    x, y, z = grid.axis(0), grid.axis(1), grid.axis(2)
    for step in steps:
        lo, hi = step.shape.bounds()
        # Beyond twice the blend radius a shape no longer changes the surface, so evaluating
        # it only inside that margin gives the same zero level set at a fraction of the cost.
        margin = 2.0 * step.blend + 2.0 * grid.spacing
        block = grid.block(lo - margin, hi + margin)
        if block is None:
            continue
        if values is None:
            if step.carve:
                continue
            values = np.full(grid.shape, _FAR, dtype=np.float32)
        sx, sy, sz = block
        d = step.shape.distance(x[sx, None, None], y[None, sy, None], z[None, None, sz])
        if step.carve:
            values[block] = _smooth_max(values[block], -d, step.blend)
        else:
            values[block] = _smooth_min(values[block], d, step.blend)
    return values


# --------------------------------------------------------------------------------------------
# Anatomy


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@dataclass
class _Anatomy:
    """Landmarks and the sculpted groups of one body, all already scaled to its size."""

    body: BodySpec
    s: float  # vertical scale
    w: float  # horizontal scale
    groups: dict[str, list[_Step]] = field(default_factory=dict)
    marks: dict[str, np.ndarray] = field(default_factory=dict)

    def p(self, x: float, y: float, z: float) -> np.ndarray:
        return np.array([x * self.w, y * self.s, z * self.w])

    def r(self, radius: float) -> float:
        return radius * self.w

    def y(self, height: float) -> float:
        return height * self.s


def _anatomy(body: BodySpec) -> _Anatomy:
    s = body.height / _REFERENCE_HEIGHT
    an = _Anatomy(body, s, s * body.build)
    p, r = an.p, an.r

    def ell(
        c: tuple[float, float, float],
        radii: tuple[float, float, float],
        k: float,
        *,
        carve: bool = False,
    ) -> _Step:
        return _Step(_Ellipsoid(p(*c), np.array([r(v) for v in radii])), k, carve)

    def cone(a: np.ndarray, b: np.ndarray, ra: float, rb: float, k: float) -> _Step:
        return _Step(_RoundCone(a, b, r(ra), r(rb)), k)

    # A calm, sculpted mannequin face: egg-shaped, with brow, nose, lips and chin only hinted.
    head: list[_Step] = [
        ell((0, 1.655, -0.010), (0.071, 0.095, 0.092), 0.0),  # cranium
        cone(p(0, 1.630, 0.004), p(0, 1.545, 0.056), 0.060, 0.024, 0.035),  # face and jaw
        ell((0, 1.578, 0.008), (0.049, 0.040, 0.055), 0.025),  # angle of the jaw
        ell((0, 1.574, 0.052), (0.032, 0.028, 0.032), 0.02),  # mouth
        ell((0.037, 1.617, 0.050), (0.028, 0.020, 0.026), 0.025),  # cheekbones
        ell((-0.037, 1.617, 0.050), (0.028, 0.020, 0.026), 0.025),
        ell((0.031, 1.637, 0.086), (0.017, 0.0105, 0.012), 0.010, carve=True),  # eye sockets
        ell((-0.031, 1.637, 0.086), (0.017, 0.0105, 0.012), 0.010, carve=True),
        ell((0.030, 1.636, 0.067), (0.0125, 0.0120, 0.0125), 0.004),  # eyes under their lids
        ell((-0.030, 1.636, 0.067), (0.0125, 0.0120, 0.0125), 0.004),
        cone(p(0, 1.646, 0.082), p(0, 1.601, 0.099), 0.0065, 0.0095, 0.012),  # nose
        ell((0, 1.600, 0.089), (0.0145, 0.0075, 0.009), 0.008),  # nostrils
        ell((0, 1.5725, 0.082), (0.020, 0.0062, 0.010), 0.005),  # lips
        ell((0, 1.5605, 0.080), (0.017, 0.0070, 0.010), 0.005),
        ell((0, 1.533, 0.062), (0.019, 0.016, 0.017), 0.015),  # chin
        ell((0.071, 1.628, -0.014), (0.009, 0.027, 0.016), 0.010),  # ears
        ell((-0.071, 1.628, -0.014), (0.009, 0.027, 0.016), 0.010),
        cone(p(0, 1.435, -0.020), p(0, 1.585, -0.022), 0.049, 0.043, 0.015),  # neck
    ]
    bust = body.bust
    torso: list[_Step] = [
        ell((0, 1.285, -0.006), (0.122, 0.165, 0.086), 0.0),  # ribcage
        cone(p(-0.150, 1.418, -0.022), p(0.150, 1.418, -0.022), 0.041, 0.041, 0.05),  # yoke
        cone(p(0.03, 1.466, -0.024), p(0.145, 1.430, -0.022), 0.038, 0.042, 0.04),  # trapezius
        cone(p(-0.03, 1.466, -0.024), p(-0.145, 1.430, -0.022), 0.038, 0.042, 0.04),
        ell((0.055, 1.258, 0.050), (0.055 * bust, 0.049 * bust, 0.047 * bust), 0.035),
        ell((-0.055, 1.258, 0.050), (0.055 * bust, 0.049 * bust, 0.047 * bust), 0.035),
        ell((0, 1.095, -0.004), (0.108, 0.120, 0.077), 0.06),  # waist
        ell((0, 1.005, 0.008), (0.121, 0.090, 0.079), 0.05),  # belly
        ell((0, 0.928, -0.008), (0.156 * body.hips, 0.112, 0.096), 0.06),  # pelvis
        ell((0.065, 0.888, -0.043), (0.079, 0.088, 0.073), 0.04),  # glutes
        ell((-0.065, 0.888, -0.043), (0.079, 0.088, 0.073), 0.04),
    ]
    an.groups = {"head": head, "torso": torso}
    an.marks.update(cranium=p(0, 1.655, -0.010))

    abduction = math.radians(13.0)
    for side, sx in (("l", 1.0), ("r", -1.0)):
        shoulder = p(sx * 0.163, 1.405, -0.022)
        upper = np.array([sx * math.sin(abduction), -math.cos(abduction), 0.0])
        elbow = shoulder + upper * 0.285 * s
        fore = _unit(np.array([sx * math.sin(abduction - 0.03), -math.cos(abduction), 0.13]))
        wrist = elbow + fore * 0.245 * s
        an.marks.update(
            {
                f"shoulder_{side}": shoulder,
                f"elbow_{side}": elbow,
                f"wrist_{side}": wrist,
                f"upper_{side}": upper,
                f"fore_{side}": fore,
            }
        )
        an.groups[f"arm_{side}"] = [
            _Step(
                _Ellipsoid(
                    shoulder + upper * 0.018 * s + np.array([sx * 0.006 * s, 0, 0]),
                    np.array([r(0.045), r(0.054), r(0.049)]),
                ),
                0.0,
            ),  # deltoid
            cone(shoulder, elbow, 0.039, 0.030, 0.03),
            cone(shoulder + upper * 0.07 * s, shoulder + upper * 0.2 * s, 0.040, 0.034, 0.03),
            cone(elbow, wrist, 0.031, 0.022, 0.02),
            cone(elbow + fore * 0.03 * s, elbow + fore * 0.12 * s, 0.035, 0.029, 0.03),
        ]
        an.groups[f"hand_{side}"] = _hand(an, wrist, fore, sx)

        hip = p(sx * 0.088, 0.905, 0.0)
        knee = p(sx * 0.094, 0.490, 0.010)
        ankle = p(sx * 0.104, 0.086, -0.022)
        an.marks.update({f"hip_{side}": hip, f"knee_{side}": knee, f"ankle_{side}": ankle})
        toe_out = math.radians(7.0) * sx
        foot_frame = np.array(
            [
                [math.cos(toe_out), 0.0, math.sin(toe_out)],
                [0.0, 1.0, 0.0],
                [-math.sin(toe_out), 0.0, math.cos(toe_out)],
            ]
        )
        an.groups[f"leg_{side}"] = [
            cone(hip, knee, 0.083, 0.050, 0.0),
            ell((sx * 0.092, 0.745, 0.012), (0.072, 0.170, 0.076), 0.05),  # thigh
            ell((sx * 0.094, 0.492, 0.016), (0.042, 0.046, 0.044), 0.03),  # knee
            cone(knee, ankle, 0.049, 0.030, 0.02),
            ell((sx * 0.099, 0.335, -0.024), (0.046, 0.110, 0.046), 0.04),  # calf
            _Step(_Ellipsoid(ankle, np.array([r(0.032)] * 3)), 0.02),
            _Step(
                _Ellipsoid(
                    p(sx * 0.111, 0.034, 0.058),
                    np.array([r(0.040), an.y(0.036), r(0.121)]),
                    foot_frame,
                ),
                0.03,
            ),
            ell((sx * 0.105, 0.040, -0.036), (0.032, 0.040, 0.037), 0.03),  # heel
        ]
    return an


def _hand(an: _Anatomy, wrist: np.ndarray, along: np.ndarray, sx: float) -> list[_Step]:
    # Palm faces the thigh; "front" is the thumb's side, towards +Z.
    inward = np.array([-sx, 0.0, 0.0])
    palm_normal = _unit(inward - along * (inward @ along))
    front = _unit(np.cross(palm_normal, along))
    if front[2] < 0:
        front = -front
    frame = np.column_stack([palm_normal, along, front])
    s = an.s
    steps = [
        _Step(
            _Ellipsoid(wrist + along * 0.012 * s, np.array([0.017, 0.022, 0.026]) * s, frame), 0.012
        ),
        _Step(
            _Ellipsoid(wrist + along * 0.052 * s, np.array([0.015, 0.049, 0.039]) * s, frame), 0.015
        ),
    ]
    lengths = (0.066, 0.082, 0.086, 0.078)  # little, ring, middle, index
    for offset, length in zip((-0.026, -0.0087, 0.0087, 0.026), lengths, strict=True):
        base = wrist + along * 0.092 * s + front * offset * s
        first = _unit(along + 0.10 * palm_normal + 0.05 * front * np.sign(offset))
        second = _unit(along + 0.55 * palm_normal)
        knuckle = base + first * length * 0.55 * s
        tip = knuckle + second * length * 0.45 * s
        steps.append(_Step(_RoundCone(base, knuckle, 0.0086 * s, 0.0076 * s), 0.006))
        steps.append(_Step(_RoundCone(knuckle, tip, 0.0076 * s, 0.0064 * s), 0.004))
    thumb_base = wrist + along * 0.03 * s + front * 0.022 * s + palm_normal * 0.006 * s
    thumb_dir = _unit(along * 0.75 + front * 0.45 + palm_normal * 0.35)
    thumb_mid = thumb_base + thumb_dir * 0.045 * s
    thumb_tip = thumb_mid + _unit(along + palm_normal * 0.5) * 0.035 * s
    steps.append(_Step(_RoundCone(thumb_base, thumb_mid, 0.0115 * s, 0.0092 * s), 0.01))
    steps.append(_Step(_RoundCone(thumb_mid, thumb_tip, 0.0092 * s, 0.0076 * s), 0.004))
    return steps


# --------------------------------------------------------------------------------------------
# Fields of the body and of each part on one grid (or one block of it)

_Values = np.ndarray | np.float32
_ARM_BLEND = 0.035  # how softly arms and legs join the torso, in metres
_LEG_BLEND = 0.05


class _GridFields:
    """Group fields of one body on a grid or a block of it, and the clips garments use."""

    def __init__(
        self,
        an: _Anatomy,
        grid: _Grid,
        shape: tuple[int, int, int],
        coordinates: tuple[np.ndarray, np.ndarray, np.ndarray],
        groups: dict[str, np.ndarray | None],
    ) -> None:
        self.an, self.grid, self.shape = an, grid, shape
        self.x, self.y, self.z = coordinates
        self._groups = groups
        self._body: np.ndarray | None = None

    @classmethod
    def sculpted(cls, an: _Anatomy, grid: _Grid) -> _GridFields:
        coordinates = (
            grid.axis(0)[:, None, None],
            grid.axis(1)[None, :, None],
            grid.axis(2)[None, None, :],
        )
        groups = {name: _sculpt(steps, grid) for name, steps in an.groups.items()}
        fields = cls(an, grid, grid.shape, coordinates, groups)
        fields.body()  # worked out once here, then shared by every block and every look
        return fields

    def within(
        self, lo: np.ndarray, hi: np.ndarray, maker: Callable[[_GridFields], _Values]
    ) -> np.ndarray | None:
        """Evaluate ``maker`` only inside the box ``lo``..``hi``; far everywhere else."""
        block = self.grid.block(lo, hi)
        if block is None:
            return None
        sx, sy, sz = block
        sub = _GridFields(
            self.an,
            self.grid,
            (sx.stop - sx.start, sy.stop - sy.start, sz.stop - sz.start),
            (self.x[sx], self.y[:, sy], self.z[:, :, sz]),
            {name: None if v is None else v[block] for name, v in self._groups.items()},
        )
        if self._body is not None:
            sub._body = self._body[block]
        values = sub.full(maker(sub))
        if not np.any(values < 0.0):
            return None
        out = np.full(self.shape, _FAR, dtype=np.float32)
        out[block] = values
        return out

    def group(self, name: str) -> _Values:
        values = self._groups[name]
        return _FAR if values is None else values

    def full(self, values: _Values) -> np.ndarray:
        return np.broadcast_to(np.asarray(values, dtype=np.float32), self.shape)

    def limbs(self, prefix: str) -> _Values:
        return np.minimum(self.group(f"{prefix}_l"), self.group(f"{prefix}_r"))

    def body(self) -> np.ndarray:
        if self._body is None:
            out = _smooth_min(self.group("torso"), self.limbs("arm"), _ARM_BLEND)
            out = _smooth_min(out, self.limbs("hand"), 0.015)
            out = _smooth_min(out, self.limbs("leg"), _LEG_BLEND)
            out = _smooth_min(out, self.group("head"), 0.03)
            self._body = self.full(np.maximum(out, -self.y))  # flat soles on the floor
        return self._body

    def along(self, origin: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Signed distance of every point along ``direction`` from ``origin``."""
        ox, oy, oz = (float(v) for v in origin)
        dx, dy, dz = (float(v) for v in direction)
        return (self.x - ox) * dx + (self.y - oy) * dy + (self.z - oz) * dz

    def below(self, height: float) -> np.ndarray:
        """Negative below ``height``: intersect with it to keep what is lower."""
        return self.y - np.float32(height)

    def above(self, height: float) -> np.ndarray:
        """Negative above ``height``: intersect with it to keep what is higher."""
        return np.float32(height) - self.y


def _arm_cut(f: _GridFields, side: str, length: str) -> _Values:
    """Negative where the arm of ``side`` lies beyond a sleeve of ``length``.

    "The arm" is wherever the arm is nearer than the torso, so the cut never bites into the
    side of the body however the plane across the arm runs.
    """
    an = f.an
    arm = f.group(f"arm_{side}")
    if not isinstance(arm, np.ndarray):
        return _FAR
    nearer_arm = arm - f.group("torso")
    if length == "none":
        return nearer_arm
    if length == "short":
        past = f.along(an.marks[f"shoulder_{side}"], an.marks[f"upper_{side}"]) - 0.13 * an.s
    else:
        past = f.along(an.marks[f"elbow_{side}"], an.marks[f"fore_{side}"]) - 0.222 * an.s
    return np.maximum(nearer_arm, -past)


def _neckline(f: _GridFields, shell: _Values, style: str) -> _Values:
    an = f.an
    if style == "crew":
        return shell
    if style == "v":
        bottom = an.y(1.235)
        slope = 2.2 * an.s / an.w
        # Divided by the slope's length so that the value is a distance, in metres.
        v = (bottom + slope * np.abs(f.x) - f.y) * (1.0 / math.hypot(1.0, slope))
        region = _smooth_max(v, -f.z, 0.01)
    else:  # a scoop, front and back
        scoop = _Ellipsoid(an.p(0, 1.43, 0.02), np.array([an.r(0.085), an.y(0.10), an.r(0.16)]))
        region = scoop.distance(f.x, f.y, f.z)
    # A bound edge: the cloth thickens along the neckline, so the rim is as thick as a grid
    # step and the cut does not break into a ragged, voxel-sized zigzag.
    shell = shell - 0.006 * np.exp(-((region * (1.0 / 0.014)) ** 2))
    return _smooth_max(shell, -region, 0.008)


def _upper_shell(
    f: _GridFields, thickness: float, sleeve: float, hem: float, sleeves: str
) -> _Values:
    """The torso and arms inflated by the cloth, cut at the hem and the sleeves' ends.

    Garments blend torso and limbs exactly as the skin does; a sharper blend would let the
    skin's fillets at the armpits and hips poke through the cloth.
    """
    arms = f.limbs("arm") - (sleeve if sleeves != "none" else thickness)
    shell = _smooth_min(f.group("torso") - thickness, arms, _ARM_BLEND)
    # The legs too: their blend swells the hips above the hem line.
    shell = _smooth_min(shell, f.limbs("leg") - thickness, _LEG_BLEND)
    shell = np.maximum(shell, f.above(f.an.y(hem)))
    for side in ("l", "r"):
        shell = _smooth_max(shell, -_arm_cut(f, side, sleeves), 0.012)
    return shell


def _lower_shell(f: _GridFields, thickness: float, top: float, bottom: float) -> _Values:
    """Hips and legs inflated by the cloth between the heights ``bottom`` and ``top``."""
    shell = _smooth_min(f.group("torso") - thickness, f.limbs("leg") - thickness, _LEG_BLEND)
    return np.maximum(np.maximum(shell, f.below(f.an.y(top))), f.above(f.an.y(bottom)))


def _cone(
    f: _GridFields, top: float, hem: float, radii: tuple[float, float], depth: float = 0.76
) -> np.ndarray:
    """A flared tube of elliptic section from height ``top`` down to ``hem``.

    ``radii`` are its half-widths at the top and at the hem; ``depth`` is the front-to-back
    share of the width.

    Skirts, coat tails and loose tops hang from the body along such a cone, instead of
    following every curve of the waist and hips.
    """
    an = f.an
    top_y, hem_y = an.y(top), an.y(hem)
    t = np.clip((top_y - f.y) * (1.0 / (top_y - hem_y)), 0.0, 1.0)
    r_top, r_hem = an.r(radii[0]), an.r(radii[1])
    rx = r_top + (r_hem - r_top) * t
    rz = rx * depth
    zc = an.r(-0.008)
    radial = (np.sqrt((f.x / rx) ** 2 + ((f.z - zc) / rz) ** 2) - 1.0) * rz
    return np.maximum(np.maximum(radial, f.below(top_y)), f.above(hem_y))


def _skirt(
    f: _GridFields,
    thickness: float,
    top: float,
    hem: float,
    radii: tuple[float, float],
    *,
    depth: float = 0.76,
) -> _Values:
    # The cloth rests on the hips and the upper thighs, then falls along the cone.
    hips = _lower_shell(f, thickness, top, max(hem, 0.56))
    return _smooth_min(hips, _cone(f, top, hem, radii, depth), 0.04)


_TOPS = {
    # kind: thickness, sleeve thickness, hem height, sleeves, neckline, hang (r_top, r_hem)
    "tee": (0.009, 0.008, 0.955, "short", "crew", (0.124, 0.150)),
    "longsleeve": (0.0085, 0.007, 0.975, "long", "crew", None),
    "knit": (0.013, 0.011, 0.93, "long", "crew", (0.130, 0.156)),
    "camisole": (0.005, 0.005, 0.985, "none", "scoop", None),
    "jacket": (0.017, 0.012, 0.80, "long", "v", (0.128, 0.198)),
    "coat": (0.019, 0.013, 0.46, "long", "v", (0.128, 0.255)),
}


def _top_field(f: _GridFields, kind: str) -> _Values:
    thickness, sleeve, hem, sleeves, neck, hang = _TOPS[kind]
    shell = _upper_shell(f, thickness, sleeve, hem, sleeves)
    if hang is not None:
        shell = _smooth_min(shell, _cone(f, 1.25, hem, hang), 0.04)
    if hem < 0.9:  # long enough to lie over the hips and thighs
        shell = _smooth_min(shell, _lower_shell(f, thickness, 1.0, max(hem, 0.6)), 0.03)
    return _neckline(f, shell, neck)


def _inner_field(f: _GridFields) -> _Values:
    return _upper_shell(f, 0.005, 0.005, 0.98, "none")


_BOTTOMS = {
    # kind: thickness, hem height, flare at the hem, straight leg radii (hip, hem)
    "slim": (0.0065, 0.075, 0.0, (0.080, 0.052)),
    "wide": (0.0065, 0.03, 0.022, (0.085, 0.088)),
    "leggings": (0.0045, 0.10, 0.0, None),
    "joggers": (0.011, 0.085, 0.0, (0.086, 0.050)),
}


def _bottom_field(f: _GridFields, kind: str) -> _Values:
    an = f.an
    if kind == "skirt":
        return _skirt(f, 0.007, 1.0, 0.42, (0.15, 0.21))
    thickness, hem, flare, straight = _BOTTOMS[kind]
    hem_y = an.y(hem)
    # Above the ankle only: trousers do not take the shape of the feet.
    legs = np.maximum(f.limbs("leg") - thickness, f.above(an.y(0.13)))
    if flare:
        legs = legs - flare * np.clip((an.y(0.75) - f.y) / (an.y(0.75) - hem_y), 0.0, 1.0)
    if straight is not None:
        # Cloth bridges the hollows between knee and calf: a straight tube per leg.
        for side in ("l", "r"):
            hip, ankle = an.marks[f"hip_{side}"], an.marks[f"ankle_{side}"]
            top = hip + np.array([0.0, -0.08 * an.s, 0.0])
            tube = _RoundCone(top, ankle, an.r(straight[0]), an.r(straight[1]) + flare)
            legs = _smooth_min(legs, tube.distance(f.x, f.y, f.z), 0.03)
    shell = _smooth_min(f.group("torso") - thickness, legs, _LEG_BLEND)
    return np.maximum(np.maximum(shell, f.below(an.y(1.0))), f.above(hem_y))


def _dress_field(f: _GridFields, kind: str) -> _Values:
    if kind == "slip":
        bodice = _neckline(f, _upper_shell(f, 0.005, 0.005, 0.95, "none"), "scoop")
        skirt = _skirt(f, 0.006, 1.0, 0.36, (0.14, 0.215))
    elif kind == "gown":
        bodice = _neckline(f, _upper_shell(f, 0.006, 0.006, 0.95, "none"), "v")
        skirt = _skirt(f, 0.007, 1.0, 0.0, (0.135, 0.36), depth=0.8)
    else:  # shirtdress
        bodice = _upper_shell(f, 0.009, 0.008, 0.95, "short")
        bodice = _smooth_min(bodice, _cone(f, 1.25, 0.95, (0.124, 0.14)), 0.04)
        skirt = _skirt(f, 0.009, 1.0, 0.50, (0.15, 0.20))
    return _smooth_min(bodice, skirt, 0.03)


_SHOES = {
    # kind: thickness, top of the shoe
    "sneaker": (0.011, 0.075),
    "boot": (0.009, 0.21),
    "flat": (0.005, 0.045),
}


def _shoe_field(f: _GridFields, kind: str) -> _Values:
    thickness, top = _SHOES[kind]
    upper = np.maximum(f.limbs("leg") - thickness, f.below(f.an.y(top)))
    return np.maximum(upper, -f.y)


def _sole_field(f: _GridFields) -> _Values:
    sole = np.maximum(f.limbs("leg") - 0.0145, f.below(0.024))
    return np.maximum(sole, -f.y)


def _hair_field(f: _GridFields) -> _Values:
    an = f.an
    style = an.body.hair_style
    cranium = _Ellipsoid(an.marks["cranium"], np.array([an.r(0.071), an.y(0.095), an.r(0.092)]))
    skull = cranium.distance(f.x, f.y, f.z)
    # The hairline: a plane from above the forehead to the nape. The hair thins towards it so
    # that its edge does not look like the rim of a helmet.
    front = an.p(0, 1.714, 0.060)
    nape = an.p(0, 1.560, -0.084)
    rise = _unit(front - nape)
    normal = np.array([0.0, rise[2], -rise[1]])
    above_line = f.along(nape, normal)
    feather = np.clip(above_line / (0.03 * an.s), 0.6, 1.0)
    if style == "curls":
        puff = _Ellipsoid(an.p(0, 1.676, -0.030), np.array([an.r(0.124), an.y(0.115), an.r(0.128)]))
        # Tight curls: two tilted lattices of bumps, so no row of them lines up.
        u = f.x * 0.8 + f.z * 0.6
        v = f.z * 0.8 - f.x * 0.6
        ripple = 0.0028 * (
            np.sin(150.0 * u + 1.3) * np.sin(141.0 * f.y + 0.4) * np.sin(157.0 * v + 2.1)
        ) + 0.0022 * (
            np.sin(97.0 * f.x + 0.2) * np.sin(103.0 * (f.y + 0.5 * f.z)) * np.sin(91.0 * f.z)
        )
        shell = np.maximum(puff.distance(f.x, f.y, f.z) + ripple, -above_line)
        cap = np.maximum(skull - 0.008 * feather + 0.6 * ripple, -above_line)
        shell = _smooth_min(shell, cap, 0.01)
        return np.maximum(shell, f.above(an.y(1.575)))
    base = _smooth_max(skull - 0.012 * feather, -above_line, 0.008)
    if style == "bun":
        knot = _Ellipsoid(an.p(0, 1.700, -0.104), np.array([an.r(0.043)] * 3))
        return _smooth_min(base, knot.distance(f.x, f.y, f.z), 0.015)
    if style == "bob":
        outer = _Ellipsoid(
            an.p(0, 1.630, -0.016), np.array([an.r(0.094), an.y(0.122), an.r(0.108)])
        )
        face = np.maximum(an.r(0.036) - f.z, f.y - an.y(1.69))
        shell = np.maximum(np.maximum(outer.distance(f.x, f.y, f.z), -face), f.above(an.y(1.535)))
        return _smooth_min(shell, base, 0.01)
    # long: hair falls behind the shoulders to the shoulder blades and frames the face
    curtain = _RoundCone(an.p(0, 1.64, -0.040), an.p(0, 1.31, -0.080), an.r(0.090), an.r(0.088))
    flat_z = (f.z + np.float32(0.06 * an.w)) * np.float32(1.8) - np.float32(0.06 * an.w)
    fall = np.maximum(curtain.distance(f.x, f.y, flat_z), f.z - np.float32(an.r(0.016)))
    return _smooth_min(base, fall, 0.02)


# --------------------------------------------------------------------------------------------
# Meshing


@dataclass
class _Mesh:
    points: np.ndarray
    faces: np.ndarray
    normals: np.ndarray

    @classmethod
    def empty(cls) -> _Mesh:
        return cls(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), np.zeros((0, 3)))

    def keep(self, face_mask: np.ndarray) -> _Mesh:
        faces = self.faces[face_mask]
        used = np.unique(faces)
        remap = np.full(len(self.points), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return _Mesh(self.points[used], remap[faces], self.normals[used])

    @staticmethod
    def join(meshes: list[_Mesh]) -> _Mesh:
        meshes = [m for m in meshes if len(m.faces)]
        if not meshes:
            return _Mesh.empty()
        offsets = np.cumsum([0] + [len(m.points) for m in meshes[:-1]])
        return _Mesh(
            np.concatenate([m.points for m in meshes]),
            np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=True)]),
            np.concatenate([m.normals for m in meshes]),
        )


def _contour(values: np.ndarray, grid: _Grid) -> _Mesh:
    # VTK's own modules rather than pyvista: they import in a fraction of the time, which
    # matters to a worker process that only sculpts.
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D

    if not np.any(values < 0.0):
        return _Mesh.empty()
    image = vtkImageData()
    image.SetDimensions(*grid.shape)
    image.SetSpacing(grid.spacing, grid.spacing, grid.spacing)
    image.SetOrigin(*(float(v) for v in grid.lo))
    scalars = numpy_to_vtk(np.ascontiguousarray(np.ravel(values, order="F"), np.float32))
    scalars.SetName("distance")
    image.GetPointData().SetScalars(scalars)
    contour = vtkFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, 0.0)
    contour.ComputeNormalsOn()
    contour.ComputeGradientsOff()
    contour.ComputeScalarsOff()
    contour.Update()
    surface = contour.GetOutput()
    if surface.GetNumberOfCells() == 0:
        return _Mesh.empty()
    points = vtk_to_numpy(surface.GetPoints().GetData()).astype(np.float64)
    faces = vtk_to_numpy(surface.GetPolys().GetConnectivityArray()).astype(np.int64)
    faces = faces.reshape(-1, 3)
    # Flying edges' normals point down the gradient, into the solid; glTF wants them out.
    normals = -vtk_to_numpy(surface.GetPointData().GetNormals()).astype(np.float64)
    a, b, c = points[faces[:, 0]], points[faces[:, 1]], points[faces[:, 2]]
    winding = np.einsum("ij,ij->i", np.cross(b - a, c - a), normals[faces].sum(axis=1))
    if np.sum(winding) < 0:
        faces = faces[:, ::-1].copy()
    return _Mesh(points, faces, normals)


def _decimate(mesh: _Mesh, reduction: float) -> _Mesh:
    """Drop about ``reduction`` of the triangles where the surface is flattest.

    Open edges (the seams between grids) stay where they are, and the surviving vertices keep
    their normals from the field's gradient.
    """
    from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
    from vtkmodules.vtkFiltersCore import vtkDecimatePro

    polydata = vtkPolyData()
    points = vtkPoints()
    points.SetData(numpy_to_vtk(np.ascontiguousarray(mesh.points, dtype=np.float64), deep=True))
    polydata.SetPoints(points)
    offsets = np.arange(0, 3 * len(mesh.faces) + 1, 3, dtype=np.int64)
    cells = vtkCellArray()
    cells.SetData(
        numpy_to_vtkIdTypeArray(offsets, deep=True),
        numpy_to_vtkIdTypeArray(np.ascontiguousarray(mesh.faces.ravel(), np.int64), deep=True),
    )
    polydata.SetPolys(cells)
    normals = numpy_to_vtk(np.ascontiguousarray(mesh.normals, dtype=np.float64), deep=True)
    normals.SetName("Normals")
    polydata.GetPointData().SetNormals(normals)
    decimate = vtkDecimatePro()
    decimate.SetInputData(polydata)
    decimate.SetTargetReduction(reduction)
    decimate.PreserveTopologyOn()
    decimate.SplittingOff()
    decimate.BoundaryVertexDeletionOff()
    decimate.Update()
    out = decimate.GetOutput()
    faces = vtk_to_numpy(out.GetPolys().GetConnectivityArray()).astype(np.int64).reshape(-1, 3)
    kept_normals = vtk_to_numpy(out.GetPointData().GetNormals()).astype(np.float64)
    kept_normals /= np.maximum(np.linalg.norm(kept_normals, axis=1, keepdims=True), 1e-12)
    return _Mesh(vtk_to_numpy(out.GetPoints().GetData()).astype(np.float64), faces, kept_normals)


# --------------------------------------------------------------------------------------------
# Fabric textures


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _mix(c1: RGB, c2: RGB, t: np.ndarray) -> np.ndarray:
    a, b = np.array(c1) * 255.0, np.array(c2) * 255.0
    return a + (b - a) * t[..., None]


def fabric_texture(pattern: str, color: RGB, accent: RGB) -> tuple[bytes, float]:
    """A seamless swatch as PNG bytes and the width in metres one repeat covers."""
    rng = np.random.default_rng(_stable_seed(pattern, color, accent))
    if pattern == "denim":
        n = 128
        i, j = np.mgrid[0:n, 0:n]
        twill = 0.5 + 0.5 * np.cos(2.0 * math.pi * (i + j) / 4.0)  # the diagonal of a twill
        mottle = _periodic_noise(rng, (n, n), 6.0)
        slub = _periodic_noise(rng, (1, n), 10.0)  # uneven yarn: faint vertical streaks
        shade = 0.5 + 0.07 * twill + 0.12 * mottle + 0.07 * slub
        light = tuple(min(1.0, c * 1.8 + 0.10) for c in color)
        return _png(_mix(color, light, np.clip(shade - 0.4, 0.0, 1.0))), 0.12
    if pattern == "stripes":
        n = 64
        v = (np.arange(n) + 0.5) / n
        band = np.clip((np.abs(v - 0.5) - 0.2) * n / 2.0, 0.0, 1.0)  # 40% accent, soft edges
        t = np.repeat(band[:, None], n, axis=1)
        return _png(_mix(color, accent, t)), 0.026
    if pattern == "gingham":
        n = 64
        ramp = np.clip((np.abs((np.arange(n) + 0.5) / n - 0.5) - 0.25) * n / 2.0, 0.0, 1.0)
        cover = (1.0 - ramp[:, None]) * 0.5 + (1.0 - ramp[None, :]) * 0.5
        return _png(_mix(accent, color, cover)), 0.024
    if pattern == "rib":
        n = 64
        u = (np.arange(n) + 0.5) / n
        ridge = 0.5 + 0.5 * np.cos(u * 2.0 * math.pi * 4.0)
        rows = 0.5 + 0.5 * np.cos((np.arange(n) + 0.5) / n * 2.0 * math.pi * 8.0)
        shade = 0.82 + 0.14 * ridge[None, :] + 0.04 * rows[:, None]
        return _png(np.array(color)[None, None, :] * 255.0 * shade[..., None]), 0.024
    raise ValueError(f"unknown pattern {pattern!r}; choose from {', '.join(PATTERNS)}")


def _periodic_noise(rng: np.random.Generator, shape: tuple[int, int], cycles: float) -> np.ndarray:
    """Smooth noise in -1..1 that tiles: white noise low-passed in the Fourier domain."""
    white = rng.normal(0.0, 1.0, shape)
    fy = np.fft.fftfreq(shape[0])[:, None] * shape[0]
    fx = np.fft.fftfreq(shape[1])[None, :] * shape[1]
    smooth = np.real(np.fft.ifft2(np.fft.fft2(white) * np.exp(-(fx**2 + fy**2) / cycles**2)))
    return smooth / max(float(np.abs(smooth).max()), 1e-9)


def _stable_seed(*values: object) -> int:
    # Python's hash() of a string changes per process; a fixed digest keeps the demo's bytes
    # the same on every run.
    return int.from_bytes(hashlib.sha256(repr(values).encode()).digest()[:4], "little")


# --------------------------------------------------------------------------------------------
# Texture coordinates: each face is wrapped around the limb it belongs to


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((points - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def _limb_axes(an: _Anatomy, *, legs: bool) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(bottom, top, typical radius) of the torso, both arms and, with ``legs``, both legs.

    Without legs the torso's axis runs down to the floor: skirts and coat tails hang around
    the body, not around each leg.
    """
    m = an.marks
    bottom = 0.80 if legs else 0.0
    axes = [(an.p(0, bottom, -0.005), an.p(0, 1.45, -0.005), an.r(0.13))]
    for side in ("l", "r"):
        axes.append((m[f"wrist_{side}"], m[f"shoulder_{side}"], an.r(0.045)))
    if legs:
        for side in ("l", "r"):
            axes.append((m[f"ankle_{side}"], m[f"hip_{side}"], an.r(0.075)))
    return axes


def _wrap_uvs(mesh: _Mesh, an: _Anatomy, tile: float, *, legs: bool) -> tuple[_Mesh, np.ndarray]:
    """Cylindrical texture coordinates around each face's limb, with seams split.

    A face whose corners straddle two limbs or the back seam of a cylinder would smear the
    whole swatch across itself, so such corners get their own copies of the vertex.
    """
    axes = _limb_axes(an, legs=legs)
    centroids = mesh.points[mesh.faces].mean(axis=1)
    scores = np.column_stack([_segment_distance(centroids, a, b) - radius for a, b, radius in axes])
    labels = np.argmin(scores, axis=1)

    corner_vertex = mesh.faces.ravel()
    corner_label = np.repeat(labels, 3)
    keys, inverse = np.unique(corner_vertex * 8 + corner_label, return_inverse=True)
    vertex, vertex_label = keys // 8, keys % 8
    points, normals = mesh.points[vertex], mesh.normals[vertex]
    faces = inverse.reshape(-1, 3)

    uvs = np.zeros((len(points), 2))
    periods = np.zeros(len(axes))
    for label, (bottom, top, _radius) in enumerate(axes):
        chosen = vertex_label == label
        if not np.any(chosen):
            continue
        axis = _unit(top - bottom)
        forward = _unit(np.array([0.0, 0.0, 1.0]) - axis * axis[2])
        side = np.cross(axis, forward)
        rel = points[chosen] - bottom
        height = rel @ axis
        radial = rel - height[:, None] * axis
        radius = float(np.median(np.linalg.norm(radial, axis=1)))
        # Whole repeats around the limb, so the swatch meets itself at the back seam.
        period = max(1, round(2.0 * math.pi * radius / tile))
        theta = np.arctan2(radial @ side, radial @ forward)
        uvs[chosen, 0] = (theta / (2.0 * math.pi) + 0.5) * period
        uvs[chosen, 1] = -height / tile
        periods[label] = period

    face_period = periods[labels]
    u = uvs[faces, 0]
    wraps = (u.max(axis=1) - u.min(axis=1)) > face_period / 2.0
    low = wraps[:, None] & (u < (u.max(axis=1, keepdims=True) - face_period[:, None] / 2.0))
    if np.any(low):
        copies, where = np.unique(faces[low], return_inverse=True)
        new_index = len(points) + np.arange(len(copies))
        shift = np.zeros(len(copies))
        np.maximum.at(shift, where, np.broadcast_to(face_period[:, None], low.shape)[low])
        extra_uv = uvs[copies].copy()
        extra_uv[:, 0] += shift
        faces = faces.copy()
        faces[low] = new_index[where]
        points = np.concatenate([points, points[copies]])
        normals = np.concatenate([normals, normals[copies]])
        uvs = np.concatenate([uvs, extra_uv])
    return _Mesh(points, faces, normals), uvs


# --------------------------------------------------------------------------------------------
# Sunglasses are not sculpted: thin temples need finer geometry than any grid here.


def _ellipsoid_mesh(
    centre: np.ndarray, radii: np.ndarray, frame: np.ndarray, rings: int = 18, segments: int = 36
) -> _Mesh:
    """A UV-sphere scaled to ``radii`` along the columns of ``frame``."""
    theta = np.linspace(0.0, math.pi, rings + 1)[1:-1]
    phi = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1)
    unit = np.concatenate([[[0.0, 0.0, 1.0]], unit.reshape(-1, 3), [[0.0, 0.0, -1.0]]])
    points = centre + (unit * radii) @ frame.T
    normals = (unit / radii) @ frame.T
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    faces = []
    last = len(points) - 1
    for j in range(segments):
        k = (j + 1) % segments
        faces.append((0, 1 + j, 1 + k))
        faces.append((last, last - segments + k, last - segments + j))
    for i in range(rings - 3):
        row, nxt = 1 + i * segments, 1 + (i + 1) * segments
        for j in range(segments):
            k = (j + 1) % segments
            faces.append((row + j, nxt + j, nxt + k))
            faces.append((row + j, nxt + k, row + k))
    return _Mesh(points, np.array(faces, dtype=np.int64), normals)


def _tube_mesh(a: np.ndarray, b: np.ndarray, radius: float, sides: int = 10) -> _Mesh:
    """A capped cylinder from ``a`` to ``b``; the caps have their own flat-shaded vertices."""
    axis = _unit(b - a)
    helper = np.array([0.0, 1.0, 0.0]) if abs(axis[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = _unit(np.cross(axis, helper))
    v = np.cross(axis, u)
    angles = np.linspace(0.0, 2.0 * math.pi, sides, endpoint=False)
    ring = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v
    side_points = np.concatenate([a + radius * ring, b + radius * ring])
    side_normals = np.concatenate([ring, ring])
    cap_points = np.concatenate([[a], a + radius * ring, [b], b + radius * ring])
    cap_normals = np.concatenate([np.tile(-axis, (sides + 1, 1)), np.tile(axis, (sides + 1, 1))])
    faces = []
    n = len(side_points)
    for j in range(sides):
        k = (j + 1) % sides
        faces.append((j, k, sides + k))
        faces.append((j, sides + k, sides + j))
        faces.append((n, n + 1 + k, n + 1 + j))  # cap at a, facing -axis
        top = n + sides + 1
        faces.append((top, top + 1 + j, top + 1 + k))  # cap at b, facing +axis
    points = np.concatenate([side_points, cap_points])
    normals = np.concatenate([side_normals, cap_normals])
    return _Mesh(points, np.array(faces, dtype=np.int64), normals)


def _sunglasses(an: _Anatomy) -> _Mesh:
    # Not sculpted: the temples are thinner than any grid here could resolve.
    pieces = []
    for sx in (1.0, -1.0):
        wrap = math.radians(-sx * 10.0)  # the lenses follow the curve of the face
        frame = np.array(
            [
                [math.cos(wrap), 0.0, math.sin(wrap)],
                [0.0, 1.0, 0.0],
                [-math.sin(wrap), 0.0, math.cos(wrap)],
            ]
        )
        radii = np.array([an.r(0.028), an.y(0.021), an.r(0.006)])
        pieces.append(_ellipsoid_mesh(an.p(sx * 0.032, 1.637, 0.104), radii, frame))
        pieces.append(
            _tube_mesh(
                an.p(sx * 0.058, 1.645, 0.098), an.p(sx * 0.080, 1.640, -0.020), an.r(0.0024)
            )
        )
    pieces.append(_tube_mesh(an.p(-0.010, 1.648, 0.106), an.p(0.010, 1.648, 0.106), an.r(0.0028)))
    return _Mesh.join(pieces)


# --------------------------------------------------------------------------------------------
# Putting a look together


@dataclass(frozen=True)
class _Material:
    color: RGB
    roughness: float
    metallic: float = 0.0
    pattern: str | None = None
    accent: RGB = (1.0, 1.0, 1.0)
    legs: bool = False  # wrap a pattern around each leg (trousers), not around the body


@dataclass(frozen=True)
class _PartPlan:
    name: str
    maker: Callable[[_GridFields], _Values]
    box: tuple[tuple[float, float, float], tuple[float, float, float]]  # reference units
    material: _Material


_WHOLE = ((-0.5, -0.05, -0.4), (0.5, 1.9, 0.4))
_UPPER = ((-0.5, 0.38, -0.4), (0.5, 1.66, 0.4))
_LOWER = ((-0.5, -0.05, -0.4), (0.5, 1.14, 0.4))
_FEET = ((-0.5, -0.05, -0.4), (0.5, 0.27, 0.4))
_HEAD = ((-0.24, 1.20, -0.28), (0.24, 1.90, 0.22))


def _body_plans(body: BodySpec) -> list[_PartPlan]:
    if body.hair_style not in HAIR_STYLES:
        raise ValueError(f"unknown hair style {body.hair_style!r}")
    return [
        _PartPlan("skin", _GridFields.body, _WHOLE, _Material(body.skin_color, 0.55)),
        _PartPlan("hair", _hair_field, _HEAD, _Material(body.hair_color, 0.5)),
    ]


def _outfit_plans(outfit: OutfitSpec) -> list[_PartPlan]:
    if outfit.shoes not in SHOE_KINDS:
        raise ValueError(f"unknown shoes {outfit.shoes!r}")

    def material(g: Garment, *, legs: bool = False) -> _Material:
        if g.pattern is not None and g.pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {g.pattern!r}")
        return _Material(g.color, g.roughness, g.metallic, g.pattern, g.accent, legs)

    plans: list[_PartPlan] = []
    if outfit.dress is not None:
        if outfit.top is not None or outfit.bottom is not None:
            raise ValueError("a look has a dress or a top and a bottom, not both")
        dress = outfit.dress.kind
        if dress not in DRESS_KINDS:
            raise ValueError(f"unknown dress {dress!r}")
        plans.append(
            _PartPlan("dress", lambda f: _dress_field(f, dress), _WHOLE, material(outfit.dress))
        )
    else:
        if outfit.top is None or outfit.bottom is None:
            raise ValueError("a look without a dress needs a top and a bottom")
        top, bottom = outfit.top.kind, outfit.bottom.kind
        if top not in _TOPS:
            raise ValueError(f"unknown top {top!r}")
        if bottom not in _BOTTOMS and bottom != "skirt":
            raise ValueError(f"unknown bottom {bottom!r}")
        plans.append(_PartPlan("top", lambda f: _top_field(f, top), _UPPER, material(outfit.top)))
        plans.append(
            _PartPlan(
                "bottom",
                lambda f: _bottom_field(f, bottom),
                _LOWER,
                material(outfit.bottom, legs=bottom != "skirt"),
            )
        )
        if top in ("jacket", "coat"):
            plans.append(_PartPlan("inner", _inner_field, _UPPER, _Material(outfit.inner, 0.8)))
    shoes = outfit.shoes
    plans.append(
        _PartPlan(
            "shoes",
            lambda f: _shoe_field(f, shoes),
            _FEET,
            _Material(outfit.shoe_color, 0.7 if shoes == "sneaker" else 0.4),
        )
    )
    if shoes == "sneaker":
        plans.append(_PartPlan("soles", _sole_field, _FEET, _Material((0.93, 0.92, 0.89), 0.8)))
    return plans


_SPACING = {"body": 0.012, "head": 0.0046, "hand": 0.0036}
_OVERLAP = 0.014  # fine meshes reach this far past their box so no crack shows at a seam
_HIDDEN_DEPTH = 0.002  # a face this far inside another part cannot be seen


def _inside(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.all((points >= lo) & (points <= hi), axis=1)


def _grids(an: _Anatomy) -> list[_Grid]:
    s, w = an.s, an.w
    boxes: list[tuple[str, np.ndarray, np.ndarray]] = [
        (
            "head",
            np.array([-0.175 * w, 1.505 * s, -0.20 * w]),
            np.array([0.175 * w, 1.80 * s, 0.175 * w]),
        ),
    ]
    for side in ("l", "r"):
        bounds = [step.shape.bounds() for step in an.groups[f"hand_{side}"]]
        lo = np.min([b[0] for b in bounds], axis=0) - 0.004
        hi = np.max([b[1] for b in bounds], axis=0) + 0.004
        hi[1] = an.marks[f"wrist_{side}"][1]
        boxes.append(("hand", lo, hi))

    def outside_fine(points: np.ndarray) -> np.ndarray:
        keep = np.ones(len(points), dtype=bool)
        for _name, lo, hi in boxes:
            keep &= ~_inside(points, lo, hi)
        return keep

    grids = [
        _Grid.covering(
            np.array([-0.42 * w, -0.02, -0.33 * w]),
            np.array([0.42 * w, 1.83 * s, 0.30 * w]),
            _SPACING["body"] * s,
            outside_fine,
        )
    ]
    for name, lo, hi in boxes:
        spacing = _SPACING[name] * s
        reach = _OVERLAP + 3 * spacing

        def owns(points: np.ndarray, lo: np.ndarray = lo, hi: np.ndarray = hi) -> np.ndarray:
            return _inside(points, lo - _OVERLAP, hi + _OVERLAP)

        grids.append(_Grid.covering(lo - reach, hi + reach, spacing, owns))
    return grids


def _srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def build_looks(body: BodySpec, outfits: list[OutfitSpec]) -> list[list[GltfPart]]:
    """Sculpt ``body`` once and dress it in each outfit; one list of parts per outfit.

    The body's fields, skin and hair are the costly half of a figure and the same in every
    look, so building a talent's looks together is much faster than one at a time.
    """
    an = _anatomy(body)
    body_plans = _body_plans(body)
    look_plans = [_outfit_plans(outfit) for outfit in outfits]
    collected: list[dict[str, list[_Mesh]]] = [
        {p.name: [] for p in body_plans + plans} for plans in look_plans
    ]

    def box(part: _PartPlan) -> tuple[np.ndarray, np.ndarray]:
        return an.p(*part.box[0]), an.p(*part.box[1])

    for grid in _grids(an):
        fields = _GridFields.sculpted(an, grid)
        shared: dict[str, tuple[np.ndarray, _Mesh, Callable[..., np.ndarray], np.ndarray]] = {}
        for part in body_plans:
            values = fields.within(*box(part), part.maker)
            if values is not None:
                mesh = _contour(values, grid)
                mesh = mesh.keep(grid.owns(mesh.points[mesh.faces].mean(axis=1)))
                if part.name == "hair" and len(mesh.faces) > _HAIR_BUDGET:
                    # Curls take many small triangles; thin them once here, not per look.
                    mesh = _decimate(mesh, 1.0 - _HAIR_BUDGET / len(mesh.faces))
                owned = np.ones(len(mesh.faces), dtype=bool)
                shared[part.name] = (values, mesh, grid.sampler(mesh.points), owned)
        for plans, meshes in zip(look_plans, collected, strict=True):
            parts = dict(shared)
            for part in plans:
                values = fields.within(*box(part), part.maker)
                if values is not None:
                    mesh = _contour(values, grid)
                    owned = grid.owns(mesh.points[mesh.faces].mean(axis=1))
                    parts[part.name] = (values, mesh, grid.sampler(mesh.points), owned)
            for name, (_values, mesh, sample, owned) in parts.items():
                if not len(mesh.faces):
                    continue
                keep = owned.copy()
                for other, (other_values, *_rest) in parts.items():
                    if other != name:
                        covered = sample(other_values) < -_HIDDEN_DEPTH
                        keep &= ~covered[mesh.faces].all(axis=1)
                meshes[name].append(mesh.keep(keep))
    return [
        _finish_parts(an, body_plans + plans, meshes, outfit)
        for plans, meshes, outfit in zip(look_plans, collected, outfits, strict=True)
    ]


def build_figure(body: BodySpec, outfit: OutfitSpec) -> list[GltfPart]:
    """Sculpt ``body`` wearing ``outfit`` and return its parts, ready for ``write_glb``."""
    return build_looks(body, [outfit])[0]


_TRIANGLE_BUDGET = 76_000  # per look; a floor-length gown would otherwise pass 90k
_HAIR_BUDGET = 13_000  # per grid
_SMALL_PART = 6_000  # parts below this many triangles are never thinned


def _fit_budget(meshes: dict[str, _Mesh]) -> None:
    """Thin the larger parts evenly until the look fits within the triangle budget."""
    total = sum(len(m.faces) for m in meshes.values())
    if total <= _TRIANGLE_BUDGET:
        return
    large = [name for name, m in meshes.items() if len(m.faces) > _SMALL_PART]
    large_total = sum(len(meshes[name].faces) for name in large)
    keep = (_TRIANGLE_BUDGET - (total - large_total)) / large_total
    for name in large:
        meshes[name] = _decimate(meshes[name], min(max(1.0 - keep, 0.0), 0.8))


def _finish_parts(
    an: _Anatomy, plan: list[_PartPlan], collected: dict[str, list[_Mesh]], outfit: OutfitSpec
) -> list[GltfPart]:
    meshes = {name: _Mesh.join(pieces) for name, pieces in collected.items()}
    _fit_budget(meshes)
    materials = {part.name: part.material for part in plan}
    if outfit.sunglasses:
        meshes["sunglasses"] = _sunglasses(an)
        materials["sunglasses"] = _Material((0.03, 0.03, 0.035), 0.12, 0.2)
    parts: list[GltfPart] = []
    for name, raw in meshes.items():
        if not len(raw.faces):
            continue
        mat = materials[name]
        mesh, uvs, texture = raw, None, None
        color = (*(_srgb_to_linear(c) for c in mat.color), 1.0)
        if mat.pattern is not None:
            texture, tile = fabric_texture(mat.pattern, mat.color, mat.accent)
            mesh, uvs = _wrap_uvs(raw, an, tile, legs=mat.legs)
            color = (1.0, 1.0, 1.0, 1.0)  # the swatch carries the colour
        parts.append(
            GltfPart(
                name=name,
                points=mesh.points.astype(np.float32),
                faces=mesh.faces.astype(np.uint32),
                normals=mesh.normals.astype(np.float32),
                uvs=None if uvs is None else uvs.astype(np.float32),
                base_color=color,  # type: ignore[arg-type]
                roughness=mat.roughness,
                metallic=mat.metallic,
                texture_png=texture,
            )
        )
    return parts
