"""Malformed and hostile request packages, each refused through the real command line.

Every case builds its package from scratch, runs ``reviewer --library LIB import PKG`` and
checks the contract of design.md: exit status 1, one line on stderr naming the package, the
file (where one applies) and the reason, and a library that is byte-for-byte what it was.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from package_factory import (
    base_manifest,
    folder_entries,
    make_package,
    render_only_manifest,
    snapshot,
    tiny_png_declaring,
    write_jpeg,
    write_manifest,
    write_mtl,
    write_obj,
    write_ply,
    write_png,
    write_zip,
    zip_folder,
)

from reviewer.cli import main

Build = Callable[[Path], Path]


@dataclass(frozen=True)
class Case:
    build: Build  # writes the package under the given folder and returns its path
    keywords: tuple[str, ...]  # must all appear in the refusal, in any case
    file: str | None  # the file the refusal must name, if one applies
    args: tuple[str, ...]  # extra options for `reviewer import`


CASES: list = []


def case(
    case_id: str, *keywords: str, file: str | None = None, args: tuple[str, ...] = ()
) -> Callable[[Build], Build]:
    """Register a hostile package under the readable id *case_id*."""

    def register(build: Build) -> Build:
        CASES.append(pytest.param(Case(build, keywords, file, args), id=case_id))
        return build

    return register


def good(work: Path, name: str, manifest: dict | None = None) -> Path:
    """A valid render-only package folder called *name*, to be spoiled by a case."""
    return make_package(work / name, manifest if manifest is not None else render_only_manifest())


def as_zip(folder: Path) -> Path:
    zipped = zip_folder(folder, folder.with_name(folder.name + ".zip"))
    shutil.rmtree(folder)
    return zipped


def with_manifest(work: Path, name: str, manifest: dict) -> Path:
    """A package whose assets are written for *manifest* as far as the schema allows."""
    folder = work / name
    write_png(folder / "renders" / "look1-front.png")
    write_manifest(folder, manifest)
    return folder


def with_raw_manifest(work: Path, name: str, raw: bytes) -> Path:
    folder = good(work, name)
    (folder / "request.json").write_bytes(raw)
    return folder


def changed_use(**changes: object) -> dict:
    manifest = render_only_manifest()
    manifest["use"].update(changes)
    return manifest


# --- The container: zip entries, links, counts and sizes -------------------------------------


def _zip_with_extra(work: Path, name: str, extra: str, data: bytes = b"x") -> Path:
    entries = folder_entries(good(work, name + "-src"))
    entries[extra] = data
    return write_zip(work / f"{name}.zip", entries)


@case("zip-entry-dotdot", "outside", file="../evil.txt")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-dotdot", "../evil.txt")


@case("zip-entry-nested-dotdot", "outside", file="renders/../../evil.txt")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-nested-dotdot", "renders/../../evil.txt")


@case("zip-entry-absolute", "outside", file="/tmp/evil.txt")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-absolute", "/tmp/evil.txt")


@case("zip-entry-windows-drive", "outside", file="C:/evil.txt")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-drive", "C:/evil.txt")


@case("zip-entry-backslash-dotdot", "outside", file="evil.txt")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-backslash", "..\\evil.txt")


@case("zip-symlink-entry", "link", file="renders/passwd.png")
def _(work: Path) -> Path:
    entries = folder_entries(good(work, "zip-link-src"))
    return write_zip(work / "zip-link.zip", entries, links={"renders/passwd.png": "/etc/passwd"})


@case("zip-symlink-as-named-asset", "link", file="renders/look1-front.png")
def _(work: Path) -> Path:
    entries = folder_entries(good(work, "zip-link-asset-src"))
    del entries["renders/look1-front.png"]
    return write_zip(
        work / "zip-link-asset.zip",
        entries,
        links={"renders/look1-front.png": "../../../etc/passwd"},
    )


@case("folder-symlink-unnamed", "link", file="renders/extra.png")
def _(work: Path) -> Path:
    folder = good(work, "folder-link")
    outside = write_png(work / "outside.png", colour=(1, 2, 3))
    (folder / "renders" / "extra.png").symlink_to(outside)
    return folder


@case("folder-symlink-as-named-asset", "link", file="renders/look1-front.png")
def _(work: Path) -> Path:
    folder = good(work, "folder-link-asset")
    outside = write_png(work / "outside.png", colour=(1, 2, 3))
    (folder / "renders" / "look1-front.png").unlink()
    (folder / "renders" / "look1-front.png").symlink_to(outside)
    return folder


@case("folder-symlinked-directory", "link", file="renders")
def _(work: Path) -> Path:
    folder = good(work, "folder-link-dir")
    shutil.move(folder / "renders", work / "elsewhere")
    (folder / "renders").symlink_to(work / "elsewhere", target_is_directory=True)
    return folder


@case("package-is-a-symlink", "link")
def _(work: Path) -> Path:
    real = good(work, "real-package")
    (work / "package-link").symlink_to(real, target_is_directory=True)
    return work / "package-link"


@case("folder-holds-a-fifo", "regular file", file="renders/pipe.png")
def _(work: Path) -> Path:
    folder = good(work, "folder-fifo")
    os.mkfifo(folder / "renders" / "pipe.png")
    return folder


@case("folder-nested-100-deep", "folders deep", file="d/d/d/d")
def _(work: Path) -> Path:
    # 100 levels pass the limit of 64. (A thousand crashed os.walk before the limit existed,
    # but would crash shutil.rmtree on clean-up of tmp_path too.)
    folder = good(work, "folder-deep")
    here = os.open(folder, os.O_RDONLY)
    try:
        for _level in range(100):
            os.mkdir("d", dir_fd=here)
            deeper = os.open("d", os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = deeper
    finally:
        os.close(here)
    return folder


@case("zip-nested-1100-deep", "folders deep", file="d/d/d/d")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-deep", "d/" * 1100 + "x.txt")


@case("zip-over-10000-files", "10,000 files")
def _(work: Path) -> Path:
    entries = folder_entries(good(work, "zip-many-src"))
    entries.update({f"filler/{i:05}.txt": b"" for i in range(10_001)})
    return write_zip(work / "zip-many.zip", entries, compression=zipfile.ZIP_STORED)


@case("folder-over-10000-files", "10,000 files")
def _(work: Path) -> Path:
    folder = good(work, "folder-many")
    filler = folder / "filler"
    filler.mkdir()
    for i in range(10_001):
        (filler / f"{i:05}.txt").touch()
    return folder


@case("folder-over-size-cap", "size cap", args=("--max-total-bytes", "2000"))
def _(work: Path) -> Path:
    folder = good(work, "folder-big")
    (folder / "notes.bin").write_bytes(os.urandom(3000))
    return folder


@case("zip-over-size-cap", "size cap", args=("--max-total-bytes", "2000"))
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-big", "notes.bin", os.urandom(3000))


@case("zip-bomb-by-ratio", "zip bomb", file="renders/zeros.png")
def _(work: Path) -> Path:
    # 50 MB of zeros deflates to about 50 KB: a ratio near 1,000.
    return _zip_with_extra(work, "zip-bomb", "renders/zeros.png", bytes(50_000_000))


@case("zip-bomb-of-many-small-entries", "zip bomb")
def _(work: Path) -> Path:
    # Each entry alone stays under the per-entry check (1 MiB); together 64 MiB from ~70 KB.
    entries = folder_entries(good(work, "zip-small-bombs-src"))
    entries.update({f"filler/{i:03}.bin": bytes(1 << 20) for i in range(64)})
    return write_zip(work / "zip-small-bombs.zip", entries)


@case("zip-encrypted-entry", "encrypted", file="renders/look1-front.png")
def _(work: Path) -> Path:
    # zipfile cannot write encrypted entries: set the "encrypted" flag bit (bit 0 of the
    # general purpose flags) in the PNG's central directory record by hand.
    path = write_zip(work / "zip-encrypted.zip", folder_entries(good(work, "zip-encrypted-src")))
    data = bytearray(path.read_bytes())
    record = data.index(b"PK\x01\x02")
    while b"look1-front.png" not in data[record + 46 : record + 46 + 64]:
        record = data.index(b"PK\x01\x02", record + 4)
    data[record + 8] |= 0x1
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:  # the flag is what a reader sees
        assert archive.getinfo("renders/look1-front.png").flag_bits & 0x1
    return path


@case("zip-duplicate-entry", "twice", file="renders/look1-front.png")
def _(work: Path) -> Path:
    entries = list(folder_entries(good(work, "zip-dup-src")).items())
    entries.append(("renders/look1-front.png", b"a different file under the same name"))
    return write_zip(work / "zip-dup.zip", entries)


@case("zip-entries-differ-only-in-case", "twice", file="RENDERS/LOOK1-FRONT.PNG")
def _(work: Path) -> Path:
    entries = folder_entries(good(work, "zip-case-src"))
    entries["RENDERS/LOOK1-FRONT.PNG"] = b"shadow"
    return write_zip(work / "zip-case.zip", entries)


@case("zip-file-and-folder-same-name", "renders")
def _(work: Path) -> Path:
    entries = [("renders", b"I am a file"), *folder_entries(good(work, "zip-clash-src")).items()]
    return write_zip(work / "zip-clash.zip", entries)


@case("zip-entry-control-character", file="renders/a\\nb.png")
def _(work: Path) -> Path:
    return _zip_with_extra(work, "zip-newline", "renders/a\nb.png")


@case("zip-truncated", "not a readable zip")
def _(work: Path) -> Path:
    whole = as_zip(good(work, "zip-truncated"))
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])
    return whole


@case("zip-that-is-text", "not a readable zip")
def _(work: Path) -> Path:
    path = work / "not-a-zip.zip"
    path.write_text("PK? no, just a text file\n")
    return path


@case("empty-folder", "request.json")
def _(work: Path) -> Path:
    (work / "empty-package").mkdir()
    return work / "empty-package"


@case("no-request-json", "request.json")
def _(work: Path) -> Path:
    folder = good(work, "no-manifest")
    (folder / "request.json").unlink()
    return folder


@case("request-json-one-level-down", "request.json")
def _(work: Path) -> Path:
    # The usual mistake: zipping the folder instead of its contents.
    folder = good(work, "nested-src")
    entries = {f"nested/{rel}": data for rel, data in folder_entries(folder).items()}
    return write_zip(work / "nested.zip", entries)


# --- The manifest -----------------------------------------------------------------------------


@case("manifest-over-1-mib", "limit", file="request.json")
def _(work: Path) -> Path:
    raw = json.dumps(render_only_manifest()).encode()
    return with_raw_manifest(work, "manifest-huge", raw + b" " * (1 << 20))


@case("manifest-not-utf8", "utf-8", file="request.json")
def _(work: Path) -> Path:
    text = json.dumps(render_only_manifest(campaign="Été 27"), ensure_ascii=False)
    return with_raw_manifest(work, "manifest-latin1", text.encode("latin-1"))


@case("manifest-utf16", "utf-8", file="request.json")
def _(work: Path) -> Path:
    return with_raw_manifest(
        work, "manifest-utf16", json.dumps(render_only_manifest()).encode("utf-16")
    )


@case("manifest-invalid-json", "invalid json", file="request.json")
def _(work: Path) -> Path:
    raw = json.dumps(render_only_manifest()).encode()
    return with_raw_manifest(work, "manifest-broken", raw[:-20])


@case("manifest-is-a-list", "object", file="request.json")
def _(work: Path) -> Path:
    return with_raw_manifest(work, "manifest-list", json.dumps([render_only_manifest()]).encode())


@case("manifest-duplicate-key", "id", "twice", file="request.json")
def _(work: Path) -> Path:
    raw = json.dumps(render_only_manifest()).replace('"id": ', '"id": "other-id", "id": ', 1)
    return with_raw_manifest(work, "manifest-dupkey", raw.encode())


@case("unknown-top-level-key", "unknown key", "exclusive", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "unknown-top", render_only_manifest(exclusive=True))


@case("unknown-nested-key", "unknown key", "use.perpetual", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "unknown-nested", changed_use(perpetual=True))


@case("unknown-asset-key", "unknown key", "assets.0.thumbnail", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest()
    manifest["assets"][0]["thumbnail"] = "renders/look1-front.png"
    return with_manifest(work, "unknown-asset-key", manifest)


@case("unknown-key-with-newline", "unknown key", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "unknown-newline-key", render_only_manifest(**{"x\ny": 1}))


@case("missing-required-key", "talent", "required", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest()
    del manifest["talent"]
    return with_manifest(work, "missing-talent", manifest)


@case("wrong-format-version", "format", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "format-2", render_only_manifest(format="reviewer.use-request/2"))


@case("wrong-type-voice-string", "use.voice", "boolean", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "voice-yes", changed_use(voice="yes"))


@case("wrong-type-channels-string", "use.channels", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "channels-string", changed_use(channels="social"))


@case("wrong-type-talent-number", "talent", "string", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "talent-number", render_only_manifest(talent=42))


@case("wrong-type-fee-boolean", "fee.amount", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(
        work, "fee-bool", render_only_manifest(fee={"amount": True, "currency": "EUR"})
    )


@case("bad-date-february-30", "use.start", "date", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "feb-30", changed_use(start="2027-02-30"))


@case("bad-date-day-first", "due", "date", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "due-day-first", render_only_manifest(due="15/12/2026"))


@case("bad-date-unix-timestamp", "due", "date", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "due-timestamp", render_only_manifest(due=1_765_756_800))


@case("end-before-start", "before start", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "end-before-start", changed_use(start="2027-08-01"))


@case("unknown-channel", "use.channels", "ecommerce", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "channel-radio", changed_use(channels=["ecommerce", "radio"]))


@case("duplicate-channel", "use.channels", "twice", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "channel-twice", changed_use(channels=["social", "social"]))


@case("negative-fee", "fee.amount", "greater than or equal to 0", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(
        work, "fee-negative", render_only_manifest(fee={"amount": "-1800.00", "currency": "EUR"})
    )


@case("fee-not-a-number", "fee.amount", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(
        work, "fee-nan", render_only_manifest(fee={"amount": "NaN", "currency": "EUR"})
    )


@case("bad-currency-code", "fee.currency", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(
        work, "currency-euro", render_only_manifest(fee={"amount": "1800.00", "currency": "Euro"})
    )


@case("bad-id-pattern", "id", "pattern", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "id-traversal", render_only_manifest(id="../../etc/passwd"))


@case("bad-id-too-long", "id", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "id-long", render_only_manifest(id="a" * 65))


@case("bad-talent-pattern", "talent", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "talent-space", render_only_manifest(talent="Ines Duarte"))


@case("no-assets", "assets", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "no-assets", base_manifest(assets=[]))


@case("duplicate-asset-paths", "listed twice", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest("renders/look1-front.png", "renders/look1-front.png")
    return with_manifest(work, "dup-assets", manifest)


@case("duplicate-asset-paths-by-case", "listed twice", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest("renders/look1-front.png", "Renders/Look1-Front.png")
    return with_manifest(work, "dup-assets-case", manifest)


@case("asset-path-dotdot", "escapes", file="request.json")
def _(work: Path) -> Path:
    folder = with_manifest(work, "asset-dotdot", render_only_manifest("../outside.png"))
    write_png(work / "outside.png")
    return folder


@case("asset-path-absolute", "absolute", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "asset-absolute", render_only_manifest("/etc/passwd.png"))


@case("asset-path-control-character", "request.json", file="request.json")
def _(work: Path) -> Path:
    return with_manifest(work, "asset-newline", render_only_manifest("renders/a\nb.png"))


@case("render-with-avatar-suffix", "render must be one of", file="request.json")
def _(work: Path) -> Path:
    folder = with_manifest(work, "render-glb", render_only_manifest("renders/look1.glb"))
    shutil.copyfile(folder / "renders" / "look1-front.png", folder / "renders" / "look1.glb")
    return folder


@case("avatar-with-image-suffix", "avatar must be one of", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest()
    manifest["assets"].append({"path": "twin/look1.png", "role": "avatar", "label": "Look 1"})
    folder = with_manifest(work, "avatar-png", manifest)
    write_png(folder / "twin" / "look1.png")
    return folder


@case("texture-named-for-glb", "texture", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest()
    manifest["assets"].append(
        {
            "path": "twin/look1.glb",
            "role": "avatar",
            "label": "Look 1",
            "texture": "renders/look1-front.png",
        }
    )
    return with_manifest(work, "glb-texture", manifest)


@case("texture-not-an-image-name", "texture", "not an image", file="request.json")
def _(work: Path) -> Path:
    manifest = base_manifest()
    manifest["assets"][0]["texture"] = "twin/skin.txt"
    return make_package(work / "texture-txt", manifest)


@case("bad-sha256-format", "sha256", file="request.json")
def _(work: Path) -> Path:
    manifest = render_only_manifest()
    manifest["assets"][0]["sha256"] = "ABCDEF"
    return with_manifest(work, "sha-format", manifest)


# --- The files the manifest names -------------------------------------------------------------


@case("asset-missing", "missing", file="renders/look2-back.png")
def _(work: Path) -> Path:
    folder = good(
        work,
        "asset-missing",
        render_only_manifest("renders/look1-front.png", "renders/look2-back.png"),
    )
    (folder / "renders" / "look2-back.png").unlink()
    return folder


@case("asset-missing-in-zip", "missing", file="renders/look2-back.png")
def _(work: Path) -> Path:
    folder = good(
        work,
        "asset-missing-zip",
        render_only_manifest("renders/look1-front.png", "renders/look2-back.png"),
    )
    (folder / "renders" / "look2-back.png").unlink()
    return as_zip(folder)


@case("asset-name-differs-in-case", "renders/Look1-Front.png", file="renders/look1-front.png")
def _(work: Path) -> Path:
    folder = good(work, "asset-case")
    (folder / "renders" / "look1-front.png").rename(folder / "renders" / "Look1-Front.png")
    return folder


@case("sha256-mismatch", "sha256", file="renders/look1-front.png")
def _(work: Path) -> Path:
    manifest = render_only_manifest()
    manifest["assets"][0]["sha256"] = "0" * 64
    return good(work, "sha-mismatch", manifest)


@case("truncated-png", "decoded", file="renders/look1-front.png")
def _(work: Path) -> Path:
    folder = good(work, "png-truncated")
    target = folder / "renders" / "look1-front.png"
    write_png(target, size=(400, 300))
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return folder


@case("truncated-jpeg", "decoded", file="renders/look1-front.jpg")
def _(work: Path) -> Path:
    folder = good(work, "jpeg-truncated", render_only_manifest("renders/look1-front.jpg"))
    target = write_jpeg(folder / "renders" / "look1-front.jpg", size=(400, 300))
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return folder


@case("text-file-named-png", "not an image", file="renders/look1-front.png")
def _(work: Path) -> Path:
    folder = good(work, "png-text")
    (folder / "renders" / "look1-front.png").write_text("this is not a picture\n")
    return folder


@case("empty-file-named-jpg", "not an image", file="renders/look1-front.jpg")
def _(work: Path) -> Path:
    folder = good(work, "jpg-empty", render_only_manifest("renders/look1-front.jpg"))
    (folder / "renders" / "look1-front.jpg").write_bytes(b"")
    return folder


@case("gif-named-png", "gif", file="renders/look1-front.png")
def _(work: Path) -> Path:
    from PIL import Image

    folder = good(work, "png-gif")
    Image.new("RGB", (32, 32), (200, 10, 10)).save(folder / "renders" / "look1-front.png", "GIF")
    return folder


@case("png-pixel-bomb", "pixels", file="renders/look1-front.png")
def _(work: Path) -> Path:
    folder = good(work, "png-bomb")
    (folder / "renders" / "look1-front.png").write_bytes(tiny_png_declaring(30_000, 30_000))
    return folder


@case("jpeg-pixel-bomb", "pixels", file="renders/look1-front.jpg")
def _(work: Path) -> Path:
    # A real 16×16 JPEG whose frame header is patched to claim 60000×60000.
    from PIL import Image

    folder = good(work, "jpeg-bomb", render_only_manifest("renders/look1-front.jpg"))
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (60_000).to_bytes(2, "big") * 2
    (folder / "renders" / "look1-front.jpg").write_bytes(bytes(data))
    return folder


# --- Avatars ----------------------------------------------------------------------------------


def avatar_package(
    work: Path, name: str, avatar: str, data: bytes | None = None, **entry: str
) -> Path:
    manifest = render_only_manifest()
    manifest["assets"].insert(0, {"path": avatar, "role": "avatar", "label": "Look 1", **entry})
    folder = with_manifest(work, name, manifest)
    if data is not None:
        (folder / avatar).parent.mkdir(parents=True, exist_ok=True)
        (folder / avatar).write_bytes(data)
    return folder


NOISE = bytes((i * 2654435761 >> 7) & 0xFF for i in range(4096))


@case("random-bytes-ply", file="twin/look1.ply")
def _(work: Path) -> Path:
    return avatar_package(work, "ply-noise", "twin/look1.ply", NOISE)


@case("random-bytes-glb", file="twin/look1.glb")
def _(work: Path) -> Path:
    return avatar_package(work, "glb-noise", "twin/look1.glb", NOISE)


@case("random-bytes-stl", file="twin/look1.stl")
def _(work: Path) -> Path:
    return avatar_package(work, "stl-noise", "twin/look1.stl", NOISE)


@case("random-bytes-vtp", file="twin/look1.vtp")
def _(work: Path) -> Path:
    return avatar_package(work, "vtp-noise", "twin/look1.vtp", NOISE)


@case("random-bytes-vtk", file="twin/look1.vtk")
def _(work: Path) -> Path:
    return avatar_package(work, "vtk-noise", "twin/look1.vtk", NOISE)


@case("empty-obj", file="twin/look1.obj")
def _(work: Path) -> Path:
    return avatar_package(work, "obj-empty", "twin/look1.obj", b"")


@case("glb-header-only", file="twin/look1.glb")
def _(work: Path) -> Path:
    # The right magic and version, then nothing: a truncated download.
    header = b"glTF" + (2).to_bytes(4, "little") + (1000).to_bytes(4, "little")
    return avatar_package(work, "glb-truncated", "twin/look1.glb", header)


@case("ply-without-triangles", "triangle", file="twin/look1.ply")
def _(work: Path) -> Path:
    points_only = (
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\n"
        "property float y\nproperty float z\nend_header\n0 0 0\n1 0 0\n0 1 0\n"
    )
    return avatar_package(work, "ply-points", "twin/look1.ply", points_only.encode())


PLY_HEADER = (
    "ply\nformat {fmt} 1.0\nelement vertex {vertices}\nproperty float x\n"
    "property float y\nproperty float z\nelement face 1\n"
    "property list uchar int vertex_indices\nend_header\n"
)


@case("ply-declares-a-billion-vertices", file="twin/look1.ply")
def _(work: Path) -> Path:
    header = PLY_HEADER.format(fmt="binary_little_endian", vertices=1_000_000_000)
    return avatar_package(work, "ply-billion", "twin/look1.ply", header.encode() + bytes(64))


@case("ply-not-finite-coordinates", "finite", file="twin/look1.ply")
def _(work: Path) -> Path:
    body = "nan 0 0\n1 inf 0\n0 1 0\n3 0 1 2\n"
    data = PLY_HEADER.format(fmt="ascii", vertices=3) + body
    return avatar_package(work, "ply-nan", "twin/look1.ply", data.encode())


@case("obj-face-index-out-of-range", "vertex", file="twin/look1.obj")
def _(work: Path) -> Path:
    return avatar_package(
        work, "obj-bad-index", "twin/look1.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99\n"
    )


@case("stl-declares-50-million-triangles", "triangles", file="twin/look1.stl")
def _(work: Path) -> Path:
    data = bytes(80) + (50_000_000).to_bytes(4, "little") + bytes(100)
    return avatar_package(work, "stl-lies", "twin/look1.stl", data)


@case("vtk-declares-a-billion-points", file="twin/look1.vtk")
def _(work: Path) -> Path:
    data = (
        b"# vtk DataFile Version 3.0\nx\nASCII\nDATASET POLYDATA\n"
        b"POINTS 1000000000 float\n0 0 0\nPOLYGONS 1 4\n3 0 1 2\n"
    )
    return avatar_package(work, "vtk-lies", "twin/look1.vtk", data)


@case("gltf-accessor-past-its-buffer", "accessor", file="twin/look1.gltf")
def _(work: Path) -> Path:
    gltf = {
        "asset": {"version": "2.0"},
        "buffers": [{"uri": "data:application/octet-stream;base64,AAAA", "byteLength": 4}],
        "bufferViews": [{"buffer": 0, "byteLength": 4}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 1_000_000_000, "type": "VEC3"}
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }
    return avatar_package(work, "gltf-huge-accessor", "twin/look1.gltf", json.dumps(gltf).encode())


@case("mesh-over-triangle-cap", "triangle", file="twin/look1.ply", args=("--max-triangles", "10"))
def _(work: Path) -> Path:
    folder = avatar_package(work, "ply-too-many", "twin/look1.ply")
    write_ply(folder / "twin" / "look1.ply", triangles=50)
    return folder


@case("obj-mtllib-missing", "missing", file="twin/look1.mtl")
def _(work: Path) -> Path:
    folder = avatar_package(work, "obj-no-mtl", "twin/look1.obj")
    write_obj(folder / "twin" / "look1.obj", mtllib="look1.mtl")
    return folder


@case("obj-mtllib-outside", "outside", file="twin/look1.obj")
def _(work: Path) -> Path:
    folder = avatar_package(work, "obj-mtl-outside", "twin/look1.obj")
    write_obj(folder / "twin" / "look1.obj", mtllib="../../x.mtl")
    write_mtl(work / "x.mtl")
    return folder


@case("obj-at-top-mtllib-dotdot", "outside", file="look1.obj")
def _(work: Path) -> Path:
    folder = avatar_package(work, "obj-top-mtl-outside", "look1.obj")
    write_obj(folder / "look1.obj", mtllib="../x.mtl")
    write_mtl(work / "x.mtl")
    return folder


@case("obj-mtllib-absolute", "outside", file="twin/look1.obj")
def _(work: Path) -> Path:
    folder = avatar_package(work, "obj-mtl-absolute", "twin/look1.obj")
    write_mtl(work / "abs.mtl")
    write_obj(folder / "twin" / "look1.obj", mtllib=str(work / "abs.mtl"))
    return folder


@case("mtl-map-missing", "missing", file="twin/skin.png")
def _(work: Path) -> Path:
    folder = avatar_package(work, "mtl-map-missing", "twin/look1.obj")
    write_obj(folder / "twin" / "look1.obj", mtllib="look1.mtl")
    write_mtl(folder / "twin" / "look1.mtl", map_kd="skin.png")
    return folder


@case("mtl-map-outside", "outside", file="twin/look1.obj")
def _(work: Path) -> Path:
    folder = avatar_package(work, "mtl-map-outside", "twin/look1.obj")
    write_obj(folder / "twin" / "look1.obj", mtllib="look1.mtl")
    write_mtl(folder / "twin" / "look1.mtl", map_kd="../../secret.png")
    write_png(work / "secret.png")
    return folder


@case("mtl-map-truncated", "decoded", file="twin/skin.png")
def _(work: Path) -> Path:
    folder = avatar_package(work, "mtl-map-truncated", "twin/look1.obj")
    write_obj(folder / "twin" / "look1.obj", mtllib="look1.mtl")
    write_mtl(folder / "twin" / "look1.mtl", map_kd="skin.png")
    data = write_png(folder / "twin" / "skin.png", size=(300, 300)).read_bytes()
    (folder / "twin" / "skin.png").write_bytes(data[: len(data) // 2])
    return folder


@case("gltf-buffer-outside", "outside", file="twin/look1.gltf")
def _(work: Path) -> Path:
    (work / "secret.bin").write_bytes(bytes(36))
    gltf = {
        "asset": {"version": "2.0"},
        "buffers": [{"uri": "../../secret.bin", "byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 3,
                "type": "VEC3",
                "min": [0, 0, 0],
                "max": [0, 0, 0],
            }
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }
    return avatar_package(work, "gltf-outside", "twin/look1.gltf", json.dumps(gltf).encode())


@case("texture-missing", "missing", file="twin/skin.png")
def _(work: Path) -> Path:
    folder = avatar_package(work, "texture-missing", "twin/look1.ply", texture="twin/skin.png")
    write_ply(folder / "twin" / "look1.ply")
    return folder


@case("texture-not-an-image", "not an image", file="twin/skin.png")
def _(work: Path) -> Path:
    folder = avatar_package(work, "texture-text", "twin/look1.ply", texture="twin/skin.png")
    write_ply(folder / "twin" / "look1.ply")
    (folder / "twin" / "skin.png").write_text("not a picture")
    return folder


@case("texture-pixel-bomb", "pixels", file="twin/skin.png")
def _(work: Path) -> Path:
    folder = avatar_package(work, "texture-bomb", "twin/look1.stl", texture="twin/skin.png")
    (folder / "twin").mkdir()
    (folder / "twin" / "look1.stl").write_text(
        "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\n"
        "vertex 0 1 0\nendloop\nendfacet\nendsolid t\n"
    )
    (folder / "twin" / "skin.png").write_bytes(tiny_png_declaring(40_000, 40_000))
    return folder


# --- Against what the library holds -----------------------------------------------------------


@case("same-id-other-talent", "belongs to talent", "ines-duarte", file="request.json")
def _(work: Path) -> Path:
    return good(work, "other-talent", render_only_manifest(talent="someone-else"))


# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library holding one good import, so the database and the object store exist."""
    work = tmp_path_factory.mktemp("template")
    package = make_package(work / "first", base_manifest())
    library = work / "library"
    assert main(["--library", str(library), "import", str(package)]) == 0
    return library


