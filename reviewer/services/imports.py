"""Importing request packages into a library: all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa

from reviewer.assets.package import CheckedPackage, ImportLimits, PackageError, open_package
from reviewer.services.avatars import store_package_avatars
from reviewer.services.fingerprints import fingerprint_package, store_fingerprints
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import asset_files, assets, requests, revisions, talents


class ImportOutcome(StrEnum):
    IMPORTED = "imported"
    NEW_REVISION = "new revision"
    ALREADY_IMPORTED = "already imported"


@dataclass(frozen=True, slots=True)
class ImportResult:
    package: str
    request_id: str
    revision: int
    outcome: ImportOutcome
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.outcome is ImportOutcome.ALREADY_IMPORTED:
            return f"{self.package}: {self.request_id} already imported (revision {self.revision})"
        return f"{self.package}: {self.outcome.value} {self.request_id} revision {self.revision}"


class ImportService:
    def __init__(self, library: Library, limits: ImportLimits | None = None) -> None:
        self.library = library
        self.limits = limits or ImportLimits.from_environment()

    def import_package(self, path: Path, *, actor: str = "importer") -> ImportResult:
        """Check the package completely, then store it in one transaction.

        Raises :class:`PackageError` and leaves the library untouched when anything is wrong.
        """
        with open_package(path, self.limits) as package:
            return self.store(package, actor=actor)

    def store(self, package: CheckedPackage, *, actor: str = "importer") -> ImportResult:
        """Store a package already checked by :func:`open_package` (still open)."""
        # Importers queue on the library's write lock; the database transaction itself stays
        # short (rows only), so the app keeps reading while large files are copied in.
        with self.library.write_lock():
            with self.library.reader.connect() as conn:
                existing = self._existing(conn, package)
            if existing is not None and existing.latest_digest == package.content_digest:
                return ImportResult(package.name, package.manifest.id, existing.latest_revision,
                                    ImportOutcome.ALREADY_IMPORTED, package.warnings)
            # Fingerprints (for check-image) are computed here, outside the transaction, and
            # written with the rows.
            prints = fingerprint_package(package)
            # Objects first, rows after: if the process dies in between, the objects are
            # unreferenced and the next open of the library removes them; if the rows fail,
            # the objects this import added are removed at once.
            added: list[str] = []
            try:
                for asset in package.assets:
                    for file in (asset.file, *asset.companions):
                        if file.sha256 not in self.library.objects:
                            self.library.objects.put_file(file.local, expected_sha256=file.sha256)
                            added.append(file.sha256)
                with self.library.engine.begin() as conn:
                    result = self._insert_rows(conn, package, existing, actor)
                    store_fingerprints(conn, prints)
            except BaseException:
                for sha in added:
                    self.library.objects.remove(sha)
                raise
        # Outside the lock: the request is imported; this only makes its avatars quick to open.
        store_package_avatars(self.library, package)
        return result

    @staticmethod
    def _existing(conn: sa.Connection, package: CheckedPackage) -> sa.Row | None:
        manifest = package.manifest
        existing = conn.execute(
            sa.select(requests.c.talent_id, requests.c.latest_revision,
                      revisions.c.content_digest.label("latest_digest"))
            .join(revisions, sa.and_(revisions.c.request_id == requests.c.id,
                                     revisions.c.revision == requests.c.latest_revision))
            .where(requests.c.id == manifest.id)
        ).first()
        if existing is not None and existing.talent_id != manifest.talent:
            raise PackageError(
                package.name,
                f"request {manifest.id} belongs to talent {existing.talent_id}, "
                f"not {manifest.talent}",
                "request.json",
            )
        return existing

    def _insert_rows(
        self, conn: sa.Connection, package: CheckedPackage, existing: sa.Row | None, actor: str
    ) -> ImportResult:
        manifest = package.manifest
        digest = package.content_digest
        now = audit.utc_now()
        if conn.execute(sa.select(talents.c.id).where(talents.c.id == manifest.talent)
                        ).first() is None:
            conn.execute(talents.insert().values(
                id=manifest.talent, display_name=manifest.talent, created_at=now))
            audit.append(conn, actor=actor, action="talent.registered",
                         subject=f"talent:{manifest.talent}", at=now,
                         details={"display_name": manifest.talent})
        revision = 1 if existing is None else existing.latest_revision + 1
        if existing is None:
            conn.execute(requests.insert().values(
                id=manifest.id, talent_id=manifest.talent, latest_revision=revision,
                created_at=now))
        else:
            conn.execute(requests.update().where(requests.c.id == manifest.id).values(
                latest_revision=revision))
        use = manifest.use
        conn.execute(revisions.insert().values(
            request_id=manifest.id, revision=revision, content_digest=digest,
            manifest_sha256=package.manifest_sha256,
            manifest_json=manifest.model_dump_json(),
            campaign=manifest.campaign, brief=manifest.brief,
            requester_name=manifest.requester.name,
            requester_organisation=manifest.requester.organisation,
            requester_email=manifest.requester.email,
            channels=[c.value for c in use.channels], territories=list(use.territories),
            categories=list(use.categories), voice=use.voice,
            start_date=use.start, end_date=use.end,
            fee_amount=str(manifest.fee.amount), fee_currency=manifest.fee.currency,
            due_date=manifest.due, imported_at=now, source_name=package.name,
        ))
        for position, asset in enumerate(package.assets):
            asset_id = conn.execute(assets.insert().values(
                request_id=manifest.id, revision=revision, position=position,
                path=asset.entry.path, role=asset.entry.role.value, label=asset.entry.label,
                sha256=asset.file.sha256, size=asset.file.size, media_type=asset.media_type,
                texture_path=asset.entry.texture, triangles=asset.triangles,
                width=asset.width, height=asset.height,
            )).inserted_primary_key[0]
            for comp in asset.companions:
                conn.execute(asset_files.insert().values(
                    asset_id=asset_id, path=comp.path, sha256=comp.sha256, size=comp.size))
        outcome = ImportOutcome.IMPORTED if existing is None else ImportOutcome.NEW_REVISION
        audit.append(conn, actor=actor, action="request.imported",
                     subject=f"request:{manifest.id}", at=now, details={
                         "revision": revision, "content_digest": digest,
                         "package": package.name, "outcome": outcome.value,
                         "assets": [[a.file.path, a.file.sha256] for a in package.assets],
                     })
        return ImportResult(package.name, manifest.id, revision, outcome, package.warnings)


def import_many(library: Library, paths: list[Path], *, actor: str = "importer") -> list[str]:
    """Import each package on its own; one line per package ("refused …" for a refusal)."""
    service = ImportService(library)
    lines = []
    for path in paths:
        try:
            lines.append(service.import_package(path, actor=actor).summary())
        except PackageError as exc:
            lines.append(f"refused {exc}")
    return lines
