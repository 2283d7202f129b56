"""The bare off-screen view draws what a pyvista plotter draws, without ``pyvista.plotting``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar, load_avatar  # noqa: E402 - after importorskip
from reviewer.render import scene  # noqa: E402
from reviewer.render.full_frame import FrameRequest, FrameScene, camera_state  # noqa: E402
from reviewer.render.offscreen import OffscreenView, rgb  # noqa: E402
from reviewer.render.proxy import prepare_for_display  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
SIZE = (240, 300)


def _textured_ball() -> Avatar:
    """A sphere with normals, UVs and a coloured checker texture."""
    ball = pv.Sphere(radius=0.3, center=(0.0, 0.9, 0.0), theta_resolution=48, phi_resolution=36)
    ball.point_data.clear()
    ball = ball.compute_normals()
    centred = ball.points - np.array([0.0, 0.9, 0.0])
    u = np.arctan2(centred[:, 0], centred[:, 2]) / (2 * np.pi) + 0.5
    v = centred[:, 1] / 0.6 + 0.5
    ball.active_texture_coordinates = np.column_stack([u, v]).astype(np.float32)
    checker = (((np.indices((64, 64)).sum(axis=0) // 8) % 2) * 180 + 40).astype(np.uint8)
    texture = np.dstack([checker, 255 - checker, np.full_like(checker, 90)])
    return Avatar.from_polydata(ball, texture=texture)


def _corpus_avatar(name: str) -> Avatar:
    path = {
        "doorman": CORPUS / "vtk-data" / "doorman" / "doorman.obj",
        "cesium": CORPUS / "gltf" / "CesiumMan.glb",
    }[name]
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return load_avatar(path)


def _with_plotter(avatar: Avatar, mode: str, lighting: str) -> tuple[np.ndarray, object]:
    """The frame of the scene drawn the previous way, in an off-screen pyvista plotter; and
    that plotter's camera."""
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    try:
        scene.show_avatar(plotter, avatar, mode=mode, lighting=lighting, view="three_quarter")  # type: ignore[arg-type]
        plotter.render()
        return plotter.screenshot(return_img=True), camera_state(plotter)
    finally:
        plotter.close()


@pytest.mark.parametrize(
    "which",
    [
        "generated",
        pytest.param("doorman", marks=pytest.mark.corpus),
        pytest.param("cesium", marks=pytest.mark.corpus),
    ],
)
def test_frame_scene_draws_what_a_pyvista_plotter_draws(which: str) -> None:
    avatar = _textured_ball() if which == "generated" else _corpus_avatar(which)
    frames = FrameScene()
    try:
        frames.show(prepare_for_display(avatar))
        for mode in scene.RENDER_MODES:
            for lighting in scene.LIGHTING_PRESETS:
                expected, camera = _with_plotter(avatar, mode, lighting)
                request = FrameRequest(1, avatar, SIZE, camera, mode, lighting)  # type: ignore[arg-type]
                image = frames.render(request)
                assert image is not None and image.shape == expected.shape
                difference = np.abs(image.astype(int) - expected.astype(int))
                # Measured: not one pixel differs. A little slack for a driver's rounding.
                assert difference.mean() < 0.01, (mode, lighting, difference.mean())
                assert (difference.max(axis=2) > 2).mean() < 0.001, (mode, lighting)
    finally:
        frames.close()


def test_a_textured_figure_shows_its_texture_in_the_bare_view() -> None:
    """Not just the background: the figure is there, textured, lit, on its floor."""
    view = OffscreenView(SIZE)
    try:
        scene.prepare_plotter(view)
        view.render_window.Render()
        background = _grab(view)
        scene.show_avatar(view, _textured_ball())
        assert set(view.actors) >= {scene.FLOOR_ACTOR_NAME, scene.LABEL_ACTOR_NAME}
        assert view.renderer.GetLights().GetNumberOfItems() == 3
        assert view.render_window.GetMultiSamples() == 0 and not view.renderer.GetUseOIT()
        view.render_window.Render()
        image = _grab(view)
    finally:
        view.close()
    figure = np.abs(image.astype(int) - background.astype(int)).sum(axis=2) > 12
    assert figure[SIZE[1] // 2, SIZE[0] // 2]
    assert image[figure].std(axis=0).mean() > 8.0  # the checker, not one flat colour


def _grab(view: OffscreenView) -> np.ndarray:
    from reviewer.render.full_frame import grab_frame

    return grab_frame(view.render_window)


def test_renders_through_the_window_class_of_an_off_screen_pyvista_plotter() -> None:
    plotter = pv.Plotter(off_screen=True, window_size=(32, 32))
    view = OffscreenView((32, 32))
    try:
        plotter.render()
        view.render_window.Render()
        assert view.render_window.GetClassName() == plotter.render_window.GetClassName()
        assert view.render_window.GetOffScreenRendering()
    finally:
        view.close()
        plotter.close()


def test_actors_are_named_and_replaced() -> None:
    from vtkmodules.vtkRenderingCore import vtkActor

    view = OffscreenView()
    try:
        first, second = vtkActor(), vtkActor()
        view.add_actor(first, name="a")
        view.add_actor(second, name="a")
        assert view.actors == {"a": second}
        assert view.renderer.GetActors().GetNumberOfItems() == 1
        assert view.remove_actor("a") and not view.remove_actor("a")
        assert view.window_size == (64, 64)
    finally:
        view.close()


def test_colours() -> None:
    assert rgb("#ff8000") == (1.0, 128 / 255, 0.0)
    assert rgb((0.1, 0.2, 0.3)) == (0.1, 0.2, 0.3)
    with pytest.raises(ValueError, match="#rrggbb"):
        rgb("#fff")


_FRESH_PROCESS = """
import json, sys
import numpy as np
from reviewer.render import frame_process  # what the render process's target imports
from reviewer.render.full_frame import FrameScene, FrameRequest, CameraState
from reviewer.assets.meshes import Avatar
from reviewer.render.proxy import prepare_for_display
import pyvista as pv

avatar = Avatar.from_polydata(pv.Sphere(radius=0.3, center=(0, 0.9, 0)))
frames = FrameScene()
frames.show(prepare_for_display(avatar))
camera = CameraState((0, 0.9, 3), (0, 0.9, 0), (0, 1, 0), 30.0, (0.1, 10.0), False, 1.0)
image = frames.render(FrameRequest(1, avatar, (64, 80), camera, "textured", "studio"))
frames.close()
print(json.dumps({
    "shape": list(image.shape),
    "loaded": sorted(m for m in ("pyvista.plotting", "matplotlib", "pyvistaqt", "PySide6")
                     if m in sys.modules),
}))
"""


def test_the_render_side_never_imports_pyvista_plotting_or_matplotlib() -> None:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["shape"] == [80, 64, 3]
    assert result["loaded"] == []
