"""The release gate: the only way assets leave the library for publication.

It lets out the latest revision of a request only when that revision is approved, the
approval is neither revoked nor expired, today lies in the approved period and every stored
file still hashes to what was approved. Otherwise it refuses with one reason (audited).

What it writes, into a folder that must not exist yet (or be empty)::

    OUT/receipt.json        the approval's receipt, byte for byte as signed
    OUT/release.json        what was released, when, by whom, original and released digests
    OUT/assets/<path>       the approved files under their package paths; every image marked
                            as a synthetic likeness under the receipt (assets/disclosure.py)

The folder is assembled beside OUT and renamed into place after the release is recorded, so
OUT never holds half a release, and nothing leaves without its record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa

from reviewer.assets.disclosure import Disclosure, DisclosureError, mark_image
from reviewer.domain.manifest import RENDER_SUFFIXES
from reviewer.domain.receipt import receipt_file_bytes, utc_timestamp
from reviewer.domain.roles import Action
from reviewer.domain.scope import short_date
from reviewer.domain.status import RequestStatus, derive_status
from reviewer.services.access import (
    RequestContext,
    load_request_context,
    require,
    require_on_request,
)
from reviewer.services.consent_records import decision_in_force, load_revision
from reviewer.services.profiles import Session
from reviewer.services.receipts import verify_receipt
from reviewer.services.refusals import ReleaseRefused
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import releases

RELEASE_FORMAT = "reviewer.release/1"
LOCAL_ACTOR = "(local)"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ReleasedFile:
    path: str  # relative to the release folder
    role: str  # avatar, render or file (a file an avatar needs)
    original_sha256: str
    released_sha256: str
    disclosure: str | None  # how the image was marked; None for files that are not images

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "role": self.role,
            "original_sha256": self.original_sha256,
            "released_sha256": self.released_sha256,
            "disclosure": self.disclosure,
        }


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    id: str
    request_id: str
    revision: int
    receipt_id: str
    out_dir: Path
    files: tuple[ReleasedFile, ...]
    released_at: str
    released_by: str

    def summary(self) -> str:
        marked = sum(1 for f in self.files if f.disclosure)
        return (
            f"released {self.request_id} revision {self.revision} to {self.out_dir}: "
            f"{len(self.files)} files ({marked} images marked as a synthetic likeness), "
            f"receipt {self.receipt_id}, release {self.id}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "release_id": self.id,
            "request_id": self.request_id,
            "revision": self.revision,
            "receipt_id": self.receipt_id,
            "out_dir": str(self.out_dir),
            "released_at": self.released_at,
            "released_by": self.released_by,
            "files": [f.to_json() for f in self.files],
        }


class ReleaseService:
    def __init__(self, library: Library, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.library = library
        self._clock = clock

    def release(
        self, request_id: str, out_dir: Path, *, session: Session | None = None
    ) -> ReleaseRecord:
        actor = session.name if session else LOCAL_ACTOR
        with self.library.reader.connect() as conn:
            context = load_request_context(conn, request_id)
        require(
            self.library,
            session.actor if session else None,
            Action.RELEASE,
            talent_id=context.talent_id,
            organisation=context.organisation,
            subject=f"request:{request_id}",
        )
        out_dir = out_dir.expanduser().absolute()
        try:
            return self._release(context, out_dir, actor)
        except ReleaseRefused as exc:
            with self.library.engine.begin() as conn:
                audit.append(
                    conn,
                    actor=actor,
                    action="release.refused",
                    subject=f"request:{request_id}",
                    details={"reason": str(exc)},
                )
            raise

    def _release(self, context: RequestContext, out_dir: Path, actor: str) -> ReleaseRecord:
        request_id = context.request_id
        now = self._clock() if self._clock else dt.datetime.now(dt.UTC)
        today = now.date() if self._clock else dt.date.today()
        with self.library.reader.connect() as conn:
            revision = context.latest_revision
            decision = decision_in_force(conn, request_id, revision)
            terms = load_revision(conn, request_id, revision)
        status = derive_status(decision.state if decision else None, today)
        if decision is None or status in (RequestStatus.REJECTED, RequestStatus.CHANGES_REQUESTED):
            raise ReleaseRefused(
                f"{request_id} revision {revision} is not approved (status: {status.label.lower()})"
            )
        if status is RequestStatus.REVOKED:
            raise ReleaseRefused(
                f"{request_id}: its approval was revoked on "
                f"{decision.revoked_at} ({decision.revocation_reason})"
            )
        if status is RequestStatus.EXPIRED:
            assert decision.approved_until is not None
            raise ReleaseRefused(
                f"{request_id}: its approval expired on {short_date(decision.approved_until)}"
            )
        assert decision.scope is not None
        if today < decision.scope.start:
            raise ReleaseRefused(
                f"{request_id}: outside its approved period, which starts on "
                f"{short_date(decision.scope.start)}"
            )
        self._check_receipt(decision.receipt_json, terms.files)
        asset_roles = {path: role for path, role, _sha in terms.assets}
        for path, sha in sorted(terms.files.items()):
            if not self.library.objects.verify(sha):
                raise ReleaseRefused(
                    f"{request_id}: the stored file {path} no longer matches "
                    f"its SHA-256 {sha[:12]}… (the object store was changed)"
                )
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise ReleaseRefused(f"{out_dir}: already exists and is not an empty folder")

        receipt = json.loads(decision.receipt_json)
        disclosure = Disclosure(context.talent_id, context.talent_name, decision.id, request_id)
        release_id = str(uuid.uuid4())
        released_at = utc_timestamp(now)
        staging = out_dir.parent / f".{out_dir.name}.release-{release_id[:8]}"
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            files = [
                self._write_file(staging, path, sha, asset_roles.get(path, "file"), disclosure)
                for path, sha in sorted(terms.files.items())
            ]
            record = ReleaseRecord(
                release_id,
                request_id,
                revision,
                decision.id,
                out_dir,
                tuple(files),
                released_at,
                actor,
            )
            _write(staging / "receipt.json", receipt_file_bytes(receipt))
            _write(
                staging / "release.json",
                json.dumps(
                    self._manifest(
                        record,
                        context,
                        disclosure,
                        decision.scope.to_json(),
                        decision.approved_until,
                    ),
                    indent=2,
                    ensure_ascii=False,
                ).encode("utf-8")
                + b"\n",
            )
            with self.library.engine.begin() as conn:
                conn.execute(
                    releases.insert().values(
                        id=release_id,
                        request_id=request_id,
                        revision=revision,
                        decision_id=decision.id,
                        out_dir=str(out_dir),
                        files=[f.to_json() for f in files],
                        released_at=released_at,
                        released_by=actor,
                    )
                )
                audit.append(
                    conn,
                    actor=actor,
                    action="release.written",
                    subject=f"request:{request_id}",
                    details={
                        "release_id": release_id,
                        "revision": revision,
                        "receipt_id": decision.id,
                        "out_dir": str(out_dir),
                        "files": [[f.path, f.original_sha256, f.released_sha256] for f in files],
                    },
                )
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if out_dir.exists():
            out_dir.rmdir()  # checked empty above
        os.replace(staging, out_dir)
        return record

    def _check_receipt(self, receipt_json: str, files: dict[str, str]) -> None:
        """The approval must stand on a receipt signed with the talent's registered key that
        names exactly these files; an edited database row does not make a use approved."""
        check = verify_receipt(receipt_json.encode("utf-8") + b"\n", library=self.library)
        receipt = check.receipt
        if not check.ok or receipt is None:
            raise ReleaseRefused(
                "the approval's receipt does not verify: " + "; ".join(check.problems)
            )
        if (
            getattr(receipt, "decision", None) is None
            or receipt.decision.verdict != "approved"  # type: ignore[union-attr]
            or {f.path: f.sha256 for f in receipt.request.files} != files
        ):
            raise ReleaseRefused("the approval's receipt does not match the stored decision")

    def _write_file(
        self, staging: Path, path: str, sha: str, role: str, disclosure: Disclosure
    ) -> ReleasedFile:
        rel = f"assets/{path}"
        target = staging.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self.library.objects.path_for(sha)
        if PurePosixPath(path).suffix.lower() in RENDER_SUFFIXES:
            data = source.read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise ReleaseRefused(f"the stored file {path} changed while it was released")
            try:
                marked, how = mark_image(data, disclosure)
            except DisclosureError as exc:
                raise ReleaseRefused(f"{path}: cannot carry the disclosure: {exc}") from None
            _write(target, marked)
            return ReleasedFile(rel, role, sha, hashlib.sha256(marked).hexdigest(), how)
        digest = hashlib.sha256()
        with open(source, "rb") as src, open(target, "wb") as out:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha:
            raise ReleaseRefused(f"the stored file {path} changed while it was released")
        return ReleasedFile(rel, role, sha, sha, None)

    @staticmethod
    def _manifest(
        record: ReleaseRecord,
        context: RequestContext,
        disclosure: Disclosure,
        scope: dict[str, Any],
        approved_until: dt.date | None,
    ) -> dict[str, Any]:
        return {
            "format": RELEASE_FORMAT,
            "release_id": record.id,
            "request_id": record.request_id,
            "revision": record.revision,
            "talent": {"id": context.talent_id, "name": context.talent_name},
            "receipt_id": record.receipt_id,
            "receipt_file": "receipt.json",
            "approved_scope": scope,
            "approved_until": approved_until.isoformat() if approved_until else None,
            "released_at": record.released_at,
            "released_by": record.released_by,
            "disclosure": disclosure.text,
            "files": [f.to_json() for f in record.files],
        }

    def releases(self, request_id: str, *, session: Session | None = None) -> list[ReleaseRecord]:
        """Every release of the request, oldest first."""
        require_on_request(
            self.library, session.actor if session else None, Action.READ_REQUEST, request_id
        )
        with self.library.reader.connect() as conn:
            rows = conn.execute(
                sa.select(releases)
                .where(releases.c.request_id == request_id)
                .order_by(releases.c.released_at, releases.c.id)
            ).all()
        return [release_record(row) for row in rows]


def release_record(row: sa.Row) -> ReleaseRecord:
    return ReleaseRecord(
        row.id,
        row.request_id,
        row.revision,
        row.decision_id,
        Path(row.out_dir),
        tuple(
            ReleasedFile(
                f["path"], f["role"], f["original_sha256"], f["released_sha256"], f["disclosure"]
            )
            for f in row.files
        ),
        row.released_at,
        row.released_by,
    )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
