"""Demo request packages: three talents, twelve use requests, sculpted avatars and stills.

``write_demo_packages`` writes one package folder per request (``request.json`` in format 1,
``twin/*.glb`` avatars and ``renders/*.jpg`` stills) without touching the network. Everything
is generated here: the avatars by :mod:`reviewer.assets.figure`, the stills by rendering those
avatars off screen with :mod:`reviewer.render.stills`. The output is deterministic, byte for
byte: fixed seeds, no timestamps, and each distinct look and still is made once and copied.

``DEMO_REQUEST_PLAN`` says what the demo library should do with each request once imported
(approve, reject, revoke...) so that every status shows up in the app.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from reviewer.assets.figure import BodySpec, Garment, OutfitSpec

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

RENDER_SIZE = (900, 1200)
JPEG_QUALITY = 88

DEMO_TALENTS: list[tuple[str, str]] = [
    ("ines-duarte", "Inês Duarte"),
    ("amara-okafor", "Amara Okafor"),
    ("lena-vogt", "Lena Vogt"),
]

DEMO_BODIES: dict[str, BodySpec] = {
    "ines-duarte": BodySpec(
        height=1.77,
        build=0.97,
        hips=1.0,
        bust=0.95,
        skin_color=(0.80, 0.61, 0.48),
        hair_style="long",
        hair_color=(0.17, 0.10, 0.065),
    ),
    "amara-okafor": BodySpec(
        height=1.74,
        build=1.02,
        hips=1.05,
        bust=1.05,
        skin_color=(0.47, 0.31, 0.22),
        hair_style="curls",
        hair_color=(0.075, 0.055, 0.05),
    ),
    "lena-vogt": BodySpec(
        height=1.74,
        build=0.95,
        hips=0.98,
        bust=0.95,
        skin_color=(0.95, 0.80, 0.71),
        hair_style="bun",
        hair_color=(0.82, 0.66, 0.42),
    ),
}

_WHITE = (0.95, 0.94, 0.91)
_INDIGO = (0.15, 0.22, 0.40)
_MID_INDIGO = (0.26, 0.38, 0.60)
_BLACK = (0.07, 0.07, 0.075)


@dataclass(frozen=True)
class DemoLook:
    """One avatar: a talent in an outfit, with the label a request shows for it."""

    talent: str
    label: str
    outfit: OutfitSpec


DEMO_LOOKS: dict[str, DemoLook] = {
    "ines-denim": DemoLook(
        "ines-duarte",
        "Denim on denim",
        OutfitSpec(
            top=Garment("jacket", _MID_INDIGO, "denim"),
            bottom=Garment("slim", _INDIGO, "denim"),
            shoes="sneaker",
            shoe_color=_WHITE,
            inner=_WHITE,
        ),
    ),
    "ines-wide": DemoLook(
        "ines-duarte",
        "White tee, wide-leg denim",
        OutfitSpec(
            top=Garment("tee", _WHITE),
            bottom=Garment("wide", (0.20, 0.30, 0.50), "denim"),
            shoes="flat",
            shoe_color=(0.60, 0.43, 0.30),
        ),
    ),
    "ines-slip": DemoLook(
        "ines-duarte",
        "Champagne slip dress",
        OutfitSpec(
            dress=Garment("slip", (0.90, 0.82, 0.70), roughness=0.42),
            shoes="flat",
            shoe_color=(0.80, 0.66, 0.55),
        ),
    ),
    "ines-breton": DemoLook(
        "ines-duarte",
        "Breton stripe, sunglasses",
        OutfitSpec(
            top=Garment("longsleeve", (0.10, 0.14, 0.30), "stripes", accent=_WHITE),
            bottom=Garment("wide", (0.92, 0.89, 0.82)),
            shoes="flat",
            shoe_color=_BLACK,
            sunglasses=True,
        ),
    ),
    "amara-denim": DemoLook(
        "amara-okafor",
        "Wide-leg denim",
        OutfitSpec(
            top=Garment("tee", (0.93, 0.62, 0.30)),
            bottom=Garment("wide", _INDIGO, "denim"),
            shoes="sneaker",
            shoe_color=_WHITE,
        ),
    ),
    "amara-run": DemoLook(
        "amara-okafor",
        "Coral training set",
        OutfitSpec(
            top=Garment("longsleeve", (0.93, 0.44, 0.38), roughness=0.6),
            bottom=Garment("leggings", _BLACK, roughness=0.55),
            shoes="sneaker",
            shoe_color=_WHITE,
        ),
    ),
    "amara-track": DemoLook(
        "amara-okafor",
        "Emerald track suit",
        OutfitSpec(
            top=Garment("longsleeve", (0.05, 0.42, 0.34), roughness=0.7),
            bottom=Garment("joggers", (0.52, 0.53, 0.55), roughness=0.9),
            shoes="sneaker",
            shoe_color=(0.90, 0.90, 0.88),
        ),
    ),
    "amara-gown": DemoLook(
        "amara-okafor",
        "Ivory gown",
        OutfitSpec(
            dress=Garment("gown", (0.96, 0.94, 0.88), roughness=0.42),
            shoes="flat",
            shoe_color=(0.96, 0.94, 0.88),
        ),
    ),
    "amara-blush": DemoLook(
        "amara-okafor",
        "Blush slip dress",
        OutfitSpec(
            dress=Garment("slip", (0.93, 0.78, 0.76), roughness=0.42),
            shoes="flat",
            shoe_color=(0.93, 0.80, 0.74),
        ),
    ),
    "lena-shades": DemoLook(
        "lena-vogt",
        "Sky tee, sunglasses",
        OutfitSpec(
            top=Garment("tee", (0.62, 0.76, 0.89)),
            bottom=Garment("slim", _INDIGO, "denim"),
            shoes="sneaker",
            shoe_color=_WHITE,
            sunglasses=True,
        ),
    ),
    "lena-gingham": DemoLook(
        "lena-vogt",
        "Gingham shirt dress",
        OutfitSpec(
            dress=Garment("shirtdress", (0.76, 0.16, 0.21), "gingham", accent=_WHITE),
            shoes="flat",
            shoe_color=_WHITE,
        ),
    ),
    "lena-coat": DemoLook(
        "lena-vogt",
        "Camel coat",
        OutfitSpec(
            top=Garment("coat", (0.72, 0.54, 0.35)),
            bottom=Garment("slim", _BLACK),
            shoes="boot",
            shoe_color=(0.12, 0.09, 0.08),
            inner=(0.93, 0.90, 0.84),
        ),
    ),
    "lena-knit": DemoLook(
        "lena-vogt",
        "Burgundy rib knit",
        OutfitSpec(
            top=Garment("knit", (0.52, 0.13, 0.19), "rib"),
            bottom=Garment("skirt", (0.23, 0.23, 0.25)),
            shoes="boot",
            shoe_color=(0.12, 0.09, 0.08),
        ),
    ),
}


@dataclass(frozen=True)
class DemoRequest:
    """Everything one request package says; ``renders`` pairs a look with a view."""

    id: str
    talent: str
    requester: tuple[str, str, str]  # name, organisation, email
    campaign: str
    brief: str
    channels: tuple[str, ...]
    territories: tuple[str, ...]
    start: str
    end: str
    categories: tuple[str, ...]
    fee: tuple[str, str]  # amount, currency
    due: str
    looks: tuple[str, ...]
    renders: tuple[tuple[str, str], ...]
    voice: bool = False
    backdrop: tuple[int, int, int] = (236, 232, 226)


_BRAND_STUDIO = ("Mara Lind", "Brand Studio", "mara@brandstudio.example")
_MAISON_AURE = ("Camille Roche", "Maison Aure", "camille.roche@maisonaure.example")
_NORTHLINE = ("Tom Achebe", "Northline Athletics", "tom@northline.example")
_VISTA = ("Yuki Sato", "Vista Optics", "y.sato@vista-optics.example")
_ATELIER = ("Sofia Marin", "Atelier Blanc", "sofia@atelierblanc.example")
_HALDEN = ("Jonas Berg", "Halden Outerwear", "jonas.berg@halden.example")
_FJORD = ("Ida Holm", "Fjord Knitwear", "ida@fjordknit.example")

DEMO_REQUESTS: list[DemoRequest] = [
    DemoRequest(
        "ss27-denim-0042",
        "ines-duarte",
        _BRAND_STUDIO,
        "SS27 Denim",
        "Twin wears the wide-leg look in studio renders for product pages, with the denim "
        "jacket as an alternative for the launch post.",
        ("ecommerce", "social"),
        ("EU", "GB"),
        "2027-02-01",
        "2027-07-31",
        ("denim",),
        ("1800.00", "EUR"),
        "2026-12-15",
        ("ines-wide", "ines-denim"),
        (("ines-wide", "front"), ("ines-wide", "three_quarter"), ("ines-denim", "front")),
    ),
    DemoRequest(
        "ss27-denim-0043",
        "amara-okafor",
        _BRAND_STUDIO,
        "SS27 Denim",
        "Product page stills of the wide-leg denim look, live for the pre-season drop.",
        ("ecommerce",),
        ("EU", "GB", "US"),
        "2026-11-15",
        "2027-07-31",
        ("denim",),
        ("1800.00", "EUR"),
        "2026-11-10",
        ("amara-denim", "amara-run"),
        (("amara-denim", "front"), ("amara-denim", "three_quarter")),
        backdrop=(234, 233, 229),
    ),
    DemoRequest(
        "aure-nuit-0007",
        "ines-duarte",
        _MAISON_AURE,
        "Aure Nuit Fragrance",
        "Hero film and stills for the Aure Nuit launch: the twin in the champagne slip "
        "dress, with a voice-over generated from the talent's voice.",
        ("video", "tv", "social"),
        ("WW",),
        "2027-03-01",
        "2027-12-31",
        ("fragrance", "beauty"),
        ("12500.00", "EUR"),
        "2026-11-25",
        ("ines-slip", "ines-wide"),
        (("ines-slip", "front"), ("ines-slip", "three_quarter")),
        voice=True,
        backdrop=(233, 226, 216),
    ),
    DemoRequest(
        "northline-run-0311",
        "amara-okafor",
        _NORTHLINE,
        "Northline Run Club SS27",
        "Social cut-downs and station posters of the training set and the track suit.",
        ("social", "video", "ooh"),
        ("GB", "US", "EU"),
        "2027-03-15",
        "2027-09-30",
        ("athleisure", "sportswear"),
        ("6400.00", "GBP"),
        "2026-12-03",
        ("amara-run", "amara-track"),
        (("amara-run", "front"), ("amara-run", "three_quarter"), ("amara-track", "front")),
        backdrop=(230, 233, 234),
    ),
    DemoRequest(
        "northline-run-0312",
        "amara-okafor",
        _NORTHLINE,
        "Northline Run Club SS27",
        "A print insert for the UK running press: track suit from the side and back.",
        ("print",),
        ("GB",),
        "2027-03-15",
        "2027-06-30",
        ("athleisure",),
        ("1200.00", "GBP"),
        "2026-11-20",
        ("amara-track", "amara-run"),
        (("amara-track", "three_quarter"), ("amara-track", "back")),
        backdrop=(230, 233, 234),
    ),
    DemoRequest(
        "vista-sun-0019",
        "lena-vogt",
        _VISTA,
        "Vista Sun 2027",
        "E-commerce and print for the Vista Sun line: the twin wears frame VS-204.",
        ("ecommerce", "social", "print"),
        ("EU", "US", "JP"),
        "2027-04-01",
        "2027-09-30",
        ("eyewear",),
        ("3200.00", "EUR"),
        "2026-11-26",
        ("lena-shades", "lena-gingham"),
        (("lena-shades", "front"), ("lena-shades", "three_quarter")),
        backdrop=(232, 234, 236),
    ),
    DemoRequest(
        "vista-sun-0020",
        "ines-duarte",
        _VISTA,
        "Vista Sun 2027",
        "Social posts for Europe and Japan: the twin in the Breton look with frame VS-118.",
        ("social",),
        ("EU", "JP"),
        "2027-04-01",
        "2027-09-30",
        ("eyewear",),
        ("2600.00", "EUR"),
        "2026-12-10",
        ("ines-breton", "ines-wide"),
        (("ines-breton", "front"), ("ines-breton", "three_quarter")),
        backdrop=(232, 234, 236),
    ),
    DemoRequest(
        "atelier-blanc-0003",
        "amara-okafor",
        _ATELIER,
        "Atelier Blanc Bridal 2027",
        "Look-book and web shop for the bridal line: the ivory gown and the blush slip "
        "dress for the reception.",
        ("print", "ecommerce"),
        ("FR", "EU", "GB"),
        "2027-01-15",
        "2027-12-31",
        ("bridal",),
        ("4800.00", "EUR"),
        "2027-01-31",
        ("amara-gown", "amara-blush"),
        (("amara-gown", "front"), ("amara-gown", "three_quarter"), ("amara-blush", "front")),
        backdrop=(238, 234, 230),
    ),
    DemoRequest(
        "halden-winter-0101",
        "lena-vogt",
        _HALDEN,
        "Halden Winter 27 Billboards",
        "Billboards and magazine pages for the winter coat launch in German-speaking "
        "cities and London.",
        ("ooh", "print"),
        ("DE", "AT", "CH", "GB"),
        "2027-09-01",
        "2028-02-29",
        ("outerwear",),
        ("9500.00", "EUR"),
        "2027-01-15",
        ("lena-coat", "lena-knit"),
        (("lena-coat", "front"), ("lena-coat", "three_quarter"), ("lena-knit", "front")),
        backdrop=(230, 226, 220),
    ),
    DemoRequest(
        "fjord-aw27-0008",
        "lena-vogt",
        _FJORD,
        "Fjord AW27 Knits",
        "Worldwide TV and online video for a full year, with a synthetic voice-over.",
        ("tv", "video", "social"),
        ("WW",),
        "2027-08-01",
        "2028-07-31",
        ("knitwear",),
        ("900.00", "EUR"),
        "2026-12-01",
        ("lena-knit", "lena-coat"),
        (("lena-knit", "front"), ("lena-knit", "back")),
        voice=True,
        backdrop=(230, 226, 220),
    ),
    DemoRequest(
        "resort27-lookbook-0120",
        "lena-vogt",
        _BRAND_STUDIO,
        "Resort 27 Lookbook",
        "Web shop look-book of the gingham shirt dress and the sky tee.",
        ("ecommerce",),
        ("EU", "GB", "US"),
        "2026-11-01",
        "2027-04-30",
        ("ready-to-wear",),
        ("2100.00", "EUR"),
        "2026-10-20",
        ("lena-gingham", "lena-shades"),
        (("lena-gingham", "front"), ("lena-gingham", "three_quarter")),
    ),
    DemoRequest(
        "ss26-capsule-0077",
        "ines-duarte",
        _BRAND_STUDIO,
        "SS26 Capsule",
        "Social posts for the summer capsule, run from May to October 2026.",
        ("social",),
        ("EU",),
        "2026-05-01",
        "2026-10-31",
        ("ready-to-wear",),
        ("1500.00", "EUR"),
        "2026-04-20",
        ("ines-denim", "ines-breton"),
        (("ines-denim", "front"), ("ines-denim", "three_quarter")),
    ),
]


class PlannedOutcome(NamedTuple):
    """What the demo library does with a request after importing it."""

    request_id: str
    status: str  # pending, approved, rejected, changes_requested, revoked or expired


DEMO_REQUEST_PLAN: list[PlannedOutcome] = [
    PlannedOutcome("ss27-denim-0042", "pending"),
    PlannedOutcome("ss27-denim-0043", "approved"),
    PlannedOutcome("aure-nuit-0007", "changes_requested"),
    PlannedOutcome("northline-run-0311", "pending"),
    PlannedOutcome("northline-run-0312", "pending"),
    PlannedOutcome("vista-sun-0019", "pending"),
    PlannedOutcome("vista-sun-0020", "approved"),
    PlannedOutcome("atelier-blanc-0003", "pending"),
    PlannedOutcome("halden-winter-0101", "pending"),
    PlannedOutcome("fjord-aw27-0008", "rejected"),
    # Approved first, then revoked by the talent.
    PlannedOutcome("resort27-lookbook-0120", "revoked"),
    # Approved while it ran; its end date (2026-10-31) has passed, so it shows as expired.
    PlannedOutcome("ss26-capsule-0077", "expired"),
]

# Words a talent might use for the decisions in the plan; for whoever scripts them.
DEMO_DECISION_NOTES: dict[str, str] = {
    "aure-nuit-0007": "Happy with the film and stills, but no synthetic voice and no TV.",
    "fjord-aw27-0008": "Worldwide TV for a year with a cloned voice is not something I do, "
    "and not at this fee.",
    "resort27-lookbook-0120": "The look-book is being reused in paid social ads; approval "
    "withdrawn.",
}

VIEW_LABELS = {"front": "front", "three_quarter": "three-quarter", "side": "side", "back": "back"}


def _asset_name(look_key: str) -> str:
    return look_key.split("-", 1)[1]


def _manifest(request: DemoRequest, assets: list[dict[str, str]]) -> bytes:
    name, organisation, email = request.requester
    document = {
        "format": "reviewer.use-request/1",
        "id": request.id,
        "talent": request.talent,
        "requester": {"name": name, "organisation": organisation, "email": email},
        "campaign": request.campaign,
        "brief": request.brief,
        "use": {
            "channels": list(request.channels),
            "territories": list(request.territories),
            "start": request.start,
            "end": request.end,
            "categories": list(request.categories),
            "voice": request.voice,
        },
        "fee": {"amount": request.fee[0], "currency": request.fee[1]},
        "due": request.due,
        "assets": assets,
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build_talent_avatars(talent: str) -> dict[str, bytes]:
    """GLB bytes of every demo look of ``talent``, by look key."""
    from reviewer.assets.figure import build_looks
    from reviewer.assets.gltf_writer import build_glb

    keys = [key for key, look in DEMO_LOOKS.items() if look.talent == talent]
    figures = build_looks(DEMO_BODIES[talent], [DEMO_LOOKS[k].outfit for k in keys])
    return {key: build_glb(parts) for key, parts in zip(keys, figures, strict=True)}


def write_demo_packages(
    out_dir: Path,
    *,
    size: tuple[int, int] = RENDER_SIZE,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write one package folder per demo request under ``out_dir``; return their paths.

    Existing folders of the same names are replaced, so running it twice is safe and gives
    the same bytes. ``progress`` is called with a short message after each talent.
    About 5-8 s on two cores; most of it is software-rendering the stills.
    """
    from reviewer.render.stills import StillRenderer, finish_still

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def report(message: str) -> None:
        line = f"{message} ({time.perf_counter() - started:.1f} s)"
        log.info(line)
        if progress is not None:
            progress(line)

    packages = {request.id: out_dir / request.id for request in DEMO_REQUESTS}
    for package in packages.values():
        if package.exists():
            shutil.rmtree(package)
        (package / "twin").mkdir(parents=True)
        (package / "renders").mkdir()

    avatars: dict[str, bytes] = {}
    with StillRenderer(size) as renderer:
        for talent, _name in DEMO_TALENTS:
            looks = build_talent_avatars(talent)
            avatars.update(looks)
            requests = [r for r in DEMO_REQUESTS if r.talent == talent]
            # The renderer reads each look from the first package that holds it.
            sources: dict[str, Path] = {}
            for request in requests:
                for key in request.looks:
                    path = packages[request.id] / "twin" / f"{_asset_name(key)}.glb"
                    path.write_bytes(looks[key])
                    sources.setdefault(key, path)
            wanted = sorted({pair for request in requests for pair in request.renders})
            stills = {(key, view): renderer.render(sources[key], view) for key, view in wanted}
            for request in requests:
                _finish_package(request, packages[request.id], avatars, stills, finish_still)
            report(f"{talent}: {len(looks)} looks, {len(stills)} stills")
    report(f"wrote {len(packages)} packages")
    return list(packages.values())


