"""The GLB writer: structure per the glTF 2.0 specification, and VTK reads what it writes."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reviewer.assets.gltf_writer import (
    CHUNK_BIN,
    CHUNK_JSON,
    GLB_MAGIC,
    GltfPart,
    build_glb,
    vertex_normals,
    write_glb,
)


def _sphere(centre: tuple[float, float, float], radius: float) -> tuple[np.ndarray, np.ndarray]:
    import pyvista as pv

    mesh = pv.Sphere(radius=radius, center=centre, theta_resolution=24, phi_resolution=16)
    mesh = mesh.triangulate()
    return np.asarray(mesh.points), np.asarray(mesh.regular_faces)


def _two_colour_png() -> bytes:
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[:, :16] = (20, 200, 40)
    pixels[:, 16:] = (30, 40, 220)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _parts() -> list[GltfPart]:
    points, faces = _sphere((-0.6, 0.0, 0.0), 0.45)
    quad = np.array([[0.2, -0.5, 0.0], [1.2, -0.5, 0.0], [1.2, 0.5, 0.0], [0.2, 0.5, 0.0]])
    return [
        GltfPart("red ball", points, faces, base_color=(0.9, 0.05, 0.05, 1.0), roughness=0.5),
        GltfPart(
            "card",
            quad,
            np.array([[0, 1, 2], [0, 2, 3]]),
            normals=np.tile([0.0, 0.0, 2.0], (4, 1)),  # not unit: the writer normalises
            uvs=np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]),
            texture_png=_two_colour_png(),
        ),
    ]


def _chunks(glb: bytes) -> tuple[dict, bytes]:
    magic, version, length = struct.unpack_from("<III", glb, 0)
    assert (magic, version, length) == (GLB_MAGIC, 2, len(glb))
    json_length, json_type = struct.unpack_from("<II", glb, 12)
    assert json_type == CHUNK_JSON
    assert json_length % 4 == 0
    json_bytes = glb[20 : 20 + json_length]
    assert b"\x00" not in json_bytes  # the JSON chunk is padded with spaces, not zeros
    bin_length, bin_type = struct.unpack_from("<II", glb, 20 + json_length)
    assert bin_type == CHUNK_BIN
    assert bin_length % 4 == 0
    start = 28 + json_length
    assert start + bin_length == len(glb)
    return json.loads(json_bytes), glb[start : start + bin_length]


def test_glb_structure_follows_the_specification() -> None:
    parts = _parts()
    document, binary = _chunks(build_glb(parts))

    assert document["asset"]["version"] == "2.0"
    assert document["buffers"] == [{"byteLength": len(binary)}]
    root = document["nodes"][document["scenes"][document["scene"]]["nodes"][0]]
    assert [document["nodes"][i]["name"] for i in root["children"]] == ["red ball", "card"]
    for view in document["bufferViews"]:
        assert view["byteOffset"] % 4 == 0
        assert view["byteOffset"] + view["byteLength"] <= len(binary)

    def array(accessor_index: int) -> np.ndarray:
        accessor = document["accessors"][accessor_index]
        view = document["bufferViews"][accessor["bufferView"]]
        dtype = {5126: np.float32, 5125: np.uint32}[accessor["componentType"]]
        width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}[accessor["type"]]
        raw = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
        values = np.frombuffer(raw, dtype=dtype)
        assert values.size == accessor["count"] * width
        return values.reshape(accessor["count"], width)

    for part, mesh in zip(parts, document["meshes"], strict=True):
        primitive = mesh["primitives"][0]
        assert primitive["mode"] == 4
        position = document["accessors"][primitive["attributes"]["POSITION"]]
        points = array(primitive["attributes"]["POSITION"])
        np.testing.assert_allclose(points, np.asarray(part.points, np.float32))
        assert position["min"] == pytest.approx(points.min(axis=0).tolist())
        assert position["max"] == pytest.approx(points.max(axis=0).tolist())
        normals = array(primitive["attributes"]["NORMAL"])
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
        indices = array(primitive["indices"]).reshape(-1, 3)
        np.testing.assert_array_equal(indices, part.faces)
        assert document["bufferViews"][position["bufferView"]]["target"] == 34962
        index_view = document["accessors"][primitive["indices"]]["bufferView"]
        assert document["bufferViews"][index_view]["target"] == 34963

    ball, card = (document["materials"][m["primitives"][0]["material"]] for m in document["meshes"])
    assert ball["pbrMetallicRoughness"]["baseColorFactor"] == pytest.approx([0.9, 0.05, 0.05, 1.0])
    assert ball["pbrMetallicRoughness"]["roughnessFactor"] == pytest.approx(0.5)
    assert "TEXCOORD_0" in document["meshes"][1]["primitives"][0]["attributes"]
    texture = document["textures"][card["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    image = document["images"][texture["source"]]
    assert image["mimeType"] == "image/png"
    view = document["bufferViews"][image["bufferView"]]
    assert "target" not in view
    png = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
    assert png == parts[1].texture_png
    assert document["samplers"][texture["sampler"]]["wrapS"] == 10497


def test_output_is_deterministic() -> None:
    assert build_glb(_parts()) == build_glb(_parts())


def test_pyvista_reads_every_part(tmp_path: Path) -> None:
    import pyvista as pv

    path = tmp_path / "scene.glb"
    write_glb(path, _parts())
    blocks = list(pv.read(path).recursive_iterator())
    assert [block.n_cells for block in blocks] == [part.triangle_count for part in _parts()]
    assert "TEXCOORD_0" in blocks[1].point_data


def test_colours_and_texture_show_in_an_off_screen_render(tmp_path: Path) -> None:
    import pyvista as pv

    path = tmp_path / "scene.glb"
    write_glb(path, _parts())
    plotter = pv.Plotter(off_screen=True, window_size=(320, 200))
    try:
        plotter.disable_anti_aliasing()
        plotter.set_background("white")
        plotter.import_gltf(path)
        plotter.camera_position = "xy"
        plotter.reset_camera()
        pixels = plotter.screenshot(return_img=True).reshape(-1, 3).astype(int)
    finally:
        plotter.close()
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    assert np.count_nonzero((r > 2 * g + 20) & (r > 2 * b + 20)) > 500  # the red ball
    assert np.count_nonzero((g > 2 * r + 20) & (g > b + 20)) > 300  # green half of the card
    assert np.count_nonzero((b > 2 * r + 20) & (b > g + 20)) > 300  # blue half


def test_vertex_normals_are_unit_and_face_outwards() -> None:
    points, faces = _sphere((0.0, 0.0, 0.0), 1.0)
    normals = vertex_normals(points, faces)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-9)
    assert np.all(np.einsum("ij,ij->i", normals, points) > 0.9)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"faces": np.array([[0, 1, 99]])}, "does not exist"),
        ({"points": np.zeros((0, 3))}, "non-empty"),
        ({"texture_png": b"GIF89a"}, "not a PNG"),
        ({"uvs": None}, "needs uvs"),
        ({"uvs": np.zeros((3, 2))}, "uvs must"),
    ],
)
def test_bad_parts_are_refused(change: dict, message: str) -> None:
    card = _parts()[1]
    fields = {
        "name": card.name,
        "points": card.points,
        "faces": card.faces,
        "normals": None,
        "uvs": card.uvs,
        "texture_png": card.texture_png,
    }
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        build_glb([GltfPart(**fields)])


def test_an_empty_scene_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        build_glb([])
