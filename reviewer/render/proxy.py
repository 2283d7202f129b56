"""A light stand-in for a heavy avatar, drawn while the camera moves.

Software OpenGL draws about 10-15 million triangles a second on these machines, so a scan of
four million triangles turns at 2-3 frames a second; and it uploads about 10 ms of texture per
megapixel, so the first frame of a 4096² texture holds the GUI thread 0.2-0.3 s whatever the
mesh. While the camera moves the viewer shows a *proxy* instead:

- an avatar of more than :data:`PROXY_ABOVE_TRIANGLES` triangles is binned down to
  :data:`PROXY_TRIANGLES` triangles (with its normals and texture coordinates, so it looks the
  same in motion), its textures halved until neither side is larger than
  :data:`PROXY_TEXTURE_SIZE`; a triangle binning made across a seam of the texture atlas
  takes the figure's colour there instead of a smear of the atlas; a part drawn from both
  sides becomes one drawn one-sided plus the back faces that can be seen from outside, which
  looks the same and turns faster;
- a smaller avatar with a texture of more than :data:`PROXY_TEXTURE_SIZE`² pixels keeps its
  meshes (the very same objects) and gets only its textures halved that way.

At rest the full avatar is shown (see :mod:`reviewer.render.full_frame`).

:func:`prepare_for_display` is meant for a worker thread: it does all the work that would
otherwise stall the GUI (binning takes 0.15 s at 4 M triangles with ``vtkBinnedDecimation``,
which is threaded and 15 times faster than ``vtkQuadricClustering``; see
/work/shared/perf-notes.md). It builds no renderer state and is Qt-free.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reviewer.assets.stored_avatar import SUFFIX

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar, AvatarPart

PROXY_ABOVE_TRIANGLES = 500_000
"""Avatars with more triangles than this get a proxy: at half a million a full mesh already
turns at under 20 frames a second here."""
PROXY_TRIANGLES = 16_000
"""About how many triangles a proxy has. The viewer draws a moving camera's frames at reduced
resolution (about 566×354 for a 1280×800 view), where a standing figure is some 310 pixels
tall: a 15 k proxy looked the same as a 28 k one in motion frames of 640×400, and turned
about 10 % faster (at 1280×800 on llvmpipe, side by side on a 1 M-triangle figure drawn
two-sided: 32 and 29 frames a second; a 71 k proxy turned at about 20). Small triangles cost
per triangle, not per pixel, so a proxy drawn two-sided (a format that says nothing about
sides) paid for every back face; a proxy is now drawn one-sided with only the back faces that
can be seen from outside (:mod:`reviewer.render.back_faces`)."""
PROXY_TEXTURE_SIZE = 1024
"""A proxy's textures are halved until neither side is larger than this: in motion a figure
a few hundred pixels tall shows no more, and the GUI thread uploads 3 MB instead of 48 MB.

