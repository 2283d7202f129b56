"""Check an image: an agent drops, pastes or opens an image found in the wild and sees, within
seconds, whose twin it shows and whether that use was approved for where it was seen.

The found image is read, fingerprinted and looked up on a worker thread
(:class:`reviewer.services.misuse.MisuseChecker`); the verdict banner says what the best
match means, the matches list every use of the matching renders, and the comparison lays the
found image back onto the chosen render where the lookup placed it (mirrored back, its frame
cut off), so that the wipe and the difference show what was changed rather than how it was
framed. The sighting (where, when, channel, territory) is checked against the approved scope
as it is typed; "Flag misuse" records it all through :class:`reviewer.services.flags.
FlagService`, which decides who may flag whom.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from reviewer.domain.misuse import MatchVerdict, Severity
from reviewer.domain.roles import Role
from reviewer.domain.scope import CHANNEL_LABELS, CHANNEL_ORDER, territory_name
from reviewer.ui.image_compare_view import MAX_SIDE, ImageCompareView, LoadedPair
from reviewer.ui.image_viewer import ImageViewer, pil_to_qimage
from reviewer.ui.workers import LatestOnlyRunner

if TYPE_CHECKING:
    from PIL import Image

    from reviewer.assets.fingerprints import QueryPrint
    from reviewer.domain.misuse import Sighting
    from reviewer.services.flags import FlagRecord
    from reviewer.services.misuse import CheckResult, FoundImage, ImageMatch
    from reviewer.services.profiles import Session
    from reviewer.storage.library import Library
    from reviewer.ui.thumbnails import ThumbnailProvider

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif"})
Source = Path | tuple[str, bytes]  # an image file, or (name, bytes) pasted or dropped
RECHECK_DELAY_MS = 350  # after the last keystroke in the sighting form
TERRITORY_CHOICES = ("EU", "EEA", "WW", "GB", "US", "FR", "DE", "IT", "ES", "NL", "CH", "JP",
                     "CN", "KR", "AE", "CA", "AU", "BR", "IN")
_NOT_KNOWN_DATE = QDate(2000, 1, 1)

# Banner tones: green only for an approval that covers the sighting; amber where there was an
# approval but not for this (scope, date); red where nothing was ever approved or it was
# taken back.
_TONES = {
    "good": ("#6fae82", "#1d2a21"),
    "warn": ("#d9b36a", "#2d2719"),
    "bad": ("#e07070", "#2e1d1d"),
    "none": ("#a4a6aa", "#1f2023"),
}
_VERDICT_TONE = {
    MatchVerdict.APPROVED_IN_SCOPE: "good",
    MatchVerdict.OUT_OF_SCOPE: "warn",
    MatchVerdict.EXPIRED: "warn",
    MatchVerdict.REVOKED: "bad",
    MatchVerdict.REJECTED: "bad",
    MatchVerdict.CHANGES_REQUESTED: "bad",
    MatchVerdict.PENDING: "bad",
    MatchVerdict.NO_MATCH: "bad",
}
STATUS_WORDS = {
    "approved": "Approved",
    "expired": "Approval expired",
    "revoked": "Revoked",
    "rejected": "Rejected",
    "pending": "Pending",
    "changes_requested": "Changes requested",
}


@dataclass(frozen=True)
class Checked:
    """What the worker hands back: the found image, read and decoded, and the lookup."""

    found: tuple[FoundImage, QueryPrint]
    display: Image.Image  # for the screen: EXIF orientation applied, sRGB, at most MAX_SIDE
    result: CheckResult


def read_and_check(library: Library, session: Session, source: Source, *,
                   sighting: Sighting, known: Checked | None = None) -> Checked:
    """Off the GUI thread: read and fingerprint *source* (unless *known*; a file through
    the service's own reader, with its checks), decode it for display, look it up."""
    from reviewer.assets.images import open_display_image
    from reviewer.services.misuse import MisuseChecker, found_image_from_bytes, read_found_image

    if known is None:
        found = (read_found_image(source) if isinstance(source, Path)
                 else found_image_from_bytes(*source))
        display = open_display_image(io.BytesIO(found[0].data),  # type: ignore[arg-type]
                                     max_size=(MAX_SIDE, MAX_SIDE))
        display.load()
    else:
        found, display = known.found, known.display
    result = MisuseChecker(library).check(found, sighting=sighting, session=session)
    return Checked(found, display, result)


def register_on_render(library: Library, display: Image.Image, match: ImageMatch) -> LoadedPair:
    """Off the GUI thread: the found image laid onto the matched render, ready to compare."""
    from reviewer.assets.image_compare import PairDifference, register_found
    from reviewer.assets.images import open_display_image

    render = open_display_image(library.objects.path_for(match.asset_sha256))
    alignment = match.alignment
    pair = register_found(display, render, alignment.render_box, mirrored=alignment.mirrored,
                          max_side=MAX_SIDE)
    label = f"{match.request_id} · {match.asset_label or Path(match.asset_path).name}"
    return LoadedPair(pair, PairDifference(pair), "Found image", label)


class CheckImagePanel(QWidget):
    """See the module docstring. ``checked`` fires when a verdict is on screen, ``flagged``
    when a flag was recorded."""

    checked = Signal()
    flagged = Signal(object)  # FlagRecord

    def __init__(self, library: Library, session: Session, thumbnails: ThumbnailProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.session = session
        self.thumbnails = thumbnails
        self.current: Checked | None = None
        self._source: Source | None = None
        self._severity_chosen = False
        self._check_runner = LatestOnlyRunner(self)
        self._compare_runner = LatestOnlyRunner(self)
        self._flag_runner = LatestOnlyRunner(self)
        self._recheck_timer = QTimer(self)
        self._recheck_timer.setSingleShot(True)
        self._recheck_timer.setInterval(RECHECK_DELAY_MS)
        self._recheck_timer.timeout.connect(self.recheck)
        self.setAcceptDrops(True)
        thumbnails.ready.connect(self._on_thumbnail)

        # Top: how to bring an image, what it is, and whether we are working on it.
        self.open_button = QPushButton("Open image…", self)
        self.open_button.setToolTip("Open an image file  (Ctrl+O)")
        self.open_button.clicked.connect(self.choose_image)
        self.paste_button = QPushButton("Paste", self)
        self.paste_button.setToolTip("Check the image on the clipboard  (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.image_info = QLabel("Drop an image anywhere in this window.", self)
        self.image_info.setProperty("class", "muted")
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(140)
        self.busy.hide()
        top = QHBoxLayout()
        top.setContentsMargins(12, 10, 12, 6)
        top.addWidget(self.open_button)
        top.addWidget(self.paste_button)
        top.addSpacing(10)
        top.addWidget(self.image_info, 1)
        top.addWidget(self.busy)

        # The verdict, across the top of the comparison.
        self.banner = QLabel(self)
        self.banner.setObjectName("verdictBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.hide()

        # Left: the found image as it came, and its matches.
        self.found_preview = QLabel(self)
        self.found_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.found_preview.setMinimumHeight(180)
        self.found_preview.setStyleSheet("background: #141517; border-radius: 4px;")
        self.matches = QListWidget(self)
        self.matches.setObjectName("matchList")
        self.matches.setIconSize(QSize(72, 72))
        self.matches.setWordWrap(True)
        self.matches.setSpacing(2)
        self.matches.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.matches.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.matches.currentRowChanged.connect(self._on_match_chosen)
        self.matches_heading = _heading("Matches", self)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(12, 0, 6, 12)
        left_layout.addWidget(_heading("Found image", self))
        left_layout.addWidget(self.found_preview)
        left_layout.addWidget(self.matches_heading)
        left_layout.addWidget(self.matches, 1)
        left.setMinimumWidth(260)

        # Centre: the comparison (or the found image alone, or the empty state).
        self.compare = ImageCompareView(self)
        self.compare.show_choices(False)
        self.found_view = ImageViewer(self)
        self.empty = QLabel(
            "<p style='font-size:14pt; color:#ececee'>Check an image found in the wild</p>"
            "<p>Drop it here, paste it (Ctrl+V) or open it (Ctrl+O).</p>"
            "<p style='color:#8d8f93'>Every render in the library is searched. Crops, captions, "
            "borders, screenshots, recompression, colour filters and mirror images are seen "
            "through.</p>",
            self,
        )
        self.empty.setObjectName("checkEmptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("class", "message")
        self.centre_stack = QStackedWidget(self)
        for page in (self.empty, self.found_view, self.compare):
            self.centre_stack.addWidget(page)
        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.banner)
        centre_layout.addWidget(self.centre_stack, 1)

        # Right: where it was seen, and the flag.
        self.seen_at = QLineEdit(self)
        self.seen_at.setPlaceholderText("URL, or e.g. billboard, Gare du Nord")
        self.seen_on = QDateEdit(self)
        self.seen_on.setCalendarPopup(True)
        self.seen_on.setDisplayFormat("d MMM yyyy")
        self.seen_on.setMinimumDate(_NOT_KNOWN_DATE)
        self.seen_on.setSpecialValueText("not known")
        self.seen_on.setMaximumDate(QDate.currentDate())
        self.seen_on.setDate(QDate.currentDate())
        self.channel = QComboBox(self)
        self.channel.addItem("not known", None)
        for code in CHANNEL_ORDER:
            self.channel.addItem(CHANNEL_LABELS.get(code, code), code)
        self.territory = QComboBox(self)
        self.territory.setEditable(True)
        self.territory.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.territory.addItem("not known", None)
        for code in TERRITORY_CHOICES:
            self.territory.addItem(f"{code} · {territory_name(code)}", code)
        self.territory.lineEdit().setPlaceholderText("two-letter code")
        self.talent_choice = QComboBox(self)
        self.talent_label = QLabel("Whose likeness", self)
        represents = session.actor.represents if session.role is Role.AGENT else ()
        for talent_id in represents:
            self.talent_choice.addItem(talent_id, talent_id)
        self.scope_line = QLabel(self)
        self.scope_line.setObjectName("sightingScope")
        self.scope_line.setWordWrap(True)
        self.scope_line.hide()
        self.error = QLabel(self)
        self.error.setObjectName("checkError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e07070;")
        self.error.hide()
        sighting_form = QFormLayout()
        sighting_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        sighting_form.addRow("Where", self.seen_at)
        sighting_form.addRow("Seen on", self.seen_on)
        sighting_form.addRow("Channel", self.channel)
        sighting_form.addRow("Territory", self.territory)
        sighting_form.addRow(self.talent_label, self.talent_choice)

        self.severity = QComboBox(self)
        for value in Severity:
            self.severity.addItem(value.value.capitalize(), value.value)
        self.severity.activated.connect(self._on_severity_chosen)
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("What you saw, who you told, anything the brand should "
                                      "know")
        self.notes.setMaximumHeight(110)
        self.flag_button = QPushButton("Flag misuse", self)
        self.flag_button.setObjectName("flagButton")
        self.flag_button.setProperty("role", "reject")
        self.flag_button.setToolTip("Record a flag with this image as evidence  (Ctrl+Return)")
        self.flag_button.clicked.connect(self.flag)
        self.flag_note = QLabel(self)
        self.flag_note.setObjectName("flagNote")
        self.flag_note.setWordWrap(True)
        self.flag_note.setProperty("class", "muted")
        self.flag_note.hide()
        self.flag_section = QWidget(self)
        flag_form = QFormLayout()
        flag_form.setContentsMargins(0, 0, 0, 0)
        flag_form.addRow("Severity", self.severity)
        flag_form.addRow("Notes", self.notes)
        flag_layout = QVBoxLayout(self.flag_section)
        flag_layout.setContentsMargins(0, 0, 0, 0)
        flag_layout.addWidget(_heading("Flag", self))
        flag_layout.addLayout(flag_form)
        flag_layout.addWidget(self.flag_button)
        self.director_note = QLabel(
            "Talents and their agents flag misuse. Flags on your organisation's requests are "
            "in the Flags tab, where you can mark them answered.", self)
        self.director_note.setWordWrap(True)
        self.director_note.setProperty("class", "muted")
        may_flag = session.role in (Role.TALENT, Role.AGENT)
        self.flag_section.setVisible(may_flag)
        self.director_note.setVisible(not may_flag)

        right = QFrame(self)
        right.setProperty("class", "panel")
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(14, 12, 14, 12)
        right_layout.addWidget(_heading("Where it was seen", self))
        right_layout.addLayout(sighting_form)
        right_layout.addWidget(self.scope_line)
        right_layout.addSpacing(10)
        right_layout.addWidget(self.flag_section)
        right_layout.addWidget(self.director_note)
        right_layout.addWidget(self.flag_note)
        right_layout.addWidget(self.error)
        right_layout.addStretch(1)
        right.setMinimumWidth(320)
        right.setMaximumWidth(420)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 900, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        for widget_signal in (self.seen_at.textChanged, self.territory.editTextChanged):
            widget_signal.connect(self._sighting_changed)
        for combo in (self.channel, self.talent_choice):
            combo.currentIndexChanged.connect(self._sighting_changed)
        self.seen_on.dateChanged.connect(self._sighting_changed)
        for keys, slot in (("Ctrl+O", self.choose_image), ("Ctrl+V", self.paste),
                           ("Ctrl+Return", self.flag), ("Ctrl+Enter", self.flag)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._update_controls()

    # -- bringing an image -----------------------------------------------------------------------
    def choose_image(self) -> None:
        suffixes = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Check an image", "",
                                              f"Images ({suffixes});;All files (*)")
        if path:
            self.open_image(Path(path))

    def open_image(self, path: Path) -> None:
        """Check the image file at *path* (read on the worker); a file that cannot be read is
        said inline."""
        self._check(path)

    def paste(self) -> None:
        """Check the image on the clipboard (a picture, or an image file copied)."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
            if files:
                self.open_image(files[0])
                return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self._show_error("The clipboard holds no image.")
            return
        self.check_bytes("pasted image.png", _png_bytes(image))

    def check_bytes(self, name: str, data: bytes) -> None:
        self._check((name, data))

    def _check(self, source: Source) -> None:
        self._source = source
        self.current = None
        self._severity_chosen = False
        _say(self.flag_note, "")
        self._run_check(known=None)

    def recheck(self) -> None:
        """Look the same image up again: the sighting changed."""
        if self.current is not None and self._source is not None:
            self._run_check(known=self.current)

    def _run_check(self, known: Checked | None) -> None:
        assert self._source is not None
        self._recheck_timer.stop()
        sighting = self._sighting_or_say()
        if sighting is None:
            return
        source = self._source
        library, session = self.library, self.session
        if known is None:
            name = source.name if isinstance(source, Path) else source[0]
            self.image_info.setText(f"Checking {name}…")
            self.banner.hide()
            self.matches.clear()
            self.compare.show_waiting("Looking for this image among the library's renders…")
            self.centre_stack.setCurrentWidget(self.compare)
        self.busy.show()
        self._update_controls()
        self._check_runner.start(
            lambda: read_and_check(library, session, source, sighting=sighting, known=known),
            self._on_checked,
            self._on_check_failed,
        )

    def sighting(self) -> Sighting:
        """The sighting as the form says; bad input raises FlagRefused with the reason."""
        from reviewer.services.flags import check_sighting_input

        seen_on = None
        if self.seen_on.date() != _NOT_KNOWN_DATE:
            seen_on = dt.date.fromisoformat(self.seen_on.date().toString(Qt.DateFormat.ISODate))
        territory = self.territory.currentData()
        text = self.territory.currentText().strip()
        if territory is None or text != self.territory.itemText(self.territory.currentIndex()):
            territory = None if text in ("", "not known") else text.split("·")[0].strip()
        return check_sighting_input(
            seen_at=self.seen_at.text(),
            seen_on=seen_on,
            channel=self.channel.currentData(),
            territory=territory,
            today=dt.date.today(),
        )

    def _sighting_or_say(self) -> Sighting | None:
        """The sighting, or None after saying inline what is wrong with the form."""
        from reviewer.services.flags import FlagRefused

        try:
            sighting = self.sighting()
        except FlagRefused as exc:
            self._show_error(str(exc))
            return None
        self._hide_error()
        return sighting

    # -- results ---------------------------------------------------------------------------------
    def _on_checked(self, checked: Checked) -> None:
        first = self.current is None or self.current.found[0].sha256 != checked.found[0].sha256
        previous_row = self.matches.currentRow()
        self.current = checked
        self.busy.hide()
        result = checked.result
        found = result.image
        self.image_info.setText(
            f"{found.name} · {found.width}×{found.height} · {_size_text(found.size)} · "
            f"sha256 {found.sha256[:12]}…"
        )
        self._show_preview(checked.display)
        self._show_banner(result)
        if not self._severity_chosen:
            self.severity.setCurrentIndex(
                self.severity.findData(result.verdict.kind.default_severity.value)
            )
        self.matches.blockSignals(True)
        self.matches.clear()
        for match in result.matches:
            item = QListWidgetItem(_match_text(match))
            item.setData(Qt.ItemDataRole.UserRole, match.asset_sha256)
            item.setToolTip(match.verdict.text)
            pixmap = self.thumbnails.pixmap(match.asset_sha256)
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))
            self.matches.addItem(item)
        self.matches.blockSignals(False)
        self.matches_heading.setText(
            f"Matches ({len(result.matches)})" if result.matches else "No match"
        )
        if result.matches:
            # A recheck (the sighting changed) keeps the render being compared.
            row = 0 if first or previous_row < 0 else min(previous_row, len(result.matches) - 1)
            self.matches.setCurrentRow(row)
            if first or self.compare.loaded is None:
                self._on_match_chosen(row)
        else:
            self.found_view.show_image(pil_to_qimage(checked.display))
            self.centre_stack.setCurrentWidget(self.found_view)
        self._update_controls()
        self.checked.emit()

    def _on_check_failed(self, reason: str) -> None:
        self.busy.hide()
        self.current = None
        self._source = None
        self.banner.hide()
        self.matches.clear()
        self.found_preview.clear()
        self.image_info.setText("Drop an image anywhere in this window.")
        self.centre_stack.setCurrentWidget(self.empty)
        self._show_error(f"Cannot check this image: {reason}")
        self._update_controls()

    def _show_banner(self, result: CheckResult) -> None:
        from html import escape

        verdict = result.verdict
        colour, background = _TONES[_VERDICT_TONE[verdict.kind]]
        lines = [f"<span style='font-size:13pt; font-weight:600; color:{colour}'>"
                 f"{escape(verdict.text)}</span>"]
        best = result.best
        if best is not None:
            lines.append(
                f"{escape(best.talent_name)} · {escape(best.campaign)} · "
                f"{escape(best.organisation)} · revision {best.revision}"
                + (f" (latest {best.latest_revision})"
                   if best.latest_revision != best.revision else "")
                + f" · {best.confidence:.0%} sure"
            )
        else:
            lines.append(f"None of the {result.fingerprints:,} renders you may see matches it.")
        self.banner.setText("<br>".join(lines))
        self.banner.setStyleSheet(
            f"#verdictBanner {{ background: {background}; border-left: 4px solid {colour}; "
            "padding: 10px 14px; color: #c9cacc; }"
        )
        self.banner.setProperty("tone", _VERDICT_TONE[verdict.kind])
        self.banner.show()
        check = verdict.scope_check
        if check is not None:
            tone = "#6fae82" if check.in_scope else "#d9b36a"
            _say(self.scope_line, f"<span style='color:{tone}'>{escape(check.text)}</span>")
        elif verdict.kind is MatchVerdict.NO_MATCH:
            _say(self.scope_line, "<span style='color:#8d8f93'>No approval to check the "
                                    "sighting against.</span>")
        else:
            _say(self.scope_line,
                f"<span style='color:#8d8f93'>{escape(result.sighting.describe())}; no approval "
                "in force to check it against.</span>"
            )

    def _on_match_chosen(self, row: int) -> None:
        checked = self.current
        if checked is None or not 0 <= row < len(checked.result.matches):
            return
        match = checked.result.matches[row]
        library, display = self.library, checked.display
        self.compare.show_waiting("Laying the found image onto the render…")
        self.centre_stack.setCurrentWidget(self.compare)
        self._compare_runner.start(
            lambda: register_on_render(library, display, match),
            self.compare.show_pair,
            lambda reason: self.compare.show_waiting(f"Cannot compare with this render: "
                                                     f"{reason}"),
        )

    def _on_thumbnail(self, sha256: str) -> None:
        pixmap = self.thumbnails.pixmap(sha256)
        if pixmap is None:
            return
        for i in range(self.matches.count()):
            item = self.matches.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == sha256:
                item.setIcon(QIcon(pixmap))

    def _show_preview(self, display: Image.Image) -> None:
        pixmap = QPixmap.fromImage(pil_to_qimage(display))
        ratio = self.devicePixelRatioF()
        box = QSize(260, 220) * ratio
        scaled = pixmap.scaled(box, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        self.found_preview.setPixmap(scaled)

    # -- the sighting and the flag ---------------------------------------------------------------
    def _sighting_changed(self, *_args: Any) -> None:
        if self.current is not None:
            self._recheck_timer.start()

    def _on_severity_chosen(self, _index: int) -> None:
        self._severity_chosen = True

    def flag(self) -> None:
        """Record a flag: this image as evidence, the sighting, notes, severity, the match."""
        from reviewer.services.flags import FlagService

        checked = self.current
        if checked is None or not self.flag_button.isEnabled():
            return
        sighting = self._sighting_or_say()
        if sighting is None:
            return
        talent = None
        if checked.result.best is None and self.talent_choice.count():
            talent = self.talent_choice.currentData()
        library, session = self.library, self.session
        notes, severity = self.notes.toPlainText(), self.severity.currentData()
        self.flag_button.setEnabled(False)
        _say(self.flag_note, "Recording the flag…")
        self._flag_runner.start(
            lambda: FlagService(library).flag(session, checked.found, sighting=sighting,
                                              notes=notes, severity=severity, talent_id=talent),
            self._on_flagged,
            self._on_flag_failed,
        )

    def _on_flagged(self, record: FlagRecord) -> None:
        _say(self.flag_note,
            f"Flag {record.id} recorded ({record.severity.value}, {record.status.label}). "
            "It is in the Flags tab, with its evidence."
        )
        self.notes.clear()
        self._update_controls()
        self.flagged.emit(record)

    def _on_flag_failed(self, reason: str) -> None:
        _say(self.flag_note, "")
        self._show_error(f"Not flagged: {reason}")
        self._update_controls()

    def _update_controls(self) -> None:
        role = self.session.role
        may_flag = role in (Role.TALENT, Role.AGENT)
        checked = self.current is not None and not self._check_runner.busy
        self.flag_button.setEnabled(may_flag and checked and not self._flag_runner.busy)
        no_match = self.current is not None and self.current.result.best is None
        show_talent = no_match and self.talent_choice.count() > 1
        self.talent_label.setVisible(show_talent)
        self.talent_choice.setVisible(show_talent)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _hide_error(self) -> None:
        self.error.hide()
        self.error.setText("")

    # -- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_image(files[0])
        elif mime.hasImage():
            event.acceptProposedAction()
            self.check_bytes("dropped image.png", _png_bytes(QImage(mime.imageData())))

    def close_panel(self) -> None:
        for runner in (self._check_runner, self._compare_runner):
            runner.cancel()
        self.compare.close_view()


def _match_text(match: ImageMatch) -> str:
    status = STATUS_WORDS.get(match.status.value, match.status.value)
    extras = []
    if match.alignment.mirrored:
        extras.append("mirrored")
    if match.alignment.contains:
        extras.append("framed")
    elif match.alignment.coverage < 0.95:
        extras.append("cropped")
    extra = f" · {', '.join(extras)}" if extras else ""
    return (f"{match.request_id} · rev {match.revision}\n"
            f"{match.talent_name} · {match.campaign}\n"
            f"{status} · {match.confidence:.0%} sure{extra}")


def _say(label: QLabel, text: str) -> None:
    """Set *label*'s text; an empty label is hidden (it would show as a stray band)."""
    label.setText(text)
    label.setVisible(bool(text))


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("color: #a4a6aa; font-weight: 600; padding: 8px 0 4px 0;")
    return label


def _size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def _png_bytes(image: QImage) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(array.data())
