"""The demo request packages: valid, complete, varied, human-looking and byte-for-byte stable."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reviewer.domain.manifest import ID_PATTERN, Manifest, parse_manifest
from reviewer.services.demo_content import (
    DEMO_LOOKS,
    DEMO_REQUEST_PLAN,
    DEMO_REQUESTS,
    DEMO_TALENTS,
    RENDER_SIZE,
    write_demo_packages,
)

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    started = time.perf_counter()
    written = write_demo_packages(tmp_path_factory.mktemp("demo"))
    print(f"\ndemo packages written in {time.perf_counter() - started:.1f} s")
    return written


@pytest.fixture(scope="module")
def manifests(packages: list[Path]) -> dict[str, Manifest]:
    return {p.name: parse_manifest((p / "request.json").read_bytes()) for p in packages}


def test_one_valid_package_per_request(
    packages: list[Path], manifests: dict[str, Manifest]
) -> None:
    assert [p.name for p in packages] == [r.id for r in DEMO_REQUESTS]
    assert len(packages) == 12
    for name, manifest in manifests.items():
        assert manifest.id == name
        assert re.match(ID_PATTERN, name)
        assert manifest.talent in {talent for talent, _name in DEMO_TALENTS}


def test_every_named_file_exists_and_matches_its_hash(
    packages: list[Path], manifests: dict[str, Manifest]
) -> None:
    for package in packages:
        manifest = manifests[package.name]
        named = {asset.path for asset in manifest.assets}
        on_disk = {
            p.relative_to(package).as_posix()
            for p in package.rglob("*")
            if p.is_file() and p.name != "request.json"
        }
        assert named == on_disk
        for asset in manifest.assets:
            data = (package / asset.path).read_bytes()
            assert asset.sha256 == hashlib.sha256(data).hexdigest()


def test_each_request_has_two_or_three_looks_and_renders(manifests: dict[str, Manifest]) -> None:
    for manifest in manifests.values():
        roles = Counter(asset.role.value for asset in manifest.assets)
        assert 2 <= roles["avatar"] <= 3
        assert 2 <= roles["render"] <= 3


def test_requests_are_varied(manifests: dict[str, Manifest]) -> None:
    values = list(manifests.values())
    assert len({m.campaign for m in values}) >= 8
    assert len({m.requester.organisation for m in values}) >= 6
    assert {c.value for m in values for c in m.use.channels} == {
        "ecommerce",
        "social",
        "ooh",
        "print",
        "video",
        "tv",
    }
    assert {"EU", "GB", "US", "JP", "WW"} <= {t for m in values for t in m.use.territories}
    assert Counter(m.talent for m in values) == {t: 4 for t, _name in DEMO_TALENTS}
    assert any(m.use.voice for m in values)
    # Requests still waiting for a decision are due from late November to the end of January;
    # those already decided were due before their period began.
    waiting = {p.request_id for p in DEMO_REQUEST_PLAN if p.status in ("pending",
                                                                      "changes_requested")}
    dues = sorted(m.due for m in values if m.id in waiting)
    assert dues[0] == dt.date(2026, 11, 20) and dues[-1] == dt.date(2027, 1, 31)
    assert all(m.due < m.use.start for m in values if m.id not in waiting)
    assert any(d < TODAY for d in dues) and any(TODAY <= d <= TODAY + dt.timedelta(7) for d in dues)


def test_the_plan_shows_every_status(manifests: dict[str, Manifest]) -> None:
    assert sorted(rid for rid, _status in DEMO_REQUEST_PLAN) == sorted(manifests)
    statuses = Counter(status for _rid, status in DEMO_REQUEST_PLAN)
    assert statuses["pending"] >= 5
    assert statuses["approved"] == 2
    for status in ("rejected", "changes_requested", "revoked", "expired"):
        assert statuses[status] == 1
    expired = next(rid for rid, status in DEMO_REQUEST_PLAN if status == "expired")
    assert manifests[expired].use.end < TODAY
    for rid, status in DEMO_REQUEST_PLAN:
        if status != "expired":
            assert manifests[rid].use.end > TODAY


def test_avatars_are_human_sized_meshes(
    packages: list[Path], manifests: dict[str, Manifest]
) -> None:
    import pyvista as pv

    seen: set[str] = set()
    for package in packages:
        for asset in manifests[package.name].assets:
            if asset.role.value != "avatar" or asset.sha256 in seen:
                continue
            seen.add(asset.sha256)
            blocks = list(pv.read(package / asset.path).recursive_iterator())
            assert sum(block.n_cells for block in blocks) > 10_000
            assert all("NORMAL" in block.point_data for block in blocks)
            points = np.concatenate([block.points for block in blocks])
            lo, hi = points.min(axis=0), points.max(axis=0)
            height = hi[1] - lo[1]
            assert 1.70 <= height <= 1.80
            assert abs(lo[1]) < 0.003
            assert hi[0] - lo[0] < height / 2
    assert len(seen) == len(DEMO_LOOKS)


def test_renders_are_campaign_stills(packages: list[Path], manifests: dict[str, Manifest]) -> None:
    for package in packages:
        for asset in manifests[package.name].assets:
            if asset.role.value != "render":
                continue
            with Image.open(package / asset.path) as image:
                assert image.format == "JPEG" and image.size == RENDER_SIZE
                pixels = np.asarray(image.convert("RGB")).astype(int)
            assert pixels.std() > 15
            coarse = pixels // 16
            colours = coarse[..., 0] * 256 + coarse[..., 1] * 16 + coarse[..., 2]
            assert np.count_nonzero(np.bincount(colours.ravel(), minlength=4096)) > 40
            # A figure stands in the middle of the backdrop.
            row = pixels[RENDER_SIZE[1] // 2]
            wall = row[30]
            centre = row[RENDER_SIZE[0] * 2 // 5 : RENDER_SIZE[0] * 3 // 5]
            assert np.abs(centre - wall).sum(axis=1).max() > 60


@pytest.mark.slow
def test_writing_again_gives_the_same_bytes_and_replaces_stale_files(
    packages: list[Path],
) -> None:
    before = {p: p.read_bytes() for package in packages for p in package.rglob("*") if p.is_file()}
    stale = packages[0] / "renders" / "old.jpg"
    stale.write_bytes(b"not a render")
    again = write_demo_packages(packages[0].parent)
    assert again == packages
    assert not stale.exists()
    after = {p: p.read_bytes() for package in again for p in package.rglob("*") if p.is_file()}
    assert sorted(after) == sorted(before)
    changed = [str(p) for p in before if before[p] != after[p]]
    assert changed == []
