"""Geometry differences between looks: alignment, distances in millimetres, the heat map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from compare_bodies import (  # noqa: E402 - after importorskip
    capsule_figure,
    chest_front_index,
    outward_normals,
    with_bump,
)

from reviewer.assets.meshes import Avatar, load_avatar  # noqa: E402
from reviewer.render.mesh_compare import (  # noqa: E402
    MARKER_PART_NAME,
    Surface,
    align,
    compare_meshes,
    compare_surfaces,
    figure_surface,
    heat_colours,
    heat_map_avatar,
    nice_scale_max,
    overlay_avatar,
    surface_distances,
)


@pytest.fixture(scope="module")
def body() -> Avatar:
    return Avatar.from_polydata(capsule_figure())


@pytest.fixture
def corpus_body(corpus: Path) -> Avatar:
    return load_avatar(corpus / "vtk-data" / "Human.vtp")


def _bumped(surface: Surface, height_above_floor: float) -> tuple[Surface, np.ndarray]:
    """*surface* with a 10 mm bump on the front of the chest; and where the bump's top is."""
    normals = outward_normals(surface.points, surface.faces)
    index = chest_front_index(surface.points, height_above_floor)
    points = with_bump(surface.points, normals, index, height=0.010)
    return Surface(points, surface.faces, surface.part_starts), points[index]


def _transformed_avatar(avatar: Avatar, scale: float, shift: tuple[float, float, float]) -> Avatar:
    mesh = avatar.parts[0].mesh.copy()
    mesh.points = np.asarray(mesh.points, dtype=np.float64) * scale + np.array(shift)
    return Avatar.from_polydata(mesh)


# -- identical, bumped, moved: the generated figure --------------------------------------------


def test_identical_looks_differ_by_nothing(body: Avatar) -> None:
    comparison = compare_meshes(body, body)
    assert comparison.max_mm < 1e-3
    assert not comparison.alignment.moved
    assert "same shape" in comparison.summary("Look 1", "Look 2")


@pytest.mark.parametrize("method", ["auto", "none", "bbox", "icp"])
def test_a_10_mm_bump_is_found_where_it_is(body: Avatar, method: str) -> None:
    surface = figure_surface(body)
    # On the belly, inside the figure's bounding box, so that bbox alignment is not moved by it.
    bumped, top = _bumped(surface, height_above_floor=0.95)
    comparison = compare_surfaces(bumped, surface, method)  # type: ignore[arg-type]
    assert comparison.max_mm == pytest.approx(10.0, abs=0.6)
    assert np.linalg.norm(comparison.max_point - top) < 0.015  # within 15 mm of the bump's top
    # Away from the bump the two agree.
    far = np.linalg.norm(bumped.points - top, axis=1) > 0.12
    assert float(comparison.distances_mm[far].max()) < 0.6
    assert comparison.where().startswith("at 0.9")
    assert comparison.where().endswith("front, centre")
    assert comparison.alignment.method == ("none" if method == "auto" else method)


def test_a_scaled_and_shifted_copy_is_aligned_back_onto_the_original(body: Avatar) -> None:
    copy = _transformed_avatar(body, 1.08, (0.4, 0.25, -1.2))
    matched = compare_meshes(body, copy, "bbox", match_size=True)
    assert matched.max_mm < 0.05
    assert matched.alignment.scale == pytest.approx(1 / 1.08, rel=1e-4)
    assert "scaled ×0.926" in matched.alignment.describe("Look 2", "Look 1")
    # Without matching the size, a figure 8 % taller is honestly reported as different.
    kept = compare_meshes(body, copy, "bbox")
    assert kept.max_mm > 50


def test_a_copy_saved_in_millimetres_is_converted_not_scaled(body: Avatar) -> None:
    copy = _transformed_avatar(body, 1000.0, (300.0, 0.0, 50.0))
    assert copy.units == "mm"
    comparison = compare_meshes(body, copy, "bbox")
    assert comparison.max_mm < 0.05
    assert comparison.alignment.scale == 1.0
    assert "millimetres" in comparison.alignment.describe()


def test_icp_takes_out_a_small_turn_that_the_bounding_box_leaves(body: Avatar) -> None:
    surface = figure_surface(body)
    turn = np.radians(4.0)
    rotation = np.array(
        [[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]]
    )
    turned = Surface(surface.points @ rotation.T + [0.01, 0.0, 0.02], surface.faces)
    boxed = compare_surfaces(surface, turned, "bbox")
    registered = compare_surfaces(surface, turned, "icp")
    assert boxed.max_mm > 5
    assert registered.max_mm < 1.0
    assert registered.alignment.icp_rotation_degrees == pytest.approx(4.0, abs=0.3)
    assert "ICP" in registered.alignment.describe()


