"""The consent tests' small world, and the scan for private keys in the clear.

The world (built once, copied for every test): two talents with profiles, an agent and a
director for each side, two imported requests whose period includes today, and an approval
of Ines's request by Ines.

``REVIEWER_INSECURE_TEST_KDF=1`` lowers the Argon2 cost (see services/signing_keys.py): set
here only, for the tests' hundreds of sign-ins. Subprocesses inherit it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from package_factory import base_manifest

os.environ["REVIEWER_INSECURE_TEST_KDF"] = "1"

PASSPHRASE = "correct horse battery"
TODAY = dt.date.today()

INES, KOFI = "ines-duarte", "kofi-mensah"
INES_REQUEST, KOFI_REQUEST = "ss27-denim-0042", "fw27-knit-0007"
BRAND, OTHER_BRAND = "Brand Studio", "Other House"

# Profile names by the part they play towards INES_REQUEST (Ines's twin, from Brand Studio).
PROFILES = {
    "talent": "Ines Duarte",
    "other_talent": "Kofi Mensah",
    "agent": "Sam Okafor",
    "other_agent": "Lee Park",
    "director": "Mara Lind",
    "other_director": "Otto Weiss",
}


def request_manifest(request_id: str, talent: str, organisation: str, **use: object) -> dict:
    """A render-only request (a PNG and a JPEG) whose period runs through today."""
    manifest = base_manifest(id=request_id, talent=talent)
    manifest["requester"]["organisation"] = organisation
    manifest["use"].update(
        {
            "start": (TODAY - dt.timedelta(days=30)).isoformat(),
            "end": (TODAY + dt.timedelta(days=90)).isoformat(),
            **use,
        }
    )
    manifest["due"] = (TODAY + dt.timedelta(days=10)).isoformat()
    manifest["assets"] = [
        {"path": "renders/look1-front.png", "role": "render", "label": "Look 1, front"},
        {"path": "renders/look1-side.jpg", "role": "render", "label": "Look 1, side"},
    ]
    return manifest


@dataclass
class World:
    root: Path  # the library folder
    packages: dict[str, Path]
    library: object  # reviewer.storage.library.Library, open

    def session(self, part: str):  # type: ignore[no-untyped-def]
        from reviewer.services.profiles import ProfileService

        return ProfileService(self.library).authenticate(PROFILES[part], PASSPHRASE)

    def cli(self, *args: str) -> list[str]:
        return ["--library", str(self.root), *args]


# No private key in the clear, anywhere a test wrote -----------------------------------------


def seeds_in(folder: Path) -> list[bytes]:
    """The private seeds of every talent key in every library below *folder* (opened with the
    test passphrase, which the tests use for every profile they keep)."""
    from reviewer.services.signing_keys import WrongPassphrase, open_sealed_key

    seeds = []
    for db in folder.rglob("library.db"):
        engine = sa.create_engine(f"sqlite:///{db}")
        try:
            with engine.connect() as conn:
                blobs = (
                    conn.exec_driver_sql("SELECT sealed_private_key FROM talent_keys")
                    .scalars()
                    .all()
                )
        except sa.exc.OperationalError:
            blobs = []
        finally:
            engine.dispose()
        for blob in blobs:
            for passphrase in (PASSPHRASE, "twin-demo-2026", "a new passphrase 2"):
                try:
                    seeds.append(open_sealed_key(blob, passphrase).private_bytes_raw())
                    break
                except WrongPassphrase:
                    continue
    return seeds


def find_plain_private_keys(folder: Path, seeds: list[bytes]) -> list[str]:
    """Files below *folder* holding a private key in the clear: a PEM block that is not
    encrypted, or a seed in raw, hex or base64 form."""
    needles = []
    for seed in seeds:
        needles += [
            seed,
            seed.hex().encode(),
            seed.hex().upper().encode(),
            base64.b64encode(seed).rstrip(b"="),
            base64.urlsafe_b64encode(seed).rstrip(b"="),
        ]
    found = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if any(
            not data[max(0, start - 10) : start].endswith(b"ENCRYPTED ")
            for start in _all(data, b"PRIVATE KEY")
        ):
            found.append(f"{path}: an unencrypted PEM private key")
        if any(needle in data for needle in needles):
            found.append(f"{path}: a private key seed")
    return found


def _all(data: bytes, needle: bytes) -> Iterator[int]:
    start = data.find(needle)
    while start != -1:
        yield start
        start = data.find(needle, start + 1)


def read_json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
