"""The avatar viewer widget: an interactor it owns, an inline message, a clean close."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("pyvistaqt")
pv = pytest.importorskip("pyvista")

from PySide6.QtCore import Qt  # noqa: E402
from pyvistaqt import QtInteractor  # noqa: E402 - after QT_API and importorskip

from reviewer.assets.meshes import Avatar, load_avatar  # noqa: E402
from reviewer.ui.avatar_viewer import AvatarViewer  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _open_interactors() -> list[QtInteractor]:
    gc.collect()
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, QtInteractor) and not getattr(obj, "_closed", True)
    ]


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_viewer(qtbot, settings) -> Iterator[Callable[..., AvatarViewer]]:  # type: ignore[no-untyped-def]
    before = {id(obj) for obj in _open_interactors()}
    made: list[AvatarViewer] = []

    def make(**options: object) -> AvatarViewer:
        options.setdefault("settings", settings)
        options.setdefault("warm_up", False)
        viewer = AvatarViewer(**options)  # type: ignore[arg-type]
        qtbot.addWidget(viewer)
        viewer.resize(360, 440)
        viewer.show()
        qtbot.waitExposed(viewer)
        made.append(viewer)
        return viewer

    yield make
    for viewer in made:
        viewer.close()
        assert viewer.plotter._closed  # closeEvent closed the interactor and its window
    leaked = [obj for obj in _open_interactors() if id(obj) not in before]
    for obj in leaked:
        obj.close()
    assert not leaked, f"{len(leaked)} QtInteractor(s) left open"


@pytest.fixture
def avatar() -> Avatar:
    glb = CORPUS / "gltf" / "CesiumMan.glb"
    if glb.is_file():
        return load_avatar(glb)
    # A clone without ../shared/corpus still exercises the widget with a generated figure:
    # a body wider than deep under a head, so the front and side views differ.
    body = pv.Box(bounds=(-0.25, 0.25, 0.0, 1.45, -0.1, 0.1), level=4).triangulate()
    head = pv.Sphere(radius=0.12, center=(0.0, 1.58, 0.0)).triangulate()
    return Avatar.from_polydata(body.append_polydata(head))


def _differs(image: np.ndarray, background: np.ndarray) -> np.ndarray:
    return np.abs(image.astype(int) - background.astype(int)).sum(axis=2) > 12


def test_viewer_shows_an_avatar(make_viewer, avatar: Avatar) -> None:
    viewer = make_viewer()
    empty = viewer.grab_image()
    viewer.show_avatar(avatar)
    assert viewer.avatar is avatar
    assert viewer.message is None
    image = viewer.grab_image()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    covered = _differs(image, empty)
    assert covered.mean() > 0.03
    height, width = covered.shape
    assert covered[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].any()


def test_show_message_replaces_the_view(make_viewer, avatar: Avatar, qtbot) -> None:
    viewer = make_viewer()
    viewer.show_avatar(avatar)
    text = "Cannot show twin/look1.glb: not a valid GLB file: it ends early"
    viewer.show_message(text)
    assert viewer.message == text
    assert viewer.avatar is None
    label = viewer.findChild(type(viewer._message), "avatarViewerMessage")
    assert label is not None and label.isVisible() and label.text() == text
    assert not viewer.plotter.isVisible()
    viewer.show_avatar(avatar)
    assert viewer.message is None and viewer.plotter.isVisible()


def test_views_and_modes_render(make_viewer, avatar: Avatar, tmp_path: Path) -> None:
    viewer = make_viewer()
    viewer.show_avatar(avatar)
    front = viewer.grab_image()
    viewer.set_view("left")
    side = viewer.grab_image()
    assert np.abs(front.astype(int) - side.astype(int)).mean() > 0.5
    viewer.set_mode("wireframe")
    viewer.set_lighting("rim")
    viewer.reset_camera()
    viewer.screenshot(tmp_path / "view.png")
    assert (tmp_path / "view.png").stat().st_size > 0


def test_clear_empties_the_view(make_viewer, avatar: Avatar) -> None:
    viewer = make_viewer()
    empty = viewer.grab_image()
    viewer.show_avatar(avatar)
    viewer.clear()
    assert viewer.avatar is None
    assert not _differs(viewer.grab_image(), empty).any()


def test_close_is_safe_twice(make_viewer, avatar: Avatar) -> None:
    viewer = make_viewer()
    viewer.show_avatar(avatar)
    viewer.close()
    viewer.close_interactor()
    assert viewer.plotter._closed
    viewer.show_avatar(avatar)  # ignored after close, not a crash
    with pytest.raises(RuntimeError):
        viewer.grab_image()


# --------------------------------------------------------------------------------------------
# Features: views, turntable, modes, lighting, screenshot, up axis


def _textured_ball(triangles_per_side: int = 40, texture: np.ndarray | None = None) -> Avatar:
    """A ball with texture coordinates, striped unless given *texture*: textured renders
    are far from flat."""
    ball = pv.Sphere(
        radius=0.4, theta_resolution=triangles_per_side, phi_resolution=triangles_per_side
    )
    points = np.asarray(ball.points)
    uvs = np.column_stack(
        [np.arctan2(points[:, 0], points[:, 2]) / (2 * np.pi) + 0.5, points[:, 1] / 0.8 + 0.5]
    ).astype(np.float32)
    ball.point_data["TextureCoordinates"] = uvs
    ball.point_data.active_texture_coordinates_name = "TextureCoordinates"
    if texture is None:
        texture = np.zeros((64, 64, 3), dtype=np.uint8)
        texture[:, ::8] = (200, 60, 40)
        texture[::8, :] = (40, 90, 200)
        texture[texture.sum(axis=2) == 0] = (230, 220, 200)
    return Avatar.from_polydata(ball, texture=texture)


def _camera(viewer: AvatarViewer) -> np.ndarray:
    return np.array(viewer.plotter.renderer.GetActiveCamera().GetPosition())


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_views_move_the_camera(make_viewer, avatar: Avatar) -> None:
    viewer = make_viewer()
    viewer.show_avatar(avatar)
    positions = {}
    for name in ("front", "back", "left", "right", "three_quarter"):
        getattr(viewer, f"view_{name}")()
        positions[name] = _camera(viewer)
    focal = np.array(viewer.plotter.renderer.GetActiveCamera().GetFocalPoint())
    front, back = positions["front"] - focal, positions["back"] - focal
    assert front[2] > 0 > back[2]  # the figure faces +Z: front looks from +Z
    assert positions["left"][0] - focal[0] > 0 > positions["right"][0] - focal[0]
    assert len({tuple(np.round(p, 6)) for p in positions.values()}) == 5
    viewer.reset_camera()
    assert np.allclose(_camera(viewer), positions["front"])


def test_turntable_turns_and_stops(make_viewer, avatar: Avatar, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    viewer = make_viewer()
    viewer.show_avatar(avatar)
    start = _camera(viewer)
    with qtbot.waitSignal(viewer.turntable_changed):
        viewer.toggle_turntable()
    assert viewer.turntable_running
    qtbot.waitUntil(lambda: np.linalg.norm(_camera(viewer) - start) > 1e-3, timeout=3000)
    # It turns about the vertical axis: the camera's height and distance stay.
    focal = np.array(viewer.plotter.renderer.GetActiveCamera().GetFocalPoint())
    moved = _camera(viewer)
    assert moved[1] == pytest.approx(start[1], abs=1e-6)
    assert np.linalg.norm(moved - focal) == pytest.approx(np.linalg.norm(start - focal), rel=1e-6)
    viewer.toggle_turntable()
    assert not viewer.turntable_running
    stopped = _camera(viewer)
    qtbot.wait(120)
    assert np.allclose(_camera(viewer), stopped)
    # Any press on the view (the user taking over) stops it too.
    viewer.start_turntable()
    assert viewer.turntable_running
    centre = QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2)
    QTest.mousePress(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    QTest.mouseRelease(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert not viewer.turntable_running


def _drag_angle(viewer: AvatarViewer, pixels: float = 80.0) -> tuple[float, tuple[int, int]]:
    """Drag across the view with the left button: the angle the camera turned (degrees) and
    the render window's size while the button was down."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    widget = viewer.plotter
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(
        kind: QEvent.Type, offset: float, button: Qt.MouseButton, buttons: Qt.MouseButton
    ) -> None:
        position = centre + QPointF(offset, 0.0)
        event = QMouseEvent(
            kind,
            position,
            widget.mapToGlobal(position),
            button,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, event)

    camera = widget.renderer.GetActiveCamera()
    send(QEvent.Type.MouseButtonPress, 0.0, left, left)
    send(QEvent.Type.MouseMove, 1.0, none, left)
    before = np.array(camera.GetPosition()) - np.array(camera.GetFocalPoint())
    send(QEvent.Type.MouseMove, 1.0 + pixels, none, left)
    after = np.array(camera.GetPosition()) - np.array(camera.GetFocalPoint())
    size = tuple(widget.render_window.GetSize())
    send(QEvent.Type.MouseButtonRelease, 1.0 + pixels, left, none)
    cosine = before @ after / np.linalg.norm(before) / np.linalg.norm(after)
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))), size  # type: ignore[return-value]


