"""The content-addressed object store and the library's clean-up of what a dead import left."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from reviewer.storage.library import Library
from reviewer.storage.objects import ObjectStore, file_sha256


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects")


def source(tmp_path: Path, data: bytes, name: str = "src.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_file_sha256_is_sha256(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # crosses the read-chunk boundary
    assert file_sha256(source(tmp_path, data)) == hashlib.sha256(data).hexdigest()


def test_put_names_the_object_by_its_sha256(store: ObjectStore, tmp_path: Path) -> None:
    data = b"a render, in bytes"
    expected = hashlib.sha256(data).hexdigest()
    assert store.put_file(source(tmp_path, data)) == expected
    stored = store.root / expected[:2] / expected[2:]
    assert stored.read_bytes() == data
    assert store.path_for(expected) == stored
    assert expected in store
    assert store.verify(expected)


def test_stored_objects_are_read_only(store: ObjectStore, tmp_path: Path) -> None:
    sha = store.put_file(source(tmp_path, b"x"))
    mode = stat.S_IMODE(store.path_for(sha).stat().st_mode)
    assert mode & 0o222 == 0


def test_putting_the_same_bytes_twice_keeps_one_object(store: ObjectStore, tmp_path: Path) -> None:
    one = store.put_file(source(tmp_path, b"same", "a"))
    two = store.put_file(source(tmp_path, b"same", "b"))
    assert one == two
    assert store.all_digests() == {one}
    assert list(store.root.glob(".incoming-*")) == []


def test_the_empty_file_is_an_object_too(store: ObjectStore, tmp_path: Path) -> None:
    sha = store.put_file(source(tmp_path, b""))
    assert sha == hashlib.sha256(b"").hexdigest()
    assert store.verify(sha)


def test_a_file_that_changed_since_it_was_hashed_is_refused(
    store: ObjectStore, tmp_path: Path
) -> None:
    path = source(tmp_path, b"checked bytes")
    checked = file_sha256(path)
    path.write_bytes(b"swapped after the check")
    with pytest.raises(ValueError, match="changed"):
        store.put_file(path, expected_sha256=checked)
    assert store.all_digests() == set()
    assert list(store.root.glob(".incoming-*")) == []


def test_verify_notices_changed_bytes(store: ObjectStore, tmp_path: Path) -> None:
    sha = store.put_file(source(tmp_path, b"original"))
    path = store.path_for(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"0riginal")
    assert not store.verify(sha)
    assert not store.verify(hashlib.sha256(b"never stored").hexdigest())


@pytest.mark.parametrize(
    "bad", ["", "abc", "A" * 64, "g" * 64, "../" + "a" * 61, "a" * 63 + "/", "a" * 65]
)
def test_path_for_takes_only_a_lowercase_sha256(store: ObjectStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.path_for(bad)


def test_all_digests_ignores_what_is_not_an_object(store: ObjectStore, tmp_path: Path) -> None:
    sha = store.put_file(source(tmp_path, b"real"))
    (store.root / ".incoming-abc123").write_bytes(b"half")
    (store.root / "zz").mkdir()
    (store.root / "zz" / "not-a-digest").write_bytes(b"?")
    (store.root / sha[:2] / "short").write_bytes(b"?")
    (store.root / "README").write_text("hi")
    assert store.all_digests() == {sha}


def test_remove_incoming_leftovers_removes_only_temp_files(
    store: ObjectStore, tmp_path: Path
) -> None:
    sha = store.put_file(source(tmp_path, b"keep me"))
    for name in (".incoming-1", ".incoming-2"):
        (store.root / name).write_bytes(b"partial")
    assert store.remove_incoming_leftovers() == 2
    assert list(store.root.glob(".incoming-*")) == []
    assert store.all_digests() == {sha}


def test_remove_deletes_a_read_only_object(store: ObjectStore, tmp_path: Path) -> None:
    sha = store.put_file(source(tmp_path, b"bye"))
    store.remove(sha)
    assert sha not in store
    store.remove(sha)  # removing what is gone is fine


def test_an_empty_store_has_no_objects(store: ObjectStore) -> None:
    assert store.all_digests() == set()
    assert store.remove_incoming_leftovers() == 0


def test_opening_a_library_removes_temp_files_and_unreferenced_objects(tmp_path: Path) -> None:
    from package_factory import make_package, render_only_manifest

    from reviewer.services.imports import ImportService

    root = tmp_path / "library"
    with Library.open(root) as library:
        package = make_package(tmp_path / "pkg", render_only_manifest())
        ImportService(library).import_package(package)
        referenced = library.objects.all_digests()
        orphan = library.objects.put_file(source(tmp_path, b"left by a killed import"))
        (library.objects.root / ".incoming-dead").write_bytes(b"half written")
    assert len(referenced) == 1

    with Library.open(root) as library:
        assert library.objects.all_digests() == referenced
        assert orphan not in library.objects
        assert list(library.objects.root.glob(".incoming-*")) == []
        assert all(library.objects.verify(sha) for sha in referenced)


def test_clean_up_waits_for_a_live_writer(tmp_path: Path) -> None:
    """While another import holds the write lock, opening must not delete its new objects."""
    root = tmp_path / "library"
    with Library.open(root) as writer, writer.write_lock():
        in_flight = writer.objects.put_file(source(tmp_path, b"being imported right now"))
        with Library.open(root) as reader:
            assert in_flight in reader.objects


def test_opening_a_library_removes_unfinished_cache_files_only_when_stale(tmp_path: Path) -> None:
    import time

    from reviewer.storage.library import STALE_CACHE_FILE_S

    Library.open(tmp_path / "lib").close()
    folder = tmp_path / "lib" / "cache" / "avatars" / "ab"
    folder.mkdir(parents=True)
    stale = folder / ".stored-killed.tmp"
    fresh = folder / ".stored-writing.tmp"
    done = folder / "abcd.twinavatar"
    for path in (stale, fresh, done):
        path.write_bytes(b"x" * 100)
    long_ago = time.time() - STALE_CACHE_FILE_S - 60
    os.utime(stale, (long_ago, long_ago))
    os.utime(done, (long_ago, long_ago))
    Library.open(tmp_path / "lib").close()
    assert not stale.exists()
    assert fresh.exists() and done.exists()
