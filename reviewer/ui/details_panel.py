"""Details of the selected request: terms in plain language, standing-terms findings,
revisions and history."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from reviewer.domain.policy import FindingLevel
from reviewer.services.request_details import RequestDetails, describe_history_entry

FINDING_COLOURS = {
    FindingLevel.OK: "#6fae82",
    FindingLevel.WARNING: "#d9b36a",
    FindingLevel.VIOLATION: "#e07070",
}
FINDING_MARKS = {FindingLevel.OK: "✓", FindingLevel.WARNING: "!", FindingLevel.VIOLATION: "✕"}


def _section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setProperty("class", "muted")
    label.setStyleSheet("font-size: 8pt; letter-spacing: 1px; margin-top: 10px;")
    return label


class DetailsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scope_label = QLabel(self)
        self.scope_label.setWordWrap(True)
        self.scope_label.setStyleSheet("font-size: 11pt; color: #ececee;")
        self.scope_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.brief_label = QLabel(self)
        self.brief_label.setWordWrap(True)
        self.requester_label = QLabel(self)
        self.requester_label.setWordWrap(True)
        self.requester_label.setProperty("class", "muted")
        self.findings_label = QLabel(self)
        self.findings_label.setWordWrap(True)
        self.findings_label.setTextFormat(Qt.TextFormat.RichText)
        self.revisions_label = QLabel(self)
        self.revisions_label.setWordWrap(True)
        self.revisions_label.setProperty("class", "muted")
        self.history = QListWidget(self)
        self.history.setWordWrap(True)
        self.history.setMinimumHeight(90)
        self.history.setStyleSheet("QListWidget { font-size: 9pt; color: #a4a6aa; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 8)
        layout.setSpacing(4)
        for title, widget in (
            ("Use", self.scope_label),
            ("Brief", self.brief_label),
            ("Requested by", self.requester_label),
            ("Your standing terms", self.findings_label),
            ("Revisions", self.revisions_label),
            ("History", self.history),
        ):
            layout.addWidget(_section(title))
            layout.addWidget(widget)
        self.details: RequestDetails | None = None
        self.show_details(None)

    def show_details(self, details: RequestDetails | None) -> None:
        self.details = details
        self.history.clear()
        if details is None:
            for label in (self.scope_label, self.brief_label, self.requester_label,
                          self.findings_label, self.revisions_label):
                label.setText("—")
            return
        self.scope_label.setText(details.scope_sentence)
        self.brief_label.setText(details.brief)
        self.requester_label.setText(
            f"{details.requester_name}, {details.organisation} · {details.requester_email}"
        )
        self.findings_label.setText(self._findings_html(details))
        revs = [f"Revision {r.revision}: {r.imported_at[:10]} ({r.source_name})"
                for r in details.revisions]
        self.revisions_label.setText("\n".join(revs))
        for entry in reversed(details.history):
            self.history.addItem(QListWidgetItem(describe_history_entry(entry)))

    @staticmethod
    def _findings_html(details: RequestDetails) -> str:
        if not details.findings:
            return "<span style='color:#8d8f93'>No standing terms to check against.</span>"
        order = {FindingLevel.VIOLATION: 0, FindingLevel.WARNING: 1, FindingLevel.OK: 2}
        rows = []
        for finding in sorted(details.findings, key=lambda f: order[f.level]):
            colour = FINDING_COLOURS[finding.level]
            text_colour = "#c9cacc" if finding.level is FindingLevel.OK else colour
            rows.append(f"<div style='margin:2px 0'><span style='color:{colour}'>"
                        f"{FINDING_MARKS[finding.level]}</span>&nbsp; "
                        f"<span style='color:{text_colour}'>{html.escape(finding.text)}</span>"
                        "</div>")
        return "".join(rows)