def test_moving_camera_draws_fewer_pixels_and_turns_as_much(  # type: ignore[no-untyped-def]
    make_viewer, avatar: Avatar, qtbot, monkeypatch
) -> None:
    from reviewer.ui import avatar_viewer as module

    viewer = make_viewer()
    viewer.resize(900, 700)  # big enough to be drawn smaller while the camera moves
    qtbot.waitUntil(lambda: viewer.plotter.width() >= 880)
    viewer.show_avatar(avatar)
    window = viewer.plotter.render_window
    full = viewer._device_size()
    assert full[0] * full[1] > module.MOTION_PIXELS
    assert tuple(window.GetSize()) == full

    reduced_angle, moving_size = _drag_angle(viewer)
    assert moving_size[0] < full[0] and moving_size[1] < full[1]
    assert moving_size[0] * moving_size[1] <= module.MOTION_PIXELS * 1.05
    # At rest the view is drawn at full resolution again.
    qtbot.waitUntil(lambda: tuple(window.GetSize()) == full, timeout=5_000)

    monkeypatch.setattr(module, "MOTION_PIXELS", 10**9)  # never reduced: the reference
    viewer.reset_camera()
    full_angle, size = _drag_angle(viewer)
    assert size == full
    assert reduced_angle > 1.0
    # Mouse positions are scaled with the window: a drag turns the figure as far either way.
    assert reduced_angle == pytest.approx(full_angle, rel=0.05)


