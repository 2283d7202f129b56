"""Qt-free scene building for any plotter: the ``pyvistaqt.QtInteractor`` that
``reviewer.ui.avatar_viewer`` owns, an off-screen ``pyvista.Plotter``, or the bare
:class:`reviewer.render.offscreen.OffscreenView` of the render process.

The scene is made of plain VTK objects (actors, properties, textures, lights), so building it
never needs ``pyvista.plotting`` (half a second to import, for ``matplotlib``); of the plotter
it asks only for ``renderer``, ``render_window``, ``window_size``, ``actors`` (name to actor),
``add_actor(actor, name=, reset_camera=, render=)``, ``remove_actor(name, reset_camera=,
render=)``, ``set_background(bottom, top=)``, ``disable_anti_aliasing()``,
``remove_all_lights()``, ``add_light(light)`` and ``reset_camera(render=)``: what pyvista's
plotters have and :class:`~reviewer.render.offscreen.OffscreenView` imitates.

The look aims at a calm studio: a dark neutral gradient, the figure lit by three soft lights
that follow the camera (so turning the figure never leaves its face in the dark), a floor disc
that fades into the background with a contact shadow under the feet, and the figure's height
in a corner. Anti-aliasing is off: on software OpenGL (llvmpipe) MSAA makes every frame about
three times slower (see /work/shared/perf-notes.md).

Nothing here renders: callers decide when to draw (the Qt viewer runs with
``auto_update=False``; an off-screen screenshot renders by itself).

Big avatars come with a proxy (:mod:`reviewer.render.proxy`): :func:`show_avatar` puts both in
the scene and :func:`set_detail` shows one or the other. Meshes are drawn with a plain
``vtkPolyDataMapper`` marked static, straight from the loaded arrays: no copy, no normals
recomputed, no shift-and-scale pass over the points (float32 body coordinates in metres do
not need it), so the first frame costs only the upload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from reviewer.assets.meshes import union_bounds

if TYPE_CHECKING:
    import pyvista as pv
    from vtkmodules.vtkRenderingCore import vtkTexture

    from reviewer.assets.meshes import Avatar, AvatarPart
    from reviewer.render.proxy import DisplayAvatar

RenderMode = Literal["textured", "solid", "wireframe"]
LightingPreset = Literal["studio", "soft", "rim"]
ViewName = Literal["front", "back", "left", "right", "three_quarter"]
Detail = Literal["full", "proxy"]

RENDER_MODES: tuple[str, ...] = get_args(RenderMode)
LIGHTING_PRESETS: tuple[str, ...] = get_args(LightingPreset)
VIEW_NAMES: tuple[str, ...] = get_args(ViewName)

# The same gradient as the UI theme's 3D background (reviewer.ui.theme.BACKGROUND_3D), kept
# here because render/ may not import ui/.
BACKGROUND_TOP = "#2a2c30"
BACKGROUND_BOTTOM = "#141517"
SOLID_COLOR = (0.80, 0.78, 0.75)  # warm clay: shows form without suggesting a skin tone
WIREFRAME_COLOR = (0.62, 0.66, 0.71)
LABEL_COLOR = "#9a9ea5"
_LABEL_POINTS = 20  # as large as pyvista's corner text grew in views of 640×400 and more
FLOOR_RGB = (62, 64, 70)
SHADOW_RGB = (8, 9, 10)

AVATAR_ACTOR_PREFIX = "avatar-part-"
PROXY_ACTOR_PREFIX = "avatar-proxy-"
FLOOR_ACTOR_NAME = "avatar-floor"
LABEL_ACTOR_NAME = "avatar-height"

# Camera direction (from the figure towards the camera) for each view, in the upright frame:
# Y up, the figure facing +Z. "left" looks at the figure's left side, which is at +X.
_THREE_QUARTER_AZIMUTH = math.radians(35.0)
_THREE_QUARTER_ELEVATION = math.radians(12.0)
_VIEW_DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "front": (0.0, 0.0, 1.0),
    "back": (0.0, 0.0, -1.0),
    "left": (1.0, 0.0, 0.0),
    "right": (-1.0, 0.0, 0.0),
    "three_quarter": (
        math.sin(_THREE_QUARTER_AZIMUTH) * math.cos(_THREE_QUARTER_ELEVATION),
        math.sin(_THREE_QUARTER_ELEVATION),
        math.cos(_THREE_QUARTER_AZIMUTH) * math.cos(_THREE_QUARTER_ELEVATION),
    ),
}
_FRAME_MARGIN = 1.08  # a little air around the figure
_FLOOR_ROOM = 0.03  # share of the height shown below the feet

# Lights follow the camera. Positions are in camera space: the camera sits at (0, 0, 1)
# looking at the origin, +X right, +Y up; negative Z is behind the figure.
_LIGHTING: dict[str, list[tuple[tuple[float, float, float], float, tuple[float, float, float]]]] = {
    # (position, intensity, colour)
    "studio": [
        ((-1.0, 0.9, 1.2), 0.80, (1.0, 0.97, 0.93)),  # key: high, front left, warm
        ((1.2, 0.2, 1.0), 0.38, (0.93, 0.96, 1.0)),  # fill: front right, cool
        ((0.4, 1.0, -1.4), 0.45, (1.0, 1.0, 1.0)),  # back light: separates from background
    ],
    "soft": [
        ((0.0, 0.3, 1.0), 0.45, (1.0, 1.0, 1.0)),
        ((-1.0, 0.6, 0.8), 0.30, (1.0, 0.98, 0.95)),
        ((1.0, 0.6, 0.8), 0.30, (0.97, 0.98, 1.0)),
        ((0.0, -0.6, 1.0), 0.15, (1.0, 1.0, 1.0)),  # from below: opens up shadows
    ],
    "rim": [
        ((-0.6, 0.5, 1.0), 0.35, (1.0, 0.98, 0.95)),
        ((-1.3, 0.6, -1.0), 0.85, (0.90, 0.95, 1.0)),
        ((1.3, 0.6, -1.0), 0.85, (1.0, 0.95, 0.90)),
    ],
}
_MATERIAL: dict[str, float] = {"ambient": 0.16, "diffuse": 0.86, "specular": 0.12}
_SPECULAR_POWER = 18.0
_POINT_SIZE = 5.0  # pyvista's default, kept so every property is as it was with pv.Actor


@dataclass(eq=False)
class SceneHandle:
    """What :func:`show_avatar` put in a plotter, to change its mode, lighting or detail later."""

    plotter: Any
    avatar: Avatar
    part_actors: list[Any]
    textures: list[vtkTexture | None]
    floor_actor: Any | None
    label_actor: Any | None
    mode: RenderMode
    lighting: LightingPreset
    bounds: tuple[float, float, float, float, float, float] = field(
        default=(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    )
    """The figure's bounds in the scene: upright, Y up, feet on y = 0."""
    proxy_actors: list[Any] = field(default_factory=list)
    proxy_textures: list[vtkTexture | None] = field(default_factory=list)
    proxy_parts: tuple[AvatarPart, ...] = ()
    detail: Detail = "full"
    texture_cache: _TextureCache | None = None
    """The textures made so far, so a proxy added later shares those of the same images."""

    @property
    def has_proxy(self) -> bool:
        return bool(self.proxy_actors)


