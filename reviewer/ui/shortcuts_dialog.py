"""The ? sheet: every action with its keys, generated from the actions themselves."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget


class ShortcutsDialog(QDialog):
    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = []
        for action in actions:
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            if keys:
                text = action.text().replace("&", "").removesuffix("…")
                rows.append(f"<tr><td style='padding:3px 18px 3px 0; color:#ececee'>"
                            f"<b>{' / '.join(keys)}</b></td><td>{text}</td></tr>")
        label = QLabel(f"<table>{''.join(rows)}</table>")
        self.rows = len(rows)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(label)
