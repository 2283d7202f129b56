"""The request queue as a Qt model over plain summaries: no widget per row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from reviewer.services.queries import RequestSummary
from reviewer.ui.theme import EXPIRING, OVERDUE, STATUS_COLOURS

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2
EXPIRY_WARNING_DAYS = 30


class QueueModel(QAbstractTableModel):
    COLUMNS = ("Status", "Due", "Talent", "Campaign", "Request", "Requester")

    def __init__(self, today: dt.date | None = None) -> None:
        super().__init__()
        self._rows: list[RequestSummary] = []
        self.today = today or dt.date.today()

    def set_rows(self, rows: list[RequestSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def summary(self, row: int) -> RequestSummary:
        return self._rows[row]

    def row_of(self, request_id: str) -> int | None:
        for i, summary in enumerate(self._rows):
            if summary.id == request_id:
                return i
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        summary = self._rows[index.row()]
        column = index.column()
        if role == SUMMARY_ROLE:
            return summary
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(summary, column)
        if role == SORT_ROLE:
            return self._sort_key(summary, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(summary, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(summary, column)
        return None

    def _display(self, s: RequestSummary, column: int) -> str:
        if column == 0:
            return "●  " + s.status.label
        if column == 1:
            return s.due.strftime("%d %b %Y")
        return (s.talent_name, s.campaign, s.id, s.organisation)[column - 2]

    def _sort_key(self, s: RequestSummary, column: int) -> Any:
        if column == 1:
            return s.due.toordinal()
        return self._display(s, column).casefold()

    def _foreground(self, s: RequestSummary, column: int) -> QBrush | None:
        if column == 0:
            return QBrush(QColor(STATUS_COLOURS[s.status.value]))
        if column == 1:
            if s.status.value in ("pending", "changes_requested") and s.due < self.today:
                return QBrush(QColor(OVERDUE))
            if self._expiring_soon(s):
                return QBrush(QColor(EXPIRING))
        return None

    def _tooltip(self, s: RequestSummary, column: int) -> str | None:
        if column == 1:
            if s.status.value in ("pending", "changes_requested") and s.due < self.today:
                return f"Overdue: a decision was due {s.due:%d %b %Y}"
            if self._expiring_soon(s):
                return f"Approval expires {s.approved_until:%d %b %Y}"
        return None

    def _expiring_soon(self, s: RequestSummary) -> bool:
        until = s.approved_until
        return (
            s.status.value == "approved"
            and until is not None
            and 0 <= (until - self.today).days <= EXPIRY_WARNING_DAYS
        )