def show_avatar(
    plotter: Any,
    avatar: Avatar | DisplayAvatar,
    *,
    mode: RenderMode = "textured",
    lighting: LightingPreset = "studio",
    floor: bool = True,
    show_height: bool = True,
    view: ViewName = "front",
    detail: Detail = "full",
) -> SceneHandle:
    """Replace whatever the plotter shows with *avatar*, standing, framed in *view*.

    *avatar* may be a :class:`~reviewer.render.proxy.DisplayAvatar`; its proxy, if it has one,
    goes in the scene too, shown when *detail* is "proxy" (see :func:`set_detail`).
    """
    from reviewer.render.proxy import DisplayAvatar

    _check_choice(mode, RENDER_MODES, "render mode")
    _check_choice(lighting, LIGHTING_PRESETS, "lighting preset")
    _check_choice(view, VIEW_NAMES, "view")
    _check_choice(detail, ("full", "proxy"), "detail")
    display = avatar if isinstance(avatar, DisplayAvatar) else DisplayAvatar(avatar)
    figure = display.avatar
    clear_scene(plotter)
    prepare_plotter(plotter)

    textures = _TextureCache(display.texture_data)
    actors = [
        _add_part_actor(plotter, f"{AVATAR_ACTOR_PREFIX}{index}", part.mesh, figure)
        for index, part in enumerate(figure.parts)
    ]
    handle = SceneHandle(
        plotter=plotter,
        avatar=figure,
        part_actors=actors,
        textures=[textures.of(part) for part in figure.parts],
        floor_actor=None,
        label_actor=None,
        mode=mode,
        lighting=lighting,
        bounds=figure.upright_bounds,
        texture_cache=textures,
    )
    if display.proxy is not None:
        _add_proxy_actors(handle, display.proxy)
    set_mode(handle, mode)
    set_detail(handle, detail)
    if floor:
        handle.floor_actor = _add_floor(plotter, handle.bounds)
    if show_height:
        handle.label_actor = _add_label(plotter, _height_text(figure))
    set_lighting(plotter, lighting)
    handle.lighting = lighting
    # Framed on the full figure's bounds whichever detail shows, so views match exactly.
    set_view(plotter, view, bounds=handle.bounds)
    return handle


