"""The agent's window for misuse: "Check an image" and "Flags", side by side as tabs.

Opened from the main window (Misuse › Check an image…, Ctrl+I; Misuse › Flags…,
Ctrl+Shift+L), or by dropping an image file on the main window. One such window per main
window; it closes with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from reviewer.ui.check_image_panel import CheckImagePanel
from reviewer.ui.flags_panel import FlagsPanel
from reviewer.ui.windows import CloseWithParent

if TYPE_CHECKING:
    from reviewer.services.flags import FlagRecord
    from reviewer.services.profiles import Session
    from reviewer.storage.library import Library
    from reviewer.ui.thumbnails import ThumbnailProvider


class MisuseWindow(QMainWindow):
    def __init__(self, library: Library, session: Session, thumbnails: ThumbnailProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        # Kept on close: a check may still be running on a worker thread and report to it.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setWindowTitle(f"Check images and flags — {session.name}")
        self.library = library
        self.session = session
        self.closed = False
        self.thumbnails = thumbnails  # the main window's: one cache, one loading thread
        self.check_panel = CheckImagePanel(library, session, self.thumbnails, self)
        self.flags_panel = FlagsPanel(library, session, self.thumbnails, self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.check_panel, "Check an image")
        self.tabs.addTab(self.flags_panel, "Flags")
        self.setCentralWidget(self.tabs)
        self.check_panel.flagged.connect(self._on_flagged)
        self.flags_panel.counts_changed.connect(self._on_counts)
        self._on_counts(sum(1 for r in self.flags_panel.records if r.status.value == "open"))
        for keys, index in (("Ctrl+1", 0), ("Ctrl+2", 1)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(lambda i=index: self.tabs.setCurrentIndex(i))
        close = QShortcut(QKeySequence("Ctrl+W"), self)
        close.activated.connect(self.close)
        geometry = QSettings().value("misuse/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)

    def show_check(self, image: Path | None = None) -> None:
        self.tabs.setCurrentWidget(self.check_panel)
        if image is not None:
            self.check_panel.open_image(image)

    def show_flags(self) -> None:
        self.flags_panel.refresh()
        self.tabs.setCurrentWidget(self.flags_panel)

    def _on_flagged(self, record: FlagRecord) -> None:
        self.flags_panel.refresh(select=record.id)

    def _on_counts(self, open_count: int) -> None:
        self.tabs.setTabText(1, f"Flags ({open_count} open)" if open_count else "Flags")

    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue("misuse/geometry", self.saveGeometry())
        self.closed = True
        self.check_panel.close_panel()
        super().closeEvent(event)


def open_misuse(main_window: Any, *, image: Path | None = None, flags: bool = False
                ) -> MisuseWindow:
    """Show the misuse window of *main_window* (made on first use), on the check tab with
    *image* being checked, or on the flags tab."""
    window = next((w for w in main_window.findChildren(MisuseWindow)), None)
    if window is None or window.session.name != main_window.session.name:
        if window is not None:
            window.close()
            window.deleteLater()
        window = MisuseWindow(main_window.library, main_window.session,
                              main_window.thumbnails, main_window)
        CloseWithParent(window, main_window)
    window.closed = False
    if flags:
        window.show_flags()
    else:
        window.show_check(image)
    window.show()
    window.raise_()
    window.activateWindow()
    return window
