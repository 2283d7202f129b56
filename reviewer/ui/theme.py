"""The dark, colour-neutral look of the app."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# Status colours: muted, legible on the dark surfaces, never the loudest thing on screen.
STATUS_COLOURS = {
    "pending": "#c9a95c",
    "changes_requested": "#c98a5c",
    "approved": "#6fae82",
    "rejected": "#c76b6b",
    "revoked": "#b07ab8",
    "expired": "#8d8f93",
}
OVERDUE = "#e07070"
EXPIRING = "#d9b36a"
BACKGROUND_3D = ("#2a2c30", "#141517")  # top, bottom of the 3D view's gradient


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1c1d1f",
        QPalette.ColorRole.WindowText: "#d9dadc",
        QPalette.ColorRole.Base: "#141517",
        QPalette.ColorRole.AlternateBase: "#1d1e20",
        QPalette.ColorRole.Text: "#d9dadc",
        QPalette.ColorRole.Button: "#2a2c2f",
        QPalette.ColorRole.ButtonText: "#e1e2e4",
        QPalette.ColorRole.Highlight: "#2f3b4a",
        QPalette.ColorRole.HighlightedText: "#f0f0f2",
        QPalette.ColorRole.ToolTipBase: "#2b2d30",
        QPalette.ColorRole.ToolTipText: "#e8e8ea",
        QPalette.ColorRole.PlaceholderText: "#6f7175",
        QPalette.ColorRole.Link: "#7fa3c9",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6a6c70"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6a6c70"))
    app.setPalette(palette)
    sheet = resources.files("reviewer.ui").joinpath("style/dark.qss").read_text("utf-8")
    app.setStyleSheet(sheet)