def add_proxy(handle: SceneHandle, display: DisplayAvatar) -> None:
    """Put *display*'s proxy in a scene that shows its avatar without one (see
    :func:`reviewer.render.proxy.with_proxy`), in the scene's mode; it is drawn once
    :func:`set_detail` asks for the proxy. The full mesh stays as it is (no upload again)."""
    if display.proxy is None or handle.has_proxy:
        return
    if handle.texture_cache is None:
        handle.texture_cache = _TextureCache(display.texture_data)
    else:
        handle.texture_cache.add(display.texture_data)
    _add_proxy_actors(handle, display.proxy)
    for actor, texture, part in zip(
        handle.proxy_actors, handle.proxy_textures, handle.proxy_parts, strict=True
    ):
        _apply_mode(actor, texture, part, handle.mode, handle.avatar.format)
    set_detail(handle, handle.detail)


def _add_proxy_actors(handle: SceneHandle, proxy: tuple[AvatarPart, ...]) -> None:
    assert handle.texture_cache is not None
    handle.proxy_parts = proxy
    handle.proxy_actors = [
        _add_part_actor(handle.plotter, f"{PROXY_ACTOR_PREFIX}{index}", part.mesh, handle.avatar)
        for index, part in enumerate(proxy)
    ]
    handle.proxy_textures = [handle.texture_cache.of(part) for part in proxy]


class _TextureCache:
    """One ``vtkTexture`` per image: parts that share an image share the texture."""

    def __init__(self, prepared: dict[int, Any]) -> None:
        self._prepared = dict(prepared)
        self._made: dict[int, vtkTexture] = {}

    def add(self, prepared: dict[int, Any]) -> None:
        """More images made into VTK image data off the GUI thread."""
        self._prepared.update(prepared)

    def of(self, part: AvatarPart) -> vtkTexture | None:
        # vtkTexture is abstract until the OpenGL module registers its factory override.
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
        from vtkmodules.vtkRenderingCore import vtkTexture

        if part.texture is None or not part.has_uvs:
            return None
        key = id(part.texture)
        if key not in self._made:
            data = self._prepared.get(key)
            made = vtkTexture()
            made.SetInputDataObject(data if data is not None else texture_data(part.texture))
            # As pyvista.Texture: 8-bit images are colours as they are, not through a table.
            made.SetColorModeToDirectScalars()
            made.InterpolateOn()
            made.MipmapOn()
            self._made[key] = made
        return self._made[key]


def texture_data(image: np.ndarray) -> pv.ImageData:
    """A texture image (top row first, as decoded) as VTK image data (bottom row first).

    This is the one copy a texture needs; build it on a worker thread for big images (see
    :func:`reviewer.render.proxy.prepare_for_display`).
    """
    import pyvista as pv

    height, width = image.shape[:2]
    components = 1 if image.ndim == 2 else image.shape[2]
    grid = pv.ImageData(dimensions=(width, height, 1))
    grid.point_data["Image"] = np.ascontiguousarray(image[::-1]).reshape(-1, components)
    grid.point_data.active_scalars_name = "Image"
    return grid


