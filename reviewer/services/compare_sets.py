"""What may be compared, and the comparison being built: a small Qt-free state object.

A comparison takes looks (avatars) and renders from any revision of any request the signed-in
person may read: a talent their own, an agent those of the talents they represent, a
director their organisation's (``access.visible_to``). Comparing is reading: nothing here
decides, and the views built on it offer no decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reviewer.domain.roles import Action, Actor
from reviewer.services.access import require_on_request, visible_to
from reviewer.services.queries import AssetView, assets_in_context, list_requests
from reviewer.storage.library import Library
from reviewer.storage.schema import assets, requests, revisions, talents

MIN_LOOKS = 2
MAX_LOOKS = 4


@dataclass(frozen=True, slots=True)
class AssetRef:
    """One asset of one revision of a request, with what a label on screen needs."""

    request_id: str
    revision: int
    latest_revision: int
    talent_id: str
    talent_name: str
    campaign: str
    organisation: str
    asset: AssetView

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.request_id, self.revision, self.asset.id)

    @property
    def role(self) -> str:
        return self.asset.role

    @property
    def label(self) -> str:
        return self.asset.label

    @property
    def where(self) -> str:
        """ "ss27-denim-0042 r2" (and "(latest)" is left to the caller)."""
        return f"{self.request_id} r{self.revision}"

    @property
    def caption(self) -> str:
        return f"{self.asset.label} · {self.where}"


def comparable_assets(
    library: Library,
    actor: Actor,
    *,
    role: str | None = None,
    request_ids: Iterable[str] | None = None,
) -> list[AssetRef]:
    """Every asset (of *role*, if given) of every revision of every request *actor* may read,
    optionally only of *request_ids*; newest revision first within a request."""
    visible = {s.id for s in list_requests(library, **visible_to(actor))}
    if request_ids is not None:
        visible &= set(request_ids)
    if not visible:
        return []
    query = (
        assets_in_context(
            assets,
            requests.c.latest_revision,
            requests.c.talent_id,
            talents.c.display_name,
            revisions.c.campaign,
            revisions.c.requester_organisation,
        )
        .where(assets.c.request_id.in_(sorted(visible)))
        .order_by(assets.c.request_id, assets.c.revision.desc(), assets.c.position)
    )
    if role is not None:
        query = query.where(assets.c.role == role)
    with library.reader.connect() as conn:
        rows = conn.execute(query).all()
    return [
        AssetRef(
            request_id=r.request_id,
            revision=r.revision,
            latest_revision=r.latest_revision,
            talent_id=r.talent_id,
            talent_name=r.display_name,
            campaign=r.campaign,
            organisation=r.requester_organisation,
            asset=AssetView.from_row(r),
        )
        for r in rows
    ]


def check_readable(library: Library, actor: Actor, refs: Iterable[AssetRef]) -> None:
    """Refuse (and audit) when *actor* may not read one of the requests behind *refs*; a
    comparison handed in from elsewhere is checked again before anything is shown."""
    seen: set[str] = set()
    for ref in refs:
        if ref.request_id in seen:
            continue
        seen.add(ref.request_id)
        require_on_request(library, actor, Action.READ_REQUEST, ref.request_id)


def looks_problem(looks: list[AssetRef]) -> str | None:
    """Why *looks* cannot be compared in the grid, or None."""
    if any(ref.role != "avatar" for ref in looks):
        return "Only avatars can be compared in 3D."
    if len(looks) < MIN_LOOKS:
        return f"Pick at least {MIN_LOOKS} looks to compare."
    if len(looks) > MAX_LOOKS:
        return f"Compare at most {MAX_LOOKS} looks at a time."
    if len({ref.key for ref in looks}) != len(looks):
        return "The same look is picked twice."
    return None


class CompareSet:
    """The looks and renders of the comparison being built. Widgets subscribe with
    :meth:`subscribe` and are called with no arguments after every change."""

    def __init__(self) -> None:
        self._looks: list[AssetRef] = []
        self._renders: list[AssetRef] = []
        self._listeners: list[Callable[[], None]] = []

    @property
    def looks(self) -> tuple[AssetRef, ...]:
        return tuple(self._looks)

    @property
    def renders(self) -> tuple[AssetRef, ...]:
        return tuple(self._renders)

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def set(self, refs: Iterable[AssetRef]) -> None:
        """Replace the whole set: avatars become the looks (at most :data:`MAX_LOOKS`, the
        first ones kept), renders the renders."""
        refs = list(refs)
        looks = [r for r in refs if r.role == "avatar"]
        self._looks = _unique(looks)[:MAX_LOOKS]
        self._renders = _unique([r for r in refs if r.role == "render"])
        self._changed()

    def add(self, ref: AssetRef) -> bool:
        """Add one asset; False when it is already there or the looks are full."""
        target = self._looks if ref.role == "avatar" else self._renders
        if any(r.key == ref.key for r in target):
            return False
        if ref.role == "avatar" and len(self._looks) >= MAX_LOOKS:
            return False
        target.append(ref)
        self._changed()
        return True

    def remove(self, ref: AssetRef) -> None:
        self._looks = [r for r in self._looks if r.key != ref.key]
        self._renders = [r for r in self._renders if r.key != ref.key]
        self._changed()

    @property
    def request_ids(self) -> list[str]:
        """The requests the set draws on, in the order first met."""
        seen: dict[str, None] = {}
        for ref in (*self._looks, *self._renders):
            seen.setdefault(ref.request_id)
        return list(seen)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()


def _unique(refs: list[AssetRef]) -> list[AssetRef]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for ref in refs:
        if ref.key not in seen:
            seen.add(ref.key)
            out.append(ref)
    return out


__all__ = [
    "MAX_LOOKS",
    "MIN_LOOKS",
    "AssetRef",
    "CompareSet",
    "check_readable",
    "comparable_assets",
    "looks_problem",
]
