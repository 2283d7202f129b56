"""glTF's one-sided materials: back faces are not drawn, and a closed figure looks the same."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.gltf_writer import GltfPart, build_glb  # noqa: E402
from reviewer.assets.meshes import load_avatar  # noqa: E402
from reviewer.assets.stored_avatar import load_through_store  # noqa: E402
from reviewer.render import scene  # noqa: E402


def _glb(path: Path, parts: list[GltfPart], **document_changes: object) -> Path:
    """A GLB of *parts*, its JSON changed: ``materials`` entries updated in order, and
    ``node_scale`` put on every node."""
    data = build_glb(parts)
    length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + length])
    for material, changes in zip(
        document["materials"], document_changes.get("materials", []), strict=False
    ):
        material.update(changes)  # type: ignore[arg-type]
    if "node_scale" in document_changes:
        for node in document["nodes"]:
            node["scale"] = document_changes["node_scale"]
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    rest = data[20 + length :]
    body = struct.pack("<I4s", len(text), b"JSON") + text + rest
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path


def _ball() -> GltfPart:
    sphere = pv.Sphere(radius=0.3, center=(0.0, 0.9, 0.0), theta_resolution=40, phi_resolution=30)
    return GltfPart("ball", np.asarray(sphere.points), sphere.regular_faces)


def _sheet() -> GltfPart:
    """One square facing +Z (towards the front camera), open: it has one side only."""
    points = np.array([[-0.4, 0.5, 0], [0.4, 0.5, 0], [0.4, 1.3, 0], [-0.4, 1.3, 0]], float)
    return GltfPart("sheet", points, np.array([[0, 1, 2], [0, 2, 3]]))


def _shot(avatar, view: str = "front") -> np.ndarray:  # type: ignore[no-untyped-def]
    plotter = pv.Plotter(off_screen=True, window_size=(160, 200))
    try:
        scene.show_avatar(plotter, avatar, view=view, floor=False, show_height=False)  # type: ignore[arg-type]
        return plotter.screenshot(return_img=True).astype(int)
    finally:
        plotter.close()


def _figure_pixels(image: np.ndarray) -> int:
    """Pixels that differ from the background gradient's row colour (the figure)."""
    background = np.median(image[:, :8], axis=1, keepdims=True)
    return int((np.abs(image - background).max(axis=2) > 12).sum())


@pytest.mark.parametrize(
    ("material", "double_sided"),
    [({}, False), ({"doubleSided": False}, False), ({"doubleSided": True}, True)],
)
def test_the_glb_material_says_which_sides_are_drawn(
    tmp_path: Path, material: dict, double_sided: bool
) -> None:
    path = _glb(tmp_path / "sheet.glb", [_sheet()], materials=[material])
    avatar = load_avatar(path)
    assert [p.double_sided for p in avatar.parts] == [double_sided]
    # It survives storing, and the viewer's actor follows it.
    stored = load_through_store(path, store=tmp_path / "sheet.twinavatar")
    assert [p.double_sided for p in stored.parts] == [double_sided]
    plotter = pv.Plotter(off_screen=True, window_size=(80, 80))
    try:
        handle = scene.show_avatar(plotter, stored)
        assert handle.part_actors[0].GetProperty().GetBackfaceCulling() == (not double_sided)
    finally:
        plotter.close()
    # From behind, a one-sided sheet is not there; a double-sided one is.
    assert _figure_pixels(_shot(avatar, "front")) > 500
    seen_from_behind = _figure_pixels(_shot(avatar, "back"))
    assert (seen_from_behind > 500) == double_sided


def test_other_formats_are_drawn_from_both_sides(tmp_path: Path) -> None:
    path = tmp_path / "ball.ply"
    pv.Sphere().triangulate().save(path)
    assert [p.double_sided for p in load_avatar(path).parts] == [True]


def test_a_closed_one_sided_figure_looks_the_same_with_its_back_faces_left_out(
    tmp_path: Path,
) -> None:
    import dataclasses

    avatar = load_avatar(_glb(tmp_path / "ball.glb", [_ball()]))
    assert not avatar.parts[0].double_sided
    both = dataclasses.replace(
        avatar, parts=tuple(dataclasses.replace(p, double_sided=True) for p in avatar.parts)
    )
    for view in ("front", "three_quarter", "left"):
        assert np.abs(_shot(avatar, view) - _shot(both, view)).max() <= 2


def test_a_mirroring_node_keeps_the_outside_out(tmp_path: Path) -> None:
    """glTF turns the winding of a primitive under a mirroring transform; so does the loader,
    or a one-sided figure would show its inside."""
    plain = load_avatar(_glb(tmp_path / "plain.glb", [_ball()]))
    mirrored = load_avatar(_glb(tmp_path / "mirror.glb", [_ball()], node_scale=[-1, 1, 1]))

    def signed_volume(avatar) -> float:  # type: ignore[no-untyped-def]
        mesh = avatar.parts[0].mesh
        p = np.asarray(mesh.points, dtype=float)
        f = mesh.regular_faces
        return float(np.einsum("ij,ij->i", p[f[:, 0]], np.cross(p[f[:, 1]], p[f[:, 2]])).sum())

    assert signed_volume(plain) > 0 and signed_volume(mirrored) > 0
    assert _figure_pixels(_shot(mirrored)) == pytest.approx(_figure_pixels(_shot(plain)), rel=0.02)


def test_a_proxy_of_a_one_sided_figure_is_one_sided_and_whole(tmp_path: Path) -> None:
    import dataclasses

    from reviewer.render.proxy import build_proxy

    avatar = load_avatar(_glb(tmp_path / "ball.glb", [_ball()]))
    proxy = build_proxy(avatar, 600)
    assert [p.double_sided for p in proxy] == [False]
    assert sum(p.mesh.n_cells for p in proxy) < avatar.triangles
    thin = dataclasses.replace(avatar, parts=proxy)
    both = dataclasses.replace(
        thin, parts=tuple(dataclasses.replace(p, double_sided=True) for p in proxy)
    )
    # Binning keeps the triangles' winding: leaving back faces out opens no holes.
    assert np.abs(_shot(thin, "three_quarter") - _shot(both, "three_quarter")).max() <= 2