def _add_part_actor(plotter: Any, name: str, mesh: Any, avatar: Avatar) -> Any:
    """An actor drawing *mesh* as is (no copy), stood up by the actor's matrix (which VTK also
    applies to the normals), with the viewer's material."""
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    mapper = vtkPolyDataMapper()
    mapper.SetInputData(mesh)
    mapper.SetScalarVisibility(False)
    # The mesh never changes while shown: skip the pipeline checks on every frame.
    mapper.SetStatic(True)
    # Shift-and-scale guards float precision of far-off coordinates; a body in metres near
    # the origin needs none, and skipping it saves a pass over every point at upload.
    mapper.SetVBOShiftScaleMethod(0)  # DISABLE_SHIFT_SCALE
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetPointSize(_POINT_SIZE)
    prop.SetAmbient(_MATERIAL["ambient"])
    prop.SetDiffuse(_MATERIAL["diffuse"])
    prop.SetSpecular(_MATERIAL["specular"])
    prop.SetSpecularPower(_SPECULAR_POWER)
    prop.SetInterpolationToPhong()  # smooth, with the file's or our point normals
    actor.SetUserMatrix(_vtk_matrix(avatar.upright_transform))
    plotter.add_actor(actor, name=name, reset_camera=False, render=False)
    return actor


def clear_scene(plotter: Any) -> None:
    """Remove what :func:`show_avatar` added (the avatar, its proxy, floor and label)."""
    for name in list(plotter.actors):
        if name.startswith((AVATAR_ACTOR_PREFIX, PROXY_ACTOR_PREFIX)) or name in (
            FLOOR_ACTOR_NAME,
            LABEL_ACTOR_NAME,
        ):
            plotter.remove_actor(name, reset_camera=False, render=False)


def set_detail(handle: SceneHandle, detail: Detail) -> None:
    """Show the full mesh ("full") or, if the avatar has one, its proxy ("proxy")."""
    _check_choice(detail, ("full", "proxy"), "detail")
    use_proxy = detail == "proxy" and handle.has_proxy
    for actor in handle.part_actors:
        actor.SetVisibility(not use_proxy)
    for actor in handle.proxy_actors:
        actor.SetVisibility(use_proxy)
    handle.detail = "proxy" if use_proxy else "full"


def set_upright(handle: SceneHandle, avatar: Avatar) -> None:
    """Stand the figure up again after its up axis changed (*avatar* shares the meshes of the
    one shown): move every actor, and the floor and height label with it."""
    handle.avatar = avatar
    handle.bounds = avatar.upright_bounds
    for actor in (*handle.part_actors, *handle.proxy_actors):
        actor.SetUserMatrix(_vtk_matrix(avatar.upright_transform))
    plotter = handle.plotter
    if handle.floor_actor is not None:
        plotter.remove_actor(FLOOR_ACTOR_NAME, reset_camera=False, render=False)
        handle.floor_actor = _add_floor(plotter, handle.bounds)
    if handle.label_actor is not None:
        handle.label_actor.SetInput(_height_text(avatar))


def set_mode(handle: SceneHandle, mode: RenderMode) -> None:
    """Show the figure textured (its own look), solid (clay) or as a wireframe."""
    _check_choice(mode, RENDER_MODES, "render mode")
    layers = [(handle.part_actors, handle.textures, handle.avatar.parts)]
    if handle.has_proxy:
        layers.append((handle.proxy_actors, handle.proxy_textures, handle.proxy_parts))
    for actors, textures, parts in layers:
        for actor, texture, part in zip(actors, textures, parts, strict=True):
            _apply_mode(actor, texture, part, mode, handle.avatar.format)
    handle.mode = mode


