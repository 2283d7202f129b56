"""The main window: composes the queue and the request view and declares the actions."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QWidget

from reviewer import __version__
from reviewer.services.queries import list_requests
from reviewer.storage.library import Library
from reviewer.ui.queue_panel import QueuePanel
from reviewer.ui.request_view import RequestView


class MainWindow(QMainWindow):
    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.setWindowTitle(f"Twin Reviewer — {library.root}")
        self.queue = QueuePanel(self)
        self.request_view = RequestView(library, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.queue)
        self.splitter.addWidget(self.request_view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 1040])
        self.setCentralWidget(self.splitter)
        self._status_label = QLabel(self)
        self._status_label.setProperty("class", "muted")
        self.statusBar().addPermanentWidget(self._status_label)
        self.actions_by_name: dict[str, QAction] = {}
        self._declare_actions()
        self.queue.request_selected.connect(self._on_request_selected)
        self.refresh()
        self._restore_settings()
        if self.queue.current_request_id() is None:
            self.queue.select_row(0)

    # -- actions: one table, with the menus built from it -------------------------------------
    def _declare_actions(self) -> None:
        table = [
            ("File", "refresh", "&Refresh", QKeySequence.StandardKey.Refresh, self.refresh),
            ("File", "quit", "&Quit", QKeySequence.StandardKey.Quit, self.close),
            ("Review", "next", "&Next request", "J", lambda: self.queue.move(1)),
            ("Review", "previous", "&Previous request", "K", lambda: self.queue.move(-1)),
            (
                "Review",
                "filter",
                "&Filter the queue",
                QKeySequence.StandardKey.Find,
                self.queue.focus_filter,
            ),
            (
                "View",
                "reset_view",
                "&Reset 3D view",
                "F",
                self.request_view.avatar_viewer.reset_camera,
            ),
            ("View", "fit_render", "Fit &render", "Shift+F", self.request_view.image_viewer.fit),
            (
                "View",
                "actual_size",
                "Render at &1:1",
                "Shift+1",
                self.request_view.image_viewer.actual_size,
            ),
            ("Help", "about", "&About Twin Reviewer", None, self._show_about),
        ]
        menus = {}
        for menu_name, name, text, shortcut, slot in table:
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(f"&{menu_name}")
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menus[menu_name].addAction(action)
            self.addAction(action)  # shortcuts work wherever the focus is
            self.actions_by_name[name] = action
        for i in range(9):
            action = QAction(f"Look {i + 1}", self)
            action.setShortcut(QKeySequence(str(i + 1)))
            action.triggered.connect(lambda _checked=False, i=i: self.request_view.show_look(i))
            self.addAction(action)
            self.actions_by_name[f"look_{i + 1}"] = action

    # -- slots ------------------------------------------------------------------------------
    def refresh(self) -> None:
        rows = list_requests(self.library)
        self.queue.set_requests(rows)
        pending = sum(1 for r in rows if r.status.value == "pending")
        self._status_label.setText(f"{len(rows)} requests  ·  {pending} pending  ")

    def _on_request_selected(self, request_id: str) -> None:
        row = self.queue.model.row_of(request_id)
        summary = None if row is None else self.queue.model.summary(row)
        self.request_view.show_request(summary)

    def _show_about(self) -> None:
        import platform

        import PySide6
        import vtk

        QMessageBox.about(
            self,
            "About Twin Reviewer",
            f"<h3>Twin Reviewer {__version__}</h3>"
            "<p>A talent's consent, use by use, for their digital twin.</p>"
            f"<p>Python {platform.python_version()} · Qt {PySide6.__version__} · "
            f"VTK {vtk.vtkVersion.GetVTKVersion()}</p>"
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
        for key, splitter in (
            ("main/splitter", self.splitter),
            ("main/viewers", self.request_view.splitter),
        ):
            state = settings.value(key)
            if state is not None:
                splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        settings.setValue("main/viewers", self.request_view.splitter.saveState())
        self.request_view.avatar_viewer.close()
        super().closeEvent(event)
