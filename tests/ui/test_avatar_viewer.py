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
def make_viewer(qtbot) -> Iterator[Callable[[], AvatarViewer]]:  # type: ignore[no-untyped-def]
    before = {id(obj) for obj in _open_interactors()}
    made: list[AvatarViewer] = []

    def make() -> AvatarViewer:
        viewer = AvatarViewer()
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