def _apply_mode(
    actor: Any, texture: vtkTexture | None, part: AvatarPart, mode: RenderMode, fmt: str
) -> None:
    prop = actor.GetProperty()
    mapper = actor.GetMapper()
    mapper.SetScalarVisibility(False)
    actor.SetTexture(None)
    # A one-sided glTF material's back faces are not drawn, as its specification says. For a
    # figure seen from outside they are hidden behind its front anyway; not drawing them
    # halves the cost of a software-rendered frame.
    prop.SetBackfaceCulling(not part.double_sided)
    if mode == "wireframe":
        prop.SetRepresentationToWireframe()
    else:
        prop.SetRepresentationToSurface()
    prop.SetLighting(True)
    if mode == "wireframe":
        prop.SetColor(*_8bit(WIREFRAME_COLOR))
        prop.SetLineWidth(1.0)
        prop.SetOpacity(1.0)
    elif mode == "solid":
        prop.SetColor(*_8bit(SOLID_COLOR))
        prop.SetOpacity(1.0)
    else:
        red, green, blue, alpha = part.base_color
        prop.SetOpacity(float(alpha))
        if texture is not None:
            # glTF multiplies the texture by the base colour; MTL's Kd is usually a
            # placeholder grey when a map is present, so only glTF's factor applies.
            tint = (red, green, blue) if fmt in ("gltf", "glb") else (1.0, 1.0, 1.0)
            prop.SetColor(*_8bit(tint))
            actor.SetTexture(texture)
        elif part.colors_name is not None:
            mapper.SetScalarModeToUsePointFieldData()
            mapper.SelectColorArray(part.colors_name)
            mapper.SetColorModeToDirectScalars()
            mapper.SetScalarVisibility(True)
        else:
            prop.SetColor(*_8bit((red, green, blue)))


def set_lighting(plotter: Any, preset: LightingPreset) -> None:
    """Replace the plotter's lights with *preset*: "studio", "soft" or "rim"."""
    from vtkmodules.vtkRenderingCore import vtkLight

    _check_choice(preset, LIGHTING_PRESETS, "lighting preset")
    plotter.remove_all_lights()
    for position, intensity, colour in _LIGHTING[preset]:
        # What pyvista.Light(position=, focal_point=, color=, intensity=,
        # light_type="camera light") sets (its colours too are 8-bit); pyvista's plotters
        # copy a plain vtkLight into one of theirs.
        light = vtkLight()
        light.SetPosition(*position)
        light.SetFocalPoint(0.0, 0.0, 0.0)
        light.SetAmbientColor(*_8bit(colour))
        light.SetDiffuseColor(*_8bit(colour))
        light.SetSpecularColor(*_8bit(colour))
        light.SetLightTypeToCameraLight()
        light.SetIntensity(intensity)
        plotter.add_light(light)


def set_view(
    plotter: Any,
    name: ViewName,
    bounds: tuple[float, float, float, float, float, float] | None = None,
) -> None:
    """Look at the figure from *name*, framing all of it, Y up.

    Works on any plotter that :func:`show_avatar` filled; with no avatar in it, frames
    whatever is there. *bounds* (upright, in the scene) frames a figure not (yet) in it.
    """
    _check_choice(name, VIEW_NAMES, "view")
    if bounds is None:
        bounds = figure_bounds(plotter)
    if bounds is None:
        plotter.reset_camera(render=False)
        return
    direction = np.array(_VIEW_DIRECTIONS[name])
    # Leave room under the feet for the floor and its shadow.
    framed = (*bounds[:2], bounds[2] - _FLOOR_ROOM * (bounds[3] - bounds[2]), *bounds[3:])
    centre = np.array(
        [(framed[0] + framed[1]) / 2, (framed[2] + framed[3]) / 2, (framed[4] + framed[5]) / 2]
    )
    # Not plotter.camera: on first use pyvista resets the camera, which renders a frame.
    camera = plotter.renderer.GetActiveCamera()
    # A pyvista renderer's camera records that it was placed (else pyvista resets it when
    # a mesh is added); a bare vtkRenderer has no such record.
    placed = getattr(plotter.renderer, "camera", None)
    if placed is not None:
        placed.is_set = True
    distance = _framing_distance(framed, centre, direction, camera.GetViewAngle(), plotter)
    camera.SetFocalPoint(*centre)
    camera.SetPosition(*(centre + direction * distance))
    camera.SetViewUp(0.0, 1.0, 0.0)
    reset_clipping_range(plotter, bounds)


