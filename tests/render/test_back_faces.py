"""Back faces a figure hides behind its own front are found, so a proxy can skip drawing them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar  # noqa: E402 - after importorskip
from reviewer.render import scene  # noqa: E402
from reviewer.render.back_faces import (  # noqa: E402
    directions,
    one_sided_with_backs,
    visible_backs,
)
from reviewer.render.proxy import build_proxy  # noqa: E402


def _ball(radius: float = 0.3, resolution: int = 40) -> pv.PolyData:
    return pv.Sphere(
        radius=radius, center=(0, 0.9, 0), theta_resolution=resolution, phi_resolution=resolution
    )


def _outward(mesh: pv.PolyData) -> np.ndarray:
    """Per triangle, whether its winding turns it away from the mesh's centre."""
    faces = np.asarray(mesh.regular_faces)
    points = np.asarray(mesh.points)
    a, b, c = (points[faces[:, i]] for i in range(3))
    centres = (a + b + c) / 3 - np.asarray(mesh.center)
    return np.einsum("ij,ij->i", np.cross(b - a, c - a), centres) > 0


def _dressed() -> pv.PolyData:
    """A closed body with an open skirt round it, a sleeve open at both ends round a closed
    arm, and a cape behind: one mesh, as a PLY holds a dressed scan, with its normals."""
    body = pv.Cylinder(
        center=(0, 0.9, 0), direction=(0, 1, 0), radius=0.15, height=1.6, resolution=40
    ).triangulate()
    skirt = pv.Cone(
        center=(0, 0.75, 0),
        direction=(0, 1, 0),
        height=0.5,
        radius=0.35,
        resolution=60,
        capping=False,
    ).triangulate()
    skirt = skirt.clip(normal=(0, 1, 0), origin=(0, 0.85, 0), invert=True)
    sleeve = pv.Cylinder(
        center=(0.35, 1.3, 0),
        direction=(1, 0, 0),
        radius=0.07,
        height=0.4,
        resolution=30,
        capping=False,
    )
    arm = pv.Cylinder(
        center=(0.35, 1.3, 0), direction=(1, 0, 0), radius=0.05, height=0.6, resolution=30
    )
    cape = pv.Plane(
        center=(0, 1.1, -0.3),
        direction=(0, 0, -1),
        i_size=0.6,
        j_size=1.0,
        i_resolution=20,
        j_resolution=30,
    )
    parts = [body.subdivide(2), skirt.extract_surface(algorithm=None), sleeve.triangulate()]
    parts += [arm.triangulate().subdivide(2), cape.triangulate()]
    merged = pv.merge(parts).extract_surface(algorithm=None).triangulate()
    return merged.compute_normals(
        consistent_normals=False, auto_orient_normals=False, split_vertices=False
    )


def test_directions_cover_the_sphere_evenly() -> None:
    views = directions(64)
    assert np.allclose(np.linalg.norm(views, axis=1), 1.0)
    # Every direction on a fine sample of the sphere is within 20 degrees of one of them.
    probe = pv.Sphere(theta_resolution=36, phi_resolution=36).points
    probe = probe / np.linalg.norm(probe, axis=1, keepdims=True)
    assert np.degrees(np.arccos(np.clip((probe @ views.T).max(axis=1), -1, 1))).max() < 20


def test_a_closed_surface_hides_all_its_back_faces() -> None:
    ball = _ball()
    assert _outward(ball).all()
    (backs,) = visible_backs([ball])
    assert backs.shape == (ball.n_cells,) and not backs.any()


def test_a_closed_surface_wound_inside_out_shows_its_backs() -> None:
    ball = _ball()
    inside_out = pv.PolyData.from_regular_faces(ball.points, ball.regular_faces[:, [0, 2, 1]])
    (backs,) = visible_backs([inside_out])
    assert backs.mean() > 0.95  # all but where the flags are unsure; the outside is its back


def test_a_single_sheet_shows_its_back() -> None:
    sheet = pv.Plane(i_resolution=10, j_resolution=10).triangulate()
    (backs,) = visible_backs([sheet])
    assert backs.all()


