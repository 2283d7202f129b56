"""Importing packages: revisions, the no-op re-import, the audit entry and all-or-nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from package_factory import (
    base_manifest,
    make_package,
    render_only_manifest,
    snapshot,
    write_png,
    zip_folder,
)

from reviewer.assets.package import PackageError
from reviewer.cli import main
from reviewer.domain.status import RequestStatus
from reviewer.services.imports import ImportOutcome, ImportService
from reviewer.services.queries import list_requests, request_assets
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.objects import ObjectStore
from reviewer.storage.schema import assets, decisions, requests, revisions


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(library: Library, table: sa.Table) -> list[tuple]:
    with library.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table))]


def state(library: Library) -> dict[str, bytes]:
    """Every file of the library, taken with the database closed.

    While connections are open SQLite keeps ``-wal``/``-shm`` files whose bytes move with
    reads; closing checkpoints them away. The empty ``.write.lock`` is a lock, not content.
    """
    library.close()
    files = snapshot(library.root)
    files.pop(".write.lock", None)
    return files


def digests(library: Library) -> dict[int, str]:
    with library.engine.connect() as conn:
        return dict(
            conn.execute(
                sa.select(revisions.c.revision, revisions.c.content_digest).where(
                    revisions.c.request_id == "ss27-denim-0042"
                )
            ).all()
        )


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return make_package(tmp_path / "pkg", base_manifest())


def test_first_import_stores_the_request_its_assets_and_their_bytes(
    library: Library, package: Path
) -> None:
    result = ImportService(library).import_package(package)
    assert (result.outcome, result.request_id, result.revision) == (
        ImportOutcome.IMPORTED,
        "ss27-denim-0042",
        1,
    )

    stored = request_assets(library, "ss27-denim-0042")
    assert [(a.path, a.role) for a in stored] == [
        ("twin/look1.ply", "avatar"),
        ("renders/look1-front.png", "render"),
    ]
    for asset in stored:
        source = package / asset.path
        assert asset.sha256 == sha256_of(source)
        assert asset.size == source.stat().st_size
        assert library.objects.path_for(asset.sha256).read_bytes() == source.read_bytes()
    render = stored[1]
    assert (render.width, render.height, render.media_type) == (64, 80, "image/png")
    assert stored[0].triangles == 2  # write_ply's strip of two triangles
    (summary,) = list_requests(library)
    assert (summary.id, summary.revision, summary.status, summary.asset_count) == (
        "ss27-denim-0042",
        1,
        RequestStatus.PENDING,
        2,
    )


def test_identical_reimport_is_a_no_op(
    library: Library, package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = library.root
    library.close()
    assert main(["--library", str(root), "import", str(package)]) == 0
    before = snapshot(root)
    capsys.readouterr()

    # A fresh copy elsewhere: same content, different folder name and file times.
    copy = shutil.copytree(package, tmp_path / "copy-of-pkg")
    assert main(["--library", str(root), "import", str(copy)]) == 0

    out, err = capsys.readouterr()
    assert "already imported" in out and "ss27-denim-0042" in out
    assert err == ""
    assert snapshot(root) == before


def test_zip_and_folder_of_one_package_have_one_digest(
    library: Library, package: Path, tmp_path: Path
) -> None:
    service = ImportService(library)
    first = service.import_package(package)
    zipped = zip_folder(package, tmp_path / "pkg.zip")
    again = service.import_package(zipped)
    assert again.outcome is ImportOutcome.ALREADY_IMPORTED
    assert again.revision == first.revision == 1
    assert len(digests(library)) == 1


def test_zip_first_then_folder_is_also_a_no_op(
    library: Library, package: Path, tmp_path: Path
) -> None:
    service = ImportService(library)
    service.import_package(zip_folder(package, tmp_path / "pkg.zip"))
    assert service.import_package(package).outcome is ImportOutcome.ALREADY_IMPORTED


def test_changed_render_makes_revision_2(library: Library, package: Path) -> None:
    service = ImportService(library)
    service.import_package(package)
    old_render = sha256_of(package / "renders/look1-front.png")
    write_png(package / "renders/look1-front.png", colour=(10, 200, 30))

    result = service.import_package(package)

    assert (result.outcome, result.revision) == (ImportOutcome.NEW_REVISION, 2)
    first, second = digests(library)[1], digests(library)[2]
    assert first != second
    by_revision = {
        rev: {a.path: a.sha256 for a in request_assets(library, "ss27-denim-0042", rev)}
        for rev in (1, 2)
    }
    assert by_revision[1]["renders/look1-front.png"] == old_render
    assert by_revision[2]["renders/look1-front.png"] == sha256_of(
        package / "renders/look1-front.png"
    )
    # The avatar did not change: both revisions point at the one stored object.
    assert by_revision[1]["twin/look1.ply"] == by_revision[2]["twin/look1.ply"]
    assert old_render in library.objects  # revision 1 keeps its bytes
    (summary,) = list_requests(library)
    assert summary.revision == 2


def test_changed_terms_alone_make_a_new_revision(library: Library, tmp_path: Path) -> None:
    service = ImportService(library)
    service.import_package(make_package(tmp_path / "a", base_manifest()))
    cheaper = base_manifest(fee={"amount": "900.00", "currency": "EUR"})
    result = service.import_package(make_package(tmp_path / "b", cheaper))
    assert (result.outcome, result.revision) == (ImportOutcome.NEW_REVISION, 2)
    (summary,) = list_requests(library)
    assert str(summary.fee_amount) == "900.00"


def test_reformatted_manifest_with_the_same_content_is_a_no_op(
    library: Library, package: Path
) -> None:
    service = ImportService(library)
    service.import_package(package)
    manifest = json.loads((package / "request.json").read_text())
    (package / "request.json").write_text(json.dumps(manifest, indent=None, sort_keys=True))
    assert service.import_package(package).outcome is ImportOutcome.ALREADY_IMPORTED


def test_each_import_is_in_the_audit_log(library: Library, package: Path) -> None:
    service = ImportService(library)
    service.import_package(package)
    service.import_package(package)  # no-op: no entry
    write_png(package / "renders/look1-front.png", colour=(1, 2, 3))
    service.import_package(package)

    with library.engine.connect() as conn:
        imported = [e for e in audit.entries(conn) if e.action == "request.imported"]
        assert audit.verify(conn) is None
    assert [e.subject for e in imported] == ["request:ss27-denim-0042"] * 2
    assert [e.details["revision"] for e in imported] == [1, 2]
    assert [e.details["content_digest"] for e in imported] == [
        digests(library)[1],
        digests(library)[2],
    ]
    assert imported[1].details["outcome"] == "new revision"
    assert dict(imported[1].details["assets"])["renders/look1-front.png"] == sha256_of(
        package / "renders/look1-front.png"
    )


def test_decisions_do_not_carry_over_to_a_new_revision(library: Library, package: Path) -> None:
    service = ImportService(library)
    service.import_package(package)
    approval = {
        "id": "00000000-0000-0000-0000-000000000001",
        "request_id": "ss27-denim-0042",
        "revision": 1,
        "verdict": "approved",
        "decided_by": "ines",
        "decided_at": "2026-11-28T10:00:00Z",
        "approved_until": dt.date(2027, 7, 31),
    }
    if "seq" in decisions.c:  # the order of decisions (migration 0002)
        approval["seq"] = 1
    with library.engine.begin() as conn:
        conn.execute(decisions.insert().values(**approval))
    today = dt.date(2026, 11, 28)
    (summary,) = list_requests(library, today=today)
    assert summary.status is RequestStatus.APPROVED  # the decision row counts for revision 1

    write_png(package / "renders/look1-front.png", colour=(200, 0, 0))
    assert service.import_package(package).revision == 2

    (summary,) = list_requests(library, today=today)
    assert (summary.revision, summary.status) == (2, RequestStatus.PENDING)
    assert list_requests(library, status=RequestStatus.APPROVED, today=today) == []
    # The decision on revision 1 is still on record, bound to revision 1.
    with library.engine.connect() as conn:
        kept = conn.execute(sa.select(decisions.c.revision)).scalars().all()
    assert kept == [1]


def test_a_refused_package_stores_none_of_its_good_files(library: Library, tmp_path: Path) -> None:
    manifest = render_only_manifest("renders/a.png", "renders/b.png")
    package = make_package(tmp_path / "pkg", manifest)
    good = sha256_of(package / "renders/a.png")
    (package / "renders/b.png").write_text("not an image")
    before = state(library)

    with pytest.raises(PackageError, match=r"renders/b\.png"):
        ImportService(library).import_package(package)

    assert good not in library.objects
    assert state(library) == before


def test_a_failure_while_writing_rows_removes_the_objects_it_added(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = ImportService(library)
    shared = make_package(
        tmp_path / "first", render_only_manifest("renders/a.png", id="first-0001")
    )
    service.import_package(shared)
    kept = sha256_of(shared / "renders/a.png")

    second = make_package(
        tmp_path / "second",
        render_only_manifest("renders/a.png", "renders/new.png", id="second-0001"),
    )
    shutil.copyfile(shared / "renders/a.png", second / "renders/a.png")  # already stored
    write_png(second / "renders/new.png", colour=(0, 90, 0))
    new = sha256_of(second / "renders/new.png")
    before = state(library)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ImportService, "_insert_rows", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        service.import_package(second)

    assert new not in library.objects  # added by the failed import: removed again
    assert kept in library.objects  # belonged to an earlier import: left alone
    assert state(library) == before
    with library.engine.connect() as conn:
        assert conn.execute(sa.select(requests.c.id)).scalars().all() == ["first-0001"]


def test_a_failure_halfway_through_the_objects_leaves_nothing(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = make_package(
        tmp_path / "pkg", render_only_manifest("renders/a.png", "renders/b.png", "renders/c.png")
    )
    for i, name in enumerate("abc"):
        write_png(package / f"renders/{name}.png", colour=(i * 80, 10, 10))
    before = state(library)
    real_put = ObjectStore.put_file
    calls = []

    def put_then_fail(self: ObjectStore, source: Path, expected_sha256: str | None = None) -> str:
        calls.append(source)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_put(self, source, expected_sha256)

    monkeypatch.setattr(ObjectStore, "put_file", put_then_fail)
    with pytest.raises(OSError, match="No space"):
        ImportService(library).import_package(package)

    assert len(calls) == 2
    assert state(library) == before
    assert rows(library, assets) == []


def test_one_file_named_twice_is_stored_once(library: Library, tmp_path: Path) -> None:
    package = make_package(
        tmp_path / "pkg", render_only_manifest("renders/a.png", "renders/copy.png")
    )
    shutil.copyfile(package / "renders/a.png", package / "renders/copy.png")
    ImportService(library).import_package(package)
    assert library.objects.all_digests() == {sha256_of(package / "renders/a.png")}
    assert len(request_assets(library, "ss27-denim-0042")) == 2


def test_a_refused_import_does_not_create_a_library(tmp_path, capsys):
    from reviewer.cli import main

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "request.json").write_text("{not json")
    target = tmp_path / "new-library"
    assert main(["--library", str(target), "import", str(bad)]) == 1
    assert not target.exists()
    assert "request.json" in capsys.readouterr().err
