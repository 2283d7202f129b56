"""The proxy of a big avatar: far fewer triangles, the same look, built off the GUI thread."""

from __future__ import annotations

import math

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar  # noqa: E402 - after importorskip
from reviewer.render.proxy import (  # noqa: E402
    PROXY_TEXTURE_SIZE,
    build_proxy,
    halved_to,
    needs_proxy,
    prepare_for_display,
    with_proxy,
)


def _textured(resolution: int, texture_size: int = 64) -> Avatar:
    ball = pv.Sphere(
        radius=0.3, center=(0, 0.9, 0), theta_resolution=resolution, phi_resolution=resolution
    )
    points = np.asarray(ball.points)
    ball.point_data["TextureCoordinates"] = (points[:, [0, 2]] + 0.5).astype(np.float32)
    ball.point_data.active_texture_coordinates_name = "TextureCoordinates"
    texture = np.random.default_rng(1).integers(
        0, 255, (texture_size, texture_size, 3), dtype=np.uint8
    )
    return Avatar.from_polydata(ball, texture=texture)


def test_small_avatars_get_no_proxy() -> None:
    display = prepare_for_display(_textured(20), proxy_above=10_000)
    assert display.proxy is None and display.proxy_triangles == 0
    # The texture is still made ready for VTK off the GUI thread.
    assert id(display.avatar.parts[0].texture) in display.texture_data


def test_a_small_mesh_with_a_big_texture_gets_a_proxy_of_its_texture_only() -> None:
    avatar = _textured(20, texture_size=256)
    assert needs_proxy(avatar, texture_size=128)
    assert not needs_proxy(avatar, texture_size=256)  # not more pixels than 256²
    display = prepare_for_display(avatar, texture_size=128)
    assert display.proxy is not None
    part = display.proxy[0]
    assert part.mesh is avatar.parts[0].mesh  # the same mesh, not a copy or a thinned one
    assert display.proxy_triangles == avatar.triangles
    assert part.texture is not None and part.texture.shape == (128, 128, 3)
    assert id(part.texture) in display.texture_data
    assert id(avatar.parts[0].texture) in display.texture_data
    # The real rule: textures above PROXY_TEXTURE_SIZE² pixels.
    assert prepare_for_display(avatar).proxy is None
    # Turned off (as compare views do): no proxy at all.
    assert prepare_for_display(avatar, texture_size=1 << 40).proxy is None


def test_a_texture_proxy_can_follow_the_first_frame() -> None:
    avatar = _textured(20, texture_size=256)
    display = prepare_for_display(avatar, texture_size=1 << 40)
    assert display.proxy is None
    later = with_proxy(display, decimate=False, texture_size=64)
    assert later.avatar is avatar and later.proxy is not None
    assert later.proxy[0].mesh is avatar.parts[0].mesh
    assert later.proxy[0].texture is not None and later.proxy[0].texture.shape[0] == 64


def test_a_big_mesh_with_a_big_texture_is_thinned_and_halved() -> None:
    avatar = _textured(200, texture_size=256)  # about 80 thousand triangles
    display = prepare_for_display(
        avatar, proxy_above=10_000, proxy_triangles=4_000, texture_size=64
    )
    assert display.proxy is not None
    assert display.proxy_triangles <= 6_400
    assert display.proxy[0].texture is not None and display.proxy[0].texture.shape[0] == 64


def test_proxy_is_near_its_budget_and_keeps_the_look() -> None:
    avatar = _textured(200)  # about 80 thousand triangles
    display = prepare_for_display(avatar, proxy_above=10_000, proxy_triangles=4_000)
    assert display.proxy is not None
    assert 2_000 <= display.proxy_triangles <= 6_400
    part = display.proxy[0]
    assert part.has_uvs and "Normals" in part.mesh.point_data
    assert part.mesh.point_data.active_normals is not None
    # Same size and place: the proxy stands where the figure stands.
    assert part.mesh.bounds == pytest.approx(avatar.parts[0].mesh.bounds, abs=0.02)
    assert id(part.texture) in display.texture_data
    assert display.proxy_seconds >= 0.0


def _facing_against_their_normals(mesh) -> int:  # type: ignore[no-untyped-def]
    faces = np.asarray(mesh.regular_faces)
    points = np.asarray(mesh.points, dtype=np.float64)
    normals = np.asarray(mesh.point_data["Normals"], dtype=np.float64)
    a, b, c = (points[faces[:, i]] for i in range(3))
    facing = np.cross(b - a, c - a)
    pointing = normals[faces].sum(axis=1)
    return int((np.einsum("ij,ij->i", facing, pointing) < 0).sum())


