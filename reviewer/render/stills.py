"""Studio stills of an avatar: off-screen VTK renders finished with Pillow.

``StillRenderer`` keeps one off-screen plotter for many renders: creating a plotter and
compiling its shaders costs far more than a render. Each render imports a glTF/GLB file, lights
it with a three-point set-up that turns with the camera, frames the whole figure and returns an
RGBA image whose background is transparent. ``finish_still`` puts that figure on a soft studio
backdrop with a floor shadow, a vignette and a caption strip.

Renders are made at 1.5 times the requested size and scaled down, which anti-aliases edges (and
the figure's alpha) without multisampling, which software OpenGL is very slow at.
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

if TYPE_CHECKING:
    import pyvista as pv

View = Literal["front", "three_quarter", "side", "back"]
VIEW_AZIMUTHS: dict[str, float] = {"front": 0.0, "three_quarter": 32.0, "side": 90.0, "back": 180.0}

# (azimuth from the camera in degrees, elevation in degrees, intensity, colour). Physically
# based materials get no ambient light without image-based lighting, which software OpenGL
# takes seconds to prepare, so soft low fills from around the figure stand in for it.
_LIGHTS = (
    (-40.0, 30.0, 1.55, (1.0, 0.955, 0.90)),  # key: warm, high, camera left
    (50.0, 10.0, 0.62, (0.90, 0.94, 1.0)),  # fill: cool, low, camera right
    (150.0, 40.0, 1.10, (1.0, 1.0, 1.0)),  # rim from behind right
    (-150.0, 30.0, 0.80, (1.0, 0.98, 0.95)),  # rim from behind left
    (0.0, -20.0, 0.55, (1.0, 0.97, 0.94)),  # a low frontal fill, as if bounced off the floor
)
_SUPERSAMPLE = 1.5
_FRAME_TOP = 0.055  # share of the height left above the head
_FRAME_BOTTOM = 0.115  # and below the feet: room for the floor shadow and the caption


class StillRenderer:
    """Render avatars off screen with one reusable plotter; use it as a context manager.

    Parameters
    ----------
    size
        Width and height of the returned images in pixels.
    supersample
        The render is this many times larger in each direction, then scaled down; it
        anti-aliases the edges. 1.0 renders at ``size`` directly.
    """

    def __init__(
        self, size: tuple[int, int] = (900, 1200), *, supersample: float = _SUPERSAMPLE
    ) -> None:
        import pyvista as pv

        self.size = (int(size[0]), int(size[1]))
        # Multisampling is what software OpenGL is slowest at (8 samples is pyvista's default
        # and costs ten times the render); supersampling below does the anti-aliasing.
        theme = copy.deepcopy(pv.global_theme)
        theme.anti_aliasing = None
        theme.multi_samples = 1
        self._plotter: pv.Plotter | None = pv.Plotter(
            off_screen=True,
            window_size=[round(self.size[0] * supersample), round(self.size[1] * supersample)],
            lighting="none",
            theme=theme,
        )
        self._plotter.set_background("white")

    def __enter__(self) -> StillRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the plotter and its render window; safe to call twice."""
        if self._plotter is not None:
            self._plotter.close()
            self._plotter = None

    def render(self, glb_path: Path | str, view: View = "front") -> Image.Image:
        """Render the avatar in ``glb_path`` seen from ``view``; RGBA, transparent around it."""
        if view not in VIEW_AZIMUTHS:
            raise ValueError(f"unknown view {view!r}; choose from {', '.join(VIEW_AZIMUTHS)}")
        if self._plotter is None:
            raise RuntimeError("the renderer is closed")
        plotter = self._plotter
        renderer = plotter.renderer
        renderer.RemoveAllViewProps()
        plotter.import_gltf(str(glb_path), set_camera=False)
        bounds = renderer.ComputeVisiblePropBounds()
        if bounds[0] > bounds[1]:
            raise ValueError(f"{glb_path}: nothing to render")
        azimuth = VIEW_AZIMUTHS[view]
        self._frame(plotter, bounds, azimuth)
        self._light(plotter, bounds, azimuth)
        # After the first frame pyvista's screenshot() reuses the last frame; render anew.
        plotter.render()
        shot = plotter.screenshot(transparent_background=True, return_img=True)
        image = Image.fromarray(np.ascontiguousarray(shot), "RGBA")
        return _downsample_rgba(image, self.size)

    def _frame(self, plotter: pv.Plotter, bounds: tuple[float, ...], azimuth: float) -> None:
        x0, x1, y0, y1, z0, z1 = bounds
        height = y1 - y0
        view_angle = 15.0  # a long lens: the flattering perspective of fashion photography
        half_span = height / (1.0 - _FRAME_TOP - _FRAME_BOTTOM) / 2.0
        centre_y = y1 + _FRAME_TOP * 2.0 * half_span - half_span
        distance = half_span / math.tan(math.radians(view_angle / 2.0))
        centre = ((x0 + x1) / 2.0, centre_y, (z0 + z1) / 2.0)
        a = math.radians(azimuth)
        camera = plotter.camera
        camera.view_angle = view_angle
        camera.focal_point = centre
        camera.position = (
            centre[0] + distance * math.sin(a),
            centre[1],
            centre[2] + distance * math.cos(a),
        )
        camera.up = (0.0, 1.0, 0.0)
        plotter.renderer.ResetCameraClippingRange()

    def _light(self, plotter: pv.Plotter, bounds: tuple[float, ...], azimuth: float) -> None:
        import pyvista as pv

        plotter.renderer.RemoveAllLights()
        x0, x1, y0, y1, z0, z1 = bounds
        target = ((x0 + x1) / 2.0, y0 + 0.55 * (y1 - y0), (z0 + z1) / 2.0)
        reach = 6.0
        for light_azimuth, elevation, intensity, color in _LIGHTS:
            a = math.radians(azimuth + light_azimuth)
            e = math.radians(elevation)
            position = (
                target[0] + reach * math.cos(e) * math.sin(a),
                target[1] + reach * math.sin(e),
                target[2] + reach * math.cos(e) * math.cos(a),
            )
            plotter.add_light(
                pv.Light(
                    position=position,
                    focal_point=target,
                    color=color,
                    intensity=intensity,
                    light_type="scene light",
                )
            )


