"""Loading and validating avatar meshes: the real-world corpus, and files built to break."""

from __future__ import annotations

import json
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from reviewer.assets.meshes import (  # noqa: E402 - after the importorskip on purpose
    Avatar,
    MeshError,
    guess_facing_turn,
    inspect_avatar,
    load_avatar,
    referenced_files,
    transform_bounds,
)

# The corpus lives beside the project, not in it: <project root>/../shared/corpus.
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")

DOORMAN = "vtk-data/doorman/doorman.obj"


def _independent_triangles(path: Path) -> int:
    """Triangle count read by VTK's own readers, which the loader does not use for OBJ/PLY."""
    if path.name == "mni-surface-mesh.obj":
        from vtkmodules.vtkIOMINC import vtkMNIObjectReader

        reader = vtkMNIObjectReader()
        reader.SetFileName(str(path))
        reader.Update()
        return pv.wrap(reader.GetOutput()).triangulate().n_cells
    data = pv.read(path)
    if isinstance(data, pv.MultiBlock):
        return sum(block.triangulate().n_cells for block in data.recursive_iterator())
    return data.triangulate().n_cells


def _independent_bounds(path: Path) -> np.ndarray:
    data = pv.read(path)
    if isinstance(data, pv.MultiBlock):
        data = data.combine()
    return np.array(data.bounds, dtype=float)


# (corpus path, texture given by the request, has its own texture, has UVs)
CORPUS_MESHES = [
    (DOORMAN, None, True, True),
    ("vtk-data/fran_cut.vtk", "vtk-data/fran_cut.png", True, True),
    ("vtk-data/Human.vtp", None, False, False),
    ("vtk-data/lucy.ply", None, False, False),
    ("vtk-data/bunny.ply", None, False, False),
    ("vtk-data/cow.obj", None, False, False),
    ("vtk-data/mni-surface-mesh.obj", None, False, False),
    ("gltf/CesiumMan.glb", None, True, True),
]


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize(("name", "texture", "textured", "has_uvs"), CORPUS_MESHES)
def test_corpus_mesh_loads_with_the_triangles_vtk_reads(
    name: str, texture: str | None, textured: bool, has_uvs: bool
) -> None:
    path = CORPUS / name
    avatar = load_avatar(path, texture=None if texture is None else CORPUS / texture)
    info = inspect_avatar(path)

    expected = _independent_triangles(path)
    assert avatar.triangles == expected
    assert info.triangles == expected
    assert info.points == avatar.points
    assert info.has_uvs == has_uvs
    for part in avatar.parts:
        mesh = part.mesh
        assert mesh.is_all_triangles
        normals = mesh.point_data.active_normals
        assert normals is not None
        assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-3)
        assert mesh.point_data.active_scalars_name is None
    assert all(p.has_uvs for p in avatar.parts) == has_uvs
    assert any(p.texture is not None for p in avatar.parts) == textured
    for part in avatar.parts:
        if part.texture is not None:
            assert part.texture.dtype == np.uint8
            assert part.texture.ndim == 3 and part.texture.shape[2] in (3, 4)


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize(
    "name", ["vtk-data/Human.vtp", "vtk-data/lucy.ply", "vtk-data/bunny.ply", "gltf/CesiumMan.glb"]
)
def test_bounds_match_an_independent_reading(name: str) -> None:
    avatar = load_avatar(CORPUS / name)
    assert np.allclose(avatar.bounds, _independent_bounds(CORPUS / name), rtol=1e-5, atol=1e-5)


@needs_corpus
@pytest.mark.corpus
def test_doorman_has_one_part_per_material_with_its_diffuse_map() -> None:
    avatar = load_avatar(CORPUS / DOORMAN)
    names = {part.name for part in avatar.parts}
    assert names == {"m_doorMan_skin", "m_doorMan_clothing", "m_doorMan_teeth", "m_doorMan_eye"}
    by_name = {part.name: part for part in avatar.parts}
    # Skin and clothing share t_doorMan_d.png: decoded once, shared.
    assert by_name["m_doorMan_skin"].texture is by_name["m_doorMan_clothing"].texture
    from PIL import Image

    with Image.open(CORPUS / "vtk-data/doorman/t_eye_d.png") as eye:
        assert by_name["m_doorMan_eye"].texture.shape[:2] == (eye.height, eye.width)


