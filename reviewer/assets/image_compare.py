"""Comparing two renders pixel by pixel: a common frame, differences, onion skin and wipe.

Qt-free numpy on RGB uint8 arrays (first row at the top), as
:func:`reviewer.assets.images.open_display_image` decodes them (EXIF orientation applied,
converted to sRGB). The viewer in ``reviewer.ui`` only shows what these functions make.

Two renders rarely have the same size: a revision may come back at twice the resolution or
cropped to another aspect. :func:`fit_to_common_frame` scales each to fit, whole and centred,
into one frame the size of the larger image, and remembers where each landed, so that a pixel
of the frame means the same place in both. Only pixels covered by both images count in the
statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from PIL import Image

DifferenceStyle = Literal["absolute", "amplified", "threshold"]
DIFFERENCE_STYLES: tuple[str, ...] = get_args(DifferenceStyle)
Orientation = Literal["vertical", "horizontal"]
"""A "vertical" split line puts A on the left and B on the right; "horizontal", A above B."""

FRAME_BACKGROUND = (18, 19, 21)  # where neither image reaches: the viewer's own backdrop
HIGHLIGHT_COLOR = (255, 74, 150)  # changed pixels over a dimmed grey copy of A
DEFAULT_THRESHOLD = 16
"""A change up to this (0-255, largest channel) is taken for compression noise: saving one of
the demo renders again as JPEG at quality 90 moves its pixels by up to 15-17, and 0.001 % of
them by more than 12."""


@dataclass(frozen=True, eq=False)
class FittedPair:
    """Two images in one frame: ``a`` and ``b`` are (H, W, 3) uint8 of the same size."""

    a: np.ndarray
    b: np.ndarray
    a_box: tuple[int, int, int, int]
    """Where image A lies in the frame: x, y, width, height."""
    b_box: tuple[int, int, int, int]
    a_scale: float
    b_scale: float
    a_size: tuple[int, int]
    """The images' own sizes (width, height) before fitting."""
    b_size: tuple[int, int]
    placed_note: str | None = None
    """How A was placed on B's frame, when it was registered there (:func:`register_found`)."""

    @property
    def size(self) -> tuple[int, int]:
        """The frame's width and height."""
        return int(self.a.shape[1]), int(self.a.shape[0])

    @property
    def valid(self) -> np.ndarray:
        """(H, W) bool: the pixels covered by both images."""
        mask = np.zeros(self.a.shape[:2], dtype=bool)
        x0 = max(self.a_box[0], self.b_box[0])
        y0 = max(self.a_box[1], self.b_box[1])
        x1 = min(self.a_box[0] + self.a_box[2], self.b_box[0] + self.b_box[2])
        y1 = min(self.a_box[1] + self.a_box[3], self.b_box[1] + self.b_box[3])
        if x1 > x0 and y1 > y0:
            mask[y0:y1, x0:x1] = True
        return mask

    @property
    def same_size(self) -> bool:
        return self.a_size == self.b_size

    def note(self, a_label: str = "A", b_label: str = "B") -> str | None:
        """A sentence saying how the images were fitted, or None when nothing was needed."""
        if self.placed_note is not None:
            return self.placed_note
        if self.same_size:
            return None
        words = []
        for label, size, scale in (
            (a_label, self.a_size, self.a_scale),
            (b_label, self.b_size, self.b_scale),
        ):
            if abs(scale - 1.0) > 1e-6:
                words.append(f"{label} ({size[0]}×{size[1]}) scaled ×{scale:.2f}")
        fitted = "; ".join(words) if words else "neither image scaled"
        aspect = ""
        if self.a_box[2:] != self.b_box[2:]:
            aspect = " The shapes differ, so only the part both cover is compared."
        return (
            f"Different sizes, fitted to a common {self.size[0]}×{self.size[1]} frame: "
            f"{fitted}.{aspect}"
        )


