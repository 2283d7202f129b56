"""What changed between two revisions of a request: files by hash, terms side by side.

A changed avatar or render is one double-click (or the Compare button) away from the overlay,
heat map or image comparison: the view emits :attr:`RevisionDiffView.compare_requested` with
the two versions and the window shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.services.compare_sets import AssetRef
from reviewer.services.refusals import Refusal
from reviewer.services.revision_diff import (
    AssetChange,
    RevisionDiff,
    revision_diff,
    revision_numbers,
)

if TYPE_CHECKING:
    from reviewer.domain.roles import Actor
    from reviewer.storage.library import Library

STATUS_STYLE: dict[str, tuple[str, str]] = {
    # status: (label, colour) — muted, legible, never the loudest thing on screen
    "changed": ("Changed", "#d9b36a"),
    "added": ("Added", "#6fae82"),
    "removed": ("Removed", "#c76b6b"),
    "moved": ("Moved", "#8fa7c4"),
    "unchanged": ("Same", "#6f7175"),
}
CHANGED_ROW = QColor(201, 169, 92, 38)  # a faint amber wash behind changed terms


class RevisionDiffView(QWidget):
    """Pick a request and two of its revisions; see what changed."""

    compare_requested = Signal(object, object)  # (older AssetRef, newer AssetRef)
    diff_shown = Signal(object)  # RevisionDiff

    def __init__(self, library: Library, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.actor = actor
        self.diff: RevisionDiff | None = None
        self._context: dict[str, AssetRef] = {}

        self.request_choice = QComboBox(self)
        self.request_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.request_choice.currentIndexChanged.connect(lambda _i: self._on_request_changed())
        self.old_choice = QComboBox(self)
        self.new_choice = QComboBox(self)
        for combo in (self.old_choice, self.new_choice):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.compare_button = QPushButton("Compare the two versions", self)
        self.compare_button.setToolTip("Open the selected changed avatar or render side by side")
        self.compare_button.clicked.connect(self._compare_selected)

        top = QHBoxLayout()
        top.setContentsMargins(10, 8, 10, 6)
        top.setSpacing(6)
        for widget in (
            _muted("Request", self),
            self.request_choice,
            _muted("revision", self),
            self.old_choice,
            _muted("→", self),
            self.new_choice,
        ):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.compare_button)

        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #c9cacc; padding: 2px 12px 8px 12px;")

        self.assets_table = QTableWidget(0, 5, self)
        self.assets_table.setHorizontalHeaderLabels(["", "File", "Role", "Before", "After"])
        self.assets_table.setObjectName("revisionAssets")
        self.terms_table = QTableWidget(0, 3, self)
        self.terms_table.setHorizontalHeaderLabels(["", "Before", "After"])
        self.terms_table.setObjectName("revisionTerms")
        for table in (self.assets_table, self.terms_table):
            table.verticalHeader().hide()
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            table.setWordWrap(True)
            table.horizontalHeader().setHighlightSections(False)
        self.assets_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.terms_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.terms_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # Wrapped text needs its rows measured again whenever the columns change width.
        self.terms_table.horizontalHeader().sectionResized.connect(
            lambda *_: self.terms_table.resizeRowsToContents()
        )
        self.assets_table.itemDoubleClicked.connect(lambda _item: self._compare_selected())
        self.assets_table.itemSelectionChanged.connect(self._update_buttons)

        files = QWidget(self)
        files_layout = QVBoxLayout(files)
        files_layout.setContentsMargins(10, 0, 10, 0)
        files_layout.addWidget(_heading("Files, by content", files))
        files_layout.addWidget(self.assets_table)
        terms = QWidget(self)
        terms_layout = QVBoxLayout(terms)
        terms_layout.setContentsMargins(10, 0, 10, 0)
        terms_layout.addWidget(_heading("Terms", terms))
        terms_layout.addWidget(self.terms_table)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(files)
        split.addWidget(terms)
        split.setSizes([260, 420])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._update_buttons()

    # -- which request ---------------------------------------------------------------------------
    def set_requests(self, refs: list[AssetRef], prefer: str | None = None) -> None:
        """The requests to offer (one :class:`AssetRef` of each supplies the labels); those
        with more than one revision come first."""
        self._context = {}
        for ref in refs:
            self._context.setdefault(ref.request_id, ref)
        ordered = sorted(
            self._context.values(),
            key=lambda r: (r.latest_revision < 2, r.request_id != prefer, r.request_id),
        )
        self.request_choice.blockSignals(True)
        self.request_choice.clear()
        for ref in ordered:
            count = ref.latest_revision
            plural = "revision" if count == 1 else "revisions"
            self.request_choice.addItem(
                f"{ref.request_id} · {ref.campaign} · {count} {plural}", ref.request_id
            )
        self.request_choice.blockSignals(False)
        self._on_request_changed()

    def show_revisions(self, request_id: str, old: int, new: int) -> None:
        index = self.request_choice.findData(request_id)
        if index >= 0:
            self.request_choice.setCurrentIndex(index)
        for combo, value in ((self.old_choice, old), (self.new_choice, new)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(value))
            combo.blockSignals(False)
        self.refresh()

    def _on_request_changed(self) -> None:
        request_id = self.request_choice.currentData()
        numbers = [] if request_id is None else revision_numbers(self.library, request_id)
        for combo, pick in ((self.old_choice, -2), (self.new_choice, -1)):
            combo.blockSignals(True)
            combo.clear()
            for number in numbers:
                combo.addItem(f"{number}", number)
            if numbers:
                combo.setCurrentIndex(max(len(numbers) + pick, 0))
            combo.blockSignals(False)
        self.refresh()

    # -- the comparison --------------------------------------------------------------------------
    def refresh(self) -> None:
        request_id = self.request_choice.currentData()
        old, new = self.old_choice.currentData(), self.new_choice.currentData()
        self.assets_table.setRowCount(0)
        self.terms_table.setRowCount(0)
        self.diff = None
        if request_id is None:
            self.summary.setText("No request in this comparison.")
            self._update_buttons()
            return
        if old is None or new is None or old == new:
            self.summary.setText(
                f"{request_id} has only one revision: nothing to compare yet."
                if self.old_choice.count() < 2
                else "Pick two different revisions."
            )
            self._update_buttons()
            return
        try:
            diff = revision_diff(self.library, request_id, old, new, actor=self.actor)
        except Refusal as exc:
            self.summary.setText(str(exc))
            self._update_buttons()
            return
        self.diff = diff
        self.summary.setText(diff.summary())
        self._fill_assets(diff)
        self._fill_terms(diff)
        self._update_buttons()
        self.diff_shown.emit(diff)

    def _fill_assets(self, diff: RevisionDiff) -> None:
        table = self.assets_table
        table.setRowCount(len(diff.assets))
        for row, change in enumerate(diff.assets):
            label, colour = STATUS_STYLE[change.status]
            status = QTableWidgetItem(f"● {label}")
            status.setForeground(QBrush(QColor(colour)))
            status.setData(Qt.ItemDataRole.UserRole, row)
            name = change.path + (f"   ({change.detail})" if change.detail else "")
            items = [
                status,
                QTableWidgetItem(name),
                QTableWidgetItem(change.role),
                QTableWidgetItem(_short(change.old.sha256) if change.old else "—"),
                QTableWidgetItem(_short(change.new.sha256) if change.new else "—"),
            ]
            tip = change.label
            if change.comparable:
                tip += " · double-click to compare the two versions"
            for column, item in enumerate(items):
                item.setToolTip(tip)
                if change.status == "unchanged":
                    item.setForeground(QBrush(QColor("#7d8087")))
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        first = next((i for i, c in enumerate(diff.assets) if c.comparable), None)
        if first is not None:
            table.selectRow(first)

    def _fill_terms(self, diff: RevisionDiff) -> None:
        table = self.terms_table
        table.setHorizontalHeaderLabels(
            ["", f"Revision {diff.old_revision}", f"Revision {diff.new_revision}"]
        )
        table.setRowCount(len(diff.terms))
        bold = QFont(table.font())
        bold.setBold(True)
        for row, term in enumerate(diff.terms):
            new_text = term.new
            if term.added or term.removed:
                marks = [f"+ {v}" for v in term.added] + [f"− {v}" for v in term.removed]
                new_text += f"   ({', '.join(marks)})"
            items = [
                QTableWidgetItem(term.label),
                QTableWidgetItem(term.old),
                QTableWidgetItem(new_text),
            ]
            for column, item in enumerate(items):
                if term.changed:
                    item.setBackground(QBrush(CHANGED_ROW))
                    if column in (0, 2):
                        item.setFont(bold)
                else:
                    item.setForeground(QBrush(QColor("#8d8f93")))
                table.setItem(row, column, item)
        table.resizeColumnToContents(0)
        table.resizeRowsToContents()

    # -- to the comparisons ----------------------------------------------------------------------
    def selected_change(self) -> AssetChange | None:
        if self.diff is None:
            return None
        rows = self.assets_table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.diff.assets[rows[0].row()]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.terms_table.resizeRowsToContents()

    def _update_buttons(self) -> None:
        change = self.selected_change()
        self.compare_button.setEnabled(change is not None and change.comparable)

    def _compare_selected(self) -> None:
        change = self.selected_change()
        diff = self.diff
        if change is None or diff is None or not change.comparable:
            return
        context = self._context[diff.request_id]
        older = _ref(context, diff.old_revision, change.old)
        newer = _ref(context, diff.new_revision, change.new)
        self.compare_requested.emit(older, newer)


def _ref(context: AssetRef, revision: int, asset: object) -> AssetRef:
    return AssetRef(
        request_id=context.request_id,
        revision=revision,
        latest_revision=context.latest_revision,
        talent_id=context.talent_id,
        talent_name=context.talent_name,
        campaign=context.campaign,
        organisation=context.organisation,
        asset=asset,  # type: ignore[arg-type]
    )


def _short(sha256: str) -> str:
    return sha256[:12]


def _muted(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("color: #8d8f93;")
    return label


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("color: #a4a6aa; font-weight: 600; padding: 6px 0 4px 0;")
    return label


__all__ = ["RevisionDiffView"]
