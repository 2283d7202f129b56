"""Approve, reject, ask for changes or revoke, with a confirmation that states exactly what
the talent consents to. Every decision goes through the consent services and is signed."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.policy import violations
from reviewer.domain.roles import Role
from reviewer.domain.scope import Scope, channel_phrase, territory_name
from reviewer.domain.status import Verdict
from reviewer.services.profiles import Session
from reviewer.services.refusals import Refusal
from reviewer.services.request_details import RequestDetails
from reviewer.services.review import ReviewService
from reviewer.storage.library import Library

VERDICT_WORDS = {
    Verdict.APPROVED: "Approve",
    Verdict.REJECTED: "Reject",
    Verdict.CHANGES_REQUESTED: "Request changes",
}


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("class", "muted")
    label.setWordWrap(True)
    return label


class DecisionPanel(QWidget):
    """The talent's decision on the selected request. Read-only for every other role."""

    decision_recorded = Signal(str, str)  # request id, verdict or "revoked"

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.session: Session | None = None
        self.details: RequestDetails | None = None
        # Asked before a decision is signed; returns a fresh session or None (idle re-check).
        self.fresh_session: Callable[[], Session | None] = lambda: self.session
        self._pending: Verdict | str | None = None

        self.stack = QStackedWidget(self)
        self.form = QWidget(self)
        self.confirm_page = QWidget(self)
        self.readonly_page = QWidget(self)
        self.stack.addWidget(self.form)
        self.stack.addWidget(self.confirm_page)
        self.stack.addWidget(self.readonly_page)
        self._build_form()
        self._build_confirm_page()
        self.readonly_label = _muted("")
        QVBoxLayout(self.readonly_page).addWidget(self.readonly_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 10)
        layout.addWidget(self.stack)
        self.show_request(None, None)

    # -- building ---------------------------------------------------------------------------
    def _build_form(self) -> None:
        self.approve_button = QPushButton("Approve…  A")
        self.approve_button.setProperty("role", "approve")
        self.changes_button = QPushButton("Ask for changes…  C")
        self.reject_button = QPushButton("Reject…  R")
        self.reject_button.setProperty("role", "reject")
        self.revoke_button = QPushButton("Revoke approval…")
        self.revoke_button.setProperty("role", "reject")
        self.approve_button.clicked.connect(lambda: self.begin(Verdict.APPROVED))
        self.changes_button.clicked.connect(lambda: self.begin(Verdict.CHANGES_REQUESTED))
        self.reject_button.clicked.connect(lambda: self.begin(Verdict.REJECTED))
        self.revoke_button.clicked.connect(lambda: self.begin("revoke"))
        self.channel_boxes: dict[str, QCheckBox] = {}
        self.territory_boxes: dict[str, QCheckBox] = {}
        self.channels_row = QGridLayout()
        self.territories_row = QGridLayout()
        self.until_edit = QDateEdit()
        self.until_edit.setCalendarPopup(True)
        self.until_edit.setDisplayFormat("d MMM yyyy")
        self.conditions_edit = QLineEdit()
        self.conditions_edit.setPlaceholderText("Conditions, e.g. “No retouching of my face”")
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText("Reason (needed to reject, ask for changes or revoke)")
        self.reason_edit.setFixedHeight(64)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #e07070;")

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.addWidget(_muted("Channels"), 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(self.channels_row, 0, 1)
        grid.addWidget(_muted("Territories"), 1, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(self.territories_row, 1, 1)
        grid.addWidget(_muted("Until"), 2, 0)
        grid.addWidget(self.until_edit, 2, 1, Qt.AlignmentFlag.AlignLeft)
        buttons = QGridLayout()
        buttons.addWidget(self.approve_button, 0, 0, 1, 2)
        buttons.addWidget(self.changes_button, 1, 0)
        buttons.addWidget(self.reject_button, 1, 1)
        layout = QVBoxLayout(self.form)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.status_label)
        layout.addWidget(_muted("Approve only part of it: untick what you do not allow."))
        layout.addLayout(grid)
        layout.addWidget(self.conditions_edit)
        layout.addWidget(self.reason_edit)
        layout.addLayout(buttons)
        layout.addWidget(self.revoke_button)
        layout.addWidget(self.error_label)

    def _build_confirm_page(self) -> None:
        self.confirm_title = QLabel()
        self.confirm_title.setProperty("class", "heading")
        self.confirm_text = QLabel()
        self.confirm_text.setWordWrap(True)
        self.confirm_text.setTextFormat(Qt.TextFormat.RichText)
        self.override_box = QCheckBox("I am overriding my own standing terms for this use")
        self.override_box.setStyleSheet("color: #e07070;")
        self.sign_button = QPushButton("Sign")
        self.sign_button.setDefault(True)
        self.back_button = QPushButton("Back")
        self.sign_button.clicked.connect(self.sign)
        self.back_button.clicked.connect(self.cancel)
        self.override_box.toggled.connect(self._update_sign_enabled)
        for keys, slot in ((("Return", "Enter"), self.sign), (("Escape",), self.cancel)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self.confirm_page, slot)
                # Set apart: PySide6 ignores a context passed to this constructor.
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.back_button)
        row.addWidget(self.sign_button)
        layout = QVBoxLayout(self.confirm_page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.confirm_title)
        layout.addWidget(self.confirm_text, 1)
        layout.addWidget(self.override_box)
        layout.addLayout(row)

    # -- state ------------------------------------------------------------------------------
    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.show_request(self.details, session)

    def show_request(self, details: RequestDetails | None, session: Session | None) -> None:
        self.details = details
        self.session = session
        self.error_label.clear()
        self._pending = None
        if session is None or details is None:
            self.readonly_label.setText("Select a request.")
            self.stack.setCurrentWidget(self.readonly_page)
            return
        if session.role is not Role.TALENT or session.actor.talent_id != details.talent_id:
            self.readonly_label.setText(self._readonly_reason(session))
            self.stack.setCurrentWidget(self.readonly_page)
            return
        self._fill_scope(details.scope)
        self.conditions_edit.clear()
        self.reason_edit.clear()
        in_force = details.decision_in_force
        approved = (in_force is not None and in_force.verdict is Verdict.APPROVED
                    and in_force.revoked_at is None)
        self.revoke_button.setVisible(approved)
        for button in (self.approve_button, self.changes_button, self.reject_button):
            button.setEnabled(not approved)
        if in_force is None:
            self.status_label.setText("Waiting for your decision.")
        elif approved:
            self.status_label.setText(
                f"You approved this on {in_force.decided_at[:10]}. To withdraw consent, "
                "revoke it with a reason: the brand is told to take it down.")
        else:
            word = in_force.verdict.value.replace("_", " ")
            extra = " and later revoked" if in_force.revoked_at else ""
            self.status_label.setText(f"You {word} this on {in_force.decided_at[:10]}{extra}. "
                                      "A new decision supersedes it; both stay in the history.")
        self.stack.setCurrentWidget(self.form)

    @staticmethod
    def _readonly_reason(session: Session) -> str:
        if session.role is Role.AGENT:
            return ("As an agent you can follow this request and flag misuse; only the talent "
                    "can approve or reject uses of their twin.")
        if session.role is Role.DIRECTOR:
            return ("Directors see their organisation's requests and their status; only the "
                    "talent can decide.")
        return "Only the talent this twin belongs to can decide on it."

    def _fill_scope(self, scope: Scope) -> None:
        for row, boxes, values, label in (
            (self.channels_row, self.channel_boxes, scope.channels,
             lambda c: channel_phrase([c])),
            (self.territories_row, self.territory_boxes, scope.territories, territory_name),
        ):
            while row.count():
                item = row.takeAt(0)
                if item.widget() is not None:
                    item.widget().deleteLater()
            boxes.clear()
            for i, value in enumerate(values):
                box = QCheckBox(label(value))
                box.setChecked(True)
                boxes[value] = box
                row.addWidget(box, i // 2, i % 2)
        self.until_edit.setMinimumDate(QDate(scope.start.year, scope.start.month, scope.start.day))
        self.until_edit.setMaximumDate(QDate(scope.end.year, scope.end.month, scope.end.day))
        self.until_edit.setDate(QDate(scope.end.year, scope.end.month, scope.end.day))

    def approved_scope(self) -> Scope:
        assert self.details is not None
        requested = self.details.scope
        until = self.until_edit.date().toPython()
        return Scope(
            channels=tuple(c for c, box in self.channel_boxes.items() if box.isChecked()),
            territories=tuple(t for t, box in self.territory_boxes.items() if box.isChecked()),
            start=requested.start,
            end=until if isinstance(until, dt.date) else requested.end,
            categories=requested.categories,
            voice=requested.voice,
        )

    # -- the flow: begin → confirm page → sign ------------------------------------------------
    def begin(self, verdict: Verdict | str) -> None:
        """Show the confirmation for *verdict* (or "revoke"); nothing is signed yet."""
        if self.stack.currentWidget() is not self.form or self.details is None:
            return
        self.error_label.clear()
        reason = self.reason_edit.toPlainText().strip()
        needs_reason = verdict != Verdict.APPROVED
        if needs_reason and not reason:
            self.error_label.setText("Write a reason first: the brand sees it.")
            self.reason_edit.setFocus()
            return
        if verdict == Verdict.APPROVED:
            scope = self.approved_scope()
            if not scope.channels or not scope.territories:
                self.error_label.setText("Keep at least one channel and one territory, or "
                                         "reject instead.")
                return
        if verdict == "revoke" and not self.revoke_button.isVisible():
            return
        if verdict != "revoke" and not self.approve_button.isEnabled():
            return
        self._pending = verdict
        self.confirm_title.setText(self._confirm_title(verdict))
        self.confirm_text.setText(self._confirm_html(verdict, reason))
        breaks_terms = verdict == Verdict.APPROVED and bool(violations(
            list(self.details.findings)))
        self.override_box.setChecked(False)
        self.override_box.setVisible(breaks_terms)
        self._update_sign_enabled()
        self.stack.setCurrentWidget(self.confirm_page)
        self.sign_button.setFocus()

    def cancel(self) -> None:
        self._pending = None
        self.stack.setCurrentWidget(self.form)

    @property
    def confirming(self) -> bool:
        return self.stack.currentWidget() is self.confirm_page

    def _update_sign_enabled(self) -> None:
        self.sign_button.setEnabled(not self.override_box.isVisible()
                                    or self.override_box.isChecked())

    def _confirm_title(self, verdict: Verdict | str) -> str:
        if verdict == "revoke":
            return "Revoke your approval?"
        return f"{VERDICT_WORDS[Verdict(verdict)]}?"

    def _confirm_html(self, verdict: Verdict | str, reason: str) -> str:
        d = self.details
        assert d is not None
        esc = html.escape
        who = f"<b>{esc(d.organisation)}</b> ({esc(d.requester_name)}), campaign " \
              f"<b>{esc(d.campaign)}</b>, request {esc(d.request_id)} revision {d.revision}"
        if verdict == Verdict.APPROVED:
            scope = self.approved_scope()
            fee = d.fee if scope == d.scope else None
            parts = [f"<p>You consent to {who} using your twin for:</p>",
                     f"<p style='font-size:12pt; color:#ececee'>{esc(scope.summary(fee))}</p>"]
            if scope != d.scope:
                parts.append(f"<p style='color:#a4a6aa'>They asked for: "
                             f"{esc(d.scope.summary(d.fee))}</p>")
            conditions = self.conditions_edit.text().strip()
            if conditions:
                parts.append(f"<p>On condition: {esc(conditions)}</p>")
            parts.append("<p style='color:#a4a6aa'>Only these exact files are covered; a changed "
                         "render is a new request. Your signature goes on a receipt anyone can "
                         "verify.</p>")
            broken = violations(list(d.findings))
            if broken:
                items = "".join(f"<li>{esc(f.text)}</li>" for f in broken)
                parts.append(f"<p style='color:#e07070'>This breaks your standing terms:</p>"
                             f"<ul style='color:#e07070'>{items}</ul>")
            return "".join(parts)
        if verdict == "revoke":
            return (f"<p>You withdraw your consent to {who}.</p><p>Reason: {esc(reason)}</p>"
                    "<p style='color:#a4a6aa'>A signed revocation is recorded; every release "
                    "of this use is listed for take-down.</p>")
        word = "reject" if verdict == Verdict.REJECTED else "ask for changes to"
        return f"<p>You {word} the use requested by {who}.</p><p>Reason: {esc(reason)}</p>"

    def sign(self) -> None:
        """Record the pending decision through the consent services."""
        verdict, details = self._pending, self.details
        if verdict is None or details is None or not self.sign_button.isEnabled():
            return
        session = self.fresh_session()
        if session is None:
            self.error_label.setText("Not signed: your passphrase is needed first.")
            self.cancel()
            return
        self.session = session
        service = ReviewService(self.library)
        reason = self.reason_edit.toPlainText().strip() or None
        try:
            if verdict == Verdict.APPROVED:
                scope = self.approved_scope()
                service.approve(
                    session, details.request_id, revision=details.revision,
                    channels=scope.channels, territories=scope.territories, until=scope.end,
                    conditions=self.conditions_edit.text().strip() or None,
                    override_policy=self.override_box.isChecked(),
                )
            elif verdict == Verdict.REJECTED:
                service.reject(session, details.request_id, reason=reason or "",
                               revision=details.revision)
            elif verdict == Verdict.CHANGES_REQUESTED:
                service.request_changes(session, details.request_id, reason=reason or "",
                                        revision=details.revision)
            else:
                service.revoke(session, details.request_id, reason=reason or "")
        except Refusal as exc:
            self.cancel()
            self.error_label.setText(str(exc))
            return
        self._pending = None
        self.stack.setCurrentWidget(self.form)
        recorded = "revoked" if verdict == "revoke" else Verdict(verdict).value
        self.decision_recorded.emit(details.request_id, recorded)