def test_modes_change_the_image(make_viewer) -> None:
    viewer = make_viewer()
    viewer.show_avatar(_textured_ball())
    images = {}
    for mode in ("solid", "wireframe", "textured"):
        viewer.set_mode(mode)
        assert viewer.mode == mode
        images[mode] = viewer.grab_image()
    assert _mean_difference(images["solid"], images["wireframe"]) > 1.0
    # Textured: where the ball is, the pixels are far from one flat colour (solid is shaded
    # clay, smooth across the middle of the ball).
    height, width = images["solid"].shape[:2]
    middle = (slice(height // 3, 2 * height // 3), slice(width // 3, 2 * width // 3))
    spread = {
        mode: images[mode][middle].reshape(-1, 3).astype(float).std(axis=0).mean()
        for mode in ("solid", "textured")
    }
    assert spread["textured"] > 15.0
    assert spread["textured"] > 1.3 * spread["solid"]
    viewer.cycle_mode()
    assert viewer.mode == "solid"


def test_lighting_presets_change_the_image(make_viewer, avatar: Avatar) -> None:
    viewer = make_viewer()
    viewer.show_avatar(avatar, mode="solid")
    renders = {}
    for preset in ("studio", "soft", "rim"):
        viewer.set_lighting(preset)
        assert viewer.lighting == preset
        renders[preset] = viewer.grab_image()
    assert _mean_difference(renders["studio"], renders["rim"]) > 0.5
    assert _mean_difference(renders["studio"], renders["soft"]) > 0.5
    viewer.cycle_lighting()
    assert viewer.lighting == "studio"


def test_screenshot_is_a_png_of_the_view_in_device_pixels(
    make_viewer, avatar: Avatar, tmp_path: Path
) -> None:
    from PIL import Image

    viewer = make_viewer()
    viewer.show_avatar(avatar)
    target = tmp_path / "look.png"
    viewer.screenshot(target)
    with Image.open(target) as image:
        assert image.format == "PNG"
        ratio = viewer.plotter.devicePixelRatioF()
        expected = (round(viewer.plotter.width() * ratio), round(viewer.plotter.height() * ratio))
        assert image.size == expected
        assert image.size == tuple(viewer.plotter.render_window.GetSize())


def test_up_axis_is_remembered_per_asset(make_viewer, settings) -> None:  # type: ignore[no-untyped-def]
    # A figure lying along X: taller than wide only once X is up.
    body = pv.Box(bounds=(0.0, 1.7, -0.2, 0.2, -0.1, 0.1)).triangulate()
    lying = Avatar.from_polydata(body)
    key = "ab" * 32
    first = make_viewer()
    first.show_avatar(lying, asset_key=key)
    assert first.up_axis != "x"
    with_x = []
    first.up_axis_changed.connect(with_x.append)
    first.set_up_axis("x")
    assert with_x == ["x"] and first.up_axis == "x"
    _, _, y0, y1, _, _ = first.avatar.upright_bounds
    assert y1 - y0 == pytest.approx(1.7) and y0 == pytest.approx(0.0, abs=1e-9)
    first.close()

    second = make_viewer()
    second.show_avatar(Avatar.from_polydata(body), asset_key=key)
    assert second.up_axis == "x"
    other = make_viewer()
    other.show_avatar(Avatar.from_polydata(body), asset_key="cd" * 32)
    assert other.up_axis != "x"
    guessed = other.up_axis
    other.cycle_up_axis()
    assert other.up_axis != guessed
    assert settings.value("avatar_viewer/up_axis/" + key) == "x"


def test_the_bar_keeps_its_width_whatever_it_shows(make_viewer, avatar: Avatar, qtbot) -> None:  # type: ignore[no-untyped-def]
    # "Up" becomes "Up Y" when an avatar shows, "Solid" replaces "Textured": a bar that grew
    # with its labels would widen the window, or push a splitter, under the person's hand.
    viewer = make_viewer()
    widths = set()

    def measure() -> None:
        qtbot.wait(20)  # the layout takes in new labels when the event loop runs
        widths.add((viewer.minimumSizeHint().width(), viewer.width()))

    measure()
    viewer.show_avatar(avatar)
    measure()
    for mode in ("solid", "wireframe", "textured"):
        viewer.set_mode(mode)
        measure()
    for preset in ("soft", "rim"):
        viewer.set_lighting(preset)
        measure()
    for axis in ("x", "z"):
        viewer.set_up_axis(axis)
        measure()
    viewer.clear()
    measure()
    assert len(widths) == 1, widths


def test_a_full_frame_is_not_announced_once_the_camera_moved(make_viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    viewer = make_viewer()
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(_textured_ball())
    # A new view at rest is drawn at once (a screenshot paints now); before the event loop
    # runs again, a press starts moving the camera: that frame is no longer what shows.
    viewer.set_view("left")
    viewer.grab_image()
    centre = QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2)
    QTest.mousePress(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    with qtbot.assertNotEmitted(viewer.full_frame_shown, wait=400):
        pass
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        QTest.mouseRelease(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)


# --------------------------------------------------------------------------------------------
# Big avatars: the proxy in motion, the full mesh at rest


OFF_THREAD_FULL_FRAMES = pytest.mark.skipif(
    os.environ.get("REVIEWER_FULL_FRAME_PROCESS") == "0"
    and os.environ.get("REVIEWER_FULL_FRAME_THREAD") != "1",
    reason="off-screen full-detail frames are turned off (REVIEWER_FULL_FRAME_PROCESS=0)",
)


def test_big_avatar_shows_full_detail_first_then_moves_as_its_proxy(  # type: ignore[no-untyped-def]
    make_viewer, qtbot, monkeypatch
) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    # The on-screen path: what the viewer does without an off-screen renderer (turned off,
    # or its process failed to start).
    monkeypatch.setenv("REVIEWER_FULL_FRAME_PROCESS", "0")
    monkeypatch.delenv("REVIEWER_FULL_FRAME_THREAD", raising=False)
    big = _textured_ball(triangles_per_side=90)  # about 16 thousand triangles
    viewer = make_viewer(proxy_above=2_000, proxy_triangles=600)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(big)
    # The full mesh is on screen before any proxy exists; the proxy follows off the GUI thread.
    assert viewer.showing_full_detail
    qtbot.waitUntil(
        lambda: viewer.display is not None and viewer.display.proxy is not None, timeout=20_000
    )
    display = viewer.display
    assert display is not None and display.avatar.parts is big.parts
    assert display.proxy_triangles < big.triangles / 4
    assert viewer.showing_full_detail and not viewer.showing_proxy  # still at rest

    centre = QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2)
    QTest.mousePress(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_proxy and not viewer.showing_full_detail
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        QTest.mouseRelease(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_full_detail and not viewer.showing_proxy


@OFF_THREAD_FULL_FRAMES
def test_proxy_while_moving_full_mesh_at_rest(make_viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    big = _textured_ball(triangles_per_side=90)  # about 16 thousand triangles
    viewer = make_viewer(proxy_above=2_000, proxy_triangles=600)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(big)
        qtbot.waitUntil(lambda: viewer.display is not None, timeout=20_000)
    display = viewer.display
    assert display is not None and display.proxy is not None
    assert display.proxy_triangles < big.triangles / 4
    assert viewer.showing_full_detail and not viewer.showing_proxy
    at_rest = viewer.grab_image()

    centre = QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2)
    QTest.mousePress(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_proxy and not viewer.showing_full_detail
    handle = viewer._handle
    assert handle is not None
    assert all(a.GetVisibility() for a in handle.proxy_actors)
    assert not any(a.GetVisibility() for a in handle.part_actors)
    live = _grab_live(viewer)
    # The proxy is coarser: its silhouette and shading differ a little from the full mesh.
    assert _mean_difference(live, at_rest) > 0.05
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        QTest.mouseRelease(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_full_detail and not viewer.showing_proxy

    # A camera moved from outside (a linked view in a comparison) drops the stale frame.
    camera = viewer.plotter.renderer.GetActiveCamera()
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        camera.Azimuth(30)
        viewer.plotter.update()
        qtbot.waitUntil(lambda: viewer.showing_proxy, timeout=5_000)
    assert viewer.showing_full_detail

    # A view change shows the proxy at once and the full mesh again when it is drawn.
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.set_view("left")
        assert viewer.showing_proxy
    assert viewer.showing_full_detail


@OFF_THREAD_FULL_FRAMES
def test_big_plain_avatar_is_prepared_off_the_gui_thread(make_viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    viewer = make_viewer(proxy_above=2_000, proxy_triangles=600)
    big = _textured_ball(triangles_per_side=90)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(big)
        assert viewer.message is not None  # "Preparing…" while a worker builds the proxy
    qtbot.waitUntil(lambda: viewer.display is not None, timeout=20_000)
    assert viewer.display.proxy is not None  # type: ignore[union-attr]
    assert viewer.showing_full_detail and viewer.message is None
    # The full frame drawn before the proxy existed stays valid: same camera, same avatar.
    assert viewer.avatar is not None and viewer.avatar.parts is big.parts
    front = viewer.grab_image()
    viewer.set_view("front")
    assert _mean_difference(viewer.grab_image(), front) < 1.0


@OFF_THREAD_FULL_FRAMES
def test_a_dead_render_process_falls_back_to_the_screen(make_viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    import signal

    from reviewer.render.frame_process import FrameProcess

    big = _textured_ball(triangles_per_side=90)
    viewer = make_viewer(proxy_above=2_000, proxy_triangles=600)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(big)
        qtbot.waitUntil(lambda: viewer.display is not None, timeout=20_000)
    renderer = viewer._full_frames
    if not isinstance(renderer, FrameProcess):
        pytest.skip("covers the render process")
    assert viewer.showing_full_detail and viewer._handle.detail == "proxy"  # type: ignore[union-attr]
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        os.kill(renderer.pid, signal.SIGKILL)  # type: ignore[arg-type]
    # Drawn on screen now: the full mesh at rest, the proxy in motion, screenshots still work.
    assert viewer._handle.detail == "full" and viewer.showing_full_detail  # type: ignore[union-attr]
    image = viewer.grab_image()
    assert image.shape[:2] == (
        viewer.plotter.render_window.GetSize()[1],
        viewer.plotter.render_window.GetSize()[0],
    )
    viewer.set_view("left")
    assert viewer._handle.detail == "full"  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# A small mesh with a big texture: a stand-in with the halved texture moves, the full texture
# shows at rest. The viewer's texture size is lowered to 64 (the real rule is 1024) so the
# texture can be small: 256² in 2×2-texel squares, halved to 64² it is one flat colour.

_CHECKER_TEXTURE = 256
_CHECKER_PROXY_SIZE = 64


def _checkered_ball() -> Avatar:
    squares = np.indices((_CHECKER_TEXTURE, _CHECKER_TEXTURE)) // 2
    dark = ((squares[0] + squares[1]) % 2).astype(bool)
    checker = np.empty((_CHECKER_TEXTURE, _CHECKER_TEXTURE, 3), dtype=np.uint8)
    checker[dark] = (30, 40, 60)
    checker[~dark] = (235, 225, 200)
    return _textured_ball(40, texture=checker)


def _middle(image: np.ndarray) -> np.ndarray:
    """The middle of the view: on the ball."""
    height, width = image.shape[:2]
    return image[2 * height // 5 : 3 * height // 5, 2 * width // 5 : 3 * width // 5].astype(int)


def _fine_detail(image: np.ndarray) -> float:
    """How much neighbouring pixels differ on the ball: the checker's edges, or next to
    nothing once its texture is halved to a flat colour."""
    return float(np.abs(np.diff(_middle(image), axis=1)).mean())


def _ball_is_drawn(image: np.ndarray) -> bool:
    """The ball (light grey on average, either way) and not the dark background."""
    return float(_middle(image).mean()) > 70


def _overlay_image(viewer: AvatarViewer) -> np.ndarray:
    """The full-detail frame laid over the view, as on screen."""
    from reviewer.ui.avatar_viewer import _qimage_to_array

    return _qimage_to_array(viewer._overlay.pixmap().toImage())


def _assert_texture_proxy(viewer: AvatarViewer, avatar: Avatar) -> None:
    display = viewer.display
    assert display is not None and display.proxy is not None
    # The stand-in is the same mesh (no decimation) with the texture halved.
    assert [p.mesh for p in display.proxy] == [p.mesh for p in avatar.parts]
    assert display.proxy_triangles == avatar.triangles
    texture = display.proxy[0].texture
    assert texture is not None
    assert texture.shape == (_CHECKER_PROXY_SIZE, _CHECKER_PROXY_SIZE, 3)


@OFF_THREAD_FULL_FRAMES
def test_big_texture_moves_halved_and_rests_at_full_detail(make_viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    ball = _checkered_ball()
    viewer = make_viewer(proxy_texture_size=_CHECKER_PROXY_SIZE)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(ball)
        assert viewer.message is not None  # prepared on a worker thread
    qtbot.waitUntil(
        lambda: viewer.display is not None and viewer._handle is not None, timeout=20_000
    )
    _assert_texture_proxy(viewer, ball)
    handle = viewer._handle
    assert handle is not None
    # At rest the full texture is the render process's frame, laid over the stand-in: the GUI
    # process never draws the full-size texture.
    assert viewer.showing_full_detail and not viewer.showing_proxy
    assert handle.detail == "proxy"
    assert not any(a.GetVisibility() for a in handle.part_actors)
    # Picked at rest (the hidden live view is drawn small) as exactly as anywhere: the front
    # of the ball, which stands on the floor, its centre 0.4 m up.
    assert viewer.plotter.render_window.GetSize()[0] < viewer.plotter.width() / 2
    hit = viewer.pick(QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2))
    assert hit is not None
    assert np.linalg.norm(np.subtract(hit, (0.0, 0.4, 0.0))) == pytest.approx(0.4, abs=0.01)
    assert abs(hit[0]) < 0.01 and hit[2] > 0.3
    at_rest = _overlay_image(viewer)
    screenshot = viewer.grab_image()
    assert screenshot.shape == at_rest.shape

    centre = QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2)
    QTest.mousePress(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_proxy and not viewer.showing_full_detail
    live = _grab_live(viewer)
    # The checker at rest and in the screenshot; a flat colour (shading only) in motion.
    assert _fine_detail(at_rest) > 6
    assert _fine_detail(screenshot) > 6
    assert _fine_detail(live) < 1 and _ball_is_drawn(live)
    assert _ball_is_drawn(at_rest) and _ball_is_drawn(screenshot)
    assert viewer.pick(centre) is not None  # the stand-in is picked like the figure
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        QTest.mouseRelease(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_full_detail
    assert _fine_detail(_overlay_image(viewer)) > 6

    # Changing the look or the up axis draws a new full frame of the same avatar.
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.set_mode("solid")
    assert _fine_detail(_overlay_image(viewer)) < 1  # clay: no texture at all
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.set_mode("textured")
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.set_up_axis("z")
    assert viewer.showing_full_detail and viewer.up_axis == "z"
    assert viewer.avatar is not None and viewer.avatar.parts is ball.parts


def test_big_texture_without_the_render_process_is_drawn_on_screen(  # type: ignore[no-untyped-def]
    make_viewer, qtbot, monkeypatch
) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    monkeypatch.setenv("REVIEWER_FULL_FRAME_PROCESS", "0")
    monkeypatch.delenv("REVIEWER_FULL_FRAME_THREAD", raising=False)
    ball = _checkered_ball()
    viewer = make_viewer(proxy_texture_size=_CHECKER_PROXY_SIZE)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(ball)
    # The full texture is drawn on screen at once; the stand-in follows off the GUI thread.
    handle = viewer._handle
    assert handle is not None and handle.detail == "full" and viewer.showing_full_detail
    assert _fine_detail(_grab_live(viewer)) > 6
    qtbot.waitUntil(
        lambda: viewer.display is not None and viewer.display.proxy is not None, timeout=20_000
    )
    _assert_texture_proxy(viewer, ball)
    assert _fine_detail(viewer.grab_image()) > 6

    centre = QPoint(viewer.plotter.width() // 2, viewer.plotter.height() // 2)
    QTest.mousePress(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert viewer.showing_proxy
    live = _grab_live(viewer)
    assert _fine_detail(live) < 1 and _ball_is_drawn(live)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        QTest.mouseRelease(viewer.plotter, Qt.MouseButton.LeftButton, pos=centre)
    assert handle.detail == "full" and viewer.showing_full_detail
    assert _fine_detail(_grab_live(viewer)) > 6


def test_compare_views_draw_big_textures_whole(make_viewer, qtbot) -> None:  # type: ignore[no-untyped-def]
    from reviewer.ui.look_grid import NO_PROXY

    viewer = make_viewer(proxy_above=NO_PROXY, proxy_texture_size=NO_PROXY, proxy_triangles=600)
    with qtbot.waitSignal(viewer.full_frame_shown, timeout=20_000):
        viewer.show_avatar(_checkered_ball())
    assert viewer.display is not None and viewer.display.proxy is None
    assert viewer._handle is not None and viewer._handle.detail == "full"


def _grab_live(viewer: AvatarViewer) -> np.ndarray:
    """What the on-screen view draws right now (the proxy while the camera moves)."""
    from reviewer.ui.avatar_viewer import _qimage_to_array

    return _qimage_to_array(viewer.plotter.grabFramebuffer())


# --------------------------------------------------------------------------------------------
# Corpus and HiDPI


@pytest.mark.corpus
def test_corpus_doorman_stands(make_viewer) -> None:
    doorman = CORPUS / "vtk-data" / "doorman" / "doorman.obj"
    if not doorman.is_file():
        pytest.skip("../shared/corpus is absent")
    viewer = make_viewer()
    empty = viewer.grab_image()
    viewer.show_avatar(load_avatar(doorman), view="front")
    image = viewer.grab_image()
    viewer._handle.floor_actor.SetVisibility(False)  # type: ignore[union-attr]
    viewer._handle.label_actor.SetVisibility(False)  # type: ignore[union-attr]
    image = viewer.grab_image()
    mask = _differs(image, empty)
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    assert rows[-1] - rows[0] > 1.3 * (columns[-1] - columns[0])


_HIDPI_SCRIPT = r"""
import json, os, sys
os.environ["QT_API"] = "pyside6"
import numpy as np
import pyvista as pv
from PySide6.QtCore import QPoint, QSettings
from PySide6.QtWidgets import QApplication
from reviewer.assets.meshes import Avatar
from reviewer.ui.avatar_viewer import AvatarViewer

app = QApplication([])
viewer = AvatarViewer(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat), warm_up=False)
viewer.resize(300, 360)
viewer.show()
for _ in range(50):
    app.processEvents()
body = pv.Box(bounds=(-0.25, 0.25, 0.0, 1.7, -0.1, 0.1), level=3).triangulate()
viewer.show_avatar(Avatar.from_polydata(body))
image = viewer.grab_image()
widget = viewer.plotter
centre = QPoint(widget.width() // 2, widget.height() // 2)
result = {
    "dpr": widget.devicePixelRatioF(),
    "widget": [widget.width(), widget.height()],
    "window": list(widget.render_window.GetSize()),
    "image": [image.shape[1], image.shape[0]],
    "centre_hit": viewer.pick(centre),
    "corner_hit": viewer.pick(QPoint(3, 3)),
    "inside_hit": viewer.pick(QPoint(widget.width() // 2 - 25, widget.height() // 2)),
    "outside_hit": viewer.pick(QPoint(widget.width() // 2 - 80, widget.height() // 2)),
    "half_width_px": None,
}
# Where the box's left edge lands on screen, in logical pixels (VTK works in device pixels).
renderer = widget.renderer
renderer.SetWorldPoint(-0.25, 0.85, 0.1, 1.0)
renderer.WorldToDisplay()
result["half_width_px"] = widget.width() / 2 - renderer.GetDisplayPoint()[0] / result["dpr"]
viewer.close()
print(json.dumps(result))
"""


@pytest.mark.parametrize("scale", ["2", "1.5"])
def test_hidpi_view_fills_the_widget_and_picks_right(tmp_path: Path, scale: str) -> None:
    import json
    import subprocess
    import sys

    env = dict(os.environ, QT_SCALE_FACTOR=scale, QT_API="pyside6")
    script = tmp_path / "hidpi.py"
    script.write_text(_HIDPI_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "s.ini")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = result["dpr"]
    assert ratio == pytest.approx(float(scale))
    expected = [round(n * ratio) for n in result["widget"]]
    assert result["window"] == expected  # VTK draws every device pixel of the widget
    # pyvistaqt sizes VTK's window with Python's round() and Qt its framebuffer with qRound():
    # at 1.5× a widget 331 pixels tall is 496.5 device pixels, 496 for one and 497 for the
    # other. At whole scale factors they agree exactly.
    tolerance = 0 if ratio.is_integer() else 1
    assert all(abs(a - b) <= tolerance for a, b in zip(result["image"], expected, strict=True))
    # The box is 0.5 m wide, centred: the middle of the view is on it, the corner is not;
    # 25 logical pixels left of the middle is still on it, 80 is past its edge (about 45).
    assert 30 < result["half_width_px"] < 75
    assert result["centre_hit"] is not None
    assert result["corner_hit"] is None
    assert result["inside_hit"] is not None
    assert result["inside_hit"][0] < result["centre_hit"][0]
    assert result["outside_hit"] is None
