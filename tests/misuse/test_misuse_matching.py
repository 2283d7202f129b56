"""check-image on the demo library and the corpus photographs: every transformation of the
issue finds the right request, and images that are not in the library find nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from misuse_set import CORPUS_HELD_OUT, CORPUS_IN_LIBRARY, corpus_request_id
from PIL import Image
from wild import TRANSFORMS, noise, raw_bytes

from reviewer.cli import main
from reviewer.services.misuse import MisuseChecker, found_image_from_bytes


def _check(library: object, image: Image.Image):  # type: ignore[no-untyped-def]
    found = found_image_from_bytes("found.bmp", raw_bytes(image))
    return MisuseChecker(library).check(found)  # type: ignore[arg-type]


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_each_transformation_finds_the_right_request_and_unrelated_images_find_none(
    wild_library: object, wild_cases: list, transform: str
) -> None:
    apply = TRANSFORMS[transform]
    problems = []
    for case in wild_cases:
        result = _check(wild_library, apply(Image.open(io.BytesIO(case.data))))
        got = [m.request_id for m in result.matches]
        if not got or got[0] not in case.expected or case.request_id not in got:
            problems.append(f"{case.name}: found {got}")
        elif not set(got) <= case.expected | case.same_look:
            problems.append(f"{case.name}: also matched {sorted(set(got) - case.expected)}")
    from misuse_set import CORPUS

    unrelated = [noise(1), noise(2, smooth=True), noise(3, (640, 480), smooth=True)]
    for rel in CORPUS_HELD_OUT:
        if (CORPUS / rel).is_file():
            photo = Image.open(CORPUS / rel).convert("RGB")
            photo.thumbnail((1024, 1024))
            unrelated.append(photo)
    for image in unrelated:
        result = _check(wild_library, apply(image))
        if result.matches:
            problems.append(f"unrelated image matched {[m.request_id for m in result.matches]}")
    assert problems == []


def test_the_corpus_photographs_are_in_the_set(wild_cases: list, corpus: Path) -> None:
    requests = {case.request_id for case in wild_cases}
    assert {corpus_request_id(rel) for rel in CORPUS_IN_LIBRARY} <= requests


def test_a_match_says_request_revision_talent_status_distance_and_confidence(
    wild_library: object, wild_cases: list
) -> None:
    case = next(c for c in wild_cases if c.request_id == "ss27-denim-0043")
    result = _check(wild_library, TRANSFORMS["jpeg q12"](Image.open(io.BytesIO(case.data))))
    best = result.best
    assert best is not None
    assert (best.request_id, best.revision, best.talent_id) == ("ss27-denim-0043", 1,
                                                                 "amara-okafor")
    assert best.status.value == "approved"
    assert 0 <= best.distance <= 128 and 0.9 < best.confidence <= 1.0
    assert best.asset_sha256 == case.sha256


def test_check_image_json_has_the_documented_fields(
    wild_library: object, wild_cases: list, tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    case = next(c for c in wild_cases if c.request_id == "resort27-lookbook-0120")
    image = tmp_path / "seen.jpg"
    TRANSFORMS["screenshot with border"](Image.open(io.BytesIO(case.data))).save(image)
    library_dir = str(wild_library.root)  # type: ignore[attr-defined]
    assert main(["--library", library_dir, "check-image", str(image), "--json",
                 "--territory", "us", "--channel", "social"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "reviewer.image-check/1"
    assert set(document) == {"format", "image", "sighting", "verdict", "matches", "checked_at",
                             "today", "library_renders", "seconds"}
    assert document["sighting"]["territory"] == "US"
    assert document["verdict"]["kind"] == "revoked"
    match = document["matches"][0]
    assert set(match) == {
        "rank", "request", "revision", "latest_revision", "talent", "talent_name",
        "organisation", "campaign", "asset", "status", "verdict", "verdict_text",
        "scope_check", "receipt_id", "distance", "similarity", "confidence", "near_best",
        "placement",
    }
    assert (match["request"], match["status"], match["verdict"]) == (
        "resort27-lookbook-0120", "revoked", "revoked")
    assert match["placement"]["render_inside_image"] is True
    left, top, right, bottom = match["placement"]["render_box"]
    assert 0 < left < right < 1 and 0 < top < bottom < 1  # the window's frame around it


def test_check_image_exits_0_without_a_match_and_1_when_the_image_cannot_be_read(
    wild_library: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library_dir = str(wild_library.root)  # type: ignore[attr-defined]
    unrelated = tmp_path / "noise.png"
    noise(5).save(unrelated)
    assert main(["--library", library_dir, "check-image", str(unrelated)]) == 0
    assert "No approved use matches: possible misuse" in capsys.readouterr().out
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert main(["--library", library_dir, "check-image", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "cannot" in err
    assert main(["--library", library_dir, "check-image", str(tmp_path / "absent.png")]) == 1
    assert "absent.png" in capsys.readouterr().err


def test_a_lookup_is_quick(wild_library: object, wild_cases: list) -> None:
    case = wild_cases[0]
    image = TRANSFORMS["crop 15% off-centre"](Image.open(io.BytesIO(case.data)))
    _check(wild_library, image)  # the index is loaded once per process
    result = _check(wild_library, image)
    assert result.seconds < 1.0


@pytest.mark.parametrize("transform", ["crop 15% off-centre", "screenshot with border",
                                       "horizontal flip", "quarter size"])
def test_a_match_says_where_the_render_lies_on_the_found_image(
    wild_library: object, wild_cases: list, transform: str
) -> None:
    """The placement registers the found image on the render: laid back onto the render's
    frame, the two agree pixel for pixel wherever the found image reaches."""
    import numpy as np

    from reviewer.assets.image_compare import register_found

    case = next(c for c in wild_cases if c.request_id == "ss27-denim-0043")
    render = Image.open(io.BytesIO(case.data)).convert("RGB")
    found = TRANSFORMS[transform](render)
    best = _check(wild_library, found).best
    assert best is not None and best.asset_sha256 == case.sha256
    alignment = best.alignment
    assert alignment.mirrored == (transform == "horizontal flip")
    pair = register_found(found, render, alignment.render_box, mirrored=alignment.mirrored)
    difference = np.abs(pair.a.astype(np.int16) - pair.b.astype(np.int16)).max(axis=2)
    assert pair.valid.mean() > 0.6
    assert np.median(difference[pair.valid]) <= 4