def reset_clipping_range(
    plotter: Any, bounds: tuple[float, float, float, float, float, float]
) -> None:
    """Fit the camera's near and far planes to the figure (*bounds*, upright, in the scene)
    and the floor under it.

    What ``ResetCameraClippingRange()`` does, without asking every actor for its bounds: for a
    mapper that is the bounds of the points its triangles use, which VTK finds by walking all
    the triangles, about 70 ms for a 4-million-triangle figure at its first frame.
    """
    boxes = [bounds]
    floor = plotter.actors.get(FLOOR_ACTOR_NAME)
    if floor is not None and floor.GetVisibility():
        boxes.append(floor.GetBounds())
    plotter.renderer.ResetCameraClippingRange(*union_bounds(boxes))


def figure_bounds(plotter: Any) -> tuple[float, float, float, float, float, float] | None:
    """Bounds of the avatar's visible parts in the scene, or None if there are none."""
    boxes = [
        actor.GetBounds()
        for name, actor in plotter.actors.items()
        if name.startswith((AVATAR_ACTOR_PREFIX, PROXY_ACTOR_PREFIX)) and actor.GetVisibility()
    ]
    return union_bounds(boxes) if boxes else None


# --------------------------------------------------------------------------------------------


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")


def prepare_plotter(plotter: Any) -> None:
    """Give a plotter the viewer's background and render settings (no anti-aliasing)."""
    plotter.set_background(BACKGROUND_BOTTOM, top=BACKGROUND_TOP)
    plotter.disable_anti_aliasing()
    # The floor is the one translucent thing in the scene. VTK draws translucency with an
    # order-independent pass by default: full-window float buffers composited every frame,
    # about 90 ms a frame at 1280×800 on llvmpipe. One disc needs plain blending, nothing more.
    plotter.renderer.SetUseOIT(False)
    # VTK's default two-sided lighting lights back faces as if they faced the camera, so
    # scans with inconsistent triangle winding still shade smoothly.
    plotter.renderer.SetTwoSidedLighting(True)


def _framing_distance(
    bounds: tuple[float, ...],
    centre: np.ndarray,
    direction: np.ndarray,
    view_angle: float,
    plotter: Any,
) -> float:
    """Camera distance along *direction* at which the whole box is inside the view."""
    width, height = plotter.window_size
    aspect = max(width, 1) / max(height, 1)
    tan_half = math.tan(math.radians(view_angle) / 2.0)
    up = np.array([0.0, 1.0, 0.0])
    right = np.cross(up, direction)
    if np.linalg.norm(right) < 1e-6:  # looking straight down or up
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    true_up = np.cross(direction, right)
    corners = np.array(
        [
            [x, y, z]
            for x in (bounds[0], bounds[1])
            for y in (bounds[2], bounds[3])
            for z in (bounds[4], bounds[5])
        ]
    )
    offsets = corners - centre
    lateral = np.abs(offsets @ right)
    vertical = np.abs(offsets @ true_up)
    depth = offsets @ direction  # towards the camera is positive
    needed = np.maximum(
        depth + vertical * _FRAME_MARGIN / tan_half,
        depth + lateral * _FRAME_MARGIN / (tan_half * aspect),
    )
    return float(max(needed.max(), 1e-6))