def test_alignment_none_leaves_the_look_where_it_is(body: Avatar) -> None:
    surface = figure_surface(body)
    lift = np.eye(4)
    lift[1, 3] = 0.05
    lifted = surface.transformed(lift)
    assert compare_surfaces(surface, lifted, "none").max_mm == pytest.approx(50.0, abs=1.0)
    assert compare_surfaces(surface, lifted, "bbox").max_mm < 0.05
    assert "not moved" in align(lifted, surface, "none").describe()
    # 50 mm is within "placed together": auto compares as placed and says so.
    auto = align(lifted, surface, "auto")
    assert auto.method == "none" and "share a frame" in auto.describe()
    lift[0, 3] = 0.5
    far = align(surface.transformed(lift), surface, "auto")
    assert far.method == "bbox" and "do not share a frame" in far.describe()


def test_distances_match_vtk_closest_point(body: Avatar) -> None:
    from vtkmodules.vtkCommonCore import reference
    from vtkmodules.vtkCommonDataModel import vtkGenericCell, vtkStaticCellLocator

    surface = figure_surface(body)
    normals = outward_normals(surface.points, surface.faces)
    # A garment-like swelling of up to 25 mm around the waist.
    swell = 0.025 * np.exp(-(((surface.points[:, 1] - 1.0) / 0.12) ** 2))
    target = Surface(surface.points + normals * swell[:, None], surface.faces)
    queries = surface.points[:: max(1, len(surface.points) // 3000)]
    ours = surface_distances(queries, target)
    locator = vtkStaticCellLocator()
    locator.SetDataSet(target.to_polydata())
    locator.BuildLocator()
    closest, cell_id, sub_id, squared = [0.0, 0.0, 0.0], reference(0), reference(0), reference(0.0)
    cell = vtkGenericCell()
    exact = np.empty(len(queries))
    for i, point in enumerate(queries):
        locator.FindClosestPoint(point, closest, cell, cell_id, sub_id, squared)
        exact[i] = squared.get() ** 0.5
    error_mm = (ours - exact) * 1000
    assert error_mm.min() > -1e-6  # never shorter than the truth
    assert np.mean(error_mm > 0.01) < 0.01
    assert error_mm.max() < 1.0


# -- the corpus body ----------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_body_bump_identical_and_moved_copy(corpus_body: Avatar) -> None:
    surface = figure_surface(corpus_body)
    assert surface.height == pytest.approx(1.6755, abs=0.01)  # centimetres became metres
    assert compare_surfaces(surface, surface).max_mm < 1e-3
    bumped, top = _bumped(surface, height_above_floor=1.2)
    found = compare_surfaces(bumped, surface, "icp")
    assert found.max_mm == pytest.approx(10.0, abs=0.8)
    assert np.linalg.norm(found.max_point - top) < 0.02
    moved = _transformed_avatar(corpus_body, 1.15, (-20.0, 7.0, 33.0))
    assert compare_meshes(corpus_body, moved, "bbox", match_size=True).max_mm < 0.05


# -- colours and what the viewer is given -------------------------------------------------------


def test_scale_and_colours() -> None:
    assert nice_scale_max(0.0) == 1.0
    assert nice_scale_max(9.7) == 10.0
    assert nice_scale_max(10.2) == 12.0
    assert nice_scale_max(23.0) == 25.0
    assert nice_scale_max(64.4) == 80.0
    colours = heat_colours(np.array([0.0, 5.0, 10.0, 50.0]), 10.0)
    assert colours.dtype == np.uint8 and colours.shape == (4, 3)
    assert tuple(colours[2]) == tuple(colours[3])  # clipped at the top of the scale
    assert colours[0].std() < 10  # no difference reads as neutral clay
    assert colours[2][0] > colours[2][2] + 40  # the most different reads warm


def test_display_avatars(body: Avatar) -> None:
    surface = figure_surface(body)
    bumped, _ = _bumped(surface, 0.95)
    mesh = pv.PolyData.from_regular_faces(bumped.points, bumped.faces)
    bumped_look = Avatar.from_polydata(mesh)
    comparison = compare_meshes(bumped_look, body)
    heat = heat_map_avatar(bumped_look, comparison, nice_scale_max(comparison.max_mm))
    assert [p.name for p in heat.parts][-1] == MARKER_PART_NAME
    assert heat.parts[0].colors_name == "RGB"
    assert heat.units == "m" and heat.height_metres == pytest.approx(body.height, abs=0.02)
    overlay = overlay_avatar(bumped_look, comparison)
    assert len(overlay.parts) == len(bumped_look.parts) + 1
    assert overlay.parts[-1].base_color[3] < 1.0  # the second look is translucent