def _downsample_rgba(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale a supersampled RGBA render down to ``size``.

    Only the figure's box is scaled, the rest is transparent anyway; and the scaling uses
    premultiplied alpha ("RGBa"), or the white behind the figure would bleed into its edges.
    """
    out = Image.new("RGBA", size, (0, 0, 0, 0))
    box = image.getchannel("A").getbbox()
    if box is None:
        return out
    fx, fy = image.width / size[0], image.height / size[1]
    left, top = max(int(box[0] / fx) - 1, 0), max(int(box[1] / fy) - 1, 0)
    right = min(math.ceil(box[2] / fx) + 1, size[0])
    bottom = min(math.ceil(box[3] / fy) + 1, size[1])
    source = (left * fx, top * fy, right * fx, bottom * fy)
    region = image.crop(tuple(round(v) for v in source)).convert("RGBa")
    scaled = region.resize((right - left, bottom - top), Image.Resampling.BOX)
    out.paste(scaled.convert("RGBA"), (left, top))
    return out


def render_still(
    glb_path: Path | str, *, view: View = "front", size: tuple[int, int] = (900, 1200)
) -> Image.Image:
    """Render one still of an avatar (RGBA, transparent background) with a fresh renderer."""
    with StillRenderer(size) as renderer:
        return renderer.render(glb_path, view)


# --------------------------------------------------------------------------------------------
# Finishing


_BACKDROP_TOP = (236, 232, 226)
_BACKDROP_FLOOR = (206, 200, 192)
_SHADOW = (58, 50, 44)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same glyphs, and so the same bytes, on every machine.
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=2)
def _backdrop_light(size: tuple[int, int]) -> np.ndarray:
    """How much light each pixel of the backdrop gets: a glow behind the figure, a vignette."""
    w, h = size
    y = (np.arange(h, dtype=np.float32) / max(h - 1, 1))[:, None]
    x = (np.arange(w, dtype=np.float32) / max(w - 1, 1))[None, :]
    glow = np.exp(-(((x - 0.5) / 0.42) ** 2) - ((y - 0.42) / 0.55) ** 2)
    cx, cy = x - 0.5, y - 0.5
    vignette = 1.0 - 0.17 * np.clip((cx * cx * 1.6 + cy * cy) * 1.9, 0.0, 1.0) ** 1.6
    return ((0.93 + 0.09 * glow) * vignette).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _dither(size: tuple[int, int]) -> np.ndarray:
    # A fixed, faint dither keeps the smooth gradients from banding once saved as JPEG.
    rng = np.random.default_rng(20270101)
    return rng.uniform(-0.5, 0.5, (size[1], size[0], 1)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _backdrop(size: tuple[int, int], tint: tuple[int, int, int] | None) -> Image.Image:
    """A seamless paper sweep: a flat wall, a soft bend, a slightly darker floor; RGB."""
    h = size[1]
    top = np.array(tint if tint is not None else _BACKDROP_TOP, dtype=np.float32)
    floor = top * (np.array(_BACKDROP_FLOOR, np.float32) / np.array(_BACKDROP_TOP, np.float32))
    y = np.arange(h, dtype=np.float32) / max(h - 1, 1)
    bend = np.clip((y - 0.62) / 0.30, 0.0, 1.0)
    bend = bend * bend * (3.0 - 2.0 * bend)
    rows = top * (1.0 - bend[:, None]) + floor * bend[:, None]
    pixels = rows[:, None, :] * _backdrop_light(size)[..., None] + _dither(size)
    return Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8), "RGB")


def _add_floor_shadow(canvas: Image.Image, alpha: np.ndarray) -> None:
    """Darken the floor under the feet: a soft contact shadow, wider than the stance."""
    rows = np.nonzero(alpha.max(axis=1) > 127)[0]
    if len(rows) == 0:
        return
    h, w = alpha.shape
    bottom = int(rows[-1])
    cols = np.nonzero(alpha[max(bottom - h // 40, 0) : bottom + 1].max(axis=0) > 127)[0]
    if len(cols) == 0:
        return
    cx = (int(cols[0]) + int(cols[-1])) / 2.0
    rx = max((int(cols[-1]) - int(cols[0])) / 2.0 * 1.35, w * 0.06)
    ry = max(h * 0.012, 4.0)
    blur = max(h / 110.0, 2.0)
    pad = int(3 * blur) + 2
    left, top = int(cx - rx) - pad, int(bottom - ry) - pad
    mask = Image.new("L", (int(2 * rx) + 2 * pad, int(2 * ry) + 2 * pad), 0)
    draw = ImageDraw.Draw(mask)
    ox, oy = cx - left, bottom - top
    draw.ellipse((ox - rx, oy - ry, ox + rx, oy + ry), fill=48)
    draw.ellipse((ox - rx * 0.55, oy - ry * 0.5, ox + rx * 0.55, oy + ry * 0.6), fill=70)
    mask = mask.filter(ImageFilter.GaussianBlur(radius=blur))
    canvas.paste(_SHADOW, (left, top, left + mask.width, top + mask.height), mask)


def finish_still(
    img: Image.Image,
    caption: str,
    *,
    detail: str | None = None,
    tint: tuple[int, int, int] | None = None,
) -> Image.Image:
    """Turn a render into a campaign still: backdrop, floor shadow, vignette, caption strip.

    ``caption`` is set on the left of the strip (e.g. the campaign), ``detail`` on the right
    (e.g. the look and view). ``tint`` is the backdrop's wall colour (sRGB, 0..255). An image
    without transparency keeps its own background and gets only the caption strip.
    Returns an RGB image of the same size; the result depends only on the inputs.
    """
    figure = img.convert("RGBA")
    alpha = np.asarray(figure.getchannel("A"))
    if int(alpha.min()) < 255:
        canvas = _backdrop(figure.size, tint).copy()
        _add_floor_shadow(canvas, alpha)
        canvas = canvas.convert("RGBA")
        canvas.alpha_composite(figure)
        out = canvas.convert("RGB")
    else:
        out = figure.convert("RGB")
    _caption_strip(out, caption, detail)
    return out


def _draw_tracked(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    *,
    fill: tuple[int, int, int],
    tracking: float,
) -> None:
    # Letter-spaced capitals, as on a look-book page; Pillow has no tracking of its own.
    x, y = xy
    for char in text:
        draw.text((x, y), char, font=font, fill=fill, anchor="lm")
        x += draw.textlength(char, font=font) + tracking


def _caption_strip(image: Image.Image, caption: str, detail: str | None) -> None:
    w, h = image.size
    strip = max(int(h * 0.052), 18)
    top = h - strip
    overlay = Image.new("RGBA", (w, strip), (250, 248, 244, 222))
    base = image.crop((0, top, w, h)).convert("RGBA")
    base.alpha_composite(overlay)
    image.paste(base.convert("RGB"), (0, top))
    draw = ImageDraw.Draw(image)
    draw.line((0, top, w, top), fill=(214, 208, 200), width=1)
    size = max(int(strip * 0.34), 9)
    font = _font(size)
    margin = int(w * 0.045)
    middle = top + strip / 2
    _draw_tracked(
        draw, (margin, middle), caption.upper(), font, fill=(46, 42, 38), tracking=size * 0.28
    )
    if detail:
        draw.text((w - margin, middle), detail, font=font, fill=(118, 110, 102), anchor="rm")
