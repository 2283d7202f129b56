"""Misuse flags: an image seen in the wild, recorded with its evidence, match and sighting.

Agents (for the talents they represent) and talents (for themselves) flag; the flag stores
the found image by content hash in the object store, the sighting, notes, a severity, the
best match and the verdict at the time, and the whole check result. Its status moves open →
sent to brand → answered (by a director of the matched request's organisation, who can do
nothing else) → resolved or dismissed, and back to open; every change is kept with who made
it and why, and audited. Nothing deletes a flag. A refused action changes nothing except the
audit entry that records the refusal.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from reviewer.assets.fingerprints import QueryPrint
from reviewer.domain.misuse import (
    MAX_NOTES,
    FlagStatus,
    MisuseInputError,
    Severity,
    Sighting,
    change_refusal,
    flag_refusal,
    may_see_flag,
    transition_problem,
)
from reviewer.domain.roles import Actor, Role
from reviewer.services.misuse import CheckResult, FoundImage, MisuseChecker, read_found_image
from reviewer.services.profiles import Session
from reviewer.services.refusals import NotFound, PermissionRefused, Refusal
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import flag_events, flags, talents

LOCAL_ACTOR = "(local)"


class FlagRefused(Refusal):
    """The flag or the change was refused (bad input, not allowed from this status)."""


@dataclass(frozen=True, slots=True)
class FlagEvent:
    seq: int
    at: str
    actor: str
    role: str
    from_status: FlagStatus | None
    to_status: FlagStatus
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "role": self.role,
            "from": self.from_status.value if self.from_status else None,
            "to": self.to_status.value,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class FlagRecord:
    id: int
    talent_id: str
    organisation: str | None
    status: FlagStatus
    severity: Severity
    evidence_sha256: str
    evidence_name: str
    evidence_media_type: str | None
    evidence_width: int | None
    evidence_height: int | None
    sighting: Sighting
    notes: str | None
    verdict: str
    verdict_text: str
    scope_check: str | None
    request_id: str | None
    revision: int | None
    asset_sha256: str | None
    asset_path: str | None
    distance: int | None
    similarity: str | None
    confidence: str | None
    check: dict[str, Any]
    created_at: str
    created_by: str
    updated_at: str
    history: tuple[FlagEvent, ...] = ()

    @property
    def subject(self) -> str:
        return f"flag:{self.id}"

    def to_json(self, *, with_check: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "severity": self.severity.value,
            "talent": self.talent_id,
            "organisation": self.organisation,
            "evidence": {
                "sha256": self.evidence_sha256,
                "name": self.evidence_name,
                "media_type": self.evidence_media_type,
                "width": self.evidence_width,
                "height": self.evidence_height,
            },
            "sighting": self.sighting.to_json(),
            "notes": self.notes,
            "verdict": self.verdict,
            "verdict_text": self.verdict_text,
            "scope_check": self.scope_check,
            "match": None if self.request_id is None else {
                "request": self.request_id,
                "revision": self.revision,
                "asset_path": self.asset_path,
                "asset_sha256": self.asset_sha256,
                "distance": self.distance,
                "similarity": self.similarity,
                "confidence": self.confidence,
            },
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "history": [e.to_json() for e in self.history],
        }
        if with_check:
            out["check"] = self.check
        return out

    def summary(self) -> str:
        match = (
            f"matches {self.request_id} revision {self.revision}"
            if self.request_id
            else "matches no render in the library"
        )
        return (
            f"flag {self.id} [{self.status.label}, {self.severity.value}] {self.talent_id}: "
            f"{self.verdict_text} ({match}); {self.sighting.describe()}"
        )


class FlagService:
    def __init__(self, library: Library, *, clock: Callable[[], dt.datetime] | None = None
                 ) -> None:
        self.library = library
        self._clock = clock

    # Flagging -------------------------------------------------------------------------------

    def flag(
        self,
        session: Session,
        image: Path | tuple[FoundImage, QueryPrint],
        *,
        sighting: Sighting | None = None,
        notes: str | None = None,
        severity: Severity | str | None = None,
        talent_id: str | None = None,
    ) -> FlagRecord:
        """Check *image* (a file, or one read already: :func:`read_found_image`,
        :func:`found_image_from_bytes`), then record the flag with its evidence in one
        transaction."""
        actor = session.actor
        notes = _clean_notes(notes)
        try:
            severity = Severity(severity) if severity else None
        except ValueError:
            raise FlagRefused(
                f"severity {severity!r} is not one of {', '.join(s.value for s in Severity)}"
            ) from None
        found_and_query = read_found_image(image) if isinstance(image, Path) else image
        # Whose likeness the image shows is decided on every match; the flag then keeps only
        # what the flagger may see.
        full = MisuseChecker(self.library, clock=self._clock).check(
            found_and_query, sighting=sighting
        )
        talent = self._talent_for(actor, full, talent_id)
        reason = flag_refusal(actor, talent_id=talent)
        if reason is not None:
            self._audit_refusal(actor.name, f"talent:{talent}", "flag", reason)
            raise PermissionRefused(reason)
        check = full.visible_to(actor)
        best = check.best if check.best is not None and check.best.talent_id == talent else None
        found = check.image
        now = self._now()
        with self.library.write_lock():
            added = found.sha256 not in self.library.objects
            if added:
                self._put_evidence(found.data, found.sha256)
            try:
                with self.library.engine.begin() as conn:
                    if conn.execute(sa.select(talents.c.id).where(talents.c.id == talent)
                                    ).first() is None:
                        raise NotFound(f"no talent {talent!r} in this library")
                    verdict = check.verdict
                    flag_id = conn.execute(flags.insert().values(
                        talent_id=talent,
                        organisation=best.organisation if best else None,
                        status=FlagStatus.OPEN.value,
                        severity=(severity or check.verdict.kind.default_severity).value,
                        evidence_sha256=found.sha256,
                        evidence_name=found.name[:255],
                        evidence_media_type=found.media_type,
                        evidence_width=found.width,
                        evidence_height=found.height,
                        seen_at=check.sighting.seen_at,
                        seen_on=check.sighting.seen_on,
                        channel=check.sighting.channel,
                        territory=check.sighting.territory,
                        notes=notes,
                        verdict=verdict.kind.value,
                        verdict_text=verdict.text,
                        scope_check=verdict.scope_check.text if verdict.scope_check else None,
                        request_id=best.request_id if best else None,
                        revision=best.revision if best else None,
                        asset_sha256=best.asset_sha256 if best else None,
                        asset_path=best.asset_path if best else None,
                        distance=best.distance if best else None,
                        similarity=f"{best.similarity:.3f}" if best else None,
                        confidence=f"{best.confidence:.2f}" if best else None,
                        check_json=json.dumps(check.to_json(), ensure_ascii=False,
                                              sort_keys=True),
                        created_at=now,
                        created_by=actor.name,
                        updated_at=now,
                    )).inserted_primary_key[0]
                    self._event(conn, flag_id, 1, at=now, actor=actor, from_status=None,
                                to_status=FlagStatus.OPEN, note=notes)
                    audit.append(conn, actor=actor.name, action="flag.created",
                                 subject=f"flag:{flag_id}", at=now, details={
                                     "talent": talent,
                                     "evidence_sha256": found.sha256,
                                     "evidence_name": found.name,
                                     "sighting": check.sighting.to_json(),
                                     "verdict": verdict.kind.value,
                                     "request": best.request_id if best else None,
                                     "revision": best.revision if best else None,
                                     "asset_sha256": best.asset_sha256 if best else None,
                                     "similarity": f"{best.similarity:.3f}" if best else None,
                                 })
            except BaseException:
                if added:
                    self.library.objects.remove(found.sha256)
                raise
        return self.get(int(flag_id), session=session)

    def _talent_for(self, actor: Actor, check: CheckResult, talent_id: str | None) -> str:
        matched = check.best.talent_id if check.best else None
        if talent_id is not None:
            if matched is not None and matched != talent_id:
                raise FlagRefused(
                    f"the image matches {check.best.request_id} of talent {matched}, "  # type: ignore[union-attr]
                    f"not {talent_id}"
                )
            return talent_id
        if matched is not None:
            return matched
        if actor.role is Role.TALENT and actor.talent_id:
            return actor.talent_id
        if actor.role is Role.AGENT and len(actor.represents) == 1:
            return actor.represents[0]
        raise FlagRefused(
            f"{check.image.name} matches no render you may see; say whose likeness it shows "
            "(--talent ID)"
        )

    def _put_evidence(self, data: bytes, sha256: str) -> None:
        import tempfile

        # In staging/, which the next opening of the library clears if this process dies.
        staging = self.library.root / "staging"
        staging.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=staging, prefix="evidence-",
                                         delete=False) as handle:
            handle.write(data)
            tmp = Path(handle.name)
        try:
            self.library.objects.put_file(tmp, expected_sha256=sha256)
        finally:
            tmp.unlink(missing_ok=True)

    # Reading ------------------------------------------------------------------------------

    def list(
        self, *, session: Session | None = None, status: FlagStatus | None = None
    ) -> list[FlagRecord]:
        """Flags, newest first; with *session*, only those that profile may see."""
        query = sa.select(flags).order_by(flags.c.id.desc())
        if status is not None:
            query = query.where(flags.c.status == status.value)
        with self.library.reader.connect() as conn:
            rows = conn.execute(query).all()
            out = []
            for row in rows:
                if session is not None and not may_see_flag(
                    session.actor, talent_id=row.talent_id, organisation=row.organisation
                ):
                    continue
                out.append(_record(row, _events(conn, row.id)))
        return out

    def get(self, flag_id: int, *, session: Session | None = None) -> FlagRecord:
        with self.library.reader.connect() as conn:
            row = conn.execute(sa.select(flags).where(flags.c.id == flag_id)).first()
            if row is None:
                raise NotFound(f"no flag {flag_id} in this library")
            record = _record(row, _events(conn, flag_id))
        if session is not None and not may_see_flag(
            session.actor, talent_id=record.talent_id, organisation=record.organisation
        ):
            reason = f"{session.actor.describe()} may not see flag {flag_id}"
            self._audit_refusal(session.name, record.subject, "flag.read", reason)
            raise PermissionRefused(reason)
        return record

    # Status -------------------------------------------------------------------------------

    def change_status(
        self, session: Session, flag_id: int, status: FlagStatus | str, *, note: str | None = None
    ) -> FlagRecord:
        """Move the flag to *status* (see domain/misuse.py for who may do what)."""
        actor = session.actor
        try:
            target = FlagStatus(status)
        except ValueError:
            raise FlagRefused(
                f"{status!r} is not a flag status ({', '.join(s.value for s in FlagStatus)})"
            ) from None
        note = _clean_notes(note)
        now = self._now()
        refused: Refusal | None = None
        with self.library.engine.begin() as conn:
            row = conn.execute(sa.select(flags).where(flags.c.id == flag_id)).first()
            if row is None:
                raise NotFound(f"no flag {flag_id} in this library")
            current = FlagStatus(row.status)
            who = change_refusal(
                actor, target, talent_id=row.talent_id, organisation=row.organisation
            )
            state = transition_problem(actor.role, current, target) if who is None else None
            if who is not None:
                refused = PermissionRefused(who)
            elif state is not None:
                refused = FlagRefused(state)
            else:
                seq = len(_events(conn, flag_id)) + 1
                conn.execute(flags.update().where(flags.c.id == flag_id).values(
                    status=target.value, updated_at=now))
                self._event(conn, flag_id, seq, at=now, actor=actor, from_status=current,
                            to_status=target, note=note)
                audit.append(conn, actor=actor.name, action="flag.status_changed",
                             subject=f"flag:{flag_id}", at=now, details={
                                 "from": current.value, "to": target.value, "note": note,
                                 "role": actor.role.value,
                             })
        if refused is not None:
            self._audit_refusal(actor.name, f"flag:{flag_id}", f"flag.status:{target.value}",
                                str(refused))
            raise refused
        return self.get(flag_id, session=session)

    # Helpers ------------------------------------------------------------------------------

    @staticmethod
    def _event(conn: sa.Connection, flag_id: int, seq: int, *, at: str, actor: Actor,
               from_status: FlagStatus | None, to_status: FlagStatus, note: str | None) -> None:
        conn.execute(flag_events.insert().values(
            flag_id=flag_id, seq=seq, at=at, actor=actor.name, role=actor.role.value,
            from_status=from_status.value if from_status else None, to_status=to_status.value,
            note=note,
        ))

    def _audit_refusal(self, actor: str, subject: str, attempted: str, reason: str) -> None:
        with self.library.engine.begin() as conn:
            audit.append(conn, actor=actor, action="permission.refused", subject=subject,
                         details={"attempted": attempted, "reason": reason})

    def _now(self) -> str:
        moment = self._clock() if self._clock else dt.datetime.now(dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean_notes(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > MAX_NOTES:
        raise FlagRefused(f"notes are at most {MAX_NOTES} characters")
    return text or None


def _events(conn: sa.Connection, flag_id: int) -> tuple[FlagEvent, ...]:
    rows = conn.execute(
        sa.select(flag_events).where(flag_events.c.flag_id == flag_id).order_by(flag_events.c.seq)
    ).all()
    return tuple(
        FlagEvent(
            r.seq, r.at, r.actor, r.role,
            FlagStatus(r.from_status) if r.from_status else None,
            FlagStatus(r.to_status), r.note,
        )
        for r in rows
    )


def _record(row: sa.Row, history: tuple[FlagEvent, ...]) -> FlagRecord:
    return FlagRecord(
        id=row.id,
        talent_id=row.talent_id,
        organisation=row.organisation,
        status=FlagStatus(row.status),
        severity=Severity(row.severity),
        evidence_sha256=row.evidence_sha256,
        evidence_name=row.evidence_name,
        evidence_media_type=row.evidence_media_type,
        evidence_width=row.evidence_width,
        evidence_height=row.evidence_height,
        sighting=Sighting(row.seen_at, row.seen_on, row.channel, row.territory),
        notes=row.notes,
        verdict=row.verdict,
        verdict_text=row.verdict_text,
        scope_check=row.scope_check,
        request_id=row.request_id,
        revision=row.revision,
        asset_sha256=row.asset_sha256,
        asset_path=row.asset_path,
        distance=row.distance,
        similarity=row.similarity,
        confidence=row.confidence,
        check=json.loads(row.check_json),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        history=history,
    )


def check_sighting_input(**fields: Any) -> Sighting:
    """A :class:`Sighting` from user input; bad input raises :class:`FlagRefused`."""
    try:
        return Sighting.checked(**fields)
    except MisuseInputError as exc:
        raise FlagRefused(str(exc)) from None
