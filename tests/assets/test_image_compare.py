"""Comparing renders: a common frame, the difference, the changed area, onion skin and wipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reviewer.assets.image_compare import (
    FRAME_BACKGROUND,
    HIGHLIGHT_COLOR,
    PairDifference,
    fit_to_common_frame,
    onion_skin,
    split_index,
    wipe,
)
from reviewer.assets.images import open_display_image


def _render(size: tuple[int, int] = (240, 320), seed: int = 3, noise: float = 6.0) -> np.ndarray:
    """A render-like image: a soft gradient with noise, so that no two pixels are equal."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([60 + x * 120 / width, 70 + y * 100 / height, 90 + 0 * x], axis=2)
    return np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)


def test_an_image_minus_itself_is_zero() -> None:
    image = _render()
    difference = PairDifference(fit_to_common_frame(image, image.copy()))
    assert not difference.absolute.any()
    stats = difference.stats(threshold=0)
    assert stats.changed_pixels == 0 and stats.percent == 0.0 and stats.bounds is None
    assert stats.compared_pixels == image.shape[0] * image.shape[1]
    assert "No pixel differs" in stats.describe()
    assert fit_to_common_frame(image, image).note() is None


def test_a_painted_rectangle_is_found_with_its_area() -> None:
    a = _render()
    b = a.copy()
    b[100:140, 50:110] = (250, 30, 30)  # 40 rows × 60 columns
    difference = PairDifference(fit_to_common_frame(a, b))
    stats = difference.stats(threshold=16)
    assert stats.changed_pixels == 40 * 60
    assert stats.bounds == (50, 100, 60, 40)
    assert stats.percent == pytest.approx(100 * 2400 / (240 * 320))
    assert stats.largest_change > 100
    shown = difference.image("threshold", threshold=16)
    assert (shown[100:140, 50:110] == HIGHLIGHT_COLOR).all()
    assert not (shown[:100] == HIGHLIGHT_COLOR).all(axis=2).any()
    amplified = difference.image("amplified", gain=4)
    assert amplified[120, 80, 0] == 255  # clipped
    assert difference.image("absolute")[0, 0].max() == 0


def test_small_noise_stays_under_the_threshold(tmp_path: Path) -> None:
    a = _render(noise=1.0)  # a clean render is smooth; sensor-like noise is not what we compare
    Image.fromarray(a).save(tmp_path / "a.jpg", quality=90)
    b = np.asarray(open_display_image(tmp_path / "a.jpg"))
    stats = PairDifference(fit_to_common_frame(a, b)).stats()
    assert stats.percent < 0.1  # JPEG noise is not a change


def test_a_double_resolution_render_is_fitted_to_the_same_frame() -> None:
    a = _render((200, 300))
    b = np.asarray(Image.fromarray(a).resize((400, 600), Image.Resampling.BICUBIC))
    pair = fit_to_common_frame(a, b)
    assert pair.size == (400, 600)
    assert pair.a_scale == pytest.approx(2.0) and pair.b_scale == 1.0
    assert "400×600" in (pair.note() or "")
    # Up-scaled and down-scaled copies of one image barely differ.
    assert PairDifference(pair).stats(threshold=40).percent < 1.0


def test_different_aspect_ratios_are_centred_and_only_the_overlap_counts() -> None:
    a = _render((300, 300))
    b = _render((300, 400), seed=4)
    pair = fit_to_common_frame(a, b)
    assert pair.size == (300, 400)
    assert pair.a_box == (0, 50, 300, 300)
    assert (pair.a[0, 0] == FRAME_BACKGROUND).all()
    assert pair.valid.sum() == 300 * 300
    assert "only the part both cover" in (pair.note() or "")
    stats = PairDifference(pair).stats(threshold=0)
    assert stats.compared_pixels == 300 * 300


def test_onion_skin_and_wipe() -> None:
    a = np.zeros((10, 20, 3), dtype=np.uint8)
    b = np.full((10, 20, 3), 200, dtype=np.uint8)
    pair = fit_to_common_frame(a, b)
    assert (onion_skin(pair, 0.0) == 0).all()
    assert (onion_skin(pair, 1.0) == 200).all()
    assert (onion_skin(pair, 0.25) == 50).all()
    vertical = wipe(pair, 0.3, "vertical")
    assert split_index(0.3, 20) == 6
    assert (vertical[:, :6] == 0).all() and (vertical[:, 6:] == 200).all()
    horizontal = wipe(pair, 0.5, "horizontal")
    assert (horizontal[:5] == 0).all() and (horizontal[5:] == 200).all()
    assert (wipe(pair, 0.0) == 200).all() and (wipe(pair, 1.0) == 0).all()


def test_a_registered_crop_lands_where_it_was_cut_and_only_its_area_counts() -> None:
    from reviewer.assets.image_compare import register_found

    render = _render((300, 400), noise=20.0)
    x0, y0, x1, y1 = 45, 40, 285, 380  # what the found image kept of the render
    found = render[y0:y1, x0:x1]
    width, height = x1 - x0, y1 - y0
    box = (-x0 / width, -y0 / height, (300 - x0) / width, (400 - y0) / height)
    pair = register_found(found, render, box, mirrored=False)

    assert pair.size == (300, 400)
    assert pair.a_box == (x0, y0, width, height)
    inside = (slice(y0 + 2, y1 - 2), slice(x0 + 2, x1 - 2))
    assert np.array_equal(pair.a[inside], render[inside])
    assert (pair.a[:y0 - 1] == FRAME_BACKGROUND).all()  # above the crop: nothing was found
    assert pair.valid.sum() == width * height
    assert "shows 68%" in (pair.note() or "")


def test_a_mirrored_framed_copy_is_flipped_back_and_its_frame_cut_off() -> None:
    from reviewer.assets.image_compare import register_found

    render = _render((200, 160), noise=20.0)
    framed = np.zeros((200, 260, 3), dtype=np.uint8)
    framed[:] = (230, 230, 230)
    framed[20:180, 40:240] = render[:, ::-1]  # a mirrored copy, off-centre in a light frame
    # Flipped back, the render lies at x 20..220 of the found image.
    box = (20 / 260, 20 / 200, 220 / 260, 180 / 200)
    pair = register_found(framed, render, box, mirrored=True)

    assert np.array_equal(pair.a, render)
    assert pair.valid.all()
    note = pair.note() or ""
    assert "flipped back" in note and "cut off" in note
