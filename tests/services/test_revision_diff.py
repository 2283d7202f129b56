"""What changed between two revisions, and what each profile may put in a comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from package_factory import base_manifest, make_package, write_ply, write_png

from reviewer.domain.roles import Actor, Role
from reviewer.services.compare_sets import (
    CompareSet,
    check_readable,
    comparable_assets,
    looks_problem,
)
from reviewer.services.imports import ImportService
from reviewer.services.refusals import NotFound, PermissionRefused
from reviewer.services.revision_diff import revision_diff, revision_numbers

TALENT = Actor("Inês Duarte", Role.TALENT, talent_id="ines-duarte")
DIRECTOR = Actor("Mara Lind", Role.DIRECTOR, organisation="Brand Studio")
OTHER_DIRECTOR = Actor("Camille Roche", Role.DIRECTOR, organisation="Maison Aure")


def _first_revision(root: Path) -> Path:
    manifest = base_manifest(
        assets=[
            {"path": "twin/look1.ply", "role": "avatar", "label": "Look 1"},
            {"path": "twin/look2.ply", "role": "avatar", "label": "Look 2"},
            {"path": "renders/look1-front.png", "role": "render", "label": "Look 1, front"},
            {"path": "renders/look2-front.png", "role": "render", "label": "Look 2, front"},
        ]
    )
    make_package(root, manifest)
    write_ply(root / "twin/look2.ply", triangles=3)
    write_png(root / "renders/look2-front.png", colour=(60, 90, 140))
    return root


def _second_revision(root: Path, first: Path) -> Path:
    manifest = base_manifest(
        brief="Twin wears look 1 in studio renders and a print advert.",
        use={
            "channels": ["ecommerce", "print"],
            "territories": ["EU", "GB"],
            "start": "2027-02-01",
            "end": "2027-09-30",
            "categories": ["denim"],
            "voice": False,
        },
        fee={"amount": "2400.00", "currency": "EUR"},
        assets=[
            {"path": "twin/look1.ply", "role": "avatar", "label": "Look 1"},
            {"path": "twin/look2.ply", "role": "avatar", "label": "Look 2"},
            {"path": "renders/front/look1.png", "role": "render", "label": "Look 1, front"},
            {"path": "renders/look3.png", "role": "render", "label": "Look 3, front"},
        ],
    )
    make_package(root, manifest)
    write_ply(root / "twin/look1.ply", triangles=4)  # reshaped
    (root / "twin/look2.ply").write_bytes((first / "twin/look2.ply").read_bytes())
    (root / "renders/front/look1.png").write_bytes(
        (first / "renders/look1-front.png").read_bytes()  # the same bytes, moved
    )
    write_png(root / "renders/look3.png", colour=(30, 160, 90))
    return root


@pytest.fixture
def two_revisions(library, tmp_path: Path):
    first = _first_revision(tmp_path / "rev1")
    second = _second_revision(tmp_path / "rev2", first)
    service = ImportService(library)
    assert service.import_package(first).revision == 1
    assert service.import_package(second).revision == 2
    return library


def test_revision_diff_lists_exactly_what_changed(two_revisions) -> None:
    library = two_revisions
    assert revision_numbers(library, "ss27-denim-0042") == [1, 2]
    diff = revision_diff(library, "ss27-denim-0042", 1, 2, actor=TALENT)
    by_status = {(c.status, c.path) for c in diff.assets}
    assert by_status == {
        ("changed", "twin/look1.ply"),
        ("unchanged", "twin/look2.ply"),
        ("moved", "renders/front/look1.png"),
        ("added", "renders/look3.png"),
        ("removed", "renders/look2-front.png"),
    }
    changed = next(c for c in diff.assets if c.status == "changed")
    assert changed.comparable and changed.old is not None and changed.new is not None
    assert changed.old.sha256 != changed.new.sha256
    moved = next(c for c in diff.assets if c.status == "moved")
    assert moved.detail == "was renders/look1-front.png" and not moved.comparable
    assert diff.assets[0].status == "changed"  # what matters most comes first

    assert {t.name for t in diff.changed_terms} == {"brief", "channels", "end", "fee"}
    channels = next(t for t in diff.terms if t.name == "channels")
    assert (channels.old, channels.new) == ("e-commerce, social", "e-commerce, print")
    assert channels.added == ("print",) and channels.removed == ("social",)
    fee = next(t for t in diff.terms if t.name == "fee")
    assert (fee.old, fee.new) == ("1800.00 EUR", "2400.00 EUR")
    territories = next(t for t in diff.terms if t.name == "territories")
    assert not territories.changed
    assert "1 changed" in diff.summary() and "fee" in diff.summary()


def test_revision_diff_is_refused_outside_the_organisation(two_revisions) -> None:
    library = two_revisions
    assert revision_diff(library, "ss27-denim-0042", 1, 2, actor=DIRECTOR).changed_assets
    with pytest.raises(PermissionRefused):
        revision_diff(library, "ss27-denim-0042", 1, 2, actor=OTHER_DIRECTOR)
    with pytest.raises(NotFound):
        revision_diff(library, "ss27-denim-0042", 1, 3, actor=TALENT)


def test_comparable_assets_follow_who_may_read(two_revisions) -> None:
    library = two_revisions
    looks = comparable_assets(library, TALENT, role="avatar")
    assert {(r.revision, r.asset.path) for r in looks} == {
        (1, "twin/look1.ply"),
        (1, "twin/look2.ply"),
        (2, "twin/look1.ply"),
        (2, "twin/look2.ply"),
    }
    assert looks[0].revision == 2 and looks[0].latest_revision == 2  # newest first
    assert len(comparable_assets(library, DIRECTOR)) == 8
    assert comparable_assets(library, OTHER_DIRECTOR) == []
    check_readable(library, DIRECTOR, looks)
    with pytest.raises(PermissionRefused):
        check_readable(library, OTHER_DIRECTOR, looks)


def test_compare_set_keeps_two_to_four_distinct_looks(two_revisions) -> None:
    refs = comparable_assets(two_revisions, TALENT)
    looks = [r for r in refs if r.role == "avatar"]
    renders = [r for r in refs if r.role == "render"]
    assert looks_problem(looks[:1]) is not None
    assert looks_problem(looks[:2]) is None
    assert looks_problem([looks[0], looks[0]]) is not None
    assert looks_problem(renders[:2]) is not None
    calls: list[int] = []
    state = CompareSet()
    state.subscribe(lambda: calls.append(len(state.looks)))
    state.set(refs)
    assert len(state.looks) == 4 and len(state.renders) == 4 and calls == [4]
    assert not state.add(looks[0])  # already there
    state.remove(looks[0])
    assert len(state.looks) == 3 and calls[-1] == 3
    assert state.request_ids == ["ss27-denim-0042"]
