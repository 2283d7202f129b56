"""Studio stills: off-screen renders of an avatar, framed and lit, then finished with Pillow."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reviewer.assets.figure import BodySpec, Garment, OutfitSpec, build_figure
from reviewer.assets.gltf_writer import write_glb
from reviewer.render.stills import StillRenderer, finish_still, render_still

SIZE = (300, 400)


@pytest.fixture(scope="module")
def avatar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    body = BodySpec(height=1.75, hair_style="bun", hair_color=(0.7, 0.55, 0.35))
    outfit = OutfitSpec(
        top=Garment("tee", (0.85, 0.2, 0.2)), bottom=Garment("wide", (0.15, 0.2, 0.4), "denim")
    )
    path = tmp_path_factory.mktemp("avatar") / "look.glb"
    write_glb(path, build_figure(body, outfit))
    return path


@pytest.fixture(scope="module")
def renderer() -> Iterator[StillRenderer]:
    with StillRenderer(SIZE) as still_renderer:
        yield still_renderer


@pytest.fixture(scope="module")
def stills(renderer: StillRenderer, avatar: Path) -> dict[str, Image.Image]:
    return {view: renderer.render(avatar, view) for view in ("front", "side", "back")}


def _alpha_box(image: Image.Image) -> tuple[int, int, int, int]:
    box = image.getchannel("A").point(lambda a: 255 if a > 127 else 0).getbbox()
    assert box is not None
    return box


def test_render_is_rgba_with_a_transparent_background(stills: dict[str, Image.Image]) -> None:
    image = stills["front"]
    assert image.mode == "RGBA" and image.size == SIZE
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0
    covered = np.count_nonzero(alpha > 127) / alpha.size
    assert 0.05 < covered < 0.5


def test_the_whole_figure_is_framed(stills: dict[str, Image.Image]) -> None:
    for image in stills.values():
        left, top, right, bottom = _alpha_box(image)
        height = bottom - top
        assert 0.75 * SIZE[1] < height < 0.88 * SIZE[1]  # head and feet in the frame
        assert top > 0.03 * SIZE[1] and bottom < 0.92 * SIZE[1]  # room for the caption
        assert abs((left + right) / 2 - SIZE[0] / 2) < 0.08 * SIZE[0]


def test_views_turn_the_camera(stills: dict[str, Image.Image]) -> None:
    front, side, _back = (_alpha_box(stills[v]) for v in ("front", "side", "back"))
    assert side[2] - side[0] < 0.7 * (front[2] - front[0])  # seen from the side: narrower
    front_pixels = np.asarray(stills["front"]).astype(int)
    back_pixels = np.asarray(stills["back"]).astype(int)
    assert np.abs(front_pixels - back_pixels).mean() > 1.0


def test_colours_of_the_outfit_survive_lighting(stills: dict[str, Image.Image]) -> None:
    pixels = np.asarray(stills["front"]).reshape(-1, 4).astype(int)
    opaque = pixels[pixels[:, 3] == 255]
    red = (opaque[:, 0] > opaque[:, 1] + 60) & (opaque[:, 0] > opaque[:, 2] + 60)
    blue = opaque[:, 2] > opaque[:, 0] + 25
    assert red.mean() > 0.05 and blue.mean() > 0.05
    assert opaque[:, :3].max() > 150  # lit, not murky


def test_the_same_render_twice_gives_the_same_pixels(
    renderer: StillRenderer, avatar: Path, stills: dict[str, Image.Image]
) -> None:
    assert renderer.render(avatar, "front").tobytes() == stills["front"].tobytes()


def test_finishing_makes_a_campaign_still(stills: dict[str, Image.Image]) -> None:
    finished = finish_still(stills["front"], "SS27 Denim", detail="Look 1 · front")
    assert finished.mode == "RGB" and finished.size == SIZE
    pixels = np.asarray(finished).astype(int)
    assert pixels.std() > 20  # a figure on a backdrop, not a flat fill
    corner = pixels[5, 5]
    centre_wall = pixels[int(SIZE[1] * 0.3), 10]
    assert corner.sum() < centre_wall.sum()  # the vignette darkens the corners
    strip = pixels[int(SIZE[1] * 0.955) :, : SIZE[0] // 2]
    assert strip.min() < 120 and strip.max() > 230  # dark caption text on a light strip
    # The backdrop is warm paper, not white or black.
    assert 150 < centre_wall.mean() < 250


def test_finishing_is_deterministic_and_takes_a_tint(stills: dict[str, Image.Image]) -> None:
    def png(image: Image.Image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()

    plain = finish_still(stills["side"], "Vista Sun 2027")
    assert png(plain) == png(finish_still(stills["side"], "Vista Sun 2027"))
    cool = np.asarray(finish_still(stills["side"], "Vista Sun 2027", tint=(200, 215, 240)))
    assert cool[60, 20, 2] > cool[60, 20, 0]  # a blue wall


def test_opaque_images_only_get_the_caption() -> None:
    photo = Image.new("RGB", SIZE, (90, 120, 150))
    finished = finish_still(photo, "Found in the wild")
    pixels = np.asarray(finished)
    assert tuple(pixels[SIZE[1] // 2, SIZE[0] // 2]) == (90, 120, 150)
    assert pixels[-5:].mean() > 150  # the strip


def test_render_still_opens_and_closes_its_own_renderer(avatar: Path) -> None:
    image = render_still(avatar, view="three_quarter", size=(150, 200))
    assert image.size == (150, 200) and image.getchannel("A").getbbox() is not None


def test_misuse_is_refused(avatar: Path) -> None:
    still_renderer = StillRenderer((60, 80))
    with pytest.raises(ValueError, match="unknown view"):
        still_renderer.render(avatar, "top_down")  # type: ignore[arg-type]
    still_renderer.close()
    still_renderer.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        still_renderer.render(avatar, "front")
