"""The set that check-image is measured on: the demo library's renders and the corpus
photographs imported as renders, each with the requests it truly belongs to; and images that
are not in the library. Shared by the tests and ``bench/misuse.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from package_factory import make_package, render_only_manifest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CORPUS_IN_LIBRARY = ("images/astronaut.png", "images/camera.png", "images/chelsea.png",
                     "images/coffee.png")
# Photographs kept out of the library: a face scan's texture and a textured figure among them.
CORPUS_HELD_OUT = ("vtk-data/puppy.jpg", "vtk-data/Gourds.png", "vtk-data/fran_cut.png",
                   "vtk-data/doorman/t_doorMan_d.png")
CORPUS_TALENT = "ada-lind"


@dataclass(frozen=True)
class RenderCase:
    """A render in the library and the requests a copy of it may rightly be matched to (the
    same picture can be in more than one request)."""

    request_id: str
    path: str
    sha256: str
    data: bytes
    expected: frozenset[str]
    # Requests holding a render of the same outfit on the same twin in another view: a
    # front and a back view can look alike enough to match too (docs/check-image.md).
    same_look: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return f"{self.request_id}/{self.path}"


def corpus_request_id(rel: str) -> str:
    return "corpus-" + Path(rel).stem.lower().replace("_", "-")


def import_corpus_photos(library: object, corpus: Path, work: Path) -> list[str]:
    """Import each in-library corpus photograph as the render of a request of its own."""
    from reviewer.services.imports import ImportService

    imported = []
    for rel in CORPUS_IN_LIBRARY:
        request_id = corpus_request_id(rel)
        suffix = Path(rel).suffix
        manifest = render_only_manifest(f"renders/photo{suffix}", id=request_id,
                                        talent=CORPUS_TALENT)
        folder = work / request_id
        make_package(folder, manifest)
        (folder / "renders" / f"photo{suffix}").write_bytes((corpus / rel).read_bytes())
        ImportService(library).import_package(folder)  # type: ignore[arg-type]
        imported.append(request_id)
    return imported


def render_cases(library: object) -> list[RenderCase]:
    """Every render of the library with the requests it may rightly be matched to."""
    from reviewer.services.demo_content import DEMO_REQUESTS, _asset_name
    from reviewer.storage.schema import assets

    picture: dict[tuple[str, str], tuple[str, str]] = {}
    for request in DEMO_REQUESTS:
        for key, view in request.renders:
            rel = f"renders/{_asset_name(key)}-{view.replace('_', '-')}.jpg"
            picture[request.id, rel] = (key, view)
    with library.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            sa.select(assets.c.request_id, assets.c.path, assets.c.sha256)
            .where(assets.c.role == "render")
            .order_by(assets.c.request_id, assets.c.position)
        ).all()
    cases = []
    for row in rows:
        same = {
            other.request_id
            for other in rows
            if other.sha256 == row.sha256
            or (
                (row.request_id, row.path) in picture
                and picture.get((other.request_id, other.path))
                == picture[row.request_id, row.path]
            )
        }
        look = picture.get((row.request_id, row.path), (None, None))[0]
        same_look = {
            other.request_id for other in rows
            if look is not None and picture.get((other.request_id, other.path), (None,))[0] == look
        }
        data = library.objects.path_for(row.sha256).read_bytes()  # type: ignore[attr-defined]
        cases.append(RenderCase(row.request_id, row.path, row.sha256, data, frozenset(same),
                                frozenset(same_look)))
    return cases
