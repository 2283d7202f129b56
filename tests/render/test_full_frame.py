"""Full-detail frames rendered off screen on a thread of their own."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar  # noqa: E402 - after importorskip
from reviewer.render import scene  # noqa: E402
from reviewer.render.full_frame import (  # noqa: E402
    FrameRequest,
    FullFrameRenderer,
    camera_state,
)
from reviewer.render.proxy import prepare_for_display  # noqa: E402

SIZE = (200, 240)


@pytest.fixture
def frames() -> Iterator[tuple[FullFrameRenderer, list[tuple[int, np.ndarray]], threading.Event]]:
    received: list[tuple[int, np.ndarray]] = []
    arrived = threading.Event()

    def on_frame(token: int, image: np.ndarray) -> None:
        received.append((token, image))
        arrived.set()

    renderer = FullFrameRenderer(on_frame)
    yield renderer, received, arrived
    renderer.close()


@pytest.fixture
def display():  # type: ignore[no-untyped-def]
    ball = pv.Sphere(radius=0.3, center=(0, 0.9, 0), theta_resolution=60, phi_resolution=60)
    return prepare_for_display(Avatar.from_polydata(ball), proxy_above=1_000, proxy_triangles=300)


def _request(display, token: int, **changes: object) -> FrameRequest:  # type: ignore[no-untyped-def]
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    try:
        scene.show_avatar(plotter, display)
        options = {
            "token": token,
            "avatar": display.avatar,
            "size": SIZE,
            "camera": camera_state(plotter),
            "mode": "textured",
            "lighting": "studio",
        }
        options.update(changes)
        return FrameRequest(**options)  # type: ignore[arg-type]
    finally:
        plotter.close()


def test_renders_the_full_mesh_off_the_calling_thread(frames, display) -> None:  # type: ignore[no-untyped-def]
    renderer, received, arrived = frames
    renderer.show(display)
    renderer.request(_request(display, 7))
    assert arrived.wait(60)
    token, image = received[0]
    assert token == 7
    assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8
    # The same scene drawn here with the full mesh looks the same.
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    try:
        scene.show_avatar(plotter, display.avatar)
        here = plotter.screenshot(return_img=True)
    finally:
        plotter.close()
    assert np.abs(here.astype(int) - image.astype(int)).mean() < 2.0
    assert renderer.failure is None


def test_render_now_waits_and_follows_mode_and_size(frames, display) -> None:  # type: ignore[no-untyped-def]
    renderer, received, _arrived = frames
    renderer.show(display)
    solid = renderer.render_now(_request(display, 1, mode="solid"))
    wire = renderer.render_now(_request(display, 2, mode="wireframe", size=(100, 120)))
    assert solid.shape == (240, 200, 3) and wire.shape == (120, 100, 3)
    assert received == []  # waited-for frames are not also handed to the callback


def test_a_request_for_another_avatar_is_dropped(frames, display) -> None:  # type: ignore[no-untyped-def]
    renderer, received, arrived = frames
    other = prepare_for_display(Avatar.from_polydata(pv.Cube().triangulate()))
    renderer.show(display)
    renderer.request(_request(other, 3))
    renderer.request(_request(display, 4))
    assert arrived.wait(60)
    assert [token for token, _ in received] == [4]


def test_close_is_prompt_with_nothing_to_do() -> None:
    renderer = FullFrameRenderer(lambda token, image: None)
    renderer.close()
    assert renderer.failure is None
