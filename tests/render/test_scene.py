"""Scene building, checked on the pixels of an off-screen render."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar, load_avatar  # noqa: E402 - after importorskip
from reviewer.render.scene import (  # noqa: E402
    FLOOR_ACTOR_NAME,
    VIEW_NAMES,
    figure_bounds,
    prepare_plotter,
    set_lighting,
    set_mode,
    set_view,
    show_avatar,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
WINDOW = (320, 400)


@pytest.fixture
def make_plotter() -> Iterator[Callable[[], pv.Plotter]]:
    made: list[pv.Plotter] = []

    def make() -> pv.Plotter:
        plotter = pv.Plotter(off_screen=True, window_size=WINDOW)
        made.append(plotter)
        return plotter

    yield make
    for plotter in made:
        plotter.close()


@pytest.fixture(scope="module")
def doorman() -> Avatar:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return load_avatar(CORPUS / "vtk-data/doorman/doorman.obj")


@pytest.fixture(scope="module")
def ball() -> Avatar:
    return Avatar.from_polydata(pv.Sphere(radius=0.3, theta_resolution=32, phi_resolution=24))


def _background(make_plotter: Callable[[], pv.Plotter]) -> np.ndarray:
    plotter = make_plotter()
    prepare_plotter(plotter)
    return plotter.screenshot(return_img=True).astype(int)


def _figure_mask(image: np.ndarray, background: np.ndarray) -> np.ndarray:
    return np.abs(image.astype(int) - background).sum(axis=2) > 12


def _rendered(plotter: pv.Plotter) -> np.ndarray:
    # Scene functions never render (the Qt viewer decides when); a screenshot of a plotter
    # that has rendered before returns its last frame unless told to render again.
    plotter.render()
    return plotter.screenshot(return_img=True)


def _render(
    make_plotter: Callable[[], pv.Plotter], avatar: Avatar, **options: object
) -> np.ndarray:
    plotter = make_plotter()
    show_avatar(plotter, avatar, floor=False, show_height=False, **options)  # type: ignore[arg-type]
    return plotter.screenshot(return_img=True)


def test_generated_avatar_covers_the_centre(make_plotter, ball: Avatar) -> None:
    background = _background(make_plotter)
    image = _render(make_plotter, ball)
    mask = _figure_mask(image, background)
    height, width = mask.shape
    assert mask[height // 2, width // 2]
    assert not mask[2, 2] and not mask[-3, -3]


@needs_corpus
@pytest.mark.corpus
def test_doorman_stands_in_the_front_view(make_plotter, doorman: Avatar) -> None:
    background = _background(make_plotter)
    image = _render(make_plotter, doorman, view="front")
    mask = _figure_mask(image, background)
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    assert mask[mask.shape[0] // 2, mask.shape[1] // 2]
    figure_height = rows[-1] - rows[0]
    figure_width = columns[-1] - columns[0]
    assert figure_height > 1.3 * figure_width
    # Framed whole, with a little air: neither cut off nor lost in the frame.
    assert rows[0] > 0 and rows[-1] < mask.shape[0] - 1
    assert figure_height > 0.75 * mask.shape[0]


@needs_corpus
@pytest.mark.corpus
def test_textured_render_shows_the_texture(make_plotter, doorman: Avatar) -> None:
    background = _background(make_plotter)
    textured = _render(make_plotter, doorman, mode="textured")
    solid = _render(make_plotter, doorman, mode="solid")
    mask = _figure_mask(solid, background)
    assert mask.sum() > 1000
    covered = textured[mask].astype(float)
    assert covered.std(axis=0).mean() > 8.0  # not one flat colour
    # A black suit and skin: far from the clay of the solid mode.
    assert np.abs(textured[mask].astype(int) - solid[mask].astype(int)).mean() > 20


def test_modes_change_the_pixels(make_plotter, ball: Avatar) -> None:
    plotter = make_plotter()
    handle = show_avatar(plotter, ball, floor=False, show_height=False)
    images = {}
    for mode in ("solid", "wireframe", "textured"):
        set_mode(handle, mode)  # type: ignore[arg-type]
        images[mode] = _rendered(plotter).astype(int)
    assert np.abs(images["solid"] - images["wireframe"]).mean() > 1.0
    with pytest.raises(ValueError, match="unknown render mode"):
        set_mode(handle, "xray")  # type: ignore[arg-type]


def test_every_view_frames_the_figure(make_plotter, ball: Avatar) -> None:
    background = _background(make_plotter)
    plotter = make_plotter()
    show_avatar(plotter, ball, floor=False, show_height=False)
    for name in VIEW_NAMES:
        set_view(plotter, name)  # type: ignore[arg-type]
        mask = _figure_mask(_rendered(plotter), background)
        assert mask[mask.shape[0] // 2, mask.shape[1] // 2], name
        assert not mask[0].any() and not mask[-1].any(), name
    with pytest.raises(ValueError, match="unknown view"):
        set_view(plotter, "top")  # type: ignore[arg-type]


def test_lighting_presets_apply(make_plotter, ball: Avatar) -> None:
    plotter = make_plotter()
    show_avatar(plotter, ball, floor=False, show_height=False)
    renders = []
    for preset in ("studio", "soft", "rim"):
        set_lighting(plotter, preset)  # type: ignore[arg-type]
        assert len(plotter.renderer.lights) >= 3
        renders.append(_rendered(plotter).astype(int))
    assert np.abs(renders[0] - renders[2]).mean() > 0.5


def test_floor_lies_under_the_feet(make_plotter, ball: Avatar) -> None:
    plotter = make_plotter()
    handle = show_avatar(plotter, ball)
    floor = plotter.actors[FLOOR_ACTOR_NAME]
    figure = figure_bounds(plotter)
    assert figure is not None
    assert floor.GetBounds()[3] <= figure[2] + 1e-9
    assert handle.floor_actor is floor
    assert figure[2] == pytest.approx(0.0, abs=1e-6)


def test_showing_again_replaces_the_avatar(make_plotter, ball: Avatar) -> None:
    plotter = make_plotter()
    show_avatar(plotter, ball)
    before = set(plotter.actors)
    show_avatar(plotter, ball)
    assert set(plotter.actors) == before


def test_anti_aliasing_is_off(make_plotter, ball: Avatar) -> None:
    plotter = make_plotter()
    show_avatar(plotter, ball)
    assert plotter.render_window.GetMultiSamples() == 0


def test_detail_switches_between_the_full_mesh_and_its_proxy(make_plotter) -> None:
    from reviewer.render.proxy import prepare_for_display
    from reviewer.render.scene import PROXY_ACTOR_PREFIX, set_detail

    ball = pv.Sphere(radius=0.3, theta_resolution=80, phi_resolution=80)
    display = prepare_for_display(
        Avatar.from_polydata(ball), proxy_above=1_000, proxy_triangles=400
    )
    plotter = make_plotter()
    handle = show_avatar(plotter, display, detail="proxy")
    assert handle.has_proxy and handle.detail == "proxy"
    assert any(name.startswith(PROXY_ACTOR_PREFIX) for name in plotter.actors)
    assert all(a.GetVisibility() for a in handle.proxy_actors)
    assert not any(a.GetVisibility() for a in handle.part_actors)
    proxy_bounds = figure_bounds(plotter)
    set_detail(handle, "full")
    assert not any(a.GetVisibility() for a in handle.proxy_actors)
    assert figure_bounds(plotter) == pytest.approx(proxy_bounds, abs=0.02)
    set_mode(handle, "wireframe")  # both layers follow the mode
    actors = (*handle.part_actors, *handle.proxy_actors)
    assert all(a.GetProperty().GetRepresentation() == 1 for a in actors)  # VTK_WIREFRAME
    with pytest.raises(ValueError, match="unknown detail"):
        set_detail(handle, "medium")  # type: ignore[arg-type]


def test_a_proxy_added_later_joins_the_scene_hidden_and_in_its_mode(make_plotter) -> None:
    from reviewer.render.proxy import prepare_for_display, with_proxy
    from reviewer.render.scene import add_proxy, set_detail

    ball = pv.Sphere(radius=0.3, theta_resolution=80, phi_resolution=80)
    display = prepare_for_display(Avatar.from_polydata(ball), proxy_above=10**12)
    plotter = make_plotter()
    handle = show_avatar(plotter, display, mode="wireframe")
    full_mapper = handle.part_actors[0].GetMapper()
    assert not handle.has_proxy
    later = with_proxy(display, proxy_triangles=400)
    assert later.avatar is display.avatar and later.proxy_triangles < ball.n_cells / 4
    add_proxy(handle, later)
    assert handle.has_proxy and handle.detail == "full"
    assert not any(a.GetVisibility() for a in handle.proxy_actors)  # shown at rest: full mesh
    wireframe = 1  # VTK_WIREFRAME
    assert all(a.GetProperty().GetRepresentation() == wireframe for a in handle.proxy_actors)
    assert handle.part_actors[0].GetMapper() is full_mapper  # the full mesh is not re-added
    set_detail(handle, "proxy")
    assert all(a.GetVisibility() for a in handle.proxy_actors)
    assert not any(a.GetVisibility() for a in handle.part_actors)


def test_set_upright_moves_figure_floor_and_label(make_plotter) -> None:
    from reviewer.render.scene import set_upright

    lying = Avatar.from_polydata(pv.Box(bounds=(0.0, 1.7, -0.2, 0.2, -0.1, 0.1)).triangulate())
    plotter = make_plotter()
    handle = show_avatar(plotter, lying)
    set_upright(handle, lying.with_up_axis("x"))
    bounds = figure_bounds(plotter)
    assert bounds is not None and bounds[3] - bounds[2] == pytest.approx(1.7)
    assert handle.floor_actor.GetBounds()[3] <= bounds[2] + 1e-9
    assert "1.70 m" in handle.label_actor.GetInput()


def test_opaque_pass_only_no_order_independent_translucency(make_plotter, ball: Avatar) -> None:
    plotter = make_plotter()
    show_avatar(plotter, ball)
    assert not plotter.renderer.GetUseOIT()


@pytest.mark.parametrize("view", ["front", "three_quarter", "left"])
def test_the_clipping_range_comes_from_the_figure_and_floor_not_from_every_triangle(
    make_plotter, view: str
) -> None:
    """set_view fits the near and far planes from the figure's bounds (VTK would walk every
    triangle for them): they enclose what VTK finds, and the frame is the same."""
    body = pv.Cylinder(radius=0.25, height=1.7, center=(0, 0, 0.85), direction=(0, 0, 1))
    avatar = Avatar.from_polydata(body.triangulate().subdivide(2), up_axis="z")
    plotter = make_plotter()
    show_avatar(plotter, avatar, view=view)  # type: ignore[arg-type]
    camera = plotter.renderer.GetActiveCamera()
    ours = camera.GetClippingRange()
    ours_frame = _rendered(plotter).astype(int)
    plotter.renderer.ResetCameraClippingRange()
    vtk = camera.GetClippingRange()
    assert ours[0] <= vtk[0] * 1.001 and ours[1] >= vtk[1] * 0.999
    assert ours[1] - ours[0] < 1.5 * (vtk[1] - vtk[0])
    assert np.abs(_rendered(plotter).astype(int) - ours_frame).max() <= 2
