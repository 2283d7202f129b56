"""The flags a profile may see: a list with status filters, and for the chosen flag its
evidence, sighting, verdict, match and history, the status changes this profile may make, and
the evidence pack.

Who may do what is the domain's rule (:mod:`reviewer.domain.misuse`): the talent's side sends
flags to the brand, resolves, dismisses and reopens them; a director of the matched request's
organisation may only mark them answered. The panel offers only those buttons; the service
checks again and audits a refusal.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.misuse import FlagStatus, change_refusal, transition_problem
from reviewer.ui.workers import LatestOnlyRunner

if TYPE_CHECKING:
    from reviewer.services.flags import FlagRecord
    from reviewer.services.profiles import Session
    from reviewer.storage.library import Library
    from reviewer.ui.thumbnails import ThumbnailProvider

COLUMNS = ("Flag", "Status", "Severity", "Talent", "Verdict", "Match", "Seen", "Flagged")
ACTION_WORDS = {
    FlagStatus.SENT_TO_BRAND: "Sent to brand",
    FlagStatus.ANSWERED: "Mark answered",
    FlagStatus.RESOLVED: "Resolved",
    FlagStatus.DISMISSED: "Dismiss",
    FlagStatus.OPEN: "Reopen",
}
SEVERITY_COLOURS = {"high": "#e07070", "medium": "#d9b36a", "low": "#a4a6aa"}
STATUS_COLOURS = {
    FlagStatus.OPEN: "#e07070",
    FlagStatus.SENT_TO_BRAND: "#d9b36a",
    FlagStatus.ANSWERED: "#8fb3d9",
    FlagStatus.RESOLVED: "#6fae82",
    FlagStatus.DISMISSED: "#8d8f93",
}


class FlagsPanel(QWidget):
    """See the module docstring. ``counts_changed`` fires after every refresh with the
    number of flags that are still open."""

    counts_changed = Signal(int)

    def __init__(self, library: Library, session: Session, thumbnails: ThumbnailProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.session = session
        self.thumbnails = thumbnails
        self.records: list[FlagRecord] = []
        self._shown: list[FlagRecord] = []
        self._export_runner = LatestOnlyRunner(self)
        thumbnails.ready.connect(self._on_thumbnail)

        self.status_filter = QComboBox(self)
        self.status_filter.currentIndexChanged.connect(lambda _i: self._fill_table())
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(lambda _checked=False: self.refresh())
        self.summary = QLabel(self)
        self.summary.setProperty("class", "muted")
        top = QHBoxLayout()
        top.setContentsMargins(12, 10, 12, 6)
        top.addWidget(QLabel("Show", self))
        top.addWidget(self.status_filter)
        top.addWidget(refresh)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("flagTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)

        # The chosen flag.
        self.evidence = QLabel(self)
        self.evidence.setObjectName("flagEvidence")
        self.evidence.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.evidence.setFixedSize(220, 220)
        self.evidence.setStyleSheet("background: #141517; border-radius: 4px;")
        self.details = QLabel(self)
        self.details.setObjectName("flagDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.history = QListWidget(self)
        self.history.setObjectName("flagHistory")
        self.history.setStyleSheet("QListWidget { font-size: 9pt; color: #a4a6aa; }")
        self.history.setMaximumHeight(130)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("A note for the history (optional)")
        self.status_buttons: dict[FlagStatus, QPushButton] = {}
        buttons = QHBoxLayout()
        for status, words in ACTION_WORDS.items():
            button = QPushButton(words, self)
            button.setObjectName(f"flagTo-{status.value}")
            button.clicked.connect(lambda _c=False, s=status: self.change_status(s))
            buttons.addWidget(button)
            self.status_buttons[status] = button
        buttons.addStretch(1)
        self.export_button = QPushButton("Export evidence pack…", self)
        self.export_button.setToolTip("A zip with the found image, the matched render, the "
                                      "receipts in force, an audit excerpt and a summary")
        self.export_button.clicked.connect(self.choose_export)
        buttons.addWidget(self.export_button)
        self.export_busy = QProgressBar(self)
        self.export_busy.setRange(0, 0)
        self.export_busy.setMaximumWidth(100)
        self.export_busy.hide()
        buttons.addWidget(self.export_busy)
        self.message = QLabel(self)
        self.message.setObjectName("flagMessage")
        self.message.setWordWrap(True)
        self.message.setProperty("class", "muted")

        detail = QFrame(self)
        detail.setProperty("class", "panel")
        upper = QHBoxLayout()
        upper.addWidget(self.evidence, 0, Qt.AlignmentFlag.AlignTop)
        upper.addWidget(self.details, 1)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(14, 12, 14, 12)
        detail_layout.addLayout(upper)
        detail_layout.addWidget(QLabel("History", self))
        detail_layout.addWidget(self.history)
        detail_layout.addWidget(self.note)
        detail_layout.addLayout(buttons)
        detail_layout.addWidget(self.message)
        self.empty = QLabel(
            "No flags yet. Check an image found in the wild and flag it when no approved use "
            "covers it.", self)
        self.empty.setProperty("class", "message")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.detail = detail

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([320, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)
        self.splitter = splitter
        self.refresh()

    # -- reading ---------------------------------------------------------------------------------
    def refresh(self, select: int | None = None) -> None:
        """Read the flags again (a few hundred rows: a blink), keeping or making *select*
        the chosen one."""
        from reviewer.services.flags import FlagService

        keep = select if select is not None else self.current_flag_id()
        self.records = FlagService(self.library).list(session=self.session)
        counts = {status: 0 for status in FlagStatus}
        for record in self.records:
            counts[record.status] += 1
        chosen = self.status_filter.currentData()
        self.status_filter.blockSignals(True)
        self.status_filter.clear()
        self.status_filter.addItem(f"All flags ({len(self.records)})", None)
        for status in FlagStatus:
            self.status_filter.addItem(f"{status.label.capitalize()} ({counts[status]})",
                                       status.value)
        index = self.status_filter.findData(chosen)
        self.status_filter.setCurrentIndex(max(index, 0))
        self.status_filter.blockSignals(False)
        open_count = counts[FlagStatus.OPEN]
        self.summary.setText(
            f"{len(self.records)} flag{'' if len(self.records) == 1 else 's'} you may see · "
            f"{open_count} open · "
            f"{counts[FlagStatus.SENT_TO_BRAND]} sent to the brand"
        )
        self._fill_table(keep)
        self.counts_changed.emit(open_count)

    def _fill_table(self, keep: int | None = None) -> None:
        keep = keep if keep is not None else self.current_flag_id()
        wanted = self.status_filter.currentData()
        self._shown = [r for r in self.records if wanted is None or r.status.value == wanted]
        self.empty.setVisible(not self.records)
        self.splitter.setVisible(bool(self.records))
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._shown))
        for row, record in enumerate(self._shown):
            cells = (
                str(record.id),
                record.status.label,
                record.severity.value,
                record.talent_id,
                record.verdict_text,
                f"{record.request_id} rev {record.revision}" if record.request_id else "—",
                _seen_text(record),
                f"{record.created_at[:10]} · {record.created_by}",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setForeground(_colour(STATUS_COLOURS[record.status]))
                elif column == 2:
                    item.setForeground(_colour(SEVERITY_COLOURS[record.severity.value]))
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, record.id)
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        rows = [i for i, r in enumerate(self._shown) if r.id == keep]
        self.table.selectRow(rows[0] if rows else 0)
        self._on_selection()

    def current_flag_id(self) -> int | None:
        record = self.current_record()
        return record.id if record is not None else None

    def current_record(self) -> FlagRecord | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or not 0 <= rows[0].row() < len(self._shown):
            return None
        return self._shown[rows[0].row()]

    def select_flag(self, flag_id: int) -> None:
        self.status_filter.setCurrentIndex(0)
        self.refresh(select=flag_id)

    # -- the chosen flag -------------------------------------------------------------------------
    def _on_selection(self) -> None:
        record = self.current_record()
        self.message.setText("")
        if record is None:
            self.details.setText("")
            self.history.clear()
            self.evidence.clear()
            for button in self.status_buttons.values():
                button.hide()
            self.export_button.setEnabled(False)
            return
        self.details.setText(_details_html(record))
        self.history.clear()
        for event in record.history:
            move = (f"{event.from_status.label} → {event.to_status.label}"
                    if event.from_status else f"created, {event.to_status.label}")
            note = f" — {event.note}" if event.note else ""
            self.history.addItem(f"{event.at.replace('T', ' ')[:16]}  {event.actor} "
                                 f"({event.role}): {move}{note}")
        self._show_evidence(record.evidence_sha256)
        actor = self.session.actor
        for status, button in self.status_buttons.items():
            allowed = (
                status is not record.status
                and change_refusal(actor, status, talent_id=record.talent_id,
                                   organisation=record.organisation) is None
                and transition_problem(actor.role, record.status, status) is None
            )
            button.setVisible(allowed)
        self.export_button.setEnabled(not self._export_runner.busy)

    def _show_evidence(self, sha256: str) -> None:
        pixmap = self.thumbnails.pixmap(sha256)
        if pixmap is None:
            self.evidence.setText("Loading…")
            return
        ratio = self.devicePixelRatioF()
        scaled = pixmap.scaled(QSize(216, 216) * ratio, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        self.evidence.setPixmap(scaled)

    def _on_thumbnail(self, sha256: str) -> None:
        record = self.current_record()
        if record is not None and record.evidence_sha256 == sha256:
            self._show_evidence(sha256)

    def change_status(self, status: FlagStatus) -> None:
        from reviewer.services.flags import FlagService
        from reviewer.services.refusals import Refusal

        record = self.current_record()
        if record is None:
            return
        try:
            updated = FlagService(self.library).change_status(
                self.session, record.id, status, note=self.note.text() or None)
        except Refusal as exc:
            self.message.setText(f"<span style='color:#e07070'>{escape(str(exc))}</span>")
            return
        self.note.clear()
        self.refresh(select=updated.id)
        self.message.setText(f"Flag {updated.id} is now {updated.status.label}.")

    def choose_export(self) -> None:
        record = self.current_record()
        if record is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the evidence pack", f"flag-{record.id}-evidence.zip",
            "Evidence packs (*.zip)")
        if path:
            self.export(record.id, Path(path))

    def export(self, flag_id: int, out: Path) -> None:
        """Write the evidence pack of *flag_id* to *out* on a worker thread."""
        from reviewer.services.evidence import EvidenceService

        library, session = self.library, self.session
        self.export_button.setEnabled(False)
        self.export_busy.show()
        self.message.setText(f"Writing {out.name}…")
        self._export_runner.start(
            lambda: EvidenceService(library).export(flag_id, out, session=session),
            self._on_exported,
            self._on_export_failed,
        )

    def _on_exported(self, export: object) -> None:
        self.export_busy.hide()
        self.export_button.setEnabled(True)
        text = export.summary()  # type: ignore[attr-defined]
        self.message.setText(text[:1].upper() + text[1:])

    def _on_export_failed(self, reason: str) -> None:
        self.export_busy.hide()
        self.export_button.setEnabled(True)
        self.message.setText(f"<span style='color:#e07070'>Not exported: "
                             f"{escape(reason)}</span>")


def _seen_text(record: FlagRecord) -> str:
    sighting = record.sighting
    parts = [p for p in (sighting.channel, sighting.territory,
                         sighting.seen_on.isoformat() if sighting.seen_on else None) if p]
    return " · ".join(parts) if parts else "—"


def _details_html(record: FlagRecord) -> str:
    severity = SEVERITY_COLOURS[record.severity.value]
    status = STATUS_COLOURS[record.status]
    rows = [
        f"<p style='font-size:12pt; color:#ececee'>{escape(record.verdict_text)}</p>",
        f"<p><span style='color:{status}'>{escape(record.status.label)}</span> · "
        f"<span style='color:{severity}'>{escape(record.severity.value)} severity</span> · "
        f"flag {record.id} about {escape(record.talent_id)}</p>",
    ]
    if record.scope_check:
        rows.append(f"<p style='color:#d9b36a'>{escape(record.scope_check)}</p>")
    seen = record.sighting.describe()
    rows.append(f"<p>{escape(seen[:1].upper() + seen[1:])}</p>")
    if record.request_id:
        rows.append(
            f"<p style='color:#a4a6aa'>Matches {escape(record.request_id)} revision "
            f"{record.revision} ({escape(record.organisation or '')}), render "
            f"{escape(record.asset_path or '')}, {_sure(record.confidence)}</p>"
        )
    else:
        rows.append("<p style='color:#a4a6aa'>Matches no render in the library.</p>")
    if record.notes:
        rows.append(f"<p style='color:#c9cacc'>“{escape(record.notes)}”</p>")
    rows.append(
        f"<p style='color:#8d8f93'>Evidence {escape(record.evidence_name)} "
        f"({record.evidence_width}×{record.evidence_height}, sha256 "
        f"{record.evidence_sha256[:12]}…) · flagged {record.created_at.replace('T', ' ')[:16]} "
        f"by {escape(record.created_by)}</p>"
    )
    return "".join(rows)


def _sure(confidence: str | None) -> str:
    try:
        return f"{float(confidence or ''):.0%} sure"
    except ValueError:
        return "confidence not recorded"


def _colour(name: str):  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(name))
