"""Getting a receipt out of the library, and verifying one (with or without a library).

Verifying says exactly what does not match: the form, the signature, the key, or which file
of a package. The format is in docs/receipt.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from reviewer.assets.package import package_digest
from reviewer.domain.canonical import canonical_json
from reviewer.domain.manifest import ManifestError, check_relative_path, parse_manifest
from reviewer.domain.receipt import (
    Receipt,
    ReceiptFormatError,
    RevocationReceipt,
    describe,
    key_fingerprint,
    parse_receipt,
    receipt_file_bytes,
    signed_bytes,
)
from reviewer.domain.roles import Action
from reviewer.services.access import require_on_request
from reviewer.services.consent_records import decision_by_id, decision_in_force
from reviewer.services.files import write_atomically
from reviewer.services.profiles import Session
from reviewer.services.refusals import NotFound
from reviewer.services.signing_keys import signature_is_valid
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import decisions, talent_keys

MANIFEST_NAME = "request.json"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ReceiptExport:
    path: Path
    receipt_id: str
    kind: str
    request_id: str
    revision: int

    def summary(self) -> str:
        return (
            f"wrote the {self.kind} receipt {self.receipt_id} for {self.request_id} "
            f"revision {self.revision} to {self.path}"
        )


class ReceiptService:
    def __init__(self, library: Library) -> None:
        self.library = library

    def receipt(
        self, request_id: str, *, session: Session | None = None, receipt_id: str | None = None
    ) -> dict[str, Any]:
        """The receipt in force for the request's latest revision (the revocation receipt if
        its approval was revoked), or the receipt *receipt_id* from its history."""
        context = require_on_request(
            self.library, session.actor if session else None, Action.READ_REQUEST, request_id
        )
        with self.library.reader.connect() as conn:
            if receipt_id is not None:
                return _find_in_history(conn, request_id, receipt_id)
            current = decision_in_force(conn, request_id, context.latest_revision)
        if current is None:
            raise NotFound(
                f"{request_id} revision {context.latest_revision} has no decision "
                "yet, so no receipt"
            )
        return json.loads(current.revocation_json or current.receipt_json)

    def export(
        self,
        request_id: str,
        out: Path,
        *,
        session: Session | None = None,
        receipt_id: str | None = None,
    ) -> ReceiptExport:
        document = self.receipt(request_id, session=session, receipt_id=receipt_id)
        write_atomically(out, receipt_file_bytes(document))
        with self.library.engine.begin() as conn:
            audit.append(
                conn,
                actor=session.name if session else "(local)",
                action="receipt.exported",
                subject=f"request:{request_id}",
                details={"receipt_id": document["receipt_id"]},
            )
        return ReceiptExport(
            out,
            document["receipt_id"],
            document["kind"],
            request_id,
            document["request"]["revision"],
        )


def _find_in_history(conn: sa.Connection, request_id: str, receipt_id: str) -> dict[str, Any]:
    decision = decision_by_id(conn, receipt_id)
    if decision is not None and decision.request_id == request_id:
        return json.loads(decision.receipt_json)
    for text in conn.execute(
        sa.select(decisions.c.revocation_json).where(
            decisions.c.request_id == request_id, decisions.c.revocation_json.is_not(None)
        )
    ).scalars():
        document = json.loads(text)
        if document["receipt_id"] == receipt_id:
            return document
    raise NotFound(f"{request_id} has no receipt {receipt_id}")


# Verifying ----------------------------------------------------------------------------------


@dataclass
class Verification:
    """What :func:`verify_receipt` found. ``problems`` empty means the receipt holds."""

    description: str = ""
    receipt: Receipt | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_receipt(
    raw: bytes, *, library: Library | None = None, package: Path | None = None
) -> Verification:
    """Check a receipt's form and signature; the key against *library* when it knows the
    talent's keys; and, with *package*, every file of the package against the receipt."""
    result = Verification()
    try:
        receipt, document = parse_receipt(raw)
    except ReceiptFormatError as exc:
        result.problems.append(f"form: the receipt {exc}")
        return result
    result.receipt = receipt
    result.description = describe(receipt)
    public_key = bytes.fromhex(receipt.talent.public_key)
    if key_fingerprint(public_key) != receipt.talent.key_fingerprint:
        result.problems.append(
            "key: the fingerprint does not belong to the public key in the receipt"
        )
    signature = bytes.fromhex(receipt.signature.value)
    if signature_is_valid(public_key, signature, signed_bytes(document)):
        result.notes.append(f"signature: valid (Ed25519, key {receipt.talent.key_fingerprint})")
    else:
        result.problems.append(
            "signature: does not match the receipt's content (changed after "
            "signing, or signed with another key)"
        )
    if library is not None:
        _check_against_library(library, receipt, document, result)
    else:
        result.notes.append(
            "key: no library to compare with; checked against the key in the receipt only"
        )
    if package is not None:
        _check_package(package, receipt, result)
    return result