@pytest.fixture
def library_dir(library_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The limits under test are the defaults (or the options a case passes), never a
    # developer's $REVIEWER_MAX_* settings.
    for name in ("FILES", "TOTAL_BYTES", "MANIFEST_BYTES", "IMAGE_PIXELS", "TRIANGLES"):
        monkeypatch.delenv(f"REVIEWER_MAX_{name}", raising=False)
    return Path(shutil.copytree(library_template, tmp_path / "library", symlinks=True))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("hostile", CASES)
def test_hostile_package_is_refused(
    hostile: Case, library_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    package = hostile.build(work)
    before = snapshot(library_dir)
    capsys.readouterr()

    code = main(["--library", str(library_dir), "import", str(package), *hostile.args])

    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    line = lines[0]
    assert package.name in line
    if hostile.file is not None:
        assert hostile.file in line
    for keyword in hostile.keywords:
        assert keyword.lower() in line.lower(), line
    assert snapshot(library_dir) == before


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("reviewer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reviewer"]


@pytest.mark.parametrize("case_id", ["zip-entry-dotdot", "unknown-nested-key", "png-pixel-bomb"])
def test_real_process_exits_1(case_id: str, library_dir: Path, tmp_path: Path) -> None:
    """The exit status of the real process, not only of ``main()``."""
    (hostile,) = [p.values[0] for p in CASES if p.id == case_id]
    work = tmp_path / "work"
    work.mkdir()
    package = hostile.build(work)
    before = snapshot(library_dir)
    result = subprocess.run(
        [*_cli(), "--library", str(library_dir), "import", str(package)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert package.name in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(library_dir) == before


def test_one_refused_package_does_not_stop_the_others(
    library_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = with_manifest(tmp_path, "bad-one", changed_use(channels=["radio"]))
    fine = good(tmp_path, "fine-one", render_only_manifest(id="fine-0001"))
    code = main(["--library", str(library_dir), "import", str(bad), str(fine)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "bad-one" in err and "use.channels" in err
    assert "fine-0001" in out and "imported" in out


def test_unnamed_files_warn_and_are_not_stored(
    library_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reviewer.storage.library import Library
    from reviewer.storage.objects import file_sha256

    folder = good(tmp_path, "with-extras", render_only_manifest(id="extras-0001"))
    stray = write_png(folder / "renders" / "unused.png", colour=(7, 7, 7))
    notes = folder / "notes.txt"
    notes.write_text("internal: do not publish\n")
    stray_sha, notes_sha = file_sha256(stray), file_sha256(notes)
    named_sha = file_sha256(folder / "renders" / "look1-front.png")

    code = main(["--library", str(library_dir), "import", str(folder)])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "extras-0001" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, err
    assert any("renders/unused.png" in w and "not named" in w for w in warnings)
    assert any("notes.txt" in w and "not named" in w for w in warnings)
    with Library.open_existing(library_dir) as library:
        stored = library.objects.all_digests()
    assert named_sha in stored
    assert stray_sha not in stored
    assert notes_sha not in stored
    assert not any(
        p.stat().st_size == stray.stat().st_size and p.read_bytes() == stray.read_bytes()
        for p in (library_dir / "objects").rglob("*")
        if p.is_file()
    )


def test_deep_but_not_too_deep_is_fine(
    library_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = good(
        tmp_path,
        "deep-enough",
        render_only_manifest("/".join(["d"] * 60) + "/look.png", id="deep-0001"),
    )
    zipped = as_zip(folder)
    assert main(["--library", str(library_dir), "import", str(zipped)]) == 0
    assert "deep-0001" in capsys.readouterr().out


def test_library_snapshot_sees_a_change(library_dir: Path) -> None:
    """The unchanged-library check above can fail: a byte changed anywhere is noticed."""
    before = snapshot(library_dir)
    db = library_dir / "library.db"
    with open(db, "r+b") as handle:
        handle.seek(100)
        original = handle.read(1)
        handle.seek(100)
        handle.write(bytes([original[0] ^ 0xFF]))
    assert snapshot(library_dir) != before
    assert stat.S_ISREG(db.stat().st_mode)
