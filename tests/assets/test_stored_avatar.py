"""Stored avatars: an avatar kept as flat arrays in one file, mapped back without parsing."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import Avatar, MeshError, load_avatar  # noqa: E402
from reviewer.assets.stored_avatar import (  # noqa: E402
    FORMAT_VERSION,
    StoredAvatarError,
    load_through_store,
    read_stored,
    write_stored,
)
from reviewer.render import scene  # noqa: E402

CORPUS_FILES = ["gltf/CesiumMan.glb", "vtk-data/doorman/doorman.obj", "vtk-data/Human.vtp"]


def _two_part_avatar(tmp_path: Path) -> Avatar:
    """Two parts sharing one texture, with normals, UVs and vertex colours, Z up, in cm."""
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 255, size=(64, 48, 3), dtype=np.uint8)
    body = pv.Cylinder(center=(0, 0, 85), direction=(0, 0, 1), radius=20, height=170)
    body = body.triangulate().clean()
    body.point_data["TextureCoordinates"] = rng.random((body.n_points, 2)).astype(np.float32)
    body.point_data.active_texture_coordinates_name = "TextureCoordinates"
    head = pv.Sphere(radius=11, center=(0, 0, 180)).triangulate()
    head.point_data["RGB"] = rng.integers(0, 255, size=(head.n_points, 3), dtype=np.uint8)
    body_avatar = Avatar.from_polydata(body, name="body", texture=texture, up_axis="z")
    head_avatar = Avatar.from_polydata(head, name="head", base_color=(0.5, 0.4, 0.3, 1.0))
    return Avatar(
        parts=(*body_avatar.parts, *head_avatar.parts),
        up_axis=body_avatar.up_axis,
        upright_transform=body_avatar.upright_transform,
        units="cm",
        source=tmp_path / "made.glb",
        format="glb",
    )


def _same_avatar(a: Avatar, b: Avatar) -> None:
    assert len(a.parts) == len(b.parts)
    for pa, pb in zip(a.parts, b.parts, strict=True):
        assert pa.name == pb.name and pa.base_color == pb.base_color
        assert pa.double_sided == pb.double_sided
        assert np.array_equal(np.asarray(pa.mesh.points), np.asarray(pb.mesh.points))
        assert np.array_equal(pa.mesh.regular_faces, pb.mesh.regular_faces)
        assert sorted(pa.mesh.point_data.keys()) == sorted(pb.mesh.point_data.keys())
        for name in pa.mesh.point_data:
            assert np.array_equal(pa.mesh.point_data[name], pb.mesh.point_data[name]), name
        assert pa.has_uvs == pb.has_uvs and pa.colors_name == pb.colors_name
        assert np.array_equal(pa.mesh.point_data.active_normals, pb.mesh.point_data.active_normals)
        if pa.texture is None:
            assert pb.texture is None
        else:
            assert pb.texture is not None and np.array_equal(pa.texture, pb.texture)
    assert a.bounds == b.bounds and a.up_axis == b.up_axis and a.units == b.units
    assert a.format == b.format
    assert np.array_equal(a.upright_transform, b.upright_transform)


def _front_view(avatar: Avatar, mode: str = "textured") -> np.ndarray:
    plotter = pv.Plotter(off_screen=True, window_size=(160, 200))
    try:
        scene.show_avatar(plotter, avatar, mode=mode)  # type: ignore[arg-type]
        return plotter.screenshot(return_img=True)
    finally:
        plotter.close()


def test_an_avatar_comes_back_from_its_file_as_it_went_in(tmp_path: Path) -> None:
    avatar = _two_part_avatar(tmp_path)
    target = tmp_path / "cache" / "a.twinavatar"
    size = write_stored(avatar, target)
    assert target.stat().st_size == size
    back = read_stored(target)
    _same_avatar(avatar, back)
    assert back.stored == target and avatar.stored is None
    assert back.source == avatar.source
    # Parts that shared a texture still share one array (one texture in VTK, not two).
    assert back.parts[0].texture is not None and back.parts[1].texture is None
    # What the viewer does with it: the same picture, textured and solid.
    for mode in ("textured", "solid"):
        assert np.array_equal(_front_view(avatar, mode), _front_view(back, mode))
    # The up axis override carries the file along, so a render process can map it too.
    assert back.with_up_axis("y").stored == target


def test_no_temporary_file_is_left_and_a_rewrite_replaces_the_file(tmp_path: Path) -> None:
    avatar = _two_part_avatar(tmp_path)
    target = tmp_path / "a.twinavatar"
    write_stored(avatar, target)
    other = Avatar.from_polydata(pv.Cube().triangulate())
    write_stored(other, target)
    assert [p.name for p in tmp_path.iterdir()] == ["a.twinavatar"]
    _same_avatar(other, read_stored(target))


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_avatars_come_back_unchanged(corpus: Path, tmp_path: Path, name: str) -> None:
    original = load_avatar(corpus / name)
    back = load_through_store(corpus / name, store=tmp_path / "s.twinavatar")
    assert back.stored == tmp_path / "s.twinavatar"
    assert back.source == corpus / name
    _same_avatar(original, back)
    assert np.array_equal(_front_view(original), _front_view(back))


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    _magic, _version, length = struct.unpack_from("<8sIQ", data)
    header = json.loads(data[20 : 20 + length])
    if how == "truncated":
        del data[len(data) // 2 :]
    elif how == "magic":
        data[:8] = b"NOTMINE!"
    elif how == "version":
        struct.pack_into("<I", data, 8, FORMAT_VERSION + 1)
    elif how == "header":
        data[20:30] = b"}{not json"
    elif how == "index":
        # A triangle that names a point far past the end of the mesh.
        offset, _dtype, _shape = header["arrays"][header["parts"][0]["cells"]]
        start = -(-(20 + length) // 4096) * 4096
        struct.pack_into("<q", data, start + offset, 10**9)
    elif how == "overrun":
        header["arrays"][0][0] = 1 << 40
        text = json.dumps(header, separators=(",", ":")).encode()
        text = text.ljust(length)[:length]
        data[20 : 20 + length] = text
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "magic", "version", "header", "index", "overrun"])
def test_a_damaged_file_is_refused_and_made_again(tmp_path: Path, how: str) -> None:
    source = tmp_path / "cube.ply"
    pv.Cube().triangulate().save(source)
    store = tmp_path / "cube.twinavatar"
    first = load_through_store(source, store=store)
    good = store.read_bytes()
    del first
    _damage(store, how)
    with pytest.raises(StoredAvatarError, match=r"cube\.twinavatar"):
        read_stored(store)
    again = load_through_store(source, store=store)
    _same_avatar(load_avatar(source), again)
    assert store.read_bytes() == good


def test_without_room_to_store_the_original_is_shown(tmp_path: Path) -> None:
    source = tmp_path / "cube.ply"
    pv.Cube().triangulate().save(source)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    avatar = load_through_store(source, store=blocker / "cube.twinavatar")
    assert avatar.stored is None
    _same_avatar(load_avatar(source), avatar)


def test_an_avatar_that_cannot_be_shown_is_not_stored(tmp_path: Path) -> None:
    source = tmp_path / "broken.ply"
    source.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 99\n")
    store = tmp_path / "broken.twinavatar"
    with pytest.raises(MeshError):
        load_through_store(source, store=store)
    assert not store.exists()


def test_a_changed_original_is_read_again(tmp_path: Path) -> None:
    import os

    source = tmp_path / "body.ply"
    pv.Cube().triangulate().save(source)
    store = tmp_path / "body.twinavatar"
    first = load_through_store(source, store=store, originals=[source])
    assert load_through_store(source, store=store, originals=[source]).stored == store
    # The file is replaced by another figure (its time set back, only its size differs).
    stat = source.stat()
    pv.Sphere().triangulate().save(source)
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(StoredAvatarError, match="changed"):
        read_stored(store, originals=[source])
    again = load_through_store(source, store=store, originals=[source])
    assert again.points != first.points
    _same_avatar(load_avatar(source), again)


def test_a_negative_triangle_index_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "cube.ply"
    pv.Cube().triangulate().save(source)
    store = tmp_path / "cube.twinavatar"
    load_through_store(source, store=store)
    data = bytearray(store.read_bytes())
    _magic, _version, length = struct.unpack_from("<8sIQ", data)
    header = json.loads(data[20 : 20 + length])
    offset, _dtype, _shape = header["arrays"][header["parts"][0]["cells"]]
    start = -(-(20 + length) // 4096) * 4096
    struct.pack_into("<q", data, start + offset + 8, -1)
    store.write_bytes(bytes(data))
    with pytest.raises(StoredAvatarError, match="not there"):
        read_stored(store)
