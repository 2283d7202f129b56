"""Read-only views of the library for lists, the queue and details."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from reviewer.domain.status import DecisionState, RequestStatus, Verdict, derive_status
from reviewer.storage.library import Library, lay_out_files
from reviewer.storage.schema import asset_files, assets, decisions, requests, revisions, talents


@dataclass(frozen=True, slots=True)
class RequestSummary:
    id: str
    revision: int
    talent_id: str
    talent_name: str
    campaign: str
    requester: str
    organisation: str
    status: RequestStatus
    channels_json: str  # kept as stored and decoded on use: a 100,000-row queue never needs it
    territories_json: str
    start: dt.date
    end: dt.date
    fee_text: str
    fee_currency: str
    due: dt.date
    asset_count: int
    approved_until: dt.date | None = None
    first_render: str | None = None  # SHA-256 of the request's first render, for thumbnails

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(json.loads(self.channels_json))

    @property
    def territories(self) -> tuple[str, ...]:
        return tuple(json.loads(self.territories_json))

    @property
    def fee_amount(self) -> Decimal:
        return Decimal(self.fee_text)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "revision": self.revision,
            "talent": self.talent_id,
            "campaign": self.campaign,
            "status": self.status.value,
            "channels": list(self.channels),
            "territories": list(self.territories),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "fee": {"amount": str(self.fee_amount), "currency": self.fee_currency},
            "due": self.due.isoformat(),
            "asset_count": self.asset_count,
        }


@dataclass(frozen=True, slots=True)
class AssetView:
    id: int
    path: str
    role: str
    label: str
    sha256: str
    size: int
    media_type: str
    texture_path: str | None
    triangles: int | None
    width: int | None
    height: int | None

    @classmethod
    def from_row(cls, row: sa.Row) -> AssetView:
        """From a row holding the columns of ``assets``."""
        return cls(row.id, row.path, row.role, row.label, row.sha256, row.size,
                   row.media_type, row.texture_path, row.triangles, row.width, row.height)


def assets_in_context(*columns: object) -> sa.Select:  # type: ignore[type-arg]
    """SELECT *columns* from assets joined to their request, its talent and the revision
    that holds each asset (so its campaign and requester are that revision's)."""
    return (
        sa.select(*columns)  # type: ignore[call-overload]
        .select_from(assets)
        .join(requests, requests.c.id == assets.c.request_id)
        .join(talents, talents.c.id == requests.c.talent_id)
        .join(
            revisions,
            sa.and_(
                revisions.c.request_id == assets.c.request_id,
                revisions.c.revision == assets.c.revision,
            ),
        )
    )


def current_decisions(
    conn: sa.Connection, request_ids: list[str] | None = None
) -> dict[str, DecisionState]:
    """The decision in force on each request's latest revision (the newest one recorded)."""
    newest = sa.select(
        decisions.c.request_id,
        decisions.c.verdict,
        decisions.c.approved_until,
        decisions.c.revoked_at,
        sa.func.row_number()
        .over(partition_by=decisions.c.request_id, order_by=decisions.c.seq.desc())
        .label("rank"),
    ).join(
        requests,
        sa.and_(
            requests.c.id == decisions.c.request_id,
            requests.c.latest_revision == decisions.c.revision,
        ),
    )
    if request_ids is not None:
        newest = newest.where(decisions.c.request_id.in_(request_ids))
    sub = newest.subquery()
    rows = conn.execute(sa.select(sub).where(sub.c.rank == 1))
    return {
        row.request_id: DecisionState(
            Verdict(row.verdict), row.approved_until, row.revoked_at is not None
        )
        for row in rows
    }


def list_requests(
    library: Library,
    *,
    status: RequestStatus | None = None,
    talent_ids: list[str] | None = None,
    organisation: str | None = None,
    today: dt.date | None = None,
) -> list[RequestSummary]:
    """Every request at its latest revision, newest due date last, optionally filtered."""
    today = today or dt.date.today()
    # Per-revision asset figures in one grouped pass, not a subquery per row.
    counts = (
        sa.select(assets.c.request_id, assets.c.revision,
                  sa.func.count().label("asset_count"))
        .group_by(assets.c.request_id, assets.c.revision)
        .subquery()
    )
    ranked = (
        sa.select(assets.c.request_id, assets.c.revision, assets.c.sha256,
                  sa.func.row_number().over(
                      partition_by=(assets.c.request_id, assets.c.revision),
                      order_by=assets.c.position).label("rank"))
        .where(assets.c.role == "render")
        .subquery()
    )
    first = sa.select(ranked).where(ranked.c.rank == 1).subquery()
    raw = sa.Text  # JSON columns read as stored text; decoded only when asked for
    query = (
        sa.select(
            requests.c.id, requests.c.talent_id, talents.c.display_name,
            revisions.c.revision, revisions.c.campaign, revisions.c.requester_name,
            revisions.c.requester_organisation,
            sa.type_coerce(revisions.c.channels, raw).label("channels"),
            sa.type_coerce(revisions.c.territories, raw).label("territories"),
            revisions.c.start_date, revisions.c.end_date, revisions.c.fee_amount,
            revisions.c.fee_currency, revisions.c.due_date,
            sa.func.coalesce(counts.c.asset_count, 0).label("asset_count"),
            first.c.sha256.label("first_render"),
        )
        .join(talents, talents.c.id == requests.c.talent_id)
        .join(revisions, sa.and_(revisions.c.request_id == requests.c.id,
                                 revisions.c.revision == requests.c.latest_revision))
        .outerjoin(counts, sa.and_(counts.c.request_id == revisions.c.request_id,
                                   counts.c.revision == revisions.c.revision))
        .outerjoin(first, sa.and_(first.c.request_id == revisions.c.request_id,
                                  first.c.revision == revisions.c.revision))
        .order_by(revisions.c.due_date, requests.c.id)
    )
    if talent_ids is not None:
        query = query.where(requests.c.talent_id.in_(talent_ids))
    if organisation is not None:
        query = query.where(revisions.c.requester_organisation == organisation)
    with library.reader.connect() as conn:
        rows = conn.execute(query).all()
        states = current_decisions(conn)
    out = []
    for row in rows:
        state = states.get(row.id)
        summary = RequestSummary(
            id=row.id,
            revision=row.revision,
            talent_id=row.talent_id,
            talent_name=row.display_name,
            campaign=row.campaign,
            requester=row.requester_name,
            organisation=row.requester_organisation,
            status=derive_status(state, today),
            channels_json=row.channels,
            territories_json=row.territories,
            start=row.start_date,
            end=row.end_date,
            fee_text=row.fee_amount,
            fee_currency=row.fee_currency,
            due=row.due_date,
            asset_count=row.asset_count,
            first_render=row.first_render,
            approved_until=state.approved_until if state else None,
        )
        if status is None or summary.status is status:
            out.append(summary)
    return out


def request_assets(
    library: Library, request_id: str, revision: int | None = None
) -> list[AssetView]:
    with library.reader.connect() as conn:
        if revision is None:
            revision = conn.execute(
                sa.select(requests.c.latest_revision).where(requests.c.id == request_id)
            ).scalar_one()
        rows = conn.execute(
            sa.select(assets)
            .where(assets.c.request_id == request_id, assets.c.revision == revision)
            .order_by(assets.c.position)
        ).all()
    return [AssetView.from_row(r) for r in rows]


def asset_local_path(library: Library, asset: AssetView) -> Path:
    """A path from which *asset* can be opened, its companion files beside it as packaged.

    Renders are read straight from the object store; avatars are laid out under their own
    file names, because mesh readers go by the suffix and look for MTL files and maps.
    """
    if asset.role == "render":
        return library.objects.path_for(asset.sha256)
    return laid_out_avatar(library, asset).path


def texture_local_path(library: Library, asset: AssetView) -> Path | None:
    """The image an untextured avatar format names as its texture, laid out beside it."""
    if asset.texture_path is None:
        return None
    return laid_out_avatar(library, asset).texture


@dataclass(frozen=True, slots=True)
class LaidOutAvatar:
    """An avatar asset laid out with its companions (see :func:`laid_out_avatar`)."""

    path: Path
    texture: Path | None
    """The image an untextured format names as its texture, beside it (None: none named)."""
    files: dict[str, str]
    """Package path → SHA-256 of every file it is made of (:func:`asset_file_digests`)."""


def laid_out_avatar(library: Library, asset: AssetView) -> LaidOutAvatar:
    """Where the avatar *asset* can be opened from, with its companions and texture beside it
    as packaged (mesh readers go by the suffix and look for MTL files and maps there), and
    the files it is made of: one query and one layout for all three."""
    files = asset_file_digests(library, asset)
    folder = lay_out_files(library, files)
    texture = None if asset.texture_path is None else folder / asset.texture_path
    return LaidOutAvatar(folder / asset.path, texture, files)


def asset_file_digests(library: Library, asset: AssetView) -> dict[str, str]:
    """Package path → SHA-256 of every file *asset* is made of: itself and its companions
    (an OBJ's MTL and maps, a glTF's buffers, the texture named for it)."""
    with library.reader.connect() as conn:
        companions = dict(
            conn.execute(
                sa.select(asset_files.c.path, asset_files.c.sha256).where(
                    asset_files.c.asset_id == asset.id
                )
            ).all()
        )
    return {asset.path: asset.sha256, **companions}