An avatar with a texture of more than this squared pixels gets a proxy even when its mesh is
small. Measured on llvmpipe (100 k triangles): the first frame with a new texture costs about
10 ms more than the next one for 1024², 40 ms more for 2048² and 170 ms more for 4096² (upload
and mipmaps), on top of the 60-100 ms a 1280×800 frame takes at rest."""
_SMALL_PART = 2_000  # parts this small are kept whole in a proxy
_PROXY_VERSION = 5
"""Part of a stored proxy's file name: raised when proxies are built differently, so that
those stored before are not read back (2: triangles turned to their normals; 3: two-sided
parts drawn one-sided with the back faces that can be seen; 4: triangles across a texture
seam given one colour; 5: the back faces that can be seen found by rasterising)."""


@dataclass(frozen=True, eq=False)
class DisplayAvatar:
    """An avatar ready to be shown: the avatar itself and, for a heavy one, its proxy.

    ``proxy`` holds one part per part of ``avatar``, in the same order, or is None when the
    avatar is light enough to be drawn whole while the camera moves (see
    :func:`needs_proxy`). A proxy of an avatar whose mesh is small but whose textures are big
    shares the avatar's meshes and has halved textures only. ``texture_data`` maps
    ``id()`` of each texture array (the avatar's and the proxy's) to the VTK image data made
    from it (see :func:`reviewer.render.scene.texture_data`), so the GUI thread does not copy
    64 MB of pixels.
    """

    avatar: Avatar
    proxy: tuple[AvatarPart, ...] | None = None
    proxy_seconds: float = 0.0
    texture_data: dict[int, Any] = field(default_factory=dict)

    @property
    def proxy_triangles(self) -> int:
        return 0 if self.proxy is None else sum(p.mesh.n_cells for p in self.proxy)


def needs_proxy(
    avatar: Avatar,
    *,
    proxy_above: int = PROXY_ABOVE_TRIANGLES,
    texture_size: int = PROXY_TEXTURE_SIZE,
) -> bool:
    """True when *avatar* is too heavy to draw whole on the GUI thread: more than
    *proxy_above* triangles, or a texture of more than *texture_size*² pixels."""
    return avatar.triangles > proxy_above or has_big_texture(avatar, texture_size)


def has_big_texture(avatar: Avatar, texture_size: int = PROXY_TEXTURE_SIZE) -> bool:
    """True when a texture *avatar* draws has more than *texture_size*² pixels."""
    return any(
        part.texture is not None
        and part.texture.shape[0] * part.texture.shape[1] > texture_size * texture_size
        for part in avatar.parts
    )


def prepare_for_display(
    avatar: Avatar,
    *,
    proxy_above: int = PROXY_ABOVE_TRIANGLES,
    proxy_triangles: int = PROXY_TRIANGLES,
    texture_size: int = PROXY_TEXTURE_SIZE,
) -> DisplayAvatar:
    """Build what showing *avatar* needs beyond the avatar itself: its proxy, if it has more
    than *proxy_above* triangles (binned to about *proxy_triangles*) or a texture of more
    than *texture_size*² pixels (same meshes), with textures halved to *texture_size*.

    Call it on a worker thread, right after loading.
    """
    proxy = None
    seconds = 0.0
    if needs_proxy(avatar, proxy_above=proxy_above, texture_size=texture_size):
        started = time.perf_counter()
        proxy = _stored_or_built_proxy(
            avatar,
            proxy_triangles,
            decimate=avatar.triangles > proxy_above,
            texture_size=texture_size,
        )
        seconds = time.perf_counter() - started
    return DisplayAvatar(avatar, proxy, seconds, textures_for_vtk((*avatar.parts, *(proxy or ()))))


def with_proxy(
    display: DisplayAvatar,
    *,
    proxy_triangles: int = PROXY_TRIANGLES,
    decimate: bool = True,
    texture_size: int = PROXY_TEXTURE_SIZE,
) -> DisplayAvatar:
    """*display* with a proxy of its avatar (and the proxy's textures prepared for VTK).

    For a viewer that shows a heavy avatar at full detail first and builds its proxy
    afterwards, on a worker thread: the proxy is only needed once the camera moves. Without
    *decimate* the proxy keeps the avatar's meshes and only has its textures halved.
    """
    started = time.perf_counter()
    proxy = _stored_or_built_proxy(
        display.avatar, proxy_triangles, decimate=decimate, texture_size=texture_size
    )
    seconds = time.perf_counter() - started
    prepared = textures_for_vtk(proxy, made=display.texture_data)
    return DisplayAvatar(display.avatar, proxy, seconds, prepared)


def textures_for_vtk(
    parts: tuple[AvatarPart, ...], *, made: dict[int, Any] | None = None
) -> dict[int, Any]:
    """VTK's image data for each texture of *parts*, by ``id()`` of the texture array (see
    :attr:`DisplayAvatar.texture_data`), added to a copy of those *made* already. Each image
    once, however many parts share it; a view, not a copy, when the array is a reversed view
    of a bottom-row-first one (as a stored avatar's are)."""
    from reviewer.render.scene import texture_data

    prepared = dict(made or {})
    for part in parts:
        if part.texture is not None and id(part.texture) not in prepared:
            prepared[id(part.texture)] = texture_data(part.texture)
    return prepared


def stored_proxy_path(avatar: Avatar, triangles: int, texture_size: int) -> Path | None:
    """Where the proxy of a stored avatar (see :mod:`reviewer.assets.stored_avatar`) is kept,
    beside the avatar's stored file; None for an avatar that was not read from one."""
    if avatar.stored is None:
        return None
    return avatar.stored.with_name(
        f"{_proxy_prefix(avatar.stored)}{_PROXY_VERSION}-{triangles}-{texture_size}{SUFFIX}"
    )


def _proxy_prefix(stored: Path) -> str:
    """How the names of the proxies kept beside the stored avatar *stored* begin, whatever
    their version."""
    return f"{stored.name.removesuffix(SUFFIX)}.proxy"


def _stored_or_built_proxy(
    avatar: Avatar, triangles: int, *, decimate: bool, texture_size: int
) -> tuple[AvatarPart, ...]:
    """The proxy :func:`build_proxy` makes, read from where the last one was stored if the
    avatar is a stored one (binning 4 M triangles and halving a 4096² texture take ~0.3 s of
    a core while the render process draws the first full frame; reading it ~5 ms), stored
    there otherwise. A proxy that keeps the avatar's meshes is not stored: it is only its
    textures halved, and sharing the meshes saves their memory."""
    from reviewer.assets.meshes import Avatar
    from reviewer.assets.stored_avatar import StoredAvatarError, read_stored, write_stored

    store = stored_proxy_path(avatar, triangles, texture_size) if decimate else None
    if store is None or avatar.stored is None:
        return build_proxy(avatar, triangles, decimate=decimate, texture_size=texture_size)
    try:
        # Made from the avatar's stored file as it is now (it is made again when its
        # original changes), with the same parts in the same order.
        stored = read_stored(store, originals=[avatar.stored])
        if len(stored.parts) == len(avatar.parts):
            return stored.parts
    except (OSError, StoredAvatarError):
        pass  # none yet, or not usable: build it again
    proxy = build_proxy(avatar, triangles, decimate=decimate, texture_size=texture_size)
    _remove_older_proxies(avatar.stored)
    with contextlib.suppress(OSError):
        write_stored(
            Avatar(
                parts=proxy,
                up_axis=avatar.up_axis,
                upright_transform=avatar.upright_transform,
                units=avatar.units,
                format=avatar.format,
            ),
            store,
            originals=[avatar.stored],
        )
    return proxy


def _remove_older_proxies(stored: Path) -> None:
    """Remove the proxies kept beside the stored avatar *stored* by an older way of building
    them (they are never read again). Proxies of the current version with other sizes stay."""
    prefix = _proxy_prefix(stored)
    current = f"{prefix}{_PROXY_VERSION}-"
    for sibling in stored.parent.glob(f"{glob_escape(prefix)}*{SUFFIX}"):
        if not sibling.name.startswith(current):
            with contextlib.suppress(OSError):
                sibling.unlink()


def build_proxy(
    avatar: Avatar,
    triangles: int = PROXY_TRIANGLES,
    *,
    decimate: bool = True,
    texture_size: int = PROXY_TEXTURE_SIZE,
) -> tuple[AvatarPart, ...]:
    """One binned-down part per part of *avatar*, about *triangles* triangles in all, with its
    texture halved to at most *texture_size* pixels a side.

    Every part is binned on the same grid of cubic bins, so neighbouring parts (a sleeve and
    an arm) keep meeting where they met. A part already smaller than its share is kept, and
    without *decimate* every part is (the proxy then differs from the avatar in its textures
    only).
    """

    total = max(avatar.triangles, 1)
    x0, x1, y0, y1, z0, z1 = avatar.bounds
    largest = max(x1 - x0, y1 - y0, z1 - z0, 1e-9)
    # Binning a surface leaves about 10 triangles per 1/N of its size squared (measured on
    # body scans); one more pass corrects the guess when it is far out.
    divisions = max(8.0, math.sqrt(triangles / 10.0))
    images: dict[int, np.ndarray] = {}
    parts: list[AvatarPart] = []
    binned: list[bool] = []
    for part in avatar.parts:
        share = triangles * part.mesh.n_cells / total
        binned.append(decimate and part.mesh.n_cells > max(share * 1.5, _SMALL_PART))
        if not binned[-1]:
            mesh = part.mesh
        else:
            mesh = _binned(part.mesh, largest / divisions, avatar.bounds)
            if not 0.5 * share <= mesh.n_cells <= 1.6 * share and mesh.n_cells:
                corrected = divisions * math.sqrt(share / mesh.n_cells)
                mesh = _binned(part.mesh, largest / corrected, avatar.bounds)
            mesh = _mended_at_seams(mesh, part.mesh)
        texture = part.texture
        if texture is not None:
            key = id(texture)
            if key not in images:
                images[key] = halved_to(texture, texture_size)
            texture = images[key]
        parts.append(dataclasses.replace(part, mesh=mesh, texture=texture))
    return _culling_hidden_backs(parts, binned)


def _culling_hidden_backs(parts: list[AvatarPart], binned: list[bool]) -> tuple[AvatarPart, ...]:
    """*parts* with each binned part drawn two-sided turned into one drawn one-sided, plus
    the back faces that can be seen from outside (:mod:`reviewer.render.back_faces`).

    Drawing the back faces a body hides behind its own front cost a tenth of the frame rate
    of a two-sided proxy; parts kept whole are small and stay as they are (they and every
    other part still hide what is behind them).
    """
    from reviewer.render.back_faces import one_sided_with_backs, visible_backs

    if not any(b and p.double_sided for p, b in zip(parts, binned, strict=True)):
        return tuple(parts)
    backs = visible_backs([part.mesh for part in parts])
    return tuple(
        dataclasses.replace(part, mesh=one_sided_with_backs(part.mesh, flags), double_sided=False)
        # A part whose every back shows (a single sheet) stays two-sided: the same picture
        # without copies of all its points.
        if was_binned and part.double_sided and not flags.all()
        else part
        for part, was_binned, flags in zip(parts, binned, backs, strict=True)
    )


def _turn_to_their_normals(mesh: Any) -> None:
    """Turn over the triangles of a binned *mesh* whose winding disagrees with their points'
    normals.

    Binning a figure whose layers lie closer than a bin (a garment over a body, in one mesh)
    merges points of both layers into one, and some triangles come out facing inwards while
    their points' normals face out. Drawn from both sides they were lit from behind (dark
    specks in motion); drawn one-sided they were holes. In a consistent mesh none disagree, so
    nothing changes.
    """
    if "Normals" not in mesh.point_data or mesh.n_cells == 0:
        return
    faces = np.asarray(mesh.regular_faces)
    points = np.asarray(mesh.points, dtype=np.float64)
    normals = np.asarray(mesh.point_data["Normals"], dtype=np.float64)
    first, second, third = (points[faces[:, i]] for i in range(3))
    facing = np.cross(second - first, third - first)
    pointing = normals[faces].sum(axis=1)
    against = np.einsum("ij,ij->i", facing, pointing) < 0
    if against.any():
        faces = faces.copy()
        faces[against] = faces[against][:, [0, 2, 1]]
        mesh.regular_faces = faces


_TORN = 6.0
"""A proxy triangle whose texture coordinates spread this many times more per metre than
those of its neighbours straddles a seam of the texture atlas."""


def _mended_at_seams(binned: Any, original: Any) -> Any:
    """*binned* with each triangle that straddles a texture seam given one colour instead of
    a smear across the atlas.

    Where a texture atlas has a seam, the two sides of the surface take coordinates far apart
    in the image. Binning merges the points of both sides into one per bin, so a proxy
    triangle across a seam gets corners from both and its texture is drawn from everything in
    between: specks and streaks along every seam while the camera moves, which the full
    figure at rest does not have. Such a triangle is found by its coordinates spreading far
    more per metre than at each of its corners' other triangles (so a region the atlas gives
    more pixels, such as a face, is not mistaken for one); it gets corners of its own, all
    with the coordinates of the *original* point nearest its centre: the colour the figure
    has there.
    """
    name = binned.point_data.active_texture_coordinates_name
    source = original.point_data.active_texture_coordinates_name
    if name is None or source is None or binned.n_cells == 0:
        return binned
    from reviewer.render.back_faces import longest_edges, with_point_copies

    faces = np.asarray(binned.regular_faces, dtype=np.int64)
    points = np.asarray(binned.points, dtype=np.float64)
    coordinates = np.asarray(binned.point_data[name], dtype=np.float64)
    across = longest_edges(points[faces])
    stretch = longest_edges(coordinates[faces]) / np.maximum(across, 1e-12)
    # Per point, the least stretch of the triangles around it; per triangle, the most of
    # those at its corners: what the surface around it has.
    least = np.full(len(points), np.inf)
    np.minimum.at(least, faces.ravel(), np.repeat(stretch, 3))
    usual = least[faces].max(axis=1)
    torn = stretch > _TORN * np.maximum(usual, 1e-12)
    if not torn.any():
        return binned
    from vtkmodules.vtkCommonDataModel import vtkStaticPointLocator

    locator = vtkStaticPointLocator()
    locator.SetDataSet(original)
    locator.BuildLocator()
    source_coordinates = np.asarray(original.point_data[source])
    centres = points[faces[torn]].mean(axis=1)
    nearest = np.array([locator.FindClosestPoint(centre) for centre in centres], dtype=np.int64)
    corners = faces[torn].ravel()
    mended_faces = faces.copy()
    mended_faces[torn] = np.arange(len(points), len(points) + len(corners)).reshape(-1, 3)
    mended = with_point_copies(binned, corners, mended_faces)
    mended.point_data[name][len(points) :] = np.repeat(
        source_coordinates[nearest], 3, axis=0
    ).astype(mended.point_data[name].dtype)
    return mended


def halved_to(image: np.ndarray, size: int) -> np.ndarray:
    """*image* averaged down by 2×2 blocks until neither side is larger than *size*."""
    from PIL import Image

    factor = 1
    while (
        max(image.shape[0], image.shape[1]) > size * factor and min(image.shape[:2]) >= 2 * factor
    ):
        factor *= 2
    if factor == 1:
        return image
    # Pillow's box reduction is one C pass (about 20 ms for 4096²; numpy takes 40 times longer).
    return np.asarray(Image.fromarray(image).reduce(factor))


def _binned(mesh: object, spacing: float, bounds: tuple[float, ...]) -> object:
    import pyvista as pv
    from vtkmodules.vtkFiltersCore import vtkBinnedDecimation

    spacing = max(spacing, 1e-9)
    counts = [
        max(1, math.ceil((bounds[2 * i + 1] - bounds[2 * i]) / spacing) + 1) for i in range(3)
    ]
    binning = vtkBinnedDecimation()
    binning.SetInputData(mesh)
    binning.SetAutoAdjustNumberOfDivisions(False)
    binning.SetDivisionOrigin(
        bounds[0] - spacing / 2, bounds[2] - spacing / 2, bounds[4] - spacing / 2
    )
    binning.SetDivisionSpacing(spacing, spacing, spacing)
    binning.SetNumberOfDivisions(*counts)
    # One input point stands for each bin, with its normal and texture coordinates.
    binning.SetPointGenerationModeToBinPoints()
    binning.SetProducePointData(True)
    binning.Update()
    output = pv.wrap(binning.GetOutput())
    output.point_data.active_normals_name = "Normals" if "Normals" in output.point_data else None
    _turn_to_their_normals(output)
    if "TextureCoordinates" in output.point_data:
        output.point_data.active_texture_coordinates_name = "TextureCoordinates"
    output.GetPointData().SetActiveScalars(None)
    return output


__all__ = [
    "PROXY_ABOVE_TRIANGLES",
    "PROXY_TEXTURE_SIZE",
    "PROXY_TRIANGLES",
    "DisplayAvatar",
    "build_proxy",
    "halved_to",
    "has_big_texture",
    "needs_proxy",
    "prepare_for_display",
    "stored_proxy_path",
    "textures_for_vtk",
    "with_proxy",
]