def as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of a Pillow image or an array (an alpha channel is composited over the
    frame background, as the viewer shows it)."""
    if isinstance(image, np.ndarray):
        array = image
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        if array.shape[2] == 4:
            return _over_background(array)
        return np.ascontiguousarray(array[:, :, :3], dtype=np.uint8)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return _over_background(np.asarray(image.convert("RGBA")))
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _over_background(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    background = np.array(FRAME_BACKGROUND, dtype=np.float32)
    mixed = rgba[:, :, :3].astype(np.float32) * alpha + background * (1.0 - alpha)
    return np.round(mixed).astype(np.uint8)


def fit_to_common_frame(
    a: Image.Image | np.ndarray, b: Image.Image | np.ndarray, *, max_side: int | None = None
) -> FittedPair:
    """Put *a* and *b* in one frame the size of the larger of the two (by pixel count), each
    scaled uniformly to fit inside it and centred.

    With *max_side*, the frame is scaled down so that neither side exceeds it (a 45-megapixel
    photograph need not be compared at full size on screen).
    """
    first = as_rgb_array(a)
    second = as_rgb_array(b)
    sizes = [(first.shape[1], first.shape[0]), (second.shape[1], second.shape[0])]
    frame = max(sizes, key=lambda s: (s[0] * s[1], s[0]))
    if max_side is not None and max(frame) > max_side:
        shrink = max_side / max(frame)
        frame = (max(1, round(frame[0] * shrink)), max(1, round(frame[1] * shrink)))
    placed = [_place(image, frame) for image in (first, second)]
    (fa, a_box, a_scale), (fb, b_box, b_scale) = placed
    return FittedPair(fa, fb, a_box, b_box, a_scale, b_scale, sizes[0], sizes[1])


def _place(
    image: np.ndarray, frame: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int], float]:
    height, width = image.shape[:2]
    scale = min(frame[0] / width, frame[1] / height)
    new_w = max(1, round(width * scale))
    new_h = max(1, round(height * scale))
    if (new_w, new_h) != (width, height):
        resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
        image = np.asarray(Image.fromarray(image).resize((new_w, new_h), resample))
    x = (frame[0] - new_w) // 2
    y = (frame[1] - new_h) // 2
    if (new_w, new_h) == frame:
        return np.ascontiguousarray(image), (0, 0, new_w, new_h), scale
    canvas = np.empty((frame[1], frame[0], 3), dtype=np.uint8)
    canvas[:] = FRAME_BACKGROUND
    canvas[y : y + new_h, x : x + new_w] = image
    return canvas, (x, y, new_w, new_h), scale


def register_found(
    found: Image.Image | np.ndarray,
    render: Image.Image | np.ndarray,
    render_box: tuple[float, float, float, float],
    *,
    mirrored: bool,
    max_side: int | None = None,
) -> FittedPair:
    """A found image (A) laid onto a render's frame (B) where a check placed it, so that the
    wipe, the difference and the onion skin show what was changed, not how it was framed.

    *render_box* is where the render lies on the found image (mirrored first when *mirrored*),
    as fractions of its width and height (:attr:`reviewer.assets.fingerprints.Alignment.
    render_box`). A keeps only what lies on the render: a border or a screenshot's window is
    cut off, and where a cropped found image does not reach, the frame shows its backdrop and
    those pixels are left out of the statistics.
    """
    found_rgb = as_rgb_array(found)
    render_rgb = as_rgb_array(render)
    frame = (render_rgb.shape[1], render_rgb.shape[0])
    if max_side is not None and max(frame) > max_side:
        shrink = max_side / max(frame)
        frame = (max(1, round(frame[0] * shrink)), max(1, round(frame[1] * shrink)))
    b, b_box, b_scale = _place(render_rgb, frame)
    image = Image.fromarray(found_rgb)
    if mirrored:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    fw, fh = image.size
    left, top, right, bottom = (render_box[0] * fw, render_box[1] * fh,
                                render_box[2] * fw, render_box[3] * fh)
    if right - left < 1 or bottom - top < 1:
        raise ValueError(f"the render's place on the found image is empty: {render_box}")
    a = np.asarray(image.transform(frame, Image.Transform.EXTENT, (left, top, right, bottom),
                                   resample=Image.Resampling.BICUBIC,
                                   fillcolor=FRAME_BACKGROUND))
    # Where the found image itself lands in the frame.
    sx, sy = frame[0] / (right - left), frame[1] / (bottom - top)
    x0, y0 = max(0, round(-left * sx)), max(0, round(-top * sy))
    x1, y1 = min(frame[0], round((fw - left) * sx)), min(frame[1], round((fh - top) * sy))
    shown = max(0.0, min(1.0, ((x1 - x0) * (y1 - y0)) / (frame[0] * frame[1])))
    how = ["The found image, "]
    if mirrored:
        how.append("flipped back, ")
    how.append(f"placed where it lies on the render (scaled ×{sx:.2f}); ")
    if shown < 0.995:
        how.append(f"it shows {shown:.0%} of the render")
    else:
        how.append("it shows the whole render")
    if left > 0.5 or top > 0.5 or right < fw - 0.5 or bottom < fh - 0.5:
        how.append(", and what lay around it (a border, a caption) is cut off")
    how.append(".")
    return FittedPair(
        np.ascontiguousarray(a), b, (x0, y0, max(0, x1 - x0), max(0, y1 - y0)), b_box,
        sx, b_scale, (fw, fh), (render_rgb.shape[1], render_rgb.shape[0]),
        placed_note="".join(how),
    )


@dataclass(frozen=True)
class ChangeStats:
    """What a threshold finds: how many pixels changed, where, and what share of the frame."""

    threshold: int
    changed_pixels: int
    compared_pixels: int
    largest_change: int
    """0-255: the largest difference of any channel of any pixel."""
    bounds: tuple[int, int, int, int] | None
    """x, y, width, height of the changed pixels in the frame, or None."""

    @property
    def percent(self) -> float:
        if self.compared_pixels == 0:
            return 0.0
        return 100.0 * self.changed_pixels / self.compared_pixels

    def describe(self) -> str:
        if self.changed_pixels == 0:
            return f"No pixel differs by more than {self.threshold} (of 255)."
        return (
            f"{self.percent:.2f} % of the compared area changed ({self.changed_pixels:,} "
            f"pixels over {self.threshold}); largest change {self.largest_change} of 255."
        )


class PairDifference:
    """The difference of a fitted pair, computed once and shown many ways."""

    def __init__(self, pair: FittedPair) -> None:
        self.pair = pair
        self.valid = pair.valid
        delta = np.abs(pair.a.astype(np.int16) - pair.b.astype(np.int16)).astype(np.uint8)
        delta[~self.valid] = 0
        self.absolute = delta
        """(H, W, 3) uint8: |A − B| per channel, zero where the images do not both reach."""
        self.magnitude = delta.max(axis=2)
        """(H, W) uint8: the largest channel difference of each pixel."""

    def changed(self, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
        """(H, W) bool: pixels whose largest channel difference exceeds *threshold*."""
        return self.magnitude > threshold

    def stats(self, threshold: int = DEFAULT_THRESHOLD) -> ChangeStats:
        mask = self.changed(threshold)
        count = int(np.count_nonzero(mask))
        bounds = None
        if count:
            rows = np.nonzero(mask.any(axis=1))[0]
            cols = np.nonzero(mask.any(axis=0))[0]
            bounds = (
                int(cols[0]),
                int(rows[0]),
                int(cols[-1] - cols[0] + 1),
                int(rows[-1] - rows[0] + 1),
            )
        return ChangeStats(
            threshold=threshold,
            changed_pixels=count,
            compared_pixels=int(np.count_nonzero(self.valid)),
            largest_change=int(self.magnitude.max()) if self.magnitude.size else 0,
            bounds=bounds,
        )

    def image(
        self,
        style: DifferenceStyle = "threshold",
        *,
        gain: float = 8.0,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> np.ndarray:
        """(H, W, 3) uint8 to show: the absolute difference, the difference times *gain*, or a
        dimmed grey copy of A with the pixels over *threshold* painted in the highlight
        colour."""
        if style == "absolute":
            return self.absolute
        if style == "amplified":
            return amplified(self.absolute, gain)
        if style == "threshold":
            return highlighted(self.pair.a, self.changed(threshold))
        raise ValueError(
            f"unknown difference style {style!r}; expected one of {', '.join(DIFFERENCE_STYLES)}"
        )


def amplified(difference: np.ndarray, gain: float) -> np.ndarray:
    """*difference* times *gain*, clipped: small changes made visible."""
    return np.clip(difference.astype(np.float32) * float(gain), 0, 255).astype(np.uint8)


def highlighted(base: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A dimmed grey copy of *base* with the pixels of *mask* in :data:`HIGHLIGHT_COLOR`: the
    context stays readable and the change is the only colour on screen."""
    luma = base[:, :, 0] * 0.299 + base[:, :, 1] * 0.587 + base[:, :, 2] * 0.114
    grey = (luma * 0.45 + 12.0).astype(np.uint8)
    out = np.repeat(grey[:, :, None], 3, axis=2)
    out[mask] = HIGHLIGHT_COLOR
    return out