@needs_corpus
@pytest.mark.corpus
def test_referenced_files_of_the_doorman_name_its_mtl_and_maps() -> None:
    names = referenced_files(CORPUS / DOORMAN)
    assert names[0] == "doorman.mtl"
    assert {
        "t_doorMan_d.png",
        "t_doorMan_n.png",
        "t_doorMan_s.png",
        "t_eye_d.png",
        "t_eye_n.png",
        "t_doorMan_teeth_d.png",
        "t_doorMan_teeth_n.png",
    } <= set(names)
    assert len(names) == len(set(names))


@needs_corpus
@pytest.mark.corpus
def test_formats_without_references_name_none() -> None:
    assert referenced_files(CORPUS / "gltf/CesiumMan.glb") == []
    assert referenced_files(CORPUS / "vtk-data/lucy.ply") == []
    assert referenced_files(CORPUS / "vtk-data/cow.obj") == []


@needs_corpus
@pytest.mark.corpus
def test_doorman_stands_after_the_upright_transform() -> None:
    # The corpus README says the doorman is Z-up, but its file is Y-up (Y spans 6.1 units,
    # Z 1.4): judged from the data, it is already standing.
    raw = _independent_bounds(CORPUS / DOORMAN)
    extents = raw[1::2] - raw[0::2]
    avatar = load_avatar(CORPUS / DOORMAN)
    assert avatar.up_axis == ("y" if extents[1] >= extents[2] else "z")
    upright = np.array(transform_bounds(avatar.bounds, avatar.upright_transform))
    width, height, depth = upright[1::2] - upright[0::2]
    assert height > width and height > depth
    assert upright[2] == pytest.approx(0.0, abs=1e-6)  # feet on the floor


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("name", ["vtk-data/Human.vtp", "vtk-data/lucy.ply"])
def test_z_up_scans_are_judged_z_up_and_stood_up(name: str) -> None:
    raw = _independent_bounds(CORPUS / name)
    extents = raw[1::2] - raw[0::2]
    assert extents[2] > extents[1]  # the file really is Z-up
    avatar = load_avatar(CORPUS / name)
    info = inspect_avatar(CORPUS / name)
    assert avatar.up_axis == info.up_axis == "z"
    upright = np.array(avatar.upright_bounds)
    up_extent = upright[3] - upright[2]
    assert up_extent == pytest.approx(extents[2], rel=1e-6)
    assert up_extent > upright[1] - upright[0]


@needs_corpus
@pytest.mark.corpus
def test_gltf_is_in_metres_and_y_up() -> None:
    avatar = load_avatar(CORPUS / "gltf/CesiumMan.glb")
    assert avatar.up_axis == "y"
    assert avatar.units == "m"
    assert avatar.height_metres == pytest.approx(1.51, abs=0.02)


@needs_corpus
@pytest.mark.corpus
def test_texture_for_a_mesh_without_uvs_is_refused() -> None:
    with pytest.raises(MeshError, match="no texture coordinates"):
        load_avatar(CORPUS / "vtk-data/bunny.ply", texture=CORPUS / "vtk-data/fran_cut.png")


@needs_corpus
@pytest.mark.corpus
def test_triangle_cap_applies_to_corpus_files() -> None:
    for name in ("vtk-data/lucy.ply", DOORMAN, "gltf/CesiumMan.glb", "vtk-data/Human.vtp"):
        with pytest.raises(MeshError, match=r"over the limit of 1,000$"):
            inspect_avatar(CORPUS / name, max_triangles=1_000)


# --------------------------------------------------------------------------------------------
# Files built here, so these run without the corpus


@pytest.fixture
def sphere() -> pv.PolyData:
    return pv.Sphere(theta_resolution=24, phi_resolution=16).triangulate()


def _write_binary_ply(path: Path, mesh: pv.PolyData) -> Path:
    mesh.save(path, binary=True)
    return path


def _one_line_reason(error: pytest.ExceptionInfo[MeshError]) -> str:
    text = str(error.value)
    assert text and "\n" not in text
    return text


def test_truncated_binary_ply_is_refused_not_a_crash(tmp_path: Path, sphere: pv.PolyData) -> None:
    # vtkPLYReader itself segfaults on this file.
    whole = _write_binary_ply(tmp_path / "whole.ply", sphere).read_bytes()
    cut = tmp_path / "cut.ply"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(MeshError) as error:
        inspect_avatar(cut)
    assert "ends early" in _one_line_reason(error)


