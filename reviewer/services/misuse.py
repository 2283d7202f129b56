"""Checking an image found in the wild against the library: ``reviewer check-image``.

The closest renders (see assets/fingerprints.py for how they are found), and for each the
request, revision and talent it belongs to, that use's status today, and the verdict: is there
an approval that covers this image where and when it was seen? The JSON form of the result is
documented in docs/check-image.md; change both together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image

from reviewer.assets.fingerprints import (
    Alignment,
    FingerprintError,
    PreparedQuery,
    QueryPrint,
    align_coarse,
    align_fine,
    open_work_image,
    query_print,
)
from reviewer.domain.misuse import (
    VERDICT_PRECEDENCE,
    ApprovalFacts,
    Sighting,
    Verdict,
    no_match,
    overall,
    verdict_for,
)
from reviewer.domain.roles import Action, Actor, may
from reviewer.domain.status import RequestStatus, derive_status
from reviewer.services.consent_records import decision_in_force
from reviewer.services.fingerprints import load_index
from reviewer.services.profiles import Session
from reviewer.services.queries import assets_in_context, current_decisions
from reviewer.services.refusals import Refusal
from reviewer.storage.library import Library
from reviewer.storage.schema import assets, requests, revisions, talents

CHECK_FORMAT = "reviewer.image-check/1"

# Calibrated on the demo library and the corpus photographs (bench/misuse.py). An alignment
# score (-1..1) of a render and an image made from it by the transformations in the issue
# stays above 0.84; unrelated images, photographs of people included, stay below 0.45.
MATCH_MIN_SCORE = 0.65
SURE_SCORE = 0.97  # a score from here up is full confidence
# Renders that score within this of the best are as good as it: the same picture in two
# requests, or two renders the image cannot tell apart (a front and a back view of one outfit
# at the size of a thumbnail). They are the matches, and the verdict weighs them all; renders
# further below are merely alike (studio renders of one pose score 0.8-0.92 with each other).
NEAR_BEST = 0.02
CANDIDATES = 12  # renders placed coarsely after the hash search
# Only renders whose coarse placement correlates within this of the best one are placed
# finely and compared: the true render and its near twins have always come within 0.05
# (bench/misuse.py), nine in ten other candidates fall further behind.
COARSE_MARGIN = 0.08
MAX_HASH_DISTANCE = 64  # of 128 bits; unrelated images come to 37 or more, so this only trims
MAX_IMAGE_BYTES = 200 * 1024 * 1024


class ImageUnreadable(Refusal):
    """The found image cannot be read; ``str()`` names the file and the reason."""


@dataclass(frozen=True, slots=True)
class FoundImage:
    name: str
    sha256: str
    size: int
    width: int
    height: int
    media_type: str | None
    data: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "bytes": self.size,
            "width": self.width,
            "height": self.height,
            "media_type": self.media_type,
        }


@dataclass(frozen=True, slots=True)
class ImageMatch:
    """One use of a matching render: a request's revision that holds it."""

    rank: int
    request_id: str
    revision: int
    latest_revision: int
    talent_id: str
    talent_name: str
    organisation: str
    campaign: str
    asset_path: str
    asset_label: str
    asset_sha256: str
    status: RequestStatus
    verdict: Verdict
    distance: int
    alignment: Alignment
    confidence: float
    near_best: bool
    receipt_id: str | None = None

    @property
    def similarity(self) -> float:
        return self.alignment.score

    def to_json(self) -> dict[str, Any]:
        check = self.verdict.scope_check
        return {
            "rank": self.rank,
            "request": self.request_id,
            "revision": self.revision,
            "latest_revision": self.latest_revision,
            "talent": self.talent_id,
            "talent_name": self.talent_name,
            "organisation": self.organisation,
            "campaign": self.campaign,
            "asset": {
                "path": self.asset_path,
                "label": self.asset_label,
                "sha256": self.asset_sha256,
            },
            "status": self.status.value,
            "verdict": self.verdict.kind.value,
            "verdict_text": self.verdict.text,
            "scope_check": None if check is None else {
                "in_scope": check.in_scope,
                "problems": list(check.problems),
                "text": check.text,
            },
            "receipt_id": self.receipt_id,
            "distance": self.distance,
            "similarity": round(self.alignment.score, 4),
            "confidence": round(self.confidence, 2),
            "near_best": self.near_best,
            "placement": {
                "mirrored": self.alignment.mirrored,
                "render_inside_image": self.alignment.contains,
                "render_shown": round(self.alignment.coverage, 2),
                "render_box": [round(v, 4) for v in self.alignment.render_box],
            },
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    image: FoundImage
    sighting: Sighting
    verdict: Verdict
    matches: tuple[ImageMatch, ...]
    checked_at: str
    checked_today: dt.date
    fingerprints: int
    seconds: float

    @property
    def best(self) -> ImageMatch | None:
        return self.matches[0] if self.matches else None

    def visible_to(self, actor: Actor) -> CheckResult:
        """The result as *actor* may see it: only matches on requests they may read."""
        matches = tuple(
            m for m in self.matches
            if may(actor, Action.READ_REQUEST, talent_id=m.talent_id,
                   organisation=m.organisation)
        )
        if matches == self.matches:
            return self
        verdict = overall([m.verdict for m in matches]) if matches else no_match()
        return dataclasses.replace(self, matches=matches, verdict=verdict)

    def to_json(self) -> dict[str, Any]:
        check = self.verdict.scope_check
        return {
            "format": CHECK_FORMAT,
            "image": self.image.to_json(),
            "sighting": self.sighting.to_json(),
            "verdict": {
                "kind": self.verdict.kind.value,
                "text": self.verdict.text,
                "scope_check": None if check is None else check.text,
            },
            "matches": [m.to_json() for m in self.matches],
            "checked_at": self.checked_at,
            "today": self.checked_today.isoformat(),
            "library_renders": self.fingerprints,
            "seconds": round(self.seconds, 3),
        }


def read_found_image(path: Path) -> tuple[FoundImage, QueryPrint]:
    """Read and fingerprint the found image at *path*; :class:`ImageUnreadable` names it."""
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageUnreadable(f"{path}: is {size:,} bytes, over the limit of "
                                  f"{MAX_IMAGE_BYTES:,}")
        data = path.read_bytes()
    except IsADirectoryError:
        raise ImageUnreadable(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageUnreadable(f"{path}: {exc.strerror or exc}") from None
    return found_image_from_bytes(path.name, data)


def found_image_from_bytes(name: str, data: bytes) -> tuple[FoundImage, QueryPrint]:
    try:
        work = open_work_image(data)
    except FingerprintError as exc:
        raise ImageUnreadable(f"{name}: {exc}") from None
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
    except (OSError, ValueError):
        fmt = None
    media_type = Image.MIME.get(fmt) if fmt else None
    found = FoundImage(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        width=work.width,
        height=work.height,
        media_type=media_type,
        data=data,
    )
    return found, query_print(work)


class MisuseChecker:
    """``check`` an image against a library. Keeps the library's fingerprint index loaded."""

    def __init__(self, library: Library, *, clock: Callable[[], dt.datetime] | None = None
                 ) -> None:
        self.library = library
        self._clock = clock

    def check(
        self,
        image: Path | tuple[FoundImage, QueryPrint],
        *,
        sighting: Sighting | None = None,
        session: Session | None = None,
    ) -> CheckResult:
        """Find the renders *image* was made from and say what that use's status is.

        With *session*, only requests that profile may see are considered.
        """
        started = time.perf_counter()
        found, query = read_found_image(image) if isinstance(image, Path) else image
        sighting = sighting or Sighting()
        now = self._clock() if self._clock else dt.datetime.now(dt.UTC)
        today = now.date() if self._clock else dt.date.today()
        index = load_index(self.library)
        candidates = index.hashes.nearest(
            query.hash_array(), limit=CANDIDATES, max_distance=MAX_HASH_DISTANCE,
            variants=query.variant_array(),
        )
        thumbs = index.thumbnails(sha for sha, _ in candidates)
        prepared = PreparedQuery(query)
        coarse = {
            sha: (distance, placed)
            for sha, distance in candidates
            if (thumb := thumbs.get(sha)) is not None
            and (placed := align_coarse(thumb, prepared)) is not None
        }
        best_coarse = max((placed.ncc for _, placed in coarse.values()), default=0.0)
        aligned: list[tuple[str, int, Alignment]] = []
        for sha, (distance, placed) in coarse.items():
            if placed.ncc < best_coarse - COARSE_MARGIN:
                continue
            alignment = align_fine(thumbs[sha], prepared, placed)
            if alignment is not None and alignment.score >= MATCH_MIN_SCORE:
                aligned.append((sha, distance, alignment))
        aligned.sort(key=lambda item: (-round(item[2].score, 4), item[1], item[0]))
        matches = [m for m in self._describe(aligned, sighting, today, session) if m.near_best]
        verdict = overall([m.verdict for m in matches]) if matches else no_match()
        return CheckResult(
            image=found,
            sighting=sighting,
            verdict=verdict,
            matches=tuple(matches),
            checked_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            checked_today=today,
            fingerprints=len(index),
            seconds=time.perf_counter() - started,
        )

    def _describe(
        self,
        aligned: list[tuple[str, int, Alignment]],
        sighting: Sighting,
        today: dt.date,
        session: Session | None,
    ) -> list[ImageMatch]:
        if not aligned:
            return []
        with self.library.reader.connect() as conn:
            uses = conn.execute(
                assets_in_context(
                    assets.c.sha256,
                    assets.c.request_id,
                    assets.c.revision,
                    assets.c.path,
                    assets.c.label,
                    requests.c.latest_revision,
                    requests.c.talent_id,
                    talents.c.display_name,
                    revisions.c.requester_organisation,
                    revisions.c.campaign,
                )
                .where(
                    assets.c.role == "render",
                    assets.c.sha256.in_([sha for sha, _, _ in aligned]),
                )
                .order_by(assets.c.request_id, assets.c.revision.desc(), assets.c.position)
            ).all()
            # One use per request: the newest revision holding the render.
            by_sha: dict[str, list[sa.Row]] = {}
            seen: set[tuple[str, str]] = set()
            for row in uses:
                if session is not None and not may(
                    session.actor,
                    Action.READ_REQUEST,
                    talent_id=row.talent_id,
                    organisation=row.requester_organisation,
                ):
                    continue
                if (row.sha256, row.request_id) in seen:
                    continue
                seen.add((row.sha256, row.request_id))
                by_sha.setdefault(row.sha256, []).append(row)
            states = current_decisions(conn, sorted({r.request_id for r in uses}))
            matches: list[ImageMatch] = []
            best_score: float | None = None
            for sha, distance, alignment in aligned:
                for row in by_sha.get(sha, []):
                    if best_score is None:
                        best_score = alignment.score
                    decision = decision_in_force(conn, row.request_id, row.revision)
                    if row.revision == row.latest_revision:
                        status = derive_status(states.get(row.request_id), today)
                    else:
                        status = derive_status(decision.state if decision else None, today)
                    facts = ApprovalFacts(
                        status=status,
                        scope=decision.scope if decision else None,
                        approved_until=decision.approved_until if decision else None,
                        revoked_on=_date_of(decision.revoked_at) if decision else None,
                    )
                    verdict = verdict_for(row.request_id, facts, sighting, today=today)
                    matches.append(ImageMatch(
                        rank=len(matches) + 1,
                        request_id=row.request_id,
                        revision=row.revision,
                        latest_revision=row.latest_revision,
                        talent_id=row.talent_id,
                        talent_name=row.display_name,
                        organisation=row.requester_organisation,
                        campaign=row.campaign,
                        asset_path=row.path,
                        asset_label=row.label,
                        asset_sha256=sha,
                        status=status,
                        verdict=verdict,
                        distance=distance,
                        alignment=alignment,
                        confidence=confidence(alignment.score),
                        near_best=alignment.score >= best_score - NEAR_BEST,
                        receipt_id=decision.id if decision else None,
                    ))
        # Uses of one render (or of renders equally alike) in the order of VERDICT_PRECEDENCE.
        matches.sort(key=lambda m: (-round(m.similarity, 4),
                                    VERDICT_PRECEDENCE.index(m.verdict.kind), m.distance))
        return [dataclasses.replace(m, rank=rank) for rank, m in enumerate(matches, 1)]


def confidence(score: float) -> float:
    """0..1: how sure a match is, from its alignment score (0 at the match threshold, 1 at
    :data:`SURE_SCORE` and above)."""
    return max(0.0, min(1.0, (score - MATCH_MIN_SCORE) / (SURE_SCORE - MATCH_MIN_SCORE)))


def _date_of(timestamp: str | None) -> dt.date | None:
    return dt.date.fromisoformat(timestamp[:10]) if timestamp else None