def onion_skin(pair: FittedPair, opacity: float) -> np.ndarray:
    """B laid over A at *opacity* (0: only A, 1: only B)."""
    t = float(np.clip(opacity, 0.0, 1.0))
    mixed = pair.a.astype(np.float32) * (1.0 - t) + pair.b.astype(np.float32) * t
    return np.round(mixed).astype(np.uint8)


def split_index(position: float, length: int) -> int:
    """The first pixel column (or row) of B for a split at *position* (0-1) across *length*
    pixels: A covers pixels [0, index), B covers [index, length)."""
    return int(np.clip(round(float(position) * length), 0, length))


def wipe(pair: FittedPair, position: float, orientation: Orientation = "vertical") -> np.ndarray:
    """A on one side of a split at *position* (0-1 across the frame), B on the other."""
    out = pair.a.copy()
    if orientation == "vertical":
        index = split_index(position, pair.size[0])
        out[:, index:] = pair.b[:, index:]
    elif orientation == "horizontal":
        index = split_index(position, pair.size[1])
        out[index:] = pair.b[index:]
    else:
        raise ValueError(f"unknown orientation {orientation!r}; expected vertical or horizontal")
    return out


__all__ = [
    "DEFAULT_THRESHOLD",
    "DIFFERENCE_STYLES",
    "FRAME_BACKGROUND",
    "HIGHLIGHT_COLOR",
    "ChangeStats",
    "DifferenceStyle",
    "FittedPair",
    "Orientation",
    "PairDifference",
    "amplified",
    "as_rgb_array",
    "fit_to_common_frame",
    "highlighted",
    "onion_skin",
    "split_index",
    "wipe",
]