def test_ply_header_that_never_ends(tmp_path: Path) -> None:
    path = tmp_path / "header.ply"
    path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 3\n")
    with pytest.raises(MeshError, match="not a valid PLY file: header ends early"):
        inspect_avatar(path)


def test_hostile_face_count_is_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "hostile.ply"
    path.write_bytes(
        b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\n"
        b"property float y\nproperty float z\nelement face 500000000\n"
        b"property list uchar int vertex_indices\nend_header\n" + b"\0" * 64
    )
    with pytest.raises(MeshError) as error:
        inspect_avatar(path)
    assert _one_line_reason(error) == (
        "has at least 500,000,000 triangles, over the limit of 20,000,000"
    )


@pytest.mark.parametrize("suffix", [".glb", ".stl", ".obj", ".ply", ".vtp", ".vtk", ".gltf"])
def test_random_bytes_are_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(MeshError) as error:
        inspect_avatar(path)
    assert _one_line_reason(error).startswith(("not a valid", "has "))


@pytest.mark.parametrize("suffix", [".glb", ".stl", ".obj", ".ply", ".vtp", ".vtk"])
def test_empty_files_are_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(MeshError, match=r"^is empty$"):
        inspect_avatar(path)


def test_obj_with_only_vertices_has_no_triangles(tmp_path: Path) -> None:
    path = tmp_path / "points.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(MeshError, match=r"^has no triangles$"):
        load_avatar(path)


def test_obj_face_pointing_past_the_vertices_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    with pytest.raises(MeshError, match="refers to vertex"):
        load_avatar(path)


def test_obj_naming_a_missing_mtl_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "look.obj"
    path.write_text("mtllib look.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl a\nf 1 2 3\n")
    with pytest.raises(MeshError, match=r"refers to look\.mtl, which is missing"):
        load_avatar(path)


def test_triangle_cap_with_a_small_cap(tmp_path: Path, sphere: pv.PolyData) -> None:
    path = _write_binary_ply(tmp_path / "sphere.ply", sphere)
    assert inspect_avatar(path).triangles == sphere.n_cells
    with pytest.raises(MeshError, match=r"over the limit of 100$"):
        inspect_avatar(path, max_triangles=100)
    stl = tmp_path / "sphere.stl"
    sphere.save(stl, binary=True)
    with pytest.raises(MeshError, match=rf"^has {sphere.n_cells:,} triangles, over the limit"):
        inspect_avatar(stl, max_triangles=100)


def test_garbage_after_glb_magic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.glb"
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 64) + b"\x07" * 52)
    with pytest.raises(MeshError, match="not a valid GLB file"):
        inspect_avatar(path)


def test_vtk_errors_are_captured_not_printed(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    path = tmp_path / "broken.vtp"
    path.write_text('<?xml version="1.0"?>\n<VTKFile type="PolyData"><PolyData><Piece')
    with pytest.raises(MeshError, match="not a valid VTP file"):
        inspect_avatar(path)
    captured = capfd.readouterr()
    assert "ERR" not in captured.err and "vtkXML" not in captured.err


@pytest.mark.parametrize("binary", [True, False])
def test_ply_binary_and_ascii_read_the_same(
    tmp_path: Path, sphere: pv.PolyData, binary: bool
) -> None:
    path = tmp_path / "sphere.ply"
    sphere.save(path, binary=binary)
    avatar = load_avatar(path)
    assert avatar.triangles == sphere.n_cells
    assert np.allclose(avatar.bounds, sphere.bounds, atol=1e-6)


def test_ply_quads_are_fan_triangulated(tmp_path: Path) -> None:
    path = tmp_path / "quads.ply"
    path.write_text(
        "ply\nformat ascii 1.0\nelement vertex 6\nproperty float x\nproperty float y\n"
        "property float z\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n"
        "0 0 0\n1 0 0\n1 1 0\n0 1 0\n2 0 0\n2 1 0\n4 0 1 2 3\n3 1 4 5\n"
    )
    assert load_avatar(path).triangles == 3


def test_obj_line_parser_handles_what_the_fast_parser_leaves(tmp_path: Path) -> None:
    # Comments after numbers, relative indices, quads and mixed corner formats push the
    # loader onto its line-by-line parser; the result must match the plain spelling.
    plain = tmp_path / "plain.obj"
    plain.write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3 4/4\n"
    )
    quirky = tmp_path / "quirky.obj"
    quirky.write_text(
        "v 0 0 0 # origin\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n"
        "f -4/-4 -3/-3 -2/-2 -1/-1\n"
    )
    a = load_avatar(plain)
    b = load_avatar(quirky)
    assert a.triangles == b.triangles == 2
    assert np.allclose(a.parts[0].mesh.points, b.parts[0].mesh.points)
    assert np.allclose(
        a.parts[0].mesh.active_texture_coordinates, b.parts[0].mesh.active_texture_coordinates
    )