def _add_floor(plotter: Any, bounds: tuple[float, ...]) -> Any:
    """A disc under the feet: a soft contact shadow fading into a floor tone, then into the
    background, so the figure stands on something without a visible edge."""
    import pyvista as pv
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    height = max(bounds[3] - bounds[2], 1e-9)
    footprint = max(bounds[1] - bounds[0], bounds[5] - bounds[4])
    radius = max(0.55 * height, 0.8 * footprint)
    # Half of a millimetre in a 1.7 m figure: enough to avoid z-fighting with flat soles.
    floor_y = bounds[2] - 3e-4 * height
    disc = pv.Disc(
        center=(0.0, 0.0, 0.0),
        inner=0.0,
        outer=radius,
        normal=(0.0, 1.0, 0.0),
        r_res=48,
        c_res=96,
    )
    disc.translate(
        ((bounds[0] + bounds[1]) / 2, floor_y, (bounds[4] + bounds[5]) / 2), inplace=True
    )
    distance = (
        np.linalg.norm(disc.points[:, [0, 2]] - np.asarray(disc.center)[[0, 2]], axis=1) / radius
    )
    shadow_reach = min(max(0.45 * footprint / radius, 0.08), 0.5)
    shadow = np.clip(1.0 - distance / shadow_reach, 0.0, 1.0) ** 1.5
    fade = np.clip(1.0 - (distance - 0.35) / 0.65, 0.0, 1.0) ** 2
    rgb = (1.0 - shadow)[:, None] * np.array(FLOOR_RGB) + shadow[:, None] * np.array(SHADOW_RGB)
    alpha = np.maximum(fade * 0.75, shadow * 0.9)
    colours = np.column_stack([rgb, alpha * 255.0]).round().astype(np.uint8)
    disc.point_data["FloorRGBA"] = colours
    disc.point_data.active_scalars_name = "FloorRGBA"
    # What pyvista's add_mesh(disc, scalars="FloorRGBA", rgba=True, lighting=False) made:
    # the colours as they are, per point, unlit.
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(disc)
    mapper.SetScalarModeToUsePointData()
    mapper.SelectColorArray("FloorRGBA")
    mapper.SetColorModeToDirectScalars()
    mapper.SetInterpolateScalarsBeforeMapping(True)
    mapper.SetScalarVisibility(True)
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetPointSize(_POINT_SIZE)
    prop.SetInterpolationToFlat()
    prop.SetLighting(False)
    plotter.add_actor(actor, name=FLOOR_ACTOR_NAME, reset_camera=False, render=False)
    actor.SetPickable(False)  # after add_actor: pyvista's makes every actor pickable
    return actor


def _add_label(plotter: Any, text: str) -> Any:
    """The figure's height in the lower right corner.

    A plain ``vtkTextActor`` at a fixed size: pyvista's corner text (``vtkCornerAnnotation``)
    searches for a font size that fits whenever its text changes, which made the first frame
    of every avatar 25-40 ms slower on software OpenGL.
    """
    from vtkmodules.vtkRenderingCore import vtkTextActor

    from reviewer.render.offscreen import rgb

    label = vtkTextActor()
    label.SetInput(text)
    style = label.GetTextProperty()
    style.SetFontSize(_LABEL_POINTS)
    style.SetFontFamilyToArial()
    style.SetColor(*rgb(LABEL_COLOR))
    style.SetJustificationToRight()
    style.SetVerticalJustificationToBottom()
    label.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    label.SetPosition(0.994, 0.01)
    label.SetPickable(False)
    plotter.add_actor(label, name=LABEL_ACTOR_NAME, reset_camera=False, render=False)
    return label


def _8bit(colour: tuple[float, ...]) -> tuple[float, float, float]:
    """*colour* rounded to 8 bits a channel, as the viewer always set colours (through
    ``pyvista.Color``)."""
    red, green, blue = (round(255 * float(channel)) / 255 for channel in colour)
    return red, green, blue


def _vtk_matrix(matrix: np.ndarray) -> Any:
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    made = vtkMatrix4x4()
    values = np.asarray(matrix, dtype=float)
    for row in range(4):
        for column in range(4):
            made.SetElement(row, column, float(values[row, column]))
    return made


def _height_text(avatar: Avatar) -> str:
    metres = avatar.height_metres
    if metres is not None:
        return f"Height {metres:.2f} m"
    return f"Height {avatar.height:.3g} units"


__all__ = [
    "AVATAR_ACTOR_PREFIX",
    "BACKGROUND_BOTTOM",
    "BACKGROUND_TOP",
    "LIGHTING_PRESETS",
    "PROXY_ACTOR_PREFIX",
    "RENDER_MODES",
    "VIEW_NAMES",
    "Detail",
    "LightingPreset",
    "RenderMode",
    "SceneHandle",
    "ViewName",
    "add_proxy",
    "clear_scene",
    "figure_bounds",
    "prepare_plotter",
    "reset_clipping_range",
    "set_detail",
    "set_lighting",
    "set_mode",
    "set_upright",
    "set_view",
    "show_avatar",
    "texture_data",
]