def _finish_package(
    request: DemoRequest,
    package: Path,
    avatars: dict[str, bytes],
    stills: dict[tuple[str, str], Image.Image],
    finish: Callable[..., Image.Image],
) -> None:
    assets: list[dict[str, str]] = []
    for number, key in enumerate(request.looks, start=1):
        assets.append(
            {
                "path": f"twin/{_asset_name(key)}.glb",
                "role": "avatar",
                "label": f"Look {number}: {DEMO_LOOKS[key].label}",
                "sha256": hashlib.sha256(avatars[key]).hexdigest(),
            }
        )
    for key, view in request.renders:
        number = request.looks.index(key) + 1
        image = finish(
            stills[key, view],
            request.campaign,
            detail=f"Look {number} · {VIEW_LABELS[view]}",
            tint=request.backdrop,
        )
        rel = f"renders/{_asset_name(key)}-{view.replace('_', '-')}.jpg"
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
        (package / rel).write_bytes(buffer.getvalue())
        assets.append(
            {
                "path": rel,
                "role": "render",
                "label": f"Look {number}, {VIEW_LABELS[view]}",
                "sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
            }
        )
    (package / "request.json").write_bytes(_manifest(request, assets))


if __name__ == "__main__":  # python -m reviewer.services.demo_content OUT_DIR
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-packages")
    t0 = time.perf_counter()
    written = write_demo_packages(target, progress=print)
    print(f"{len(written)} packages in {target} after {time.perf_counter() - t0:.2f} s")