def test_obj_mtl_in_a_subfolder_is_reported_relative_to_the_obj(tmp_path: Path) -> None:
    (tmp_path / "mat").mkdir()
    (tmp_path / "mat" / "look.mtl").write_text(
        "newmtl cloth\nKd 0.5 0.2 0.1\nmap_Kd -s 1 1 1 tex/cloth.png\nbump ../bump.png\n"
    )
    obj = tmp_path / "look.obj"
    obj.write_text(
        "mtllib mat/look.mtl\nmtllib ../outside.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
    )
    assert referenced_files(obj) == [
        "mat/look.mtl",
        "mat/tex/cloth.png",
        "mat/../bump.png",
        "../outside.mtl",
    ]


def test_gltf_external_uris_are_reported_but_data_uris_are_not(tmp_path: Path) -> None:
    document = {
        "asset": {"version": "2.0"},
        "buffers": [
            {"uri": "mesh%20data.bin", "byteLength": 36},
            {"uri": "data:application/octet-stream;base64,AAAA", "byteLength": 3},
        ],
        "images": [{"uri": "skin.png"}, {"uri": "data:image/png;base64,AAAA"}],
    }
    path = tmp_path / "look.gltf"
    path.write_text(json.dumps(document))
    assert referenced_files(path) == ["mesh data.bin", "skin.png"]


def test_mesh_error_reason_is_one_line() -> None:
    assert str(MeshError("line one\nline two")) == "line one line two"


def test_avatar_from_polydata_wraps_a_generated_mesh(sphere: pv.PolyData) -> None:
    avatar = Avatar.from_polydata(sphere)
    assert avatar.triangles == sphere.n_cells
    assert avatar.parts[0].mesh.point_data.active_normals is not None
    assert avatar.upright_bounds[2] == pytest.approx(0.0, abs=1e-6)


def test_facing_turn_follows_the_toes() -> None:
    # A box "body" on a box ankle, on a foot whose toes reach far along +X past the ankle.
    body = pv.Box(bounds=(-0.2, 0.2, 0.25, 1.7, -0.1, 0.1)).triangulate().subdivide(3)
    foot = pv.Box(bounds=(-0.08, 0.25, 0.0, 0.06, -0.15, 0.15)).triangulate().subdivide(3)
    ankle = pv.Box(bounds=(-0.06, 0.06, 0.06, 0.25, -0.15, 0.15)).triangulate().subdivide(3)
    points = np.concatenate([body.points, foot.points, ankle.points])
    assert guess_facing_turn(points) == pytest.approx(270.0)
    mirrored = points * np.array([-1.0, 1.0, 1.0])
    assert guess_facing_turn(mirrored) == pytest.approx(90.0)
    facing_camera = points[:, [2, 1, 0]]  # toes towards +Z
    assert guess_facing_turn(facing_camera) == pytest.approx(0.0)


