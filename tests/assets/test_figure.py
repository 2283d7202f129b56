"""The procedural mannequin: proportions, orientation, parts, materials, determinism."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reviewer.assets.figure import (
    BodySpec,
    Garment,
    OutfitSpec,
    build_figure,
    build_looks,
    fabric_texture,
)
from reviewer.assets.gltf_writer import GltfPart, build_glb, write_glb

BODY = BodySpec(
    height=1.76,
    skin_color=(0.80, 0.62, 0.50),
    hair_style="long",
    hair_color=(0.2, 0.12, 0.08),
)
DENIM = OutfitSpec(
    top=Garment("jacket", (0.26, 0.38, 0.60), "denim"),
    bottom=Garment("slim", (0.15, 0.22, 0.40), "denim"),
)
GINGHAM = OutfitSpec(
    dress=Garment("shirtdress", (0.76, 0.16, 0.21), "gingham"),
    shoes="flat",
    sunglasses=True,
)


@pytest.fixture(scope="module")
def looks() -> dict[str, list[GltfPart]]:
    denim, gingham = build_looks(BODY, [DENIM, GINGHAM])
    return {"denim": denim, "gingham": gingham}


def _points(parts: list[GltfPart]) -> np.ndarray:
    return np.concatenate([np.asarray(p.points, dtype=np.float64) for p in parts])


def test_each_look_has_the_parts_of_its_outfit(looks: dict[str, list[GltfPart]]) -> None:
    assert [p.name for p in looks["denim"]] == [
        "skin",
        "hair",
        "top",
        "bottom",
        "inner",
        "shoes",
        "soles",
    ]
    assert [p.name for p in looks["gingham"]] == ["skin", "hair", "dress", "shoes", "sunglasses"]


@pytest.mark.parametrize("look", ["denim", "gingham"])
def test_standing_figure_of_the_right_size(looks: dict[str, list[GltfPart]], look: str) -> None:
    points = _points(looks[look])
    lo, hi = points.min(axis=0), points.max(axis=0)
    height = hi[1] - lo[1]
    assert 1.70 <= height <= 1.80
    assert abs(lo[1]) < 0.003  # soles on the floor
    assert hi[0] - lo[0] < height / 2  # taller than wide, arms close to the body
    assert abs(hi[0] + lo[0]) < 0.02  # centred and symmetric
    triangles = sum(p.triangle_count for p in looks[look])
    assert 20_000 <= triangles <= 80_000


def test_figure_faces_plus_z(looks: dict[str, list[GltfPart]]) -> None:
    parts = {p.name: p for p in looks["gingham"]}
    glasses = np.asarray(parts["sunglasses"].points)
    lenses = glasses[glasses[:, 2] > 0.08]
    assert len(lenses) > 0  # the lenses sit in front of the face
    shoes = np.asarray(parts["shoes"].points)
    assert shoes[:, 2].max() > 0.15 > -shoes[:, 2].min()  # toes point forward


def test_normals_are_unit_and_point_out(looks: dict[str, list[GltfPart]]) -> None:
    skin = looks["denim"][0]
    points = np.asarray(skin.points, dtype=np.float64)
    normals = np.asarray(skin.normals, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-4)
    # The head is nearly convex: its normals point away from its centre.
    head = points[:, 1] > 1.58
    outward = points[head] - points[head].mean(axis=0)
    assert np.mean(np.einsum("ij,ij->i", normals[head], outward) > 0) > 0.9
    # Faces wind counter-clockwise seen from outside, the way their normals point.
    faces = np.asarray(skin.faces, dtype=np.int64)
    a, b, c = (points[faces[:, i]] for i in range(3))
    facing = np.einsum("ij,ij->i", np.cross(b - a, c - a), normals[faces].sum(axis=1))
    assert np.mean(facing > 0) > 0.99


def test_patterned_garments_carry_a_texture_and_uvs(looks: dict[str, list[GltfPart]]) -> None:
    for look, name in (("denim", "top"), ("denim", "bottom"), ("gingham", "dress")):
        part = next(p for p in looks[look] if p.name == name)
        assert part.texture_png is not None and part.texture_png.startswith(b"\x89PNG")
        assert part.uvs is not None and part.uvs.shape == (len(part.points), 2)
        assert np.all(np.isfinite(part.uvs))
        assert part.base_color == (1.0, 1.0, 1.0, 1.0)
    plain = next(p for p in looks["denim"] if p.name == "inner")
    assert plain.texture_png is None and plain.uvs is None


def test_skin_hidden_under_clothes_is_left_out(looks: dict[str, list[GltfPart]]) -> None:
    skin = {look: parts[0].triangle_count for look, parts in looks.items()}
    assert skin["gingham"] > skin["denim"]  # bare arms and legs need more skin


def test_the_look_loads_in_pyvista(looks: dict[str, list[GltfPart]], tmp_path: Path) -> None:
    import pyvista as pv

    path = tmp_path / "look.glb"
    write_glb(path, looks["denim"])
    blocks = list(pv.read(path).recursive_iterator())
    assert sum(block.n_cells for block in blocks) > 10_000
    assert len(blocks) == len(looks["denim"])


def test_building_is_deterministic(looks: dict[str, list[GltfPart]]) -> None:
    again = build_figure(BODY, GINGHAM)
    assert build_glb(again) == build_glb(looks["gingham"])


@pytest.mark.parametrize("pattern", ["denim", "stripes", "gingham", "rib"])
def test_fabric_swatches_are_stable_pngs(pattern: str) -> None:
    png, tile = fabric_texture(pattern, (0.2, 0.3, 0.5), (0.95, 0.95, 0.9))
    assert png == fabric_texture(pattern, (0.2, 0.3, 0.5), (0.95, 0.95, 0.9))[0]
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB" and image.width == image.height
    assert np.asarray(image).std() > 3  # a pattern, not a flat colour
    assert 0.01 < tile < 0.2


@pytest.mark.parametrize(
    ("body", "outfit", "message"),
    [
        (BODY, OutfitSpec(top=Garment("cape", (1, 1, 1)), bottom=DENIM.bottom), "cape"),
        (BODY, OutfitSpec(dress=GINGHAM.dress, top=DENIM.top), "not both"),
        (BODY, OutfitSpec(top=DENIM.top), "needs a top and a bottom"),
        (BodySpec(hair_style="mohawk"), DENIM, "hair style"),
        (BODY, OutfitSpec(top=DENIM.top, bottom=DENIM.bottom, shoes="skates"), "shoes"),
    ],
)
def test_unknown_specs_are_refused(body: BodySpec, outfit: OutfitSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_figure(body, outfit)
