"""The queue: a filterable, sortable table of requests with status filters and counts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.status import RequestStatus
from reviewer.services.queries import RequestSummary
from reviewer.ui.queue_model import (
    DUE_COLUMN,
    STATUS_COLUMN,
    SUMMARY_ROLE,
    TALENT_COLUMN,
    QueueModel,
)
from reviewer.ui.theme import STATUS_COLOURS
from reviewer.ui.thumbnails import ThumbnailProvider

STATUS_ORDER = ("pending", "changes_requested", "approved", "rejected", "revoked", "expired")
STATUS_LABELS = {
    "pending": "Pending",
    "changes_requested": "Changes",
    "approved": "Approved",
    "rejected": "Rejected",
    "revoked": "Revoked",
    "expired": "Expired",
}


class QueuePanel(QWidget):
    request_selected = Signal(str)

    def __init__(self, thumbnails: ThumbnailProvider | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QueueModel(thumbnails)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter by id, campaign, talent or requester  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)

        self.status_bar = QWidget(self)
        chips = QHBoxLayout(self.status_bar)
        chips.setContentsMargins(0, 0, 0, 0)
        chips.setSpacing(2)
        self.status_buttons: dict[str | None, QToolButton] = {}
        self._status_group = QButtonGroup(self)
        for status in (None, *STATUS_ORDER):
            button = QToolButton(self.status_bar)
            button.setCheckable(True)
            button.clicked.connect(lambda _c=False, s=status: self.set_status_filter(s))
            self._status_group.addButton(button)
            self.status_buttons[status] = button
            chips.addWidget(button)
        chips.addStretch(1)
        self.status_buttons[None].setChecked(True)

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(DUE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setIconSize(QSize(40, 40))
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(46)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((48, 140, 104, 120, 200, 170)):
            self.table.setColumnWidth(column, width)
        self.table.setColumnWidth(STATUS_COLUMN, max(140, self._status_width()))
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        # Enter or Escape hands the keyboard back to the queue for the review keys.
        self.filter_edit.returnPressed.connect(self.table.setFocus)
        self.filter_edit.installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.setSpacing(6)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.status_bar)
        layout.addWidget(self.table)
        self._update_counts()

    def _status_width(self) -> int:
        """Width of the status column that shows its longest label whole ("Changes
        requested"): what the table's style makes of a cell with each label, as its
        delegate asks it (font, style sheet padding and text margins), before any row exists."""
        self.table.ensurePolished()
        option = QStyleOptionViewItem()
        option.initFrom(self.table)
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        option.font = self.table.font()
        widths = []
        for status in RequestStatus:
            option.text = self.model.status_text(status)
            size = self.table.style().sizeFromContents(
                QStyle.ContentsType.CT_ItemViewItem, option, QSize(), self.table
            )
            widths.append(size.width())
        return max(widths)

    # -- content ---------------------------------------------------------------------------
    def set_requests(self, rows: list[RequestSummary]) -> None:
        with self._keeping_current():
            self.model.set_rows(rows)
        self._update_counts()

    def set_status_filter(self, status: str | None) -> None:
        with self._keeping_current():
            self.model.set_filter(status=status)
        self.status_buttons[status].setChecked(True)

    def _on_filter_text_changed(self, text: str) -> None:
        with self._keeping_current():
            self.model.set_filter(text=text)

    def show_talent_column(self, visible: bool) -> None:
        self.table.setColumnHidden(TALENT_COLUMN, not visible)

    @contextlib.contextmanager
    def _keeping_current(self) -> Iterator[None]:
        """Keep the selected request selected across a change of rows, without re-opening it."""
        current = self.current_request_id()
        self.table.selectionModel().blockSignals(True)
        try:
            yield
        finally:
            self.table.selectionModel().blockSignals(False)
            if current is not None and self.model.row_of(current) is not None:
                self.select(current, notify=False)

    def _update_counts(self) -> None:
        counts = self.model.status_counts()
        for status, button in self.status_buttons.items():
            if status is None:
                button.setText(f"All {self.model.total:,}")
                continue
            button.setText(f"{STATUS_LABELS[status]} {counts.get(status, 0):,}")
            button.setStyleSheet(f"QToolButton {{ color: {STATUS_COLOURS[status]}; }}")
            button.setVisible(counts.get(status, 0) > 0 or status == "pending")

    # -- selection ---------------------------------------------------------------------------
    def current_request_id(self) -> str | None:
        index = self.table.currentIndex()
        return index.data(SUMMARY_ROLE).id if index.isValid() else None

    def select(self, request_id: str, *, notify: bool = True) -> bool:
        row = self.model.row_of(request_id)
        if row is None:
            return False
        self._set_current_row(row, notify=notify)
        return True

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self._set_current_row(row)

    def _set_current_row(self, row: int, *, notify: bool = True) -> None:
        selection = self.table.selectionModel()
        selection.blockSignals(not notify)
        index = self.model.index(row, 0)
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
        selection.blockSignals(False)
        self.table.scrollTo(index)

    def move(self, step: int) -> None:
        row = self.table.currentIndex().row()
        target = row + step if row >= 0 else 0
        self.select_row(max(0, min(self.model.rowCount() - 1, target)))

    def next_pending_after(self, request_id: str | None) -> str | None:
        """The next pending request below *request_id* in the queue's order, else the first."""
        rows = [self.model.summary(r) for r in range(self.model.rowCount())]
        start = self.model.row_of(request_id) if request_id is not None else None
        ordered = rows[start + 1:] + rows[:start + 1] if start is not None else rows
        for summary in ordered:
            if summary.status.value == "pending" and summary.id != request_id:
                return summary.id
        return None

    def focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.filter_edit and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Escape):  # type: ignore[attr-defined]
            self._leave_filter()
            return True
        return super().eventFilter(watched, event)

    def _leave_filter(self) -> None:
        if self.filter_edit.text():
            self.filter_edit.clear()
        self.table.setFocus()

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.request_selected.emit(current.data(SUMMARY_ROLE).id)
