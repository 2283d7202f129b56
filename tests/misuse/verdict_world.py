"""A small library with one request in each state, each with a render of its own (generated
blobs of colour, so that no two look alike), and the profiles around them.

Ines's requests (all from Brand Studio unless said): approved (EU and UK, e-commerce and
social, a period through today), expired (approved for a period that ended), revoked,
rejected, changes requested, pending; and Kofi's request from Other House, approved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from package_factory import make_package, render_only_manifest
from wild import noise, png_bytes

PASSPHRASE = "correct horse battery"
TODAY = dt.date.today()
INES, KOFI = "ines-duarte", "kofi-mensah"
BRAND, OTHER_BRAND = "Brand Studio", "Other House"
PROFILES = {
    "talent": "Ines Duarte",
    "other_talent": "Kofi Mensah",
    "agent": "Sam Okafor",
    "other_agent": "Lee Park",
    "director": "Mara Lind",
    "other_director": "Otto Weiss",
}
STATES = ("approved", "expired", "revoked", "rejected", "changes", "pending")
KOFI_REQUEST = "kofi-approved"


def request_id(state: str) -> str:
    return f"ines-{state}"


def render_of(name: str) -> bytes:
    """The render of request *name* (a seed per request; the same bytes every time)."""
    seed = sum(ord(c) * 31**i for i, c in enumerate(name)) % 10_000
    return png_bytes(noise(seed, (300, 400), smooth=True))


def unseen_image() -> bytes:
    return png_bytes(noise(9_999, (300, 400), smooth=True))


def _manifest(name: str, talent: str, organisation: str, start: dt.date, end: dt.date) -> dict:
    manifest = render_only_manifest("renders/look.png", id=name, talent=talent)
    manifest["requester"]["organisation"] = organisation
    manifest["use"].update({"start": start.isoformat(), "end": end.isoformat()})
    manifest["due"] = (start - dt.timedelta(days=10)).isoformat()
    return manifest


def build(base: Path) -> Path:
    from reviewer.services.imports import ImportService
    from reviewer.services.profiles import ProfileService
    from reviewer.services.review import ReviewService
    from reviewer.storage.library import Library

    current = (TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=90))
    past = (TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=200))
    requests = [(request_id(s), INES, BRAND, past if s == "expired" else current)
                for s in STATES]
    requests.append((KOFI_REQUEST, KOFI, OTHER_BRAND, current))
    with Library.open(base / "library") as library:
        for name, talent, organisation, (start, end) in requests:
            folder = make_package(base / "packages" / name,
                                  _manifest(name, talent, organisation, start, end))
            (folder / "renders" / "look.png").write_bytes(render_of(name))
            ImportService(library).import_package(folder)
        profiles = ProfileService(library)
        profiles.add(PROFILES["talent"], "talent", PASSPHRASE, talent_id=INES)
        profiles.add(PROFILES["other_talent"], "talent", PASSPHRASE, talent_id=KOFI)
        profiles.add(PROFILES["agent"], "agent", PASSPHRASE, represents=[INES])
        profiles.add(PROFILES["other_agent"], "agent", PASSPHRASE, represents=[KOFI])
        profiles.add(PROFILES["director"], "director", PASSPHRASE, organisation=BRAND)
        profiles.add(PROFILES["other_director"], "director", PASSPHRASE,
                     organisation=OTHER_BRAND)
        ines = profiles.authenticate(PROFILES["talent"], PASSPHRASE)
        kofi = profiles.authenticate(PROFILES["other_talent"], PASSPHRASE)
        review = ReviewService(library)
        review.approve(ines, request_id("approved"))
        review.approve(kofi, KOFI_REQUEST)
        then = dt.datetime.combine(TODAY - dt.timedelta(days=300), dt.time(12), dt.UTC)
        ReviewService(library, clock=lambda: then).approve(ines, request_id("expired"))
        review.approve(ines, request_id("revoked"))
        review.revoke(ines, request_id("revoked"), reason="The campaign changed its styling.")
        review.reject(ines, request_id("rejected"), reason="Not a brand I work with.")
        review.request_changes(ines, request_id("changes"), reason="Fix the hands, please.")
    return base


@dataclass
class World:
    root: Path
    library: object  # reviewer.storage.library.Library, open

    def session(self, part: str):  # type: ignore[no-untyped-def]
        from reviewer.services.profiles import ProfileService

        return ProfileService(self.library).authenticate(PROFILES[part], PASSPHRASE)

    def image(self, name: str, folder: Path, data: bytes | None = None) -> Path:
        path = folder / f"{name}.png"
        path.write_bytes(data if data is not None else render_of(name))
        return path

    def cli(self, *args: str) -> list[str]:
        return ["--library", str(self.root), *args]
