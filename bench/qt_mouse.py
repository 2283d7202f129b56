"""Driving a Qt widget with synthetic mouse events, for the benchmarks that orbit a 3D view."""

from __future__ import annotations

from typing import Any


def send_mouse(widget: Any, kind: Any, position: Any, button: Any, buttons: Any) -> None:
    """Deliver one mouse event of *kind* at *position* (widget coordinates) to *widget*."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    event = QMouseEvent(kind, position, widget.mapToGlobal(position), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
