"""What changed between two revisions of a request: its files, by content, and its terms.

A decision binds to exact bytes (design.md), so a revision is compared by hash: an asset whose
path is the same but whose bytes (or the bytes of a file it brings along, such as a texture)
differ is *changed*; the same bytes under another path are *moved*; everything else is
*added* or *removed*. The terms a talent weighs (channels, territories, dates, fee, brief and
the rest) are set side by side, each marked when it differs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from reviewer.domain.roles import Action, Actor
from reviewer.domain.scope import CHANNEL_LABELS
from reviewer.services.access import require_on_request
from reviewer.services.queries import AssetView, request_assets
from reviewer.services.refusals import NotFound
from reviewer.storage.library import Library
from reviewer.storage.schema import asset_files, revisions

AssetStatus = Literal["added", "removed", "changed", "moved", "unchanged"]


@dataclass(frozen=True, slots=True)
class AssetChange:
    """One asset across the two revisions; ``old`` or ``new`` is None when it is absent there."""

    status: AssetStatus
    old: AssetView | None
    new: AssetView | None
    detail: str = ""
    """What changed beyond the main file, e.g. "texture changed"."""

    @property
    def current(self) -> AssetView:
        """The newer side where there is one, else the older."""
        return self.new if self.new is not None else self.old  # type: ignore[return-value]

    @property
    def role(self) -> str:
        return self.current.role

    @property
    def path(self) -> str:
        return self.current.path

    @property
    def label(self) -> str:
        return self.current.label

    @property
    def comparable(self) -> bool:
        """A changed avatar or render: one click opens it in the comparison views."""
        return self.status == "changed" and self.role in ("avatar", "render")


@dataclass(frozen=True, slots=True)
class TermChange:
    """One term of the request in both revisions, as text a person reads."""

    name: str
    label: str
    old: str
    new: str
    added: tuple[str, ...] = ()
    """Items of a list term (channels, territories, categories) only in the newer revision."""
    removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class RevisionDiff:
    request_id: str
    old_revision: int
    new_revision: int
    assets: tuple[AssetChange, ...]
    terms: tuple[TermChange, ...]

    @property
    def changed_assets(self) -> tuple[AssetChange, ...]:
        return tuple(a for a in self.assets if a.status != "unchanged")

    @property
    def changed_terms(self) -> tuple[TermChange, ...]:
        return tuple(t for t in self.terms if t.changed)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for change in self.changed_assets:
            counts[change.status] = counts.get(change.status, 0) + 1
        files = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no file changed"
        terms = ", ".join(t.label.lower() for t in self.changed_terms) or "no term changed"
        return (
            f"{self.request_id}, revision {self.old_revision} → {self.new_revision}: "
            f"{files}; {terms}."
        )


def revision_numbers(library: Library, request_id: str) -> list[int]:
    """The revisions of *request_id* in the library, oldest first."""
    with library.reader.connect() as conn:
        rows = conn.execute(
            sa.select(revisions.c.revision)
            .where(revisions.c.request_id == request_id)
            .order_by(revisions.c.revision)
        ).scalars()
        return [int(r) for r in rows]


def revision_diff(
    library: Library,
    request_id: str,
    old_revision: int,
    new_revision: int,
    *,
    actor: Actor | None,
) -> RevisionDiff:
    """Compare two revisions of *request_id* as *actor* may see them (refused and audited
    otherwise; ``None`` is the library's local operator)."""
    require_on_request(library, actor, Action.READ_REQUEST, request_id)
    with library.reader.connect() as conn:
        rows = {
            row.revision: row
            for row in conn.execute(
                sa.select(revisions).where(
                    revisions.c.request_id == request_id,
                    revisions.c.revision.in_([old_revision, new_revision]),
                )
            )
        }
    for wanted in (old_revision, new_revision):
        if wanted not in rows:
            raise NotFound(f"request {request_id} has no revision {wanted}")
    old_assets = request_assets(library, request_id, old_revision)
    new_assets = request_assets(library, request_id, new_revision)
    companions = _companions(library, [a.id for a in (*old_assets, *new_assets)])
    return RevisionDiff(
        request_id=request_id,
        old_revision=old_revision,
        new_revision=new_revision,
        assets=tuple(_match_assets(old_assets, new_assets, companions)),
        terms=tuple(_terms(rows[old_revision], rows[new_revision])),
    )


def _companions(library: Library, asset_ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {i: {} for i in asset_ids}
    if not asset_ids:
        return out
    with library.reader.connect() as conn:
        for row in conn.execute(
            sa.select(asset_files.c.asset_id, asset_files.c.path, asset_files.c.sha256).where(
                asset_files.c.asset_id.in_(asset_ids)
            )
        ):
            out[row.asset_id][row.path] = row.sha256
    return out


def _match_assets(
    old: list[AssetView], new: list[AssetView], companions: dict[int, dict[str, str]]
) -> list[AssetChange]:
    changes: list[AssetChange] = []
    old_by_path = {a.path: a for a in old}
    matched_old: set[int] = set()
    unmatched_new: list[AssetView] = []
    for asset in new:
        before = old_by_path.get(asset.path)
        if before is None:
            unmatched_new.append(asset)
            continue
        matched_old.add(before.id)
        detail = _companion_detail(companions[before.id], companions[asset.id])
        same = before.sha256 == asset.sha256 and not detail
        changes.append(AssetChange("unchanged" if same else "changed", before, asset, detail))
    remaining_old = [a for a in old if a.id not in matched_old]
    for asset in unmatched_new:
        twin = next((a for a in remaining_old if a.sha256 == asset.sha256), None)
        if twin is not None:
            remaining_old.remove(twin)
            changes.append(AssetChange("moved", twin, asset, f"was {twin.path}"))
        else:
            changes.append(AssetChange("added", None, asset))
    changes.extend(AssetChange("removed", asset, None) for asset in remaining_old)
    order = {"changed": 0, "added": 1, "removed": 2, "moved": 3, "unchanged": 4}
    return sorted(changes, key=lambda c: (order[c.status], c.role, c.path))


def _companion_detail(old: dict[str, str], new: dict[str, str]) -> str:
    if old == new:
        return ""
    names = sorted(
        {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)},
        key=str.casefold,
    )
    return "companion files changed: " + ", ".join(names)


_LIST_TERMS = ("channels", "territories", "categories")


def _terms(old: sa.Row, new: sa.Row) -> list[TermChange]:
    rows: list[TermChange] = []
    for name, label, getter in _TERM_FIELDS:
        before, after = getter(old), getter(new)
        added: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
        if name in _LIST_TERMS:
            old_items, new_items = list(getattr(old, name)), list(getattr(new, name))
            added = tuple(_item(name, i) for i in new_items if i not in old_items)
            removed = tuple(_item(name, i) for i in old_items if i not in new_items)
        rows.append(TermChange(name, label, before, after, added, removed))
    return rows


def _item(name: str, value: str) -> str:
    return CHANNEL_LABELS.get(value, value) if name == "channels" else value


def _list(name: str) -> Any:
    return lambda row: ", ".join(_item(name, v) for v in getattr(row, name)) or "—"


def _date(value: dt.date) -> str:
    return value.isoformat()


_TERM_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("campaign", "Campaign", lambda r: r.campaign),
    ("brief", "Brief", lambda r: r.brief),
    ("requester", "Requested by", lambda r: f"{r.requester_name}, {r.requester_organisation}"),
    ("channels", "Channels", _list("channels")),
    ("territories", "Territories", _list("territories")),
    ("categories", "Categories", _list("categories")),
    ("start", "Start", lambda r: _date(r.start_date)),
    ("end", "End", lambda r: _date(r.end_date)),
    ("fee", "Fee", lambda r: f"{r.fee_amount} {r.fee_currency}"),
    ("voice", "Voice", lambda r: "yes" if r.voice else "no"),
    ("due", "Decision due", lambda r: _date(r.due_date)),
)

__all__ = [
    "AssetChange",
    "AssetStatus",
    "RevisionDiff",
    "TermChange",
    "revision_diff",
    "revision_numbers",
]