def test_a_body_hides_the_inside_of_a_closed_shell_but_not_of_an_open_one() -> None:
    body = _ball(0.3)
    shell = _ball(0.4, resolution=60)
    backs_body, backs_shell = visible_backs([body, shell])
    assert not backs_body.any() and not backs_shell.any()
    # Cut a hole in the top of the shell, wider than the body: looking down past the body,
    # the inside of the shell's lower half shows in a ring; right under the body it does not.
    opened = shell.clip(normal=(0, 1, 0), origin=(0, 1.0, 0)).extract_surface(algorithm=None)
    opened = opened.triangulate()
    backs_body, backs_opened = visible_backs([body, opened])
    assert not backs_body.any()
    centres = np.asarray(opened.cell_centers().points)
    lower = centres[:, 1] < 0.9
    across = np.hypot(centres[:, 0], centres[:, 2])
    ring = lower & (across > 0.32) & (across < 0.37)
    assert ring.sum() > 20 and backs_opened[ring].all()
    under = lower & (across < 0.1)
    assert under.sum() > 20 and not backs_opened[under].any()


def test_a_mesh_with_its_visible_backs_turned_over_keeps_everything_else() -> None:
    mesh = _dressed()
    mesh.point_data["TextureCoordinates"] = np.asarray(mesh.points)[:, :2].astype(np.float32)
    mesh.point_data.active_texture_coordinates_name = "TextureCoordinates"
    (backs,) = visible_backs([mesh])
    turned = one_sided_with_backs(mesh, backs)
    count = int(backs.sum())
    assert 0 < count < mesh.n_cells
    assert turned.n_cells == mesh.n_cells + count
    faces = np.asarray(turned.regular_faces)
    assert np.array_equal(faces[: mesh.n_cells], mesh.regular_faces)
    points = np.asarray(turned.points)
    original = np.asarray(mesh.points)
    # Each added triangle is a flagged one, on the same spot, wound the other way.
    added = points[faces[mesh.n_cells :]]
    assert np.allclose(added, original[np.asarray(mesh.regular_faces)[backs]][:, [0, 2, 1]])
    copies = faces[mesh.n_cells :].ravel()
    assert np.allclose(
        turned.point_data["Normals"][copies],
        -mesh.point_data["Normals"][np.asarray(mesh.regular_faces)[backs][:, [0, 2, 1]].ravel()],
    )
    assert np.allclose(
        turned.point_data["TextureCoordinates"][copies],
        mesh.point_data["TextureCoordinates"][
            np.asarray(mesh.regular_faces)[backs][:, [0, 2, 1]].ravel()
        ],
    )
    assert turned.point_data.active_normals_name == "Normals"
    assert turned.point_data.active_texture_coordinates_name == "TextureCoordinates"


def _shots(avatar: Avatar) -> list[np.ndarray]:
    """The figure from the named views and from above, below and close up."""
    plotter = pv.Plotter(off_screen=True, window_size=(200, 240))
    shots = []
    try:
        scene.show_avatar(plotter, avatar, floor=False, show_height=False)
        for view in ("front", "back", "left", "right", "three_quarter"):
            scene.set_view(plotter, view)
            shots.append(plotter.screenshot(return_img=True).astype(int))
        for elevation, zoom in ((60, 1.0), (-60, 1.0), (-30, 2.5), (20, 3.0)):
            scene.set_view(plotter, "three_quarter")
            plotter.camera.Elevation(elevation)
            plotter.camera.OrthogonalizeViewUp()
            plotter.camera.Zoom(zoom)
            plotter.renderer.ResetCameraClippingRange()
            shots.append(plotter.screenshot(return_img=True).astype(int))
    finally:
        plotter.close()
    return shots


def _figure_pixels(shot: np.ndarray) -> int:
    """Pixels of *shot* that differ from its left edge's colour (the background)."""
    return int((np.abs(shot - shot[:, :4].mean(axis=(0, 1))).max(axis=2) > 12).sum())