def _check_against_library(
    library: Library, receipt: Receipt, document: dict[str, Any], result: Verification
) -> None:
    talent_id = receipt.talent.id
    with library.reader.connect() as conn:
        keys = dict(
            conn.execute(
                sa.select(talent_keys.c.public_key, talent_keys.c.active).where(
                    talent_keys.c.talent_id == talent_id
                )
            ).all()
        )
        stored = conn.execute(
            sa.select(decisions).where(
                decisions.c.id
                == (
                    receipt.revocation.revokes
                    if isinstance(receipt, RevocationReceipt)
                    else receipt.receipt_id
                )
            )
        ).first()
    if not keys:
        result.notes.append(
            f"key: this library holds no key for talent {talent_id}; checked "
            "against the key in the receipt only"
        )
    elif receipt.talent.public_key not in keys:
        result.problems.append(
            f"key: {receipt.talent.key_fingerprint} is not a registered key of talent {talent_id}"
        )
    else:
        state = "the active" if keys[receipt.talent.public_key] else "a former"
        result.notes.append(f"key: {state} registered key of talent {talent_id}")
    if stored is None:
        return
    if isinstance(receipt, RevocationReceipt):
        matches = stored.revocation_json == canonical_json(document).decode("utf-8")
    else:
        matches = stored.receipt_json == canonical_json(document).decode("utf-8")
        if stored.revoked_at is not None:
            result.notes.append(
                f"status: this approval was REVOKED on {stored.revoked_at} "
                f"({stored.revocation_reason})"
            )
    if matches:
        result.notes.append("library: the same receipt is on record here")


def _check_package(package: Path, receipt: Receipt, result: Verification) -> None:
    try:
        with _package_reader(package) as reader:
            _compare_package(reader, receipt, result)
    except OSError as exc:
        result.problems.append(f"package: {package.name} cannot be read ({exc.strerror or exc})")
    except zipfile.BadZipFile:
        result.problems.append(f"package: {package.name} is not a readable zip archive")


class _PackageReader:
    """Hashes files of a folder or a zip by package-relative path, never outside it."""

    def __init__(self, root: Path | None, archive: zipfile.ZipFile | None) -> None:
        self.root = root
        self.archive = archive
        self.names = (
            {i.filename for i in archive.infolist() if not i.is_dir()}
            if archive is not None
            else set()
        )

    def read(self, rel: str, limit: int = 1 << 20) -> bytes | None:
        handle = self._open(rel)
        if handle is None:
            return None
        with handle:
            return handle.read(limit + 1)

    def sha256(self, rel: str) -> str | None:
        handle = self._open(rel)
        if handle is None:
            return None
        digest = hashlib.sha256()
        with handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def _open(self, rel: str):  # type: ignore[no-untyped-def]
        try:
            check_relative_path(rel)
        except ValueError:
            return None
        if self.archive is not None:
            return self.archive.open(rel) if rel in self.names else None
        assert self.root is not None
        path = self.root.joinpath(*rel.split("/"))
        if path.is_symlink() or not path.is_file():
            return None
        if not path.resolve().is_relative_to(self.root.resolve()):
            return None
        return open(path, "rb")


@contextlib.contextmanager
def _package_reader(package: Path) -> Iterator[_PackageReader]:
    if package.is_dir():
        yield _PackageReader(package, None)
        return
    if not package.exists():
        raise FileNotFoundError(2, "no such file or folder", str(package))
    with zipfile.ZipFile(package) as archive:
        yield _PackageReader(None, archive)


def _compare_package(reader: _PackageReader, receipt: Receipt, result: Verification) -> None:
    request = receipt.request
    asset_paths = {a.path for a in request.assets}
    changed = 0
    for entry in request.files:
        kind = "asset" if entry.path in asset_paths else "file"
        actual = reader.sha256(entry.path)
        if actual is None:
            result.problems.append(f"package: {kind} {entry.path} is missing")
            changed += 1
        elif actual != entry.sha256:
            result.problems.append(
                f"package: {kind} {entry.path} does not match (receipt "
                f"{entry.sha256[:12]}…, package {actual[:12]}…)"
            )
            changed += 1
    raw = reader.read(MANIFEST_NAME)
    if raw is None:
        result.problems.append(f"package: {MANIFEST_NAME} is missing")
        return
    if hashlib.sha256(raw).hexdigest() != request.manifest_sha256:
        try:
            manifest = parse_manifest(raw)
        except ManifestError as exc:
            result.problems.append(
                f"package: {MANIFEST_NAME} does not match and is not a valid manifest ({exc})"
            )
            return
        digest = package_digest(manifest, {e.path: e.sha256 for e in request.files})
        if digest != request.content_digest:
            result.problems.append(
                f"package: {MANIFEST_NAME} does not match: its terms differ from those decided on"
            )
            return
        result.notes.append(f"package: {MANIFEST_NAME} differs in layout, not in content")
    else:
        try:
            manifest = parse_manifest(raw)
        except ManifestError:  # the same bytes that were decided on; a stricter reader now
            manifest = None
    extra = (
        [] if manifest is None else [a.path for a in manifest.assets if a.path not in asset_paths]
    )
    for path in extra:
        result.problems.append(f"package: asset {path} is not covered by the receipt")
    if not changed and not extra:
        result.notes.append(f"package: all {len(request.files)} files match")
