"""The queue: a filterable, sortable table of requests."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.services.queries import RequestSummary
from reviewer.ui.queue_model import SORT_ROLE, SUMMARY_ROLE, QueueModel
from reviewer.ui.theme import STATUS_COLOURS

STATUS_ORDER = ("pending", "changes_requested", "approved", "rejected", "revoked", "expired")
STATUS_LABELS = {
    "pending": "Pending",
    "changes_requested": "Changes",
    "approved": "Approved",
    "rejected": "Rejected",
    "revoked": "Revoked",
    "expired": "Expired",
}


class _QueueFilter(QSortFilterProxyModel):
    """Matches the filter text against id, campaign, talent and requester."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self._needle = ""
        self.status: str | None = None

    def set_status(self, status: str | None) -> None:
        self.beginFilterChange()
        self.status = status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        summary: RequestSummary = self.sourceModel().index(row, 0, parent).data(SUMMARY_ROLE)
        if self.status is not None and summary.status.value != self.status:
            return False
        if not self._needle:
            return True
        haystack = " ".join(
            (
                summary.id,
                summary.campaign,
                summary.talent_name,
                summary.requester,
                summary.organisation,
            )
        ).casefold()
        return self._needle in haystack


class QueuePanel(QWidget):
    request_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QueueModel()
        self.proxy = _QueueFilter()
        self.proxy.setSourceModel(self.model)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter by id, campaign, talent or requester  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.status_bar = QWidget(self)
        chips = QHBoxLayout(self.status_bar)
        chips.setContentsMargins(0, 0, 0, 0)
        chips.setSpacing(2)
        self.status_buttons: dict[str | None, QToolButton] = {}
        self._status_group = QButtonGroup(self)
        self._status_group.setExclusive(True)
        for status in (None, *STATUS_ORDER):
            button = QToolButton(self.status_bar)
            button.setCheckable(True)
            button.setProperty("status", status or "all")
            button.clicked.connect(lambda _c=False, s=status: self.set_status_filter(s))
            self._status_group.addButton(button)
            self.status_buttons[status] = button
            chips.addWidget(button)
        chips.addStretch(1)
        self.status_buttons[None].setChecked(True)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((150, 108, 120, 210, 170)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        # Enter or Escape hands the keyboard back to the queue for the review keys.
        self.filter_edit.returnPressed.connect(self.table.setFocus)
        QShortcut(QKeySequence("Escape"), self.filter_edit, self._leave_filter,
                  context=Qt.ShortcutContext.WidgetShortcut)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.setSpacing(6)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.status_bar)
        layout.addWidget(self.table)
        self._update_counts()

    def show_talent_column(self, visible: bool) -> None:
        self.table.setColumnHidden(2, not visible)

    def set_requests(self, rows: list[RequestSummary]) -> None:
        current = self.current_request_id()
        self.model.set_rows(rows)
        self._update_counts()
        if current is not None:
            self.select(current)

    def set_status_filter(self, status: str | None) -> None:
        self.proxy.set_status(status)
        self.status_buttons[status].setChecked(True)

    def _update_counts(self) -> None:
        counts = Counter(self.model.summary(r).status.value for r in range(self.model.rowCount()))
        for status, button in self.status_buttons.items():
            if status is None:
                button.setText(f"All {self.model.rowCount()}")
                continue
            colour = STATUS_COLOURS[status]
            button.setText(f"{STATUS_LABELS[status]} {counts.get(status, 0)}")
            button.setStyleSheet(f"QToolButton {{ color: {colour}; }}")
            button.setVisible(counts.get(status, 0) > 0 or status == "pending")

    def next_pending_after(self, request_id: str | None) -> str | None:
        """The next pending request below *request_id* in the queue's order, else the first."""
        ids = [self.proxy.index(r, 0).data(SUMMARY_ROLE) for r in range(self.proxy.rowCount())]
        pending = [s.id for s in ids if s.status.value == "pending"]
        if not pending:
            return None
        order = [s.id for s in ids]
        if request_id in order:
            after = order[order.index(request_id) + 1:]
            for candidate in after:
                if candidate in pending:
                    return candidate
        return pending[0]

    def current_request_id(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return index.data(SUMMARY_ROLE).id

    def select(self, request_id: str) -> bool:
        row = self.model.row_of(request_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    def select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            index = self.proxy.index(row, 0)
            self.table.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(index)

    def move(self, step: int) -> None:
        row = self.table.currentIndex().row()
        self.select_row(max(0, min(self.proxy.rowCount() - 1, row + step if row >= 0 else 0)))

    def _leave_filter(self) -> None:
        if self.filter_edit.text():
            self.filter_edit.clear()
        self.table.setFocus()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.request_selected.emit(current.data(SUMMARY_ROLE).id)
