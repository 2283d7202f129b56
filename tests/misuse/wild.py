"""What happens to a campaign image in the wild, as functions from image to image.

Each transformation of issue 6 at the strength it names: JPEG at a low quality, a quarter of
the size, crops of up to 20 % (centred, from a corner, one side only, off-centre), a caption or
logo over a corner, colour and brightness shifts, a screenshot with a border and a title bar,
and a horizontal flip. Deterministic; shared by the tests and ``bench/misuse.py``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps


def jpeg(img: Image.Image, quality: int = 12) -> Image.Image:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    out.seek(0)
    return Image.open(out).convert("RGB")


def quarter(img: Image.Image) -> Image.Image:
    """A quarter of the width and of the height (a sixteenth of the pixels)."""
    w, h = img.size
    return img.convert("RGB").resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BILINEAR)


def crop(img: Image.Image, fx: float, fy: float, ax: float = 0.5, ay: float = 0.5
         ) -> Image.Image:
    """Remove *fx* of the width and *fy* of the height; *ax*, *ay* place what is kept
    (0 = against the left/top edge, 1 = against the right/bottom edge)."""
    w, h = img.size
    cw, ch = round(w * (1 - fx)), round(h * (1 - fy))
    x0, y0 = round((w - cw) * ax), round((h - ch) * ay)
    return img.convert("RGB").crop((x0, y0, x0 + cw, y0 + ch))


def caption(img: Image.Image, corner: str = "br") -> Image.Image:
    """A saturated sale sticker with text over a corner (about a third of the width)."""
    out = img.convert("RGB").copy()
    w, h = out.size
    bw, bh = int(w * 0.35), int(h * 0.12)
    x0 = w - bw if "r" in corner else 0
    y0 = h - bh if "b" in corner else 0
    draw = ImageDraw.Draw(out)
    draw.rectangle((x0, y0, x0 + bw, y0 + bh), fill=(200, 30, 40))
    draw.text((x0 + 8, y0 + bh // 3), "SALE -50% shop.example", fill=(255, 255, 255))
    return out


def colour(img: Image.Image) -> Image.Image:
    """Brighter, less contrast, more saturated, warmer: a filter from a social app."""
    out = ImageEnhance.Brightness(img.convert("RGB")).enhance(1.15)
    out = ImageEnhance.Contrast(out).enhance(0.9)
    out = ImageEnhance.Color(out).enhance(1.25)
    a = np.asarray(out).astype(np.int16)
    a[..., 0] += 12
    a[..., 2] -= 8
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def screenshot(img: Image.Image) -> Image.Image:
    """The image shown in a dark window with a light title bar, captured whole."""
    src = img.convert("RGB")
    w, h = src.size
    border, bar = int(0.06 * max(w, h)), int(0.05 * h)
    out = Image.new("RGB", (w + 2 * border, h + 2 * border + bar), (38, 38, 42))
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, out.width, bar), fill=(225, 225, 228))
    draw.text((10, bar // 3), "https://shop.example/new-in", fill=(20, 20, 20))
    out.paste(src, (border, border + bar))
    return out


def flip(img: Image.Image) -> Image.Image:
    return ImageOps.mirror(img.convert("RGB"))


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "as is": lambda img: img.convert("RGB"),
    "jpeg q12": jpeg,
    "quarter size": quarter,
    "crop 20% centred": lambda img: crop(img, 0.2, 0.2),
    "crop 20% corner": lambda img: crop(img, 0.2, 0.2, 0.0, 0.0),
    "crop 15% off-centre": lambda img: crop(img, 0.15, 0.12, 0.3, 0.7),
    "crop 20% one side": lambda img: crop(img, 0.2, 0.0, 1.0, 0.5),
    "caption over corner": caption,
    "colour and brightness": colour,
    "screenshot with border": screenshot,
    "horizontal flip": flip,
}


def noise(seed: int, size: tuple[int, int] = (300, 400), *, smooth: bool = False) -> Image.Image:
    """Random colour noise (fine grain, or blobs when *smooth*): images that match nothing."""
    rng = np.random.default_rng(seed)
    if smooth:
        small = rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)
        return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def png_bytes(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def raw_bytes(img: Image.Image) -> bytes:
    """*img* as an uncompressed file (BMP): lossless like PNG, but encoded in a millisecond
    rather than a tenth of a second, which adds up over hundreds of checks."""
    out = io.BytesIO()
    img.convert("RGB").save(out, "BMP")
    return out.getvalue()