def _differing(first: list[np.ndarray], second: list[np.ndarray]) -> int:
    return sum(
        int((np.abs(a - b).max(axis=2) > 24).sum()) for a, b in zip(first, second, strict=True)
    )


def test_drawn_one_sided_with_its_visible_backs_a_dressed_figure_looks_the_same() -> None:
    mesh = _dressed()
    two_sided = Avatar.from_polydata(mesh)
    assert two_sided.parts[0].double_sided
    (backs,) = visible_backs([mesh])
    one_sided = dataclasses.replace(
        two_sided,
        parts=(
            dataclasses.replace(
                two_sided.parts[0], mesh=one_sided_with_backs(mesh, backs), double_sided=False
            ),
        ),
    )
    culled = dataclasses.replace(
        two_sided, parts=(dataclasses.replace(two_sided.parts[0], double_sided=False),)
    )
    reference = _shots(two_sided)
    pixels = sum(_figure_pixels(shot) for shot in reference)
    # Culling every back face leaves holes: the skirt's, sleeve's and cape's insides.
    assert _differing(reference, _shots(culled)) > 0.05 * pixels
    # With the visible ones turned over, next to nothing differs.
    assert _differing(reference, _shots(one_sided)) < 0.002 * pixels


def test_a_two_sided_proxy_is_drawn_one_sided_with_the_backs_that_show() -> None:
    dressed = _dressed().subdivide(1)
    avatar = Avatar.from_polydata(dressed)
    (part,) = build_proxy(avatar, triangles=8_000)
    assert not part.double_sided
    # A one-sided part (a glTF material that says so) is binned on the same grid and left
    # as it is: the proxy as it was before its backs were looked for.
    one_sided = dataclasses.replace(
        avatar, parts=(dataclasses.replace(avatar.parts[0], double_sided=False),)
    )
    (binned,) = build_proxy(one_sided, triangles=8_000)
    assert not binned.double_sided
    assert binned.mesh.n_cells < part.mesh.n_cells < 2 * binned.mesh.n_cells
    as_it_was = dataclasses.replace(binned, double_sided=True)
    reference = _shots(dataclasses.replace(avatar, parts=(as_it_was,)))
    pixels = sum(_figure_pixels(shot) for shot in reference)
    # Culled, binned triangles leave holes where they were turned over or show their inside;
    # with the backs that show turned over, next to nothing differs.
    assert _differing(reference, _shots(dataclasses.replace(avatar, parts=(binned,)))) > (
        0.05 * pixels
    )
    assert _differing(reference, _shots(dataclasses.replace(avatar, parts=(part,)))) < (
        0.002 * pixels
    )


def test_an_empty_mesh_has_no_flags_and_hides_nothing() -> None:
    empty = pv.PolyData()
    inside_out = _ball()
    inside_out = pv.PolyData.from_regular_faces(
        inside_out.points, inside_out.regular_faces[:, [0, 2, 1]]
    )
    flags_empty, flags_ball = visible_backs([empty, inside_out])
    assert flags_empty.shape == (0,)
    (alone,) = visible_backs([inside_out])
    assert np.array_equal(flags_ball, alone)


def test_a_figure_too_spread_out_to_judge_counts_every_back_as_seen() -> None:
    # A stray triangle a kilometre away: a buffer fine enough for the ball would not fit.
    ball = _ball()
    stray = pv.PolyData.from_regular_faces(
        np.array([[1000.0, 0, 0], [1000.01, 0, 0], [1000.0, 0.01, 0]]), np.array([[0, 1, 2]])
    )
    flags_ball, flags_stray = visible_backs([ball, stray])
    assert flags_ball.all() and flags_stray.all()


def test_a_proxy_of_a_single_sheet_stays_two_sided() -> None:
    sheet = pv.Plane(center=(0, 0.9, 0), i_resolution=150, j_resolution=150).triangulate()
    avatar = Avatar.from_polydata(sheet)
    (part,) = build_proxy(avatar, triangles=3_000)
    assert part.mesh.n_cells < sheet.n_cells // 4
    assert part.double_sided  # every back shows: the same picture without copied points