def test_a_proxy_of_a_layered_figure_faces_where_its_normals_point() -> None:
    # A garment a centimetre over a body, in one mesh (as a PLY holds a dressed scan): binning
    # merges both layers into the same bins and leaves triangles whose winding disagrees with
    # their own normals. Drawn two-sided, each was a dark speck in motion.
    body = pv.Sphere(radius=0.30, center=(0, 0.9, 0), theta_resolution=160, phi_resolution=160)
    garment = pv.Sphere(radius=0.31, center=(0, 0.9, 0), theta_resolution=160, phi_resolution=160)
    layered = Avatar.from_polydata((body + garment).triangulate())
    assert _facing_against_their_normals(layered.parts[0].mesh) == 0
    (part,) = build_proxy(layered, triangles=3_000)
    assert part.mesh.n_cells < layered.parts[0].mesh.n_cells // 10
    assert _facing_against_their_normals(part.mesh) == 0
    # Still a proxy of the whole figure: triangles were turned over, not dropped.
    assert part.mesh.n_cells > 1_000
    assert np.allclose(part.mesh.bounds, layered.parts[0].mesh.bounds, atol=0.05)


def test_parts_share_one_proxy_texture_and_small_parts_are_kept() -> None:
    avatar = _textured(160)
    big, small = avatar.parts[0], pv.Sphere(radius=0.05, theta_resolution=8, phi_resolution=8)
    two = Avatar(
        parts=(big, type(big)("eyes", small, big.texture, big.base_color)),
        up_axis="y",
        upright_transform=avatar.upright_transform,
    )
    parts = build_proxy(two, 3_000)
    assert len(parts) == 2
    assert parts[1].mesh is small  # too small to thin
    assert parts[0].texture is parts[1].texture


