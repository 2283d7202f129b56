"""Choosing what to compare: looks and renders from any revision of any request the signed-in
person may read, grouped by request and revision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from reviewer.services.compare_sets import MAX_LOOKS, MIN_LOOKS, AssetRef, comparable_assets

if TYPE_CHECKING:
    from reviewer.domain.roles import Actor
    from reviewer.storage.library import Library

_REF = Qt.ItemDataRole.UserRole


class ComparePicker(QDialog):
    """A tree of requests › revisions › assets with a box per asset."""

    def __init__(
        self,
        library: Library,
        actor: Actor,
        *,
        checked: Iterable[AssetRef] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare looks")
        self.resize(760, 620)
        self.refs = comparable_assets(library, actor)
        wanted = {ref.key for ref in checked}

        intro = QLabel(
            f"Tick {MIN_LOOKS} to {MAX_LOOKS} looks to see them side by side in 3D, and any "
            "renders to compare as images. Any revision of any request you may read can be "
            "compared; comparing decides nothing.",
            self,
        )
        intro.setWordWrap(True)
        intro.setProperty("class", "muted")
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by request, campaign, talent or label")
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Asset", "Kind"])
        self.tree.setColumnWidth(0, 520)
        self.tree.itemChanged.connect(lambda *_: self._update_state())
        self.count = QLabel(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.buttons)
        self._fill(wanted)
        self._update_state()

    def _fill(self, wanted: set[tuple[str, int, int]]) -> None:
        self.tree.blockSignals(True)
        requests: dict[str, QTreeWidgetItem] = {}
        revisions: dict[tuple[str, int], QTreeWidgetItem] = {}
        for ref in self.refs:
            request = requests.get(ref.request_id)
            if request is None:
                request = QTreeWidgetItem(
                    self.tree,
                    [
                        f"{ref.request_id} · {ref.campaign}",
                        f"{ref.talent_name} · {ref.organisation}",
                    ],
                )
                request.setFlags(request.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                requests[ref.request_id] = request
            revision = revisions.get((ref.request_id, ref.revision))
            if revision is None:
                latest = " (latest)" if ref.revision == ref.latest_revision else ""
                revision = QTreeWidgetItem(request, [f"Revision {ref.revision}{latest}", ""])
                revisions[(ref.request_id, ref.revision)] = revision
            kind = "look (3D)" if ref.role == "avatar" else "render"
            detail = ""
            if ref.asset.triangles:
                detail = f"  ·  {ref.asset.triangles:,} triangles"
            elif ref.asset.width:
                detail = f"  ·  {ref.asset.width}×{ref.asset.height}"
            item = QTreeWidgetItem(revision, [f"{ref.label}{detail}", kind])
            item.setData(0, _REF, ref)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                0, Qt.CheckState.Checked if ref.key in wanted else Qt.CheckState.Unchecked
            )
            item.setToolTip(0, f"{ref.asset.path}\n{ref.asset.sha256}")
        for (request_id, number), revision in revisions.items():
            latest = next(r for r in self.refs if r.request_id == request_id).latest_revision
            revision.setExpanded(
                number == latest
                or any(
                    revision.child(i).checkState(0) == Qt.CheckState.Checked
                    for i in range(revision.childCount())
                )
            )
        for request in requests.values():
            request.setExpanded(
                any(
                    request.child(i).isExpanded()
                    and any(
                        request.child(i).child(j).checkState(0) == Qt.CheckState.Checked
                        for j in range(request.child(i).childCount())
                    )
                    for i in range(request.childCount())
                )
            )
        self.tree.blockSignals(False)

    def checked(self) -> list[AssetRef]:
        out: list[AssetRef] = []
        iterator = QTreeWidgetItemIterator(self.tree)
        while iterator.value() is not None:
            item = iterator.value()
            ref = item.data(0, _REF)
            if ref is not None and item.checkState(0) == Qt.CheckState.Checked:
                out.append(ref)
            iterator += 1
        return out

    def check(self, refs: Iterable[AssetRef]) -> None:
        keys = {ref.key for ref in refs}
        iterator = QTreeWidgetItemIterator(self.tree)
        while iterator.value() is not None:
            item = iterator.value()
            ref = item.data(0, _REF)
            if ref is not None:
                item.setCheckState(
                    0, Qt.CheckState.Checked if ref.key in keys else Qt.CheckState.Unchecked
                )
            iterator += 1

    def problem(self) -> str | None:
        picked = self.checked()
        looks = sum(1 for r in picked if r.role == "avatar")
        renders = len(picked) - looks
        if looks > MAX_LOOKS:
            return f"Untick {looks - MAX_LOOKS}: at most {MAX_LOOKS} looks at a time."
        if looks < MIN_LOOKS and renders < 2:
            return f"Tick {MIN_LOOKS} to {MAX_LOOKS} looks, or two renders."
        if looks == 1:
            return "One look cannot be compared: tick another, or none."
        return None

    def _update_state(self) -> None:
        picked = self.checked()
        looks = sum(1 for r in picked if r.role == "avatar")
        problem = self.problem()
        text = f"{looks} look{'s' if looks != 1 else ''}, {len(picked) - looks} render" + (
            "s" if len(picked) - looks != 1 else ""
        )
        self.count.setText(text + (f"  ·  {problem}" if problem else ""))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def _apply_filter(self, text: str) -> None:
        needle = text.casefold().strip()
        for i in range(self.tree.topLevelItemCount()):
            request = self.tree.topLevelItem(i)
            haystack = " ".join(request.text(c) for c in range(2)).casefold()
            any_child = False
            for j in range(request.childCount()):
                revision = request.child(j)
                for k in range(revision.childCount()):
                    asset = revision.child(k)
                    match = not needle or needle in haystack or needle in asset.text(0).casefold()
                    asset.setHidden(not match)
                    any_child |= match
            request.setHidden(not any_child)


__all__ = ["ComparePicker"]
