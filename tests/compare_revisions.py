"""A second revision of a demo request, for comparison tests: the brand sends the denim look
again on a body with wider hips (what a talent must notice), retouches one render, drops
another, and changes the fee, channels and end date."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from PIL import Image

REQUEST_ID = "ss27-denim-0042"
RESHAPED = "twin/denim.glb"
RETOUCHED = "renders/wide-front.jpg"
DROPPED = "renders/wide-three-quarter.jpg"
RETOUCH_BOX = (405, 85, 90, 95)  # x, y, width, height on the 900×1200 render: the face


def write_second_revision(library_dir: Path, folder: Path) -> Path:
    """Write the package of revision 2 of :data:`REQUEST_ID` into *folder* (from revision 1 in
    the library at *library_dir*) and return it."""
    from reviewer.assets.figure import build_figure
    from reviewer.assets.gltf_writer import build_glb
    from reviewer.services.demo_content import DEMO_BODIES, DEMO_LOOKS
    from reviewer.services.queries import asset_local_path, request_assets
    from reviewer.storage.library import Library
    from reviewer.storage.schema import revisions

    library = Library.open(library_dir)
    try:
        with library.reader.connect() as conn:
            manifest = json.loads(
                conn.execute(
                    sa.select(revisions.c.manifest_json).where(
                        revisions.c.request_id == REQUEST_ID, revisions.c.revision == 1
                    )
                ).scalar_one()
            )
        if folder.exists():
            shutil.rmtree(folder)
        for asset in request_assets(library, REQUEST_ID, 1):
            target = folder / asset.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(asset_local_path(library, asset), target)
    finally:
        library.close()

    body = replace(DEMO_BODIES["ines-duarte"], hips=1.1)
    (folder / RESHAPED).write_bytes(build_glb(build_figure(body, DEMO_LOOKS["ines-denim"].outfit)))
    render = np.array(Image.open(folder / RETOUCHED).convert("RGB"))
    x, y, width, height = RETOUCH_BOX
    render[y : y + height, x : x + width] = render[y : y + height, x : x + width] * 0.55 + 90
    # Saved again at the best JPEG quality, so that the rest of the picture barely changes.
    Image.fromarray(render.astype(np.uint8)).save(folder / RETOUCHED, quality=100, subsampling=0)
    (folder / DROPPED).unlink()

    assets = []
    for listed in manifest["assets"]:
        if listed["path"] == DROPPED:
            continue
        asset = {k: v for k, v in listed.items() if v is not None}
        asset["sha256"] = hashlib.sha256((folder / asset["path"]).read_bytes()).hexdigest()
        assets.append(asset)
    manifest["assets"] = assets
    manifest["fee"] = {"amount": "2600.00", "currency": "EUR"}
    manifest["use"]["channels"] = ["ecommerce", "social", "print"]
    manifest["use"]["end"] = "2027-09-30"
    (folder / "request.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return folder


def import_second_revision(library_dir: Path, work: Path) -> None:
    from reviewer.services.imports import ImportService
    from reviewer.storage.library import Library

    package = write_second_revision(library_dir, work / "revision-2")
    library = Library.open(library_dir)
    try:
        result = ImportService(library).import_package(package)
        assert result.revision == 2, result.summary()
    finally:
        library.close()