def test_big_textures_are_halved_to_the_proxy_size() -> None:
    image = np.zeros((4096, 2048, 3), dtype=np.uint8)
    image[:, 1024:] = 200
    halved = halved_to(image, PROXY_TEXTURE_SIZE)
    assert halved.shape == (PROXY_TEXTURE_SIZE, PROXY_TEXTURE_SIZE // 2, 3)
    assert halved[0, 0, 0] == 0 and halved[0, -1, 0] == 200
    small = np.zeros((64, 64, 4), dtype=np.uint8)
    assert halved_to(small, PROXY_TEXTURE_SIZE) is small


def test_a_stored_avatars_proxy_is_stored_beside_it_and_read_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from reviewer.assets.stored_avatar import read_stored, write_stored
    from reviewer.render.proxy import stored_proxy_path

    write_stored(_textured(120, texture_size=256), tmp_path / "ball.twinavatar")
    avatar = read_stored(tmp_path / "ball.twinavatar")
    options = {"proxy_above": 5_000, "proxy_triangles": 1_500, "texture_size": 64}
    where = stored_proxy_path(avatar, 1_500, 64)
    assert where is not None and where.parent == tmp_path and not where.exists()
    built = prepare_for_display(avatar, **options)
    assert built.proxy is not None and where.exists()
    made_at = where.stat().st_mtime_ns
    again = prepare_for_display(avatar, **options)
    assert again.proxy is not None and where.stat().st_mtime_ns == made_at  # read, not made
    for a, b in zip(built.proxy, again.proxy, strict=True):
        assert np.array_equal(np.asarray(a.mesh.points), np.asarray(b.mesh.points))
        assert np.array_equal(a.mesh.regular_faces, b.mesh.regular_faces)
        assert a.texture is not None and b.texture is not None
        assert np.array_equal(a.texture, b.texture) and b.texture.shape[0] <= 64
        assert id(b.texture) in again.texture_data
    # The avatar's stored file made again (its original changed): so is the proxy.
    write_stored(_textured(90, texture_size=256), tmp_path / "ball.twinavatar")
    os.utime(tmp_path / "ball.twinavatar", ns=(made_at + 10**9, made_at + 10**9))
    changed = read_stored(tmp_path / "ball.twinavatar")
    fresh = prepare_for_display(changed, **options)
    assert fresh.proxy is not None
    assert fresh.proxy_triangles != again.proxy_triangles
    assert where.stat().st_mtime_ns != made_at


def test_proxies_stored_by_an_older_version_are_removed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reviewer.assets.stored_avatar import read_stored, write_stored
    from reviewer.render.proxy import stored_proxy_path

    write_stored(_textured(120, texture_size=256), tmp_path / "ball.twinavatar")
    other = tmp_path / "other.twinavatar"
    write_stored(_textured(60), other)
    avatar = read_stored(tmp_path / "ball.twinavatar")
    where = stored_proxy_path(avatar, 1_500, 64)
    assert where is not None
    # Left by earlier versions: unversioned, and an older version; and one of this version
    # with another budget (another viewer's), and another avatar's.
    unversioned = tmp_path / "ball.proxy-30000-1024.twinavatar"
    older = tmp_path / "ball.proxy1-1500-64.twinavatar"
    other_size = stored_proxy_path(avatar, 900, 64)
    other_avatars = tmp_path / "other.proxy-30000-1024.twinavatar"
    for leftover in (unversioned, older, other_size, other_avatars):
        assert leftover is not None
        leftover.write_bytes(b"old proxy")
    prepare_for_display(avatar, proxy_above=5_000, proxy_triangles=1_500, texture_size=64)
    assert where.exists()
    assert not unversioned.exists() and not older.exists()
    assert other_size is not None and other_size.exists() and other_avatars.exists()
    assert other.exists() and (tmp_path / "ball.twinavatar").exists()


def test_an_avatar_not_read_from_a_stored_file_has_its_proxy_built(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reviewer.render.proxy import stored_proxy_path

    avatar = _textured(120, texture_size=256)
    assert stored_proxy_path(avatar, 1_500, 64) is None
    display = prepare_for_display(avatar, proxy_above=5_000, proxy_triangles=1_500, texture_size=64)
    assert display.proxy is not None and display.proxy_triangles < avatar.triangles


def _seamed_tube(scale: float = 1.0, offset: float = 0.0) -> pv.PolyData:
    """An open tube textured once round (u from 0 to *scale*), with the points of its seam
    doubled as an atlas has them: the same places, u at 0 on one side and *scale* on the
    other."""
    around, up = 240, 160
    angle = np.linspace(0.0, 2 * np.pi, around + 1) + 0.3  # off the bins' edges
    height = np.linspace(0.5, 1.5, up)
    a, h = np.meshgrid(angle, height)
    points = np.stack([0.15 * np.cos(a) + offset, h, 0.15 * np.sin(a)], axis=-1).reshape(-1, 3)
    u, v = np.meshgrid(np.linspace(0.0, 1.0, around + 1), np.linspace(0.0, 1.0, up))
    index = np.arange(points.shape[0]).reshape(up, around + 1)
    quads = np.stack(
        [index[:-1, :-1], index[:-1, 1:], index[1:, 1:], index[1:, :-1]], axis=-1
    ).reshape(-1, 4)
    faces = np.concatenate([quads[:, [0, 2, 1]], quads[:, [0, 3, 2]]])
    tube = pv.PolyData.from_regular_faces(points, faces)
    tube.point_data["TextureCoordinates"] = np.stack(
        [u.ravel() * scale, v.ravel() * scale], axis=1
    ).astype(np.float32)
    tube.point_data.active_texture_coordinates_name = "TextureCoordinates"
    return tube


def _coordinate_spread(mesh) -> np.ndarray:  # type: ignore[no-untyped-def]
    faces = np.asarray(mesh.regular_faces)
    uv = np.asarray(mesh.active_texture_coordinates, dtype=np.float64)
    return np.linalg.norm(uv[faces[:, [1, 2, 0]]] - uv[faces], axis=2).max(axis=1)


def test_a_proxy_triangle_across_a_texture_seam_takes_one_colour_not_the_whole_atlas() -> None:
    from reviewer.render.proxy import _binned

    tube = _seamed_tube()
    avatar = Avatar.from_polydata(tube, texture=np.zeros((8, 8, 3), dtype=np.uint8))
    mesh = avatar.parts[0].mesh
    # Binned as it is, the triangles across the seam span most of the atlas.
    spacing = 1.0 / math.sqrt(2_000 / 10.0)
    assert (_coordinate_spread(_binned(mesh, spacing, avatar.bounds)) > 0.5).sum() >= 5
    (part,) = build_proxy(avatar, triangles=2_000)
    spread = _coordinate_spread(part.mesh)
    assert spread.max() < 0.1
    # Those triangles show the colour of the figure where they are: the seam's (u near 0 or
    # 1), not the middle of the atlas.
    faces = np.asarray(part.mesh.regular_faces)
    uv = np.asarray(part.mesh.active_texture_coordinates)
    flat = spread == 0
    assert 5 <= flat.sum() < 0.05 * len(faces)
    u = uv[faces[flat]][:, 0, 0]
    assert np.all((u < 0.1) | (u > 0.9))


def test_a_region_the_atlas_gives_more_pixels_is_not_taken_for_a_seam() -> None:
    # Two tubes side by side, one with eight times the texture coordinates per metre (as an
    # atlas gives a face more pixels), each with its seam.
    sparse, dense = _seamed_tube(0.1), _seamed_tube(0.8, offset=0.5)
    both = pv.merge([sparse, dense])
    both.point_data.active_texture_coordinates_name = "TextureCoordinates"
    avatar = Avatar.from_polydata(both, texture=np.zeros((8, 8, 3), dtype=np.uint8))
    (part,) = build_proxy(avatar, triangles=4_000)
    faces = np.asarray(part.mesh.regular_faces)
    centres = np.asarray(part.mesh.points)[faces].mean(axis=1)
    flat = _coordinate_spread(part.mesh) == 0
    # Only triangles along the two seams (at 0.3 radians round each tube) take one colour.
    assert flat.sum() >= 10
    angle = np.arctan2(centres[:, 2], centres[:, 0] - np.where(centres[:, 0] > 0.25, 0.5, 0.0))
    near_seam = np.abs(angle - 0.3) < 0.35
    assert near_seam[flat].all()
    assert (flat & (centres[:, 0] > 0.25)).any() and (flat & (centres[:, 0] < 0.25)).any()
