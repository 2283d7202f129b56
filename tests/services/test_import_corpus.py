"""Importing packages made of real files from ``../shared/corpus`` (skipped when it is absent).

The corpus files are copied into a package under ``tmp_path`` at test time; nothing of the
corpus lives in this repository. What the import records (triangles, sizes, companions) is
checked against an independent reading of each file (VTK's own readers, the glTF JSON, the
image headers), never against our own output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from pathlib import Path

import pytest
import sqlalchemy as sa
from package_factory import base_manifest, write_manifest, zip_folder

from reviewer.services.imports import ImportOutcome, ImportService
from reviewer.services.queries import (
    asset_local_path,
    list_requests,
    request_assets,
    texture_local_path,
)
from reviewer.storage.library import Library
from reviewer.storage.schema import asset_files

pytestmark = pytest.mark.corpus

DOORMAN_FILES = [
    "doorman.obj",
    "doorman.mtl",
    "t_doorMan_d.png",
    "t_doorMan_n.png",
    "t_doorMan_s.png",
    "t_eye_d.png",
    "t_eye_n.png",
    "t_doorMan_teeth_d.png",
    "t_doorMan_teeth_n.png",
]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(root: Path, files: dict[str, Path], assets: list[dict], **changes: object) -> Path:
    """A package at *root*: *files* copied in under their package paths, and a manifest."""
    for rel, source in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / rel)
    write_manifest(root, base_manifest(assets=assets, **changes))
    return root


def avatar(path: str, **extra: str) -> dict:
    return {"path": path, "role": "avatar", "label": Path(path).stem, **extra}


def render(path: str) -> dict:
    return {"path": path, "role": "render", "label": Path(path).stem}


# --- Independent readings ---------------------------------------------------------------------


def vtk_triangles(path: Path) -> int:
    """Triangles after VTK's own reader and triangle filter (not our parser)."""
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter

    suffix = path.suffix.lower()
    if suffix == ".obj":
        from vtkmodules.vtkIOGeometry import vtkOBJReader as Reader
    elif suffix == ".ply":
        from vtkmodules.vtkIOPLY import vtkPLYReader as Reader
    elif suffix == ".vtp":
        from vtkmodules.vtkIOXML import vtkXMLPolyDataReader as Reader
    else:
        from vtkmodules.vtkIOLegacy import vtkPolyDataReader as Reader
    reader = Reader()
    reader.SetFileName(str(path))
    triangles = vtkTriangleFilter()
    triangles.SetInputConnection(reader.GetOutputPort())
    triangles.Update()
    return triangles.GetOutput().GetNumberOfCells()


def glb_declared_triangles(path: Path) -> int:
    """Triangles the GLB's JSON declares: index count / 3 for each triangle-list primitive."""
    data = path.read_bytes()
    (json_length,) = struct.unpack_from("<I", data, 12)
    document = json.loads(data[20 : 20 + json_length])
    uses = [
        sum(1 for n in document["nodes"] if n.get("mesh") == i)
        for i in range(len(document["meshes"]))
    ]
    total = 0
    for mesh, used in zip(document["meshes"], uses, strict=True):
        for primitive in mesh["primitives"]:
            assert primitive.get("mode", 4) == 4
            total += document["accessors"][primitive["indices"]]["count"] // 3 * used
    return total


