"""Full-detail frames rendered off screen, on a thread or in a process of their own."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar  # noqa: E402 - after importorskip
from reviewer.render import scene  # noqa: E402
from reviewer.render.frame_process import PROCESS_NAME, FrameProcess  # noqa: E402
from reviewer.render.full_frame import (  # noqa: E402
    FrameRequest,
    FullFrameRenderer,
    camera_state,
)
from reviewer.render.proxy import prepare_for_display  # noqa: E402

SIZE = (200, 240)


RENDERERS = [FrameProcess, FullFrameRenderer]


@pytest.fixture(autouse=True)
def _no_render_process_left() -> Iterator[None]:
    yield
    import multiprocessing

    left = [p for p in multiprocessing.active_children() if p.name == PROCESS_NAME]
    for child in left:
        child.kill()
    assert not left


@pytest.fixture(params=RENDERERS, ids=["process", "thread"])
def frames(request):  # type: ignore[no-untyped-def]
    received: list[tuple[int, np.ndarray]] = []
    arrived = threading.Event()

    def on_frame(token: int, image: np.ndarray) -> None:
        received.append((token, image))
        arrived.set()

    renderer = request.param(on_frame)
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


@pytest.mark.parametrize("kind", RENDERERS, ids=["process", "thread"])
def test_close_is_prompt_with_nothing_to_do(kind) -> None:  # type: ignore[no-untyped-def]
    import time

    renderer = kind(lambda token, image: None)
    started = time.perf_counter()
    renderer.close()
    assert time.perf_counter() - started < 2.0
    assert renderer.failure is None


def test_the_render_process_shows_what_it_is_sent_and_lets_go_of_it(display) -> None:  # type: ignore[no-untyped-def]
    import multiprocessing

    renderer = FrameProcess(lambda token, image: None)
    try:
        assert renderer.ready.wait(60) and renderer.failure is None
        renderer.warm_up(display)
        renderer.show(display)
        first = renderer.render_now(_request(display, 1))
        # Another avatar, then the first again: each arrives whole (not a stale block).
        other = prepare_for_display(Avatar.from_polydata(pv.Cube().triangulate()))
        renderer.show(other)
        assert renderer.render_now(_request(other, 2)).mean() != first.mean()
        renderer.show(display)
        again = renderer.render_now(_request(display, 3))
        assert np.array_equal(first, again)
        with pytest.raises(RuntimeError):  # a frame of an avatar not shown never comes
            renderer.render_now(_request(other, 4), timeout=30)
    finally:
        renderer.close()
    assert renderer._blocks == {}  # every shared-memory block unlinked
    assert not [p for p in multiprocessing.active_children() if p.name == PROCESS_NAME]


def test_a_dead_render_process_is_a_failure_not_a_hang(display) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal

    failed = threading.Event()
    renderer = FrameProcess(lambda token, image: None, on_failure=failed.set)
    try:
        assert renderer.ready.wait(60)
        renderer.show(display)
        os.kill(renderer.pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert failed.wait(30)
        assert renderer.failure is not None
        with pytest.raises(RuntimeError):
            renderer.render_now(_request(display, 1), timeout=30)
    finally:
        renderer.close()


def test_the_render_process_ends_when_its_parent_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys
    import time

    script = (
        "import os, sys\n"
        "from reviewer.render.frame_process import FrameProcess\n"
        "renderer = FrameProcess(lambda token, image: None)\n"
        "renderer.ready.wait(60)\n"
        "print(renderer.pid, flush=True)\n"
        "os._exit(0)  # no clean-up at all, as if killed\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120
    )
    child = int(result.stdout.split()[0])
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        raise AssertionError("the render process outlived its parent")


def test_no_room_in_shared_memory_is_a_failure_not_a_crash(display, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reviewer.render import frame_process

    failed = threading.Event()
    monkeypatch.setattr(frame_process, "_SHM_SPARE", 1 << 62)
    renderer = FrameProcess(lambda token, image: None, on_failure=failed.set)
    try:
        renderer.show(display)
        assert failed.wait(30)
        assert isinstance(renderer.failure, MemoryError)
    finally:
        renderer.close()


def test_a_stored_avatar_reaches_the_render_process_as_its_file(display, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reviewer.assets.stored_avatar import read_stored, write_stored

    write_stored(display.avatar, tmp_path / "ball.twinavatar")
    stored = prepare_for_display(read_stored(tmp_path / "ball.twinavatar"))
    renderer = FrameProcess(lambda token, image: None)
    try:
        renderer.show(display)
        copied = renderer.render_now(_request(display, 1))
        renderer.show(stored)
        mapped = renderer.render_now(_request(stored, 2))
    finally:
        renderer.close()
    assert np.array_equal(copied, mapped)
    assert copied.std() > 5  # a figure, not an empty frame


def test_a_stored_avatar_is_described_by_its_file_name_alone(display, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reviewer.assets.stored_avatar import read_stored, write_stored
    from reviewer.render.frame_process import _encode

    write_stored(display.avatar, tmp_path / "ball.twinavatar")
    stored = prepare_for_display(read_stored(tmp_path / "ball.twinavatar"))
    description, block = _encode(stored)
    assert block is None and description == {"file": str(tmp_path / "ball.twinavatar")}
    description, block = _encode(display)
    try:
        assert block is not None and block.size >= display.avatar.points * 12
    finally:
        block.close()
        block.unlink()
