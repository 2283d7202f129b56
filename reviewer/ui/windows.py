"""Helpers for the app's secondary windows (compare mode, checking images)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class CloseWithParent(QObject):
    """Closes a secondary *window* (and what it holds) when its main window closes: a child
    top-level window is otherwise only hidden when its parent is destroyed, and keeps the
    application running meanwhile."""

    def __init__(self, window: QWidget, parent: QObject) -> None:
        super().__init__(window)
        self.window = window
        parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.window.close()
        return False
