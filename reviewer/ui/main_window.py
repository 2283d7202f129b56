"""The main window: composes the panels, declares the actions and wires their signals."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reviewer import __version__
from reviewer.services.access import visible_to
from reviewer.services.profiles import Session
from reviewer.services.queries import list_requests
from reviewer.services.refusals import Refusal
from reviewer.services.request_details import request_details
from reviewer.storage.library import Library
from reviewer.ui.avatar_viewer import SHORTCUTS
from reviewer.ui.decision_panel import DecisionPanel
from reviewer.ui.details_panel import DetailsPanel
from reviewer.ui.queue_panel import QueuePanel
from reviewer.ui.request_view import RequestView
from reviewer.ui.shortcuts_dialog import ShortcutsDialog
from reviewer.ui.thumbnails import ThumbnailProvider
from reviewer.ui.workers import LatestOnlyRunner

IDLE_SECONDS = 15 * 60


class _ActivityWatch(QObject):
    """Remembers when the user last touched the keyboard or mouse."""

    EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                        QEvent.Type.Wheel})

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.last_input = time.monotonic()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self.EVENTS:
            self.last_input = time.monotonic()
        return False

    def idle_seconds(self) -> float:
        return time.monotonic() - self.last_input


class MainWindow(QMainWindow):
    def __init__(self, library: Library, session: Session,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.session = session
        self.setWindowTitle(f"Twin Reviewer — {session.name}")
        self.setAcceptDrops(True)
        self.thumbnails = ThumbnailProvider(library, self)
        self.queue = QueuePanel(self.thumbnails, self)
        self.request_view = RequestView(library, self)
        self.details_panel = DetailsPanel(self)
        self.decision_panel = DecisionPanel(library, self)
        self.decision_panel.fresh_session = self.fresh_session
        self.decision_panel.decision_recorded.connect(self._on_decision_recorded)

        sidebar = QWidget(self)
        side_layout = QVBoxLayout(sidebar)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.decision_panel)
        side_layout.addWidget(self.details_panel, 1)
        scroll = QScrollArea(self)
        scroll.setWidget(sidebar)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(400)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.queue)
        self.splitter.addWidget(self.request_view)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([440, 750, 410])
        self.setCentralWidget(self.splitter)

        self._status_label = QLabel(self)
        self._status_label.setProperty("class", "muted")
        self._progress = QProgressBar(self)
        self._progress.setMaximumWidth(160)
        self._progress.setRange(0, 0)
        self._progress.hide()
        self.statusBar().addPermanentWidget(self._progress)
        self.statusBar().addPermanentWidget(self._status_label)
        self._import_runner = LatestOnlyRunner(self)
        self.activity = _ActivityWatch(self)
        QApplication.instance().installEventFilter(self.activity)

        self.actions_by_name: dict[str, QAction] = {}
        self._declare_actions()
        self.queue.request_selected.connect(self._on_request_selected)
        # A talent's queue holds only their own twin: the talent column would say nothing.
        self.queue.show_talent_column(session.role.value != "talent")
        self._queue_runner = LatestOnlyRunner(self)
        self.queue_ready = False
        self._restore_settings()
        self.refresh(then=self._select_first)
        # Review keys (A, R, C, J, K…) must work at once, not type into the filter.
        self.queue.table.setFocus()

    # -- actions: one table; menus, shortcuts and the ? sheet are built from it ---------------
    def _declare_actions(self) -> None:
        view = self.request_view
        decision = self.decision_panel
        table = [
            ("File", "import", "&Import packages…", "Ctrl+O", self.choose_packages),
            ("File", "refresh", "&Refresh", "Ctrl+R", self.refresh),
            ("File", "sign_out", "Sign &out", "Ctrl+Shift+Q", self.sign_out),
            ("File", "quit", "&Quit", "Ctrl+Q", self.close),
            ("Review", "next", "&Next request", ("J", "Down"), lambda: self.queue.move(1)),
            ("Review", "previous", "&Previous request", ("K", "Up"),
             lambda: self.queue.move(-1)),
            ("Review", "approve", "&Approve…", "A", lambda: decision.begin("approved")),
            ("Review", "reject", "&Reject…", "R", lambda: decision.begin("rejected")),
            ("Review", "changes", "Request &changes…", "C",
             lambda: decision.begin("changes_requested")),
            ("Review", "revoke", "Re&voke approval…", "Ctrl+Shift+R",
             lambda: decision.begin("revoke")),
            ("Review", "filter", "&Filter the queue", "Ctrl+F", self.queue.focus_filter),
            ("View", "compare", "&Compare looks…", "Ctrl+K", self.open_compare),
            ("Misuse", "check_image", "Check an &image…", "Ctrl+I",
             lambda _checked=False: self.open_misuse()),
            ("Misuse", "flags", "Misuse &flags…", "Ctrl+Shift+L",
             lambda: self.open_misuse(flags=True)),
            ("View", "reset_view", "&Reset 3D view", SHORTCUTS["reset"],
             view.avatar_viewer.reset_camera),
            ("View", "fit_render", "Fit &render", "Shift+F", view.image_viewer.fit),
            ("View", "actual_size", "Render at &1:1", "Shift+1", view.image_viewer.actual_size),
            ("Help", "shortcuts", "&Keyboard shortcuts", "?", self.show_shortcuts),
            ("Help", "about", "&About Twin Reviewer", None, self._show_about),
        ]
        table += self.request_view.avatar_actions()
        menus: dict[str, object] = {}
        for menu_name, name, text, shortcut, slot in table:
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(f"&{menu_name}")
            action = QAction(text, self)
            if shortcut is not None:
                keys = shortcut if isinstance(shortcut, tuple) else (shortcut,)
                action.setShortcuts([QKeySequence(k) for k in keys])
            action.triggered.connect(slot)
            menus[menu_name].addAction(action)  # type: ignore[attr-defined]
            self.addAction(action)  # shortcuts work wherever the focus is
            self.actions_by_name[name] = action
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        for name in ("import", "compare", "check_image", "shortcuts"):
            toolbar.addAction(self.actions_by_name[name])
        looks = self.menuBar().addMenu("&Looks")
        for i in range(9):
            action = QAction(f"Look {i + 1}", self)
            action.setShortcut(QKeySequence(str(i + 1)))
            action.triggered.connect(lambda _checked=False, i=i: view.show_look(i))
            looks.addAction(action)
            self.addAction(action)
            self.actions_by_name[f"look_{i + 1}"] = action

    def open_compare(self) -> None:
        """Compare mode: looks side by side with linked cameras, shape and render differences.
        Read-only for everyone."""
        from reviewer.ui.compare_window import open_compare

        open_compare(self)

    def open_misuse(self, image: Path | None = None, *, flags: bool = False) -> object:
        """Check an image found in the wild (with *image*: that one), or see the flags."""
        from reviewer.ui.misuse_window import open_misuse

        return open_misuse(self, image=image, flags=flags)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.actions_by_name.values(), self).exec()

    # -- slots ------------------------------------------------------------------------------
    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Reload the queue on a worker thread (100,000 requests take a few seconds to read)."""
        library, filters = self.library, visible_to(self.session.actor)
        self._progress.show()
        self._queue_runner.start(lambda: list_requests(library, **filters),
                                 lambda rows: self._on_queue_loaded(rows, then),
                                 self._on_queue_failed)

    def _on_queue_loaded(self, rows: list, then: Callable[[], None] | None) -> None:  # type: ignore[type-arg]
        self._progress.hide()
        self.queue.set_requests(rows)
        pending = sum(1 for r in rows if r.status.value == "pending")
        self._status_label.setText(
            f"{self.session.actor.describe()}  ·  {len(rows):,} requests  ·  {pending:,} pending  ")
        self.queue_ready = True
        if then is not None:
            then()

    def _on_queue_failed(self, reason: str) -> None:
        self._progress.hide()
        QMessageBox.warning(self, "The queue could not be read", reason)

    def _select_first(self) -> None:
        if self.queue.current_request_id() is None:
            self.queue.select_row(0)

    def _on_request_selected(self, request_id: str) -> None:
        row = self.queue.model.row_of(request_id)
        summary = None if row is None else self.queue.model.summary(row)
        self.request_view.show_request(summary)
        details = None
        if summary is not None:
            try:
                details = request_details(self.library, request_id, session=self.session)
            except Refusal as exc:
                self.statusBar().showMessage(str(exc), 8000)
        self.details_panel.show_details(details)
        self.decision_panel.show_request(details, self.session)

    def _on_decision_recorded(self, request_id: str, verdict: str) -> None:
        words = {"approved": "Approved", "rejected": "Rejected",
                 "changes_requested": "Asked for changes to", "revoked": "Revoked"}
        self.statusBar().showMessage(f"{words[verdict]} {request_id}: signed and recorded.", 8000)

        def open_next() -> None:
            following = self.queue.next_pending_after(request_id)
            if following is not None:
                self.queue.select(following)
            else:
                self._on_request_selected(request_id)

        self.refresh(then=open_next)

    def fresh_session(self) -> Session | None:
        """The session, after asking for the passphrase again if the user was away."""
        if self.activity.idle_seconds() < IDLE_SECONDS:
            return self.session
        from reviewer.ui.sign_in_dialog import SignInDialog

        dialog = SignInDialog(self.library, self, only_profile=self.session.name)
        if dialog.exec() and dialog.session is not None:
            self.session = dialog.session
            return self.session
        return None

    def sign_out(self) -> None:
        self.signed_out = True
        self.close()

    # -- importing: File › Import and drag and drop -------------------------------------------
    def choose_packages(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import request packages", "",
                                                "Request packages (*.zip);;All files (*)")
        if files:
            self.import_packages([Path(f) for f in files])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Packages dropped are imported; an image dropped is checked for misuse."""
        from reviewer.ui.check_image_panel import IMAGE_SUFFIXES

        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        images = [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        packages = [p for p in paths if p not in images]
        if paths:
            event.acceptProposedAction()
        if packages:
            self.import_packages(packages)
        if images:
            self.open_misuse(images[0])

    def import_packages(self, paths: list[Path]) -> None:
        from reviewer.services.imports import import_many

        self._progress.show()
        self.statusBar().showMessage(f"Importing {len(paths)} package(s)…")
        library, actor = self.library, self.session.name
        self._import_runner.start(lambda: import_many(library, paths, actor=actor),
                                  self._on_imported, self._on_import_failed)

    def _on_imported(self, lines: list[str]) -> None:
        self._progress.hide()
        self.refresh()
        refused = [line for line in lines if line.startswith("refused")]
        self.statusBar().showMessage("; ".join(lines), 15000)
        if refused:
            QMessageBox.warning(self, "Some packages were refused", "\n".join(refused))

    def _on_import_failed(self, reason: str) -> None:
        self._progress.hide()
        QMessageBox.warning(self, "Import failed", reason)

    def _show_about(self) -> None:
        import platform

        import PySide6
        import pyvista
        import vtk

        QMessageBox.about(
            self, "About Twin Reviewer",
            f"<h3>Twin Reviewer {__version__}</h3>"
            "<p>A talent's consent, use by use, for their digital twin.</p>"
            f"<p>Python {platform.python_version()} · Qt {PySide6.__version__} · "
            f"VTK {vtk.vtkVersion.GetVTKVersion()} · pyvista {pyvista.__version__}</p>"
            f"<p>Library: {self.library.root}</p>",
        )

    # -- window state ---------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 960)
        for key, splitter in (("main/splitter3", self.splitter),
                              ("main/viewers", self.request_view.splitter)):
            state = settings.value(key)
            if state is not None:
                splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter3", self.splitter.saveState())
        settings.setValue("main/viewers", self.request_view.splitter.saveState())
        QApplication.instance().removeEventFilter(self.activity)
        self.request_view.avatar_viewer.close()
        super().closeEvent(event)
