"""The demo's consent story: profiles for every role with one passphrase, every status, a
release, a takedown; and running it twice changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from consent_world import TODAY, find_plain_private_keys, request_manifest, seeds_in
from package_factory import make_package

from reviewer.domain.roles import Role
from reviewer.domain.status import RequestStatus
from reviewer.services import demo
from reviewer.services.demo_story import DEMO_AGENT, DEMO_PASSPHRASE, apply_story
from reviewer.services.imports import ImportService
from reviewer.services.profiles import ProfileService
from reviewer.services.queries import list_requests
from reviewer.services.release import ReleaseService
from reviewer.services.takedowns import list_takedowns
from reviewer.storage import audit
from reviewer.storage.library import Library

TALENTS = [("ines-duarte", "Inês Duarte"), ("amara-okafor", "Amara Okafor")]
PLAN = [
    ("d-pending", "pending"),
    ("d-approved", "approved"),
    ("d-approved-2", "approved"),
    ("d-rejected", "rejected"),
    ("d-changes", "changes_requested"),
    ("d-revoked", "revoked"),
    ("d-expired", "expired"),
]


def demo_library(root: Path, tmp_path: Path) -> Library:
    library = Library.open(root)
    for index, (request_id, _status) in enumerate(PLAN):
        talent = TALENTS[index % 2][0]
        use = (
            {"start": (TODAY - dt.timedelta(days=60)).isoformat()}
            if "expired" in request_id
            else {}
        )
        manifest = request_manifest(request_id, talent, "Brand Studio", **use)
        if request_id == "d-approved":
            manifest["requester"].update(name="Ana Lopes", organisation="Other House")
        ImportService(library).import_package(make_package(tmp_path / request_id, manifest))
    return library


def test_every_state_is_made_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    library = demo_library(tmp_path / "library", tmp_path / "packages")
    notes = apply_story(library, TALENTS, PLAN, {"d-rejected": "Not at this fee."})
    statuses = {r.id: r.status.value for r in list_requests(library)}
    assert statuses == dict(PLAN)
    profiles = {p.name: p for p in ProfileService(library).list()}
    assert {p.role for p in profiles.values()} == set(Role)
    assert profiles[DEMO_AGENT].represents == ("ines-duarte", "amara-okafor")
    assert profiles["Mara Lind"].organisation == "Brand Studio"
    for name in profiles:
        ProfileService(library).authenticate(name, DEMO_PASSPHRASE)
    assert f"profiles (passphrase for all: {DEMO_PASSPHRASE}):" in notes
    assert [r.id for r in ReleaseService(library).releases("d-approved")]
    assert {t.release.request_id: t.reason for t in list_takedowns(library)} == {
        "d-revoked": "revoked",
        "d-expired": "expired",
    }
    with library.reader.connect() as conn:
        before = len(audit.entries(conn))
        assert audit.verify(conn) is None
    apply_story(library, TALENTS, PLAN)
    with library.reader.connect() as conn:
        assert len(audit.entries(conn)) == before
    library.close()
    assert find_plain_private_keys(tmp_path, seeds_in(tmp_path)) == []


def test_the_demo_command_uses_the_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.services import demo_content

    library = demo_library(tmp_path / "library", tmp_path / "packages")
    monkeypatch.setattr(demo_content, "DEMO_TALENTS", TALENTS)
    monkeypatch.setattr(demo_content, "DEMO_REQUEST_PLAN", PLAN)
    monkeypatch.setattr(
        demo_content, "DEMO_DECISION_NOTES", {"d-rejected": "Too little."}, raising=False
    )
    demo.apply_demo_story(library)
    [rejection] = [r for r in list_requests(library) if r.status is RequestStatus.REJECTED]
    from reviewer.services.review import ReviewService

    assert ReviewService(library).history(rejection.id)[-1].reason == "Too little."
    library.close()