def test_loads_on_several_threads_at_once(tmp_path: Path, sphere: pv.PolyData) -> None:
    good = _write_binary_ply(tmp_path / "good.ply", sphere)
    bad = tmp_path / "bad.vtp"
    bad.write_text("<VTKFile type='PolyData'>")
    results: list[object] = []

    def load(path: Path) -> None:
        try:
            results.append(load_avatar(path).triangles)
        except MeshError as error:
            results.append(error)

    threads = [threading.Thread(target=load, args=(p,)) for p in (good, bad) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results.count(sphere.n_cells) == 4
    assert sum(isinstance(r, MeshError) for r in results) == 4


def test_references_may_climb_within_the_package_root(tmp_path: Path) -> None:
    # twin/look.obj -> ../materials/look.mtl -> skin.png: inside the package, outside the
    # avatar's own folder. Allowed only when the caller names the package root.
    from PIL import Image

    (tmp_path / "twin").mkdir()
    (tmp_path / "materials").mkdir()
    Image.new("RGB", (8, 8), (200, 120, 90)).save(tmp_path / "materials" / "skin.png")
    (tmp_path / "materials" / "look.mtl").write_text("newmtl skin\nmap_Kd skin.png\n")
    obj = tmp_path / "twin" / "look.obj"
    obj.write_text(
        "mtllib ../materials/look.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\n"
        "usemtl skin\nf 1/1 2/2 3/3\n"
    )
    assert referenced_files(obj) == ["../materials/look.mtl"]
    assert referenced_files(obj, package_root=tmp_path) == [
        "../materials/look.mtl",
        "../materials/skin.png",
    ]
    with pytest.raises(MeshError, match="outside its folder"):
        load_avatar(obj)
    avatar = load_avatar(obj, package_root=tmp_path)
    assert avatar.parts[0].texture is not None
    assert tuple(avatar.parts[0].texture[0, 0]) == (200, 120, 90)


@pytest.mark.parametrize(
    "document",
    [
        {
            "asset": {"version": "2.0"},
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
            "accessors": ["not an object"],
        },
        {"asset": {"version": "2.0"}, "meshes": "not a list"},
        {"asset": {"version": "1.0"}},
        [1, 2, 3],
    ],
)
def test_gltf_of_the_wrong_shape_is_refused(tmp_path: Path, document: object) -> None:
    path = tmp_path / "odd.gltf"
    path.write_text(json.dumps(document))
    with pytest.raises(MeshError) as error:
        inspect_avatar(path)
    assert _one_line_reason(error).startswith(("not a valid glTF file", "has no triangles"))


# --------------------------------------------------------------------------------------------
# The direct glTF reader, texture decoding alongside, and overriding the up axis


def _two_part_glb(tmp_path: Path) -> Path:
    import io

    from PIL import Image

    from reviewer.assets.gltf_writer import GltfPart, write_glb

    body = pv.Sphere(radius=0.3, center=(0.0, 0.9, 0.0), theta_resolution=24, phi_resolution=16)
    head = pv.Sphere(radius=0.1, center=(0.0, 1.6, 0.0), theta_resolution=12, phi_resolution=8)
    points = np.asarray(body.points, dtype=np.float32)
    uvs = np.column_stack([points[:, 0] + 0.5, 1.0 - (points[:, 1] - 0.6)]).astype(np.float32)
    picture = io.BytesIO()
    stripes = np.zeros((32, 32, 3), dtype=np.uint8)
    stripes[:, ::4] = (220, 40, 30)
    Image.fromarray(stripes).save(picture, format="PNG")
    path = tmp_path / "look.glb"
    write_glb(
        path,
        [
            GltfPart("body", points, body.regular_faces, uvs=uvs, texture_png=picture.getvalue()),
            GltfPart(
                "head", np.asarray(head.points), head.regular_faces, base_color=(0.9, 0.7, 0.6, 1)
            ),
        ],
    )
    return path


def test_direct_gltf_reader_matches_vtk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.assets import meshes

    path = _two_part_glb(tmp_path)
    direct = load_avatar(path)
    monkeypatch.setattr(meshes, "_read_gltf_directly", lambda *args, **kwargs: None)
    through_vtk = load_avatar(path)
    assert direct.triangles == through_vtk.triangles
    assert direct.bounds == pytest.approx(through_vtk.bounds, abs=1e-6)
    assert len(direct.parts) == len(through_vtk.parts) == 2
    by_size = lambda avatar: sorted(avatar.parts, key=lambda p: p.mesh.n_cells)  # noqa: E731
    for mine, theirs in zip(by_size(direct), by_size(through_vtk), strict=True):
        assert mine.mesh.n_points == theirs.mesh.n_points
        assert np.allclose(mine.mesh.points, theirs.mesh.points, atol=1e-6)
        assert np.allclose(
            mine.mesh.point_data["Normals"], theirs.mesh.point_data["Normals"], atol=1e-4
        )
        assert mine.has_uvs == theirs.has_uvs
        if mine.has_uvs:
            assert np.allclose(
                mine.mesh.active_texture_coordinates, theirs.mesh.active_texture_coordinates
            )
            assert np.array_equal(mine.texture, theirs.texture)
        assert mine.base_color == pytest.approx(theirs.base_color)


def test_direct_gltf_reader_reads_the_corpus_figure_as_vtk_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.assets import meshes

    glb = CORPUS / "gltf" / "CesiumMan.glb"
    if not glb.is_file():
        pytest.skip("../shared/corpus is absent")
    direct = load_avatar(glb)
    monkeypatch.setattr(meshes, "_read_gltf_directly", lambda *args, **kwargs: None)
    through_vtk = load_avatar(glb)
    assert direct.bounds == pytest.approx(through_vtk.bounds)
    assert np.array_equal(direct.parts[0].mesh.points, through_vtk.parts[0].mesh.points)
    assert np.array_equal(direct.parts[0].texture, through_vtk.parts[0].texture)


@pytest.mark.parametrize("feature", ["skins", "animations"])
def test_direct_gltf_reader_leaves_skins_and_animation_to_vtk(tmp_path: Path, feature: str) -> None:
    from reviewer.assets import meshes

    path = _two_part_glb(tmp_path)
    document, chunk = meshes._read_gltf_document(path)
    assert meshes._read_gltf_directly(document, chunk, path, tmp_path, decode=False) is not None
    document[feature] = [{}]
    assert meshes._read_gltf_directly(document, chunk, path, tmp_path, decode=False) is None


def test_texture_is_decoded_alongside_a_ply(tmp_path: Path, sphere: pv.PolyData) -> None:
    from PIL import Image

    points = np.asarray(sphere.points)
    faces = np.asarray(sphere.regular_faces)
    ply = tmp_path / "ball.ply"
    lines = [
        "ply",
        "format ascii 1.0",
        f"element vertex {len(points)}",
        "property float x",
        "property float y",
        "property float z",
        "property float u",
        "property float v",
        f"element face {len(faces)}",
        "property list uchar int vertex_indices",
        "end_header",
    ]
    lines += [f"{x} {y} {z} {x + 0.5} {y + 0.5}" for x, y, z in points]
    lines += [f"3 {a} {b} {c}" for a, b, c in faces]
    ply.write_text("\n".join(lines) + "\n")
    picture = tmp_path / "skin.png"
    Image.fromarray(np.full((16, 16, 3), 120, dtype=np.uint8)).save(picture)
    avatar = load_avatar(ply, texture=picture)
    assert avatar.parts[0].texture is not None and avatar.parts[0].texture.shape == (16, 16, 3)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(MeshError, match=r"broken\.png"):
        load_avatar(ply, texture=tmp_path / "broken.png")


@pytest.mark.parametrize("axis", ["x", "-x", "y", "-y", "z", "-z"])
def test_any_signed_axis_can_be_made_up(axis: str) -> None:
    # A pole 1.8 long along *axis*, with a knob at its + end: standing, the knob is on top.
    direction = np.zeros(3)
    direction["xyz".index(axis[-1])] = -1.0 if axis.startswith("-") else 1.0
    pole = pv.Cylinder(center=direction * 0.9, direction=direction, radius=0.05, height=1.8)
    knob = pv.Sphere(radius=0.15, center=direction * 1.8)
    avatar = Avatar.from_polydata(pole.triangulate().append_polydata(knob.triangulate()))
    upright = avatar.with_up_axis(axis)  # type: ignore[arg-type]
    assert upright.up_axis == axis
    assert upright.parts is avatar.parts  # the meshes are shared, not copied
    x0, x1, y0, y1, z0, z1 = upright.upright_bounds
    assert y1 - y0 == pytest.approx(1.95, abs=0.02)
    assert y0 == pytest.approx(0.0, abs=1e-9)
    assert max(x1 - x0, z1 - z0) < 0.35
    moved = pv.wrap(knob.points).transform(upright.upright_transform, inplace=False).points
    assert moved[:, 1].min() > 1.5  # the knob ends up at the top
    assert np.linalg.det(upright.upright_transform[:3, :3]) == pytest.approx(1.0)


def test_unknown_up_axis_is_refused(sphere: pv.PolyData) -> None:
    with pytest.raises(ValueError, match="unknown up axis"):
        Avatar.from_polydata(sphere).with_up_axis("w")  # type: ignore[arg-type]