def image_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG IHDR or the JPEG frame header, read by hand."""
    data = path.read_bytes()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return struct.unpack(">II", data[16:24])
    assert data[:2] == b"\xff\xd8", path
    at = 2
    while True:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length


# --- Tests ------------------------------------------------------------------------------------


def test_doorman_obj_brings_its_mtl_and_maps(
    corpus: Path, library: Library, tmp_path: Path
) -> None:
    source = corpus / "vtk-data" / "doorman"
    files = {f"twin/{n}": source / n for n in DOORMAN_FILES}
    files["renders/puppy.jpg"] = corpus / "vtk-data" / "puppy.jpg"
    package = build(
        tmp_path / "doorman",
        files,
        [avatar("twin/doorman.obj"), render("renders/puppy.jpg")],
        id="doorman-0001",
    )

    result = ImportService(library).import_package(package)
    assert result.outcome is ImportOutcome.IMPORTED
    assert result.warnings == ()  # every file was used: the OBJ, its MTL, its seven maps

    obj = request_assets(library, "doorman-0001")[0]
    assert obj.media_type == "model/obj"
    assert obj.sha256 == sha256_of(source / "doorman.obj")
    assert obj.triangles == vtk_triangles(source / "doorman.obj")
    with library.engine.connect() as conn:
        companions = dict(
            conn.execute(
                sa.select(asset_files.c.path, asset_files.c.sha256).where(
                    asset_files.c.asset_id == obj.id
                )
            ).all()
        )
    # The MTL names every map (map_Kd, map_Disp, map_Ks); each is stored with the OBJ.
    assert companions == {f"twin/{n}": sha256_of(source / n) for n in DOORMAN_FILES[1:]}
    for sha in companions.values():
        assert library.objects.verify(sha)

    laid_out = asset_local_path(library, obj)
    assert laid_out.name == "doorman.obj"
    for name in DOORMAN_FILES:
        assert (laid_out.parent / name).read_bytes() == (source / name).read_bytes()

    from reviewer.assets.meshes import load_avatar

    reloaded = load_avatar(laid_out)
    original = load_avatar(source / "doorman.obj")
    assert reloaded.triangles == original.triangles == obj.triangles
    textured = [p for p in reloaded.parts if p.texture is not None]
    assert textured, "the maps next to the laid-out OBJ were not found"
    assert len(textured) == sum(p.texture is not None for p in original.parts)


def test_fran_cut_vtk_takes_its_png_as_texture(
    corpus: Path, library: Library, tmp_path: Path
) -> None:
    data = corpus / "vtk-data"
    package = build(
        tmp_path / "fran",
        {"face/fran_cut.vtk": data / "fran_cut.vtk", "face/fran_cut.png": data / "fran_cut.png"},
        [avatar("face/fran_cut.vtk", texture="face/fran_cut.png")],
        id="fran-0001",
    )

    ImportService(library).import_package(package)

    (face,) = request_assets(library, "fran-0001")
    assert face.media_type == "application/vnd.vtk.legacy"
    assert face.texture_path == "face/fran_cut.png"
    assert face.triangles == vtk_triangles(data / "fran_cut.vtk")
    texture = texture_local_path(library, face)
    assert texture is not None
    assert texture.read_bytes() == (data / "fran_cut.png").read_bytes()

    from reviewer.assets.meshes import load_avatar

    shown = load_avatar(asset_local_path(library, face), texture=texture)
    width, height = image_size(data / "fran_cut.png")
    assert shown.parts[0].texture is not None
    assert shown.parts[0].texture.shape[:2] == (height, width)


@pytest.mark.parametrize(
    ("relative", "media_type"),
    [
        ("vtk-data/Human.vtp", "application/vnd.vtk.vtp"),
        ("vtk-data/lucy.ply", "model/ply"),
        ("vtk-data/doorman/doorman.obj", "model/obj"),
        ("vtk-data/fran_cut.vtk", "application/vnd.vtk.legacy"),
    ],
)
def test_triangle_counts_agree_with_vtk(
    relative: str, media_type: str, corpus: Path, library: Library, tmp_path: Path
) -> None:
    source = corpus / relative
    # An OBJ without its MTL would be refused; give the doorman his whole folder.
    extra = (
        {f"twin/{n}": source.parent / n for n in DOORMAN_FILES} if source.suffix == ".obj" else {}
    )
    package = build(
        tmp_path / "pkg", {f"twin/{source.name}": source, **extra}, [avatar(f"twin/{source.name}")]
    )

    ImportService(library).import_package(package)

    (stored,) = request_assets(library, "ss27-denim-0042")
    assert stored.media_type == media_type
    assert stored.triangles == vtk_triangles(source)
    assert stored.size == source.stat().st_size


def test_human_vtp_has_the_documented_triangle_count(
    corpus: Path, library: Library, tmp_path: Path
) -> None:
    source = corpus / "vtk-data" / "Human.vtp"
    ImportService(library).import_package(
        build(tmp_path / "pkg", {"twin/Human.vtp": source}, [avatar("twin/Human.vtp")])
    )
    assert request_assets(library, "ss27-denim-0042")[0].triangles == 34_660  # corpus README


def test_skinned_glb_counts_its_triangles(corpus: Path, library: Library, tmp_path: Path) -> None:
    source = corpus / "gltf" / "CesiumMan.glb"
    package = build(
        tmp_path / "cesium",
        {"twin/CesiumMan.glb": source},
        [avatar("twin/CesiumMan.glb")],
        id="cesium-0001",
    )

    ImportService(library).import_package(package)

    (man,) = request_assets(library, "cesium-0001")
    assert man.media_type == "model/gltf-binary"
    assert man.triangles == glb_declared_triangles(source)
    assert library.objects.path_for(man.sha256).read_bytes() == source.read_bytes()


def test_corpus_photographs_import_as_renders(
    corpus: Path, library: Library, tmp_path: Path
) -> None:
    photos = [
        *sorted((corpus / "images").glob("*.png")),
        corpus / "vtk-data" / "puppy.jpg",
        corpus / "vtk-data" / "Gourds.png",
    ]
    files = {f"renders/{p.name}": p for p in photos}
    package = build(tmp_path / "photos", files, [render(rel) for rel in files], id="photos-0001")

    ImportService(library).import_package(package)

    stored = {a.path: a for a in request_assets(library, "photos-0001")}
    assert set(stored) == set(files)
    for rel, source in files.items():
        asset = stored[rel]
        assert (asset.width, asset.height) == image_size(source), rel
        expected_type = "image/jpeg" if source.suffix == ".jpg" else "image/png"
        assert asset.media_type == expected_type
        assert asset_local_path(library, asset).read_bytes() == source.read_bytes()


def test_the_whole_corpus_as_one_zip(corpus: Path, library: Library, tmp_path: Path) -> None:
    data = corpus / "vtk-data"
    files = {f"doorman/{n}": data / "doorman" / n for n in DOORMAN_FILES}
    files |= {
        "scans/fran_cut.vtk": data / "fran_cut.vtk",
        "scans/fran_cut.png": data / "fran_cut.png",
        "scans/Human.vtp": data / "Human.vtp",
        "scans/lucy.ply": data / "lucy.ply",
        "cesium/CesiumMan.glb": corpus / "gltf" / "CesiumMan.glb",
        "renders/astronaut.png": corpus / "images" / "astronaut.png",
        "renders/puppy.jpg": data / "puppy.jpg",
    }
    assets = [
        avatar("doorman/doorman.obj"),
        avatar("scans/fran_cut.vtk", texture="scans/fran_cut.png"),
        avatar("scans/Human.vtp"),
        avatar("scans/lucy.ply"),
        avatar("cesium/CesiumMan.glb"),
        render("renders/astronaut.png"),
        render("renders/puppy.jpg"),
    ]
    folder = build(tmp_path / "everything", files, assets, id="corpus-0001")
    zipped = zip_folder(folder, tmp_path / "everything.zip")

    service = ImportService(library)
    assert service.import_package(zipped).outcome is ImportOutcome.IMPORTED
    (summary,) = list_requests(library)
    assert (summary.id, summary.asset_count) == ("corpus-0001", 7)
    referenced = library.referenced_digests()
    assert referenced == {sha256_of(p) for p in files.values()}
    assert library.objects.all_digests() == referenced
    # The folder it was zipped from is the same package.
    assert service.import_package(folder).outcome is ImportOutcome.ALREADY_IMPORTED
